# Buddy scheme. `make run` serves the demo; `make test` runs lint and the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v python3.12 2>/dev/null || command -v python3)
export VENV PYTHON
PORT ?= 8000
# make run is the embedded demo: plain HTTP on localhost, SQLite and the file broker under var/.
RUN_ENV := SECURE_HTTPS=false COORDINATOR_MFA_REQUIRED=$${COORDINATOR_MFA_REQUIRED:-false} SITE_URL=http://127.0.0.1:$(PORT)

.PHONY: help run test lint bench soak scan install upgrade system-run system-test clean test-faults

help:
	@echo "make run    set up everything and serve the demo on http://127.0.0.1:$(PORT)"
	@echo "make test   set up everything, lint, and run the whole test suite"
	@echo "make bench  print performance ratios measured in one run"
	@echo "make soak   10 minutes of simulated buddies and coordinators on PostgreSQL + Redis (SOAK_SECONDS)"
	@echo "make test-faults  only the fault tests: own PostgreSQL, Redis and processes, killed on purpose (~13 min)"
	@echo "make scan   the wapiti security scanner against a signed-in demo (SCAN_SECONDS); summary in benchmarks/scan.md"
	@echo "make upgrade  take the newest releases pyproject.toml allows into uv.lock, then test"

# Python packages come from uv.lock (exact versions with hashes); see scripts/install.sh.
install:
	@bash scripts/install.sh

system-run:
	@bash scripts/system-deps.sh run

system-test:
	@bash scripts/system-deps.sh test

run: system-run install
	@mkdir -p var
	@$(RUN_ENV) $(PY) manage.py migrate --noinput -v0
	@$(RUN_ENV) $(PY) manage.py collectstatic --noinput -v0
	@$(RUN_ENV) $(PY) manage.py seed_demo
	@echo
	@echo "Buddy scheme is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker, beat and sweeper)"
	@echo "Admin: http://127.0.0.1:$(PORT)/admin/   Health: http://127.0.0.1:$(PORT)/healthz"
	@$(RUN_ENV) PORT=$(PORT) exec $(VENV)/bin/honcho -f Procfile start

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/djlint templates */templates --lint --quiet
	@$(VENV)/bin/mypy
	@$(VENV)/bin/lint-imports --no-logo

test: system-test install lint
	@bash scripts/test.sh

bench: install
	@bash scripts/bench.sh

# A bounded soak: the Procfile's processes on PostgreSQL + Redis, 50 buddies and 5
# coordinators for SOAK_SECONDS (600); figures in benchmarks/soak.md. SOAK_QUICK=1: 150 s.
soak: install
	@$(PY) scripts/soak.py

# wapiti (Debian) against a signed-in demo on its own var/scan/, at most SCAN_SECONDS (1200);
# the summary goes to benchmarks/scan.md; fails on anything above "low" or any server error.
scan: install
	@bash scripts/scan.sh

# The fault tests alone (make test runs them too): own PostgreSQL, Redis and processes.
# Figures go to faults/last-run.md. Needs PostgreSQL 15 binaries and redis-server.
test-faults: install
	@$(VENV)/bin/pytest faults/ -q -p no:cacheprovider -s

# Upstream releases are taken on purpose: refresh the lock within pyproject.toml's ranges,
# install it, run everything. Review `git diff uv.lock` and commit it if the suite passes.
upgrade: install
	@$(VENV)/bin/uv lock --upgrade
	@$(MAKE) --no-print-directory test

clean:
	rm -rf var/db.sqlite3* var/broker var/cache var/staticfiles var/celerybeat-schedule*
