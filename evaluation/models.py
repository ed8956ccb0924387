from .report_models import FunderReport  # noqa: F401  (the funder report, evaluation/report.py)
