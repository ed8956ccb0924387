"""The funder report as a tagged PDF (PDF/UA-1, as the agreements are), charts and all.

Only our own static files may be fetched while rendering: the scheme's text is typed by people.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from weasyprint import HTML

from contracts.pdf import PDF_VARIANT, STATIC_PREFIX, StaticOnlyFetcher, document_language

from .charts import with_style
from .report import report_sections
from .report_models import FunderReport


def _styled(sections):
    for section in sections:
        if section.chart:
            section.chart = with_style(section.chart)
    return sections


def funder_report_pdf(report: FunderReport) -> bytes:
    html = render_to_string(
        "evaluation/report/pdf.html",
        {
            "report": report,
            "scheme": report.scheme,
            "sections": _styled(report_sections(report)),
            "static": STATIC_PREFIX,
            "lang": document_language(),
        },
    )
    return HTML(string=html, base_url=STATIC_PREFIX, url_fetcher=StaticOnlyFetcher()).write_pdf(
        pdf_variant=PDF_VARIANT
    )
