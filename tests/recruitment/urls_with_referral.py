"""The project's URLs plus a stand-in for the referral form another app serves at
/s/<slug>/refer/ (URL name `public_referral`), to show the front door links to it."""

from django.http import HttpResponse
from django.urls import path

from buddyscheme.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("s/<slug:slug>/refer/", lambda request, slug: HttpResponse(), name="public_referral"),
    *project_urlpatterns,
]
