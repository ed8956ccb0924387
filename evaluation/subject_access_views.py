"""A person's subject-access export, downloaded by a coordinator from the person page."""

from allauth.account.decorators import reauthentication_required
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from buddyscheme.access import get_member_for_coordinator, role_required
from buddyscheme.models import Role

from .subject_access import subject_access_export


@require_POST
@role_required(Role.COORDINATOR)
@reauthentication_required
def subject_access_download(request, pk):
    """Built in the request (seconds even for a busy buddy; see the README). POST: it leaves an
    access-log row; allauth keeps the request while the coordinator types their password again,
    then replays it."""
    member = get_member_for_coordinator(request, pk)
    name, content = subject_access_export(membership=member, by=request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
