"""The evidence pack page and its one-click download (coordinators of the current scheme)."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from buddyscheme.access import get_scheme_for_coordinator, reauthenticated, role_required
from buddyscheme.models import Role

from .evidence import evidence_overview, evidence_pack_build


@require_GET
@role_required(Role.COORDINATOR)
def evidence_page(request):
    scheme = get_scheme_for_coordinator(request)
    return render(
        request, "evaluation/evidence/page.html", {"scheme": scheme, **evidence_overview(scheme)}
    )


@require_POST
@role_required(Role.COORDINATOR)
@reauthenticated
def evidence_download(request):
    """Builds the ZIP in the request (fast enough for a scheme's records; see the README) and
    records who built it. POST: building it leaves an audit row."""
    scheme = get_scheme_for_coordinator(request)
    name, content = evidence_pack_build(scheme=scheme, by=request.user)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
