from django.urls import path

from . import views

app_name = "contracts"

urlpatterns = [
    path("contracts/", views.contract_list, name="list"),
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
    path("contracts/<int:pk>/pdf/", views.contract_pdf_view, name="pdf"),
    path("contracts/<int:pk>/verify/", views.contract_verify, name="verify"),
    path("consents/", views.my_consents, name="consents"),
    path(
        "consents/<str:kind>/withdraw/",
        views.consent_withdraw_confirm,
        name="consent_withdraw",
    ),
    path(
        "coordinator/contracts/<int:pk>/sign-in-person/",
        views.sign_in_person,
        name="sign_in_person",
    ),
    path("coordinator/matches/<int:match_pk>/contract/", views.contract_new, name="new"),
    path(
        "coordinator/people/<int:pk>/volunteer-agreement/",
        views.volunteer_agreement_new,
        name="volunteer_new",
    ),
    path("coordinator/people/<int:pk>/consents/", views.person_consents, name="person_consents"),
    path("coordinator/contract-templates/", views.template_list, name="templates"),
    path("coordinator/contract-templates/<int:pk>/", views.template_edit, name="template"),
]
