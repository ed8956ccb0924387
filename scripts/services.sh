#!/usr/bin/env bash
# Make PostgreSQL and Redis reachable on 127.0.0.1 when they are installed but stopped.
# Prints "postgres" and/or "redis" for each one that answers afterwards.
set -u

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! answers 5432 && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    done
    for _ in $(seq 20); do answers 5432 && break; sleep 0.5; done
fi
if ! answers 6379 && command -v redis-server >/dev/null; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
    for _ in $(seq 20); do answers 6379 && break; sleep 0.5; done
fi

answers 5432 && echo postgres
answers 6379 && echo redis
exit 0
