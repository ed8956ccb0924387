from django.urls import path

from . import views

app_name = "volunteering"

urlpatterns = [
    path("me/buddy/", views.buddy_me, name="buddy_me"),
    path("pack/", views.pack, name="pack"),
    path("pack/<int:pk>/", views.pack_document, name="pack_document"),
    path("pack/<int:pk>/file/", views.pack_document_file, name="pack_document_file"),
    path("pack/<int:pk>/read/", views.pack_document_read, name="pack_document_read"),
    path("expenses/", views.my_expenses, name="my_expenses"),
    path("expenses/new/", views.expense_new, name="expense_new"),
    path("expenses/<int:pk>/receipt/", views.expense_receipt, name="expense_receipt"),
    path("coordinator/pack/", views.coordinator_pack, name="coordinator_pack"),
    path("coordinator/pack/unread/", views.coordinator_pack_unread, name="coordinator_unread"),
    path(
        "coordinator/pack/<int:pk>/replace/",
        views.coordinator_pack_replace,
        name="coordinator_pack_replace",
    ),
    path(
        "coordinator/pack/<int:pk>/withdraw/",
        views.coordinator_pack_withdraw,
        name="coordinator_pack_withdraw",
    ),
    path("coordinator/hours/", views.coordinator_hours, name="coordinator_hours"),
    path("coordinator/expenses/", views.coordinator_expenses, name="coordinator_expenses"),
    path(
        "coordinator/expenses/export.csv",
        views.coordinator_expenses_csv,
        name="coordinator_expenses_csv",
    ),
    path("coordinator/expenses/<int:pk>/", views.coordinator_claim, name="coordinator_claim"),
    path(
        "coordinator/expenses/<int:pk>/approve/",
        views.coordinator_claim_approve,
        name="coordinator_claim_approve",
    ),
    path(
        "coordinator/expenses/<int:pk>/refuse/",
        views.coordinator_claim_refuse,
        name="coordinator_claim_refuse",
    ),
    path(
        "coordinator/expenses/<int:pk>/paid/",
        views.coordinator_claim_paid,
        name="coordinator_claim_paid",
    ),
]
