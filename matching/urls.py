from django.urls import path

from . import ending_views, goal_views, rematch_views, settings_views, views

app_name = "matching"

urlpatterns = [
    path("coordinator/matching/", views.workspace, name="workspace"),
    path(
        "coordinator/matching/participants/<int:pk>/",
        views.participant_candidates,
        name="participant",
    ),
    path("coordinator/matching/people/<int:pk>/menu/", views.profile_for, name="profile_for"),
    path("coordinator/matching/matches/", views.match_list, name="matches"),
    path(
        "coordinator/matching/matches/<int:pk>/support-person/",
        views.match_support_person,
        name="match_support_person",
    ),
    path("coordinator/matching/history/", views.history, name="history"),
    path("coordinator/matching/rematch-requests/", rematch_views.rematch_list, name="rematch_list"),
    path(
        "coordinator/matching/rematch-requests/<int:pk>/",
        rematch_views.rematch_detail,
        name="rematch",
    ),
    path(
        "coordinator/matching/rematch-requests/<int:pk>/handled/",
        rematch_views.rematch_handled,
        name="rematch_handled",
    ),
    path(
        "coordinator/matching/rematch-requests/<int:pk>/new-match/",
        rematch_views.rematch_new_match,
        name="rematch_new_match",
    ),
    path("coordinator/matching/rounds/new/", views.round_new, name="round_new"),
    path("coordinator/matching/rounds/<int:pk>/", views.round_detail, name="round"),
    path("coordinator/matching/events/<int:pk>/", views.event_detail, name="event"),
    path("coordinator/matching/matches/<int:pk>/nudge/", views.proposal_nudge, name="nudge"),
    path("coordinator/matching/matches/<int:pk>/answer/", views.proposal_answer, name="answer"),
    path("matches/<int:pk>/", views.match_detail, name="match"),
    # Goals, the planned length, reviews and progress at the end (issue 18).
    path("coordinator/matching/matches/<int:pk>/goals/", goal_views.match_goals, name="goals"),
    path(
        "coordinator/matching/matches/<int:pk>/goals/<int:goal_pk>/remove/",
        goal_views.goal_remove,
        name="goal_remove",
    ),
    path("coordinator/matching/matches/<int:pk>/plan/", goal_views.match_plan, name="plan"),
    path("coordinator/matching/matches/<int:pk>/review/", goal_views.review_new, name="review"),
    path(
        "coordinator/matching/matches/<int:pk>/progress-at-end/",
        goal_views.progress_at_end,
        name="progress_at_end",
    ),
    path("matches/<int:pk>/accept/", views.proposal_accept, name="accept"),
    path("matches/<int:pk>/decline/", views.proposal_decline, name="decline"),
    path("matches/<int:pk>/talk/", views.proposal_talk, name="talk"),
    path("menu/", views.my_profile, name="my_profile"),
    path("matches/", views.my_matches, name="my_matches"),
    path("choose/<int:pk>/", views.choose, name="choose"),
    path("events/<int:pk>/rank/", views.event_rank, name="event_rank"),
    path("me/stop/", views.stop, name="stop"),
    # The ending flow: the coordinator's steps, attempts to reach someone, "we are friends".
    path(
        "coordinator/matching/matches/<int:pk>/end/", ending_views.ending_start, name="ending_start"
    ),
    path(
        "coordinator/matching/matches/<int:pk>/end/<str:ending_type>/",
        ending_views.ending_step,
        name="ending_step",
    ),
    path(
        "coordinator/matching/matches/<int:pk>/attempts/",
        ending_views.contact_attempt_add,
        name="contact_attempt_add",
    ),
    path("matches/<int:pk>/friends/", ending_views.friendship, name="friendship"),
    # The menu's settings page (the hub is buddyscheme's settings_home).
    path("coordinator/settings/menu/", settings_views.settings_menu, name="settings_menu"),
    path(
        "coordinator/settings/menu/categories/",
        settings_views.settings_menu_category_add,
        name="settings_menu_category_add",
    ),
    path(
        "coordinator/settings/menu/categories/<int:pk>/",
        settings_views.settings_menu_category_edit,
        name="settings_menu_category_edit",
    ),
    path(
        "coordinator/settings/menu/items/<int:pk>/",
        settings_views.settings_menu_item_edit,
        name="settings_menu_item_edit",
    ),
]
