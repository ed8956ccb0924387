"""Run by the fault harness as a subprocess with the harness env (its own database).

ops.py make N FIRST_DUE_IN SPREAD   prints the new scheme's id
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "buddyscheme.settings")


def main():
    import django

    django.setup()
    import bench_latency
    from django.utils import timezone

    count, first_in, spread = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    bench_latency.SPREAD_SECONDS = spread
    first_due = timezone.now() + timedelta(seconds=first_in)
    scheme = bench_latency.make_meetings(count, first_due)
    print(scheme.pk)


if __name__ == "__main__":
    main()
