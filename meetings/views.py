from django.shortcuts import render
from django.views.decorators.http import require_GET

from buddyscheme.access import role_required
from buddyscheme.models import Role


@require_GET
@role_required(Role.BUDDY)
def today(request):
    """The buddy's phone page. Meetings and the check-in buttons arrive with lone working."""
    return render(request, "meetings/today.html")
