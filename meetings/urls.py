from django.urls import path

from . import debrief_views, pattern_views, selection_views, settings_views, views

app_name = "meetings"

urlpatterns = [
    path("today/", views.today, name="today"),
    path("today/help-status/", views.help_status, name="help_status"),
    path("meetings/new/", views.meeting_new, name="new"),
    path("meetings/<int:pk>/help/", views.meeting_help, name="help"),
    path("meetings/<int:pk>/change/", views.meeting_change, name="change"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="cancel"),
    path("meetings/<int:pk>/safe/", views.meeting_safe, name="safe"),
    # Before the buttons' catch-all below.
    path("meetings/<int:pk>/debrief/", debrief_views.debrief, name="debrief"),
    path("meetings/<int:pk>/debrief/draft/", debrief_views.debrief_draft, name="debrief_draft"),
    path("meetings/<int:pk>/debrief/send/", debrief_views.debrief_send, name="debrief_send"),
    path("debriefs/", debrief_views.my_debriefs, name="my_debriefs"),
    path("meetings/<int:pk>/<str:action>/", views.meeting_action, name="action"),
    path("me/meetings/", views.my_meetings, name="my_meetings"),
    path("me/meetings/<int:pk>/rearrange/", views.meeting_rearrange, name="rearrange"),
    path("safety/", views.safety_settings, name="safety"),
    path("safety/pins/", views.safety_pins, name="safety_pins"),
    path("safety/location/", views.safety_location, name="safety_location"),
    path("sms/replies/", views.sms_reply, name="sms_reply"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
    path("calendar/address/", views.calendar_address, name="calendar_address"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("coordinator/meetings/", views.meeting_list, name="list"),
    path(
        "coordinator/matches/<int:pk>/flags/<str:kind>/dismiss/",
        pattern_views.pattern_dismiss,
        name="pattern_dismiss",
    ),
    # Selection (issue 15): interviews, induction and training sessions.
    path(
        "coordinator/people/<int:pk>/interview/new/",
        selection_views.interview_new,
        name="interview_new",
    ),
    path(
        "coordinator/settings/training-sessions/",
        selection_views.training_sessions,
        name="training_sessions",
    ),
    path(
        "coordinator/settings/training-sessions/<int:pk>/",
        selection_views.training_session,
        name="training_session",
    ),
    path(
        "coordinator/settings/training-sessions/<int:pk>/invite/",
        selection_views.training_session_invite,
        name="training_session_invite",
    ),
    path(
        "coordinator/settings/training-sessions/<int:pk>/attendance/",
        selection_views.training_session_attendance,
        name="training_session_attendance",
    ),
    path("training/", selection_views.my_training, name="my_training"),
    path(
        "training/invitations/<int:pk>/answer/",
        selection_views.training_answer,
        name="training_answer",
    ),
    path("coordinator/meetings/<int:pk>/", views.meeting_edit, name="edit"),
    path(
        "coordinator/people/<int:pk>/one-to-ones/new/",
        views.supervision_new,
        name="supervision_new",
    ),
    path(
        "coordinator/meetings/<int:pk>/debrief/",
        debrief_views.debrief_record,
        name="debrief_record",
    ),
    path("coordinator/debriefs/", debrief_views.debrief_list, name="debrief_list"),
    path("coordinator/debriefs/<int:pk>/", debrief_views.debrief_detail, name="debrief_detail"),
    path(
        "coordinator/debriefs/<int:pk>/feedback/",
        debrief_views.debrief_feedback,
        name="debrief_feedback",
    ),
    path(
        "coordinator/debriefs/<int:pk>/follow-up/",
        debrief_views.debrief_follow_up,
        name="debrief_follow_up",
    ),
    path("coordinator/board/", views.board, name="board"),
    path("coordinator/board/live/", views.board_live, name="board_live"),
    path("coordinator/board/list/", views.board_list, name="board_list"),
    path("coordinator/alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
    path("coordinator/alerts/<int:pk>/resolve/", views.alert_resolve, name="resolve"),
    path("alerts/<int:pk>/", views.responder, name="responder"),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.responder_acknowledge,
        name="responder_acknowledge",
    ),
    path("alerts/<int:pk>/resolve/", views.responder_resolve, name="responder_resolve"),
    path("r/<str:token>", views.responder_link, name="responder_link"),
    # Settings pages (the hub is buddyscheme's settings_home).
    path("coordinator/settings/venues/", settings_views.settings_venues, name="settings_venues"),
    path(
        "coordinator/settings/venues/new/",
        settings_views.settings_venue_new,
        name="settings_venue_new",
    ),
    path(
        "coordinator/settings/venues/<int:pk>/",
        settings_views.settings_venue_edit,
        name="settings_venue_edit",
    ),
    path("coordinator/settings/on-call/", settings_views.settings_rota, name="settings_rota"),
    path(
        "coordinator/settings/on-call/new/",
        settings_views.settings_shift_new,
        name="settings_shift_new",
    ),
    path(
        "coordinator/settings/on-call/<int:pk>/",
        settings_views.settings_shift_edit,
        name="settings_shift_edit",
    ),
    path(
        "coordinator/settings/on-call/<int:pk>/delete/",
        settings_views.settings_shift_delete,
        name="settings_shift_delete",
    ),
    path("coordinator/settings/safety/", settings_views.settings_safety, name="settings_safety"),
    path(
        "coordinator/settings/patterns/", settings_views.settings_patterns, name="settings_patterns"
    ),
]
