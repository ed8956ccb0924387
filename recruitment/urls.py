from django.urls import path

from . import views

app_name = "recruitment"

urlpatterns = [
    # Public, no login: the scheme's front door and its buddy application form.
    path("s/<slug:slug>/", views.front_door, name="front_door"),
    path("s/<slug:slug>/volunteer/", views.apply, name="apply"),
    path("s/<slug:slug>/volunteer/thanks/", views.applied, name="applied"),
    # A referee's link (signed, single use, expiring).
    path("reference/thanks/", views.reference_thanks, name="reference_thanks"),
    path("reference/<str:token>/", views.reference_form, name="reference"),
    # The coordinator's.
    path(
        "coordinator/settings/public-page/",
        views.settings_front_door,
        name="settings_front_door",
    ),
    path(
        "coordinator/people/<int:pk>/references/request/",
        views.references_request,
        name="references_request",
    ),
    path(
        "coordinator/references/<int:pk>/remind/",
        views.reference_remind,
        name="reference_remind",
    ),
    path(
        "coordinator/references/<int:pk>/decision/",
        views.reference_decide,
        name="reference_decide",
    ),
]
