from django.urls import path

from . import views

app_name = "signposting"

urlpatterns = [
    path("coordinator/signposting/", views.directory, name="directory"),
    path("coordinator/signposting/new/", views.entry_new, name="entry_new"),
    path("coordinator/signposting/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("coordinator/signposting/<int:pk>/checked/", views.entry_checked, name="entry_checked"),
    path("coordinator/signposting/<int:pk>/retire/", views.entry_retire, name="entry_retire"),
    path("coordinator/plans/", views.plans, name="plans"),
    path("coordinator/matches/<int:pk>/next-steps/", views.plan_start, name="plan_start"),
    path("coordinator/plans/<int:pk>/", views.plan, name="plan"),
    path("coordinator/plans/<int:pk>/steps/", views.plan_action_add, name="plan_action_add"),
    path("coordinator/plans/<int:pk>/reminders/", views.plan_reminders, name="plan_reminders"),
    path("coordinator/plans/<int:pk>/finish/", views.plan_finish, name="plan_finish"),
    path("coordinator/plans/<int:pk>/pdf/", views.plan_pdf_coordinator, name="plan_pdf"),
    path(
        "coordinator/plan-steps/<int:pk>/remove/",
        views.plan_action_remove,
        name="plan_action_remove",
    ),
    path("me/next-steps/<int:pk>/", views.my_plan, name="my_plan"),
    path("me/next-steps/<int:pk>/pdf/", views.my_plan_pdf, name="my_plan_pdf"),
    path("me/next-steps/<int:pk>/reminders/", views.my_plan_reminders, name="my_plan_reminders"),
]
