from django.urls import path

from . import evidence_views

app_name = "evaluation"

urlpatterns: list = [
    path("coordinator/evidence/", evidence_views.evidence_page, name="evidence"),
    path(
        "coordinator/evidence/download/",
        evidence_views.evidence_download,
        name="evidence_download",
    ),
]
