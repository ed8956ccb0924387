from django.urls import path

from . import evidence_views, report_views, subject_access_views, views

app_name = "evaluation"

urlpatterns = [
    path("coordinator/evidence/", evidence_views.evidence_page, name="evidence"),
    path(
        "coordinator/evidence/download/",
        evidence_views.evidence_download,
        name="evidence_download",
    ),
    path(
        "coordinator/people/<int:pk>/subject-access/",
        subject_access_views.subject_access_download,
        name="subject_access",
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
    path("coordinator/questionnaires/", views.questionnaire_list, name="questionnaires"),
    path("coordinator/questionnaires/new/", views.questionnaire_new, name="questionnaire_new"),
    path("coordinator/questionnaires/<int:pk>/", views.questionnaire_detail, name="questionnaire"),
    path(
        "coordinator/questionnaires/<int:pk>/draft/",
        views.questionnaire_draft,
        name="questionnaire_draft",
    ),
    path(
        "coordinator/questionnaires/<int:pk>/publish/",
        views.questionnaire_publish,
        name="questionnaire_publish",
    ),
    path(
        "coordinator/questionnaires/<int:pk>/schedule/",
        views.questionnaire_schedule,
        name="questionnaire_schedule",
    ),
    path(
        "coordinator/questionnaires/<int:pk>/questions/new/",
        views.question_new,
        name="question_new",
    ),
    path(
        "coordinator/questionnaire-questions/<int:pk>/edit/",
        views.question_edit,
        name="question_edit",
    ),
    path(
        "coordinator/questionnaire-questions/<int:pk>/delete/",
        views.question_delete,
        name="question_delete",
    ),
    path(
        "coordinator/people/<int:pk>/questionnaires/start/",
        views.person_start,
        name="person_start",
    ),
    path(
        "coordinator/questionnaire-invitations/<int:pk>/fill/",
        views.invitation_fill,
        name="fill",
    ),
    path(
        "coordinator/questionnaire-invitations/<int:pk>/resend/",
        views.invitation_resend,
        name="resend",
    ),
    path("coordinator/outcomes/", views.outcomes_page, name="outcomes"),
    path("q/saved/", views.answer_saved, name="answer_saved"),
    path("q/thanks/", views.answer_thanks, name="answer_thanks"),
    path("q/<str:token>/", views.answer, name="answer"),
]
