import uuid

import environ
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from . import (
    access_log_views,
    erasure_views,
    interview_views,
    pwa,
    referral_views,
    settings_views,
    support_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
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
    # Support: concerns, one-to-ones, contact and the diary.
    path("support/", support_views.my_support, name="my_support"),
    path("support/one-to-ones/<int:pk>/", support_views.my_supervision, name="my_supervision"),
    path(
        "support/one-to-ones/<int:pk>/comment/",
        support_views.my_supervision_comment,
        name="my_supervision_comment",
    ),
    path("concerns/new/<str:kind>/", support_views.concern_new, name="concern_new"),
    path("concerns/<int:pk>/", support_views.my_concern, name="my_concern"),
    path("diary/", support_views.diary, name="diary"),
    path("diary/new/", support_views.diary_new, name="diary_new"),
    path("diary/<int:pk>/", support_views.diary_entry, name="diary_entry"),
    path("diary/<int:pk>/share/", support_views.diary_share, name="diary_share"),
    path("diary/<int:pk>/unshare/", support_views.diary_unshare, name="diary_unshare"),
    path("diary/<int:pk>/delete/", support_views.diary_delete, name="diary_delete"),
    path("coordinator/concerns/", support_views.concern_list, name="concern_list"),
    path("coordinator/concerns/<int:pk>/", support_views.concern_detail, name="concern"),
    path("coordinator/concerns/<int:pk>/take/", support_views.concern_take, name="concern_take"),
    path("coordinator/concerns/<int:pk>/note/", support_views.concern_note, name="concern_note"),
    path(
        "coordinator/concerns/<int:pk>/referral/",
        support_views.concern_referral,
        name="concern_referral",
    ),
    path(
        "coordinator/concerns/<int:pk>/close/",
        support_views.concern_close,
        name="concern_close",
    ),
    path(
        "coordinator/people/<int:pk>/support/",
        support_views.buddy_support,
        name="buddy_support",
    ),
    path(
        "coordinator/people/<int:pk>/contact/",
        support_views.buddy_contact,
        name="buddy_contact",
    ),
    path(
        "coordinator/one-to-ones/<int:pk>/",
        support_views.supervision_detail,
        name="supervision",
    ),
    path(
        "coordinator/one-to-ones/<int:pk>/held/",
        support_views.supervision_held,
        name="supervision_held",
    ),
    path(
        "coordinator/one-to-ones/<int:pk>/notes/",
        support_views.supervision_notes,
        name="supervision_notes",
    ),
    path(
        "coordinator/one-to-ones/<int:pk>/share/",
        support_views.supervision_share,
        name="supervision_share",
    ),
    path(
        "coordinator/one-to-ones/<int:pk>/cancel/",
        support_views.supervision_cancel,
        name="supervision_cancel",
    ),
    path("coordinator/people/<int:pk>/notes/", views.person_note_add, name="person_note_add"),
    # Recruitment and selection: the pipeline, interviews, how people heard of us.
    path("coordinator/pipeline/", interview_views.pipeline_page, name="pipeline"),
    path(
        "coordinator/people/<int:pk>/recruitment-source/",
        interview_views.person_recruitment_source,
        name="person_recruitment_source",
    ),
    path("coordinator/interviews/<int:pk>/", interview_views.interview_detail, name="interview"),
    path(
        "coordinator/interviews/<int:pk>/notes/",
        interview_views.interview_notes,
        name="interview_notes",
    ),
    path(
        "coordinator/interviews/<int:pk>/outcome/",
        interview_views.interview_outcome,
        name="interview_outcome",
    ),
    path(
        "coordinator/interviews/<int:pk>/cancel/",
        interview_views.interview_cancel,
        name="interview_cancel",
    ),
    # Referrals: the scheme's public form (no login) and the coordinator's assessment.
    path("s/<slug:slug>/refer/", referral_views.public_referral, name="public_referral"),
    path(
        "s/<slug:slug>/refer/thanks/",
        referral_views.public_referral_thanks,
        name="public_referral_thanks",
    ),
    path("coordinator/referrals/", referral_views.referral_list, name="referral_list"),
    path("coordinator/referrals/<int:pk>/", referral_views.referral_detail, name="referral"),
    path(
        "coordinator/referrals/<int:pk>/assess/",
        referral_views.referral_assess,
        name="referral_assess",
    ),
    path(
        "coordinator/referrals/<int:pk>/enrol/",
        referral_views.referral_enrol,
        name="referral_enrol",
    ),
    path(
        "coordinator/referrals/<int:pk>/decline/",
        referral_views.referral_decline,
        name="referral_decline",
    ),
    path("coordinator/access-log/", access_log_views.access_log_page, name="access_log"),
    path(
        "coordinator/people/<int:pk>/erase/",
        erasure_views.person_erase_review,
        name="person_erase",
    ),
    path(
        "coordinator/people/<int:pk>/erase/confirm/",
        erasure_views.person_erase_confirm,
        name="person_erase_confirm",
    ),
    path(
        "coordinator/erasure-requests/<int:pk>/keep/",
        erasure_views.erasure_request_keep,
        name="erasure_request_keep",
    ),
    path("coordinator/retention/", erasure_views.retention_page, name="retention"),
    path(
        "coordinator/retention/<int:pk>/confirm/",
        erasure_views.retention_confirm,
        name="retention_confirm",
    ),
    path("coordinator/invitations/", views.invitation_list, name="invitation_list"),
    path(
        "coordinator/invitations/<int:pk>/withdraw/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    # Setting the scheme up without the admin (the other apps add their pages under the same
    # coordinator/settings/ prefix).
    path("coordinator/settings/", settings_views.settings_home, name="settings_home"),
    path("coordinator/settings/scheme/", settings_views.settings_scheme, name="settings_scheme"),
    path(
        "coordinator/settings/office-hours/",
        settings_views.settings_office_hours,
        name="settings_office_hours",
    ),
    path(
        "coordinator/settings/training/",
        settings_views.settings_training,
        name="settings_training",
    ),
    path(
        "coordinator/settings/training/<int:pk>/",
        settings_views.settings_training_edit,
        name="settings_training_edit",
    ),
    path(
        "coordinator/settings/training/<int:pk>/delete/",
        settings_views.settings_training_delete,
        name="settings_training_delete",
    ),
    path(
        "coordinator/settings/eligibility/",
        settings_views.settings_eligibility,
        name="settings_eligibility",
    ),
    path(
        "coordinator/settings/eligibility/<int:pk>/",
        settings_views.settings_eligibility_edit,
        name="settings_eligibility_edit",
    ),
    path(
        "coordinator/settings/eligibility/<int:pk>/delete/",
        settings_views.settings_eligibility_delete,
        name="settings_eligibility_delete",
    ),
    path(
        "coordinator/settings/interview-questions/",
        interview_views.settings_interview_questions,
        name="settings_interview_questions",
    ),
    path(
        "coordinator/settings/interview-questions/suggested/",
        interview_views.settings_interview_questions_defaults,
        name="settings_interview_questions_defaults",
    ),
    path(
        "coordinator/settings/interview-questions/<int:pk>/",
        interview_views.settings_interview_question_edit,
        name="settings_interview_question_edit",
    ),
    path(
        "coordinator/settings/interview-questions/<int:pk>/delete/",
        interview_views.settings_interview_question_delete,
        name="settings_interview_question_delete",
    ),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("", include("matching.urls")),
    path("", include("contracts.urls")),
    path("", include("meetings.urls")),
    path("", include("messaging.urls")),
    path("", include("volunteering.urls")),
    path("", include("recruitment.urls")),
    path("", include("groups.urls")),
    path("", include("signposting.urls")),
    path("", include("evaluation.urls")),
]

handler500 = "buddyscheme.views.server_error"

if environ.Env().bool("BENCH_BARE_VIEW", default=False):
    # `make bench` only: Django's floor (middleware, no database, no template), to divide
    # every other endpoint by. Never registered unless BENCH_BARE_VIEW=true.
    def bench_bare(request):
        return HttpResponse(b"ok", content_type="text/plain")

    def bench_write(request):
        """The floor of a check-in POST: a signed-in request that, in one transaction, inserts
        one safety event and updates its meeting (`?meeting=` its id), then answers 302 as the
        check-in does, with no lookup, lock, template or rule."""
        from django.db import transaction  # noqa: PLC0415 (bench wiring only)
        from django.utils import timezone  # noqa: PLC0415

        from meetings.models import Meeting, SafetyEvent  # noqa: PLC0415

        if not request.user.is_authenticated:
            return HttpResponse(status=403)
        pk = int(request.GET["meeting"])
        now = timezone.now()
        with transaction.atomic():
            SafetyEvent.objects.create(
                meeting_id=pk, kind="extend", idempotency_key=uuid.uuid4().hex, at=now
            )
            Meeting.objects.filter(pk=pk).update(updated_at=now)
        return HttpResponse(status=302, headers={"Location": "/today/"})

    urlpatterns.append(path("bench/bare", bench_bare))
    urlpatterns.append(path("bench/write", bench_write))
