"""Dismissing a pattern flag: "looked at, nothing to do", with a note. One URL, one service."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from buddyscheme.access import role_required
from buddyscheme.errors import DomainError
from buddyscheme.identifiers import person_names
from buddyscheme.models import Role
from matching.access import get_match_for_user

from . import patterns
from .forms import PatternDismissForm
from .models import PatternKind


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def pattern_dismiss(request, pk, kind):
    match = get_match_for_user(request, pk)
    if kind not in PatternKind.values:
        raise Http404
    names = [*person_names(match.participant), *person_names(match.buddy)]
    form = PatternDismissForm(request.POST or None, names=names)
    if request.method == "POST" and form.is_valid():
        try:
            patterns.pattern_dismiss(
                match=match, kind=kind, note=form.cleaned_data["note"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Marked as looked at. It comes back if the pattern does.")
            return redirect("matching:match", pk=match.pk)
    flags = [
        flag for flag in patterns.pattern_flags(match.scheme, match=match) if flag.kind == kind
    ]
    return render(
        request,
        "meetings/pattern_dismiss.html",
        {
            "match": match,
            "form": form,
            "flag": flags[0] if flags else None,
            "kind_label": PatternKind(kind).label,
        },
    )
