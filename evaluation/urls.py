from django.urls import path

from . import evidence_views, report_views

app_name = "evaluation"

urlpatterns = [
    path("coordinator/evidence/", evidence_views.evidence_page, name="evidence"),
    path(
        "coordinator/evidence/download/",
        evidence_views.evidence_download,
        name="evidence_download",
    ),
    path("evaluation/charts.css", report_views.chart_stylesheet, name="chart_css"),
    path("coordinator/reports/funder/", report_views.funder_reports, name="funder_reports"),
    path("coordinator/reports/funder/<int:pk>/", report_views.funder_report, name="funder_report"),
    path(
        "coordinator/reports/funder/<int:pk>/text/",
        report_views.funder_report_text,
        name="funder_report_text",
    ),
    path(
        "coordinator/reports/funder/<int:pk>/pdf/",
        report_views.funder_report_pdf_download,
        name="funder_report_pdf",
    ),
    path(
        "coordinator/reports/funder/<int:pk>/<slug:table>.<str:extension>",
        report_views.funder_report_table,
        name="funder_report_table",
    ),
]
