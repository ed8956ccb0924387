"""Contract PDF render time for `make bench`: the first (cold) render and the warm median."""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")

import django  # noqa: E402

django.setup()


def main(out=None):
    from contracts.models import Contract
    from contracts.pdf import contract_pdf

    contract = Contract.objects.filter(state="signed").first()
    if contract is None:
        sys.exit("no signed contract: run manage.py seed_demo first")
    started = time.perf_counter()
    pdf = contract_pdf(contract, discreet=True)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        contract_pdf(contract, discreet=True)
        warm.append(time.perf_counter() - started)
    print(
        f"contract PDF ({len(pdf) // 1024} KB): first render {cold:.2f} s, "
        f"warm {statistics.median(warm):.3f} s (median of 5; target <= 0.5 s)"
    )
    from bench_rows import limit_row

    limit_row("contract PDF, warm", statistics.median(warm), "s", maximum=0.5)
    if out:
        Path(out).write_bytes(pdf)


if __name__ == "__main__":
    main(*sys.argv[1:])
