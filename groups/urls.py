from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("coordinator/groups/", views.group_list, name="list"),
    path("coordinator/groups/new/", views.group_new, name="new"),
    path("coordinator/groups/questions/", views.questions, name="questions"),
    path("coordinator/groups/<int:pk>/", views.group_detail, name="detail"),
    path("coordinator/groups/<int:pk>/edit/", views.group_edit, name="edit"),
    path("coordinator/groups/<int:pk>/sessions/new/", views.session_new, name="session_new"),
    path("coordinator/groups/<int:pk>/members/new/", views.member_add, name="member_add"),
    path("coordinator/groups/<int:pk>/complaints/new/", views.complaint_new, name="complaint_new"),
    path(
        "coordinator/group-complaints/<int:pk>/close/",
        views.complaint_close,
        name="complaint_close",
    ),
    path("coordinator/group-members/<int:pk>/reconsent/", views.member_reconsent, name="reconsent"),
    path("coordinator/group-members/<int:pk>/refer/", views.member_refer, name="refer"),
    path("coordinator/group-exclusions/<int:pk>/", views.exclusion_review, name="exclusion"),
    path("coordinator/group-sessions/<int:pk>/", views.session_detail, name="session"),
    path("coordinator/group-debriefs/<int:pk>/reply/", views.debrief_reply, name="debrief_reply"),
    path("groups/sessions/", views.my_sessions, name="my_sessions"),
    path("groups/sessions/<int:pk>/", views.session_run, name="run"),
    path("groups/sessions/<int:pk>/feedback-code/", views.feedback_code, name="feedback_code"),
    path("groups/sessions/<int:pk>/debrief/", views.session_debrief, name="debrief"),
    path("groups/sessions/<int:pk>/<str:action>/", views.session_action, name="action"),
    path("s/<slug:slug>/feedback/<str:token>/", views.feedback, name="feedback"),
]
