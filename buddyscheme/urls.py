import environ
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("switch/", views.switch_membership, name="switch_membership"),
    path("profile/", views.profile_edit, name="profile"),
    path("me/", views.participant_home, name="participant_home"),
    path("coordinator/", views.coordinator_dashboard, name="coordinator_dashboard"),
    path("coordinator/people/", views.people, name="people"),
    path("coordinator/people/<int:pk>/", views.person_detail, name="person"),
    path("coordinator/people/<int:pk>/stage/", views.person_stage_move, name="person_stage"),
    path("coordinator/people/<int:pk>/dbs/", views.person_dbs_record, name="person_dbs"),
    path(
        "coordinator/people/<int:pk>/training/",
        views.person_training_record,
        name="person_training",
    ),
    path("coordinator/people/<int:pk>/enrolment/", views.person_enrol, name="person_enrolment"),
    path(
        "coordinator/people/<int:pk>/sensitive-notes/",
        views.person_sensitive_notes_save,
        name="person_sensitive_notes",
    ),
    path(
        "coordinator/people/<int:pk>/support-person/",
        views.person_support_person,
        name="person_support_person",
    ),
    path("coordinator/people/<int:pk>/notes/", views.person_note_add, name="person_note_add"),
    path("coordinator/invitations/", views.invitation_list, name="invitation_list"),
    path(
        "coordinator/invitations/<int:pk>/withdraw/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("matching.urls")),
    path("", include("contracts.urls")),
    path("", include("meetings.urls")),
]

handler500 = "buddyscheme.views.server_error"

if environ.Env().bool("BENCH_BARE_VIEW", default=False):
    # `make bench` only: Django's floor (middleware, no database, no template), to divide
    # every other endpoint by. Never registered unless BENCH_BARE_VIEW=true.
    def bench_bare(request):
        return HttpResponse(b"ok", content_type="text/plain")

    urlpatterns.append(path("bench/bare", bench_bare))
