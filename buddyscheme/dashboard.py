"""The coordinator dashboard's body, kept whole per scheme for DASHBOARD_SECONDS.

Worked out, the dashboard asks every app for its part ("Needs me today", the lists, the figures
and charts): about forty queries, a tenth of a second or more on a large scheme, on every
load, while a coordinator leaves it open and reloads it. So the rendered body is kept in the
cache per scheme (every coordinator of the scheme sees the same body) and the page says when it
was worked out, with a link to work it out again. What differs per person is never kept: the
page around the body (the menu with their name) is rendered on each request, and each form's
CSRF token is put into the kept body for the request that shows it.

Forgotten at once, because a coordinator expects to see it the moment it happens:
- anything done through the app's services, by anyone: every write service leaves an audit row
  with its scheme (a coordinator's own action, a proposal accepted or declined, an agreement
  signed, a concern raised or taken, a debrief sent, a referral received, a stop asked for…).
  Audit rows that only record a look (`*_view`, `*_download`) do not forget it;
- what arrives with no audit row: an alert raised, acknowledged or resolved (the sweep raises
  them) and a message (the unread count); those apps say so with `dashboard_forget_on`.
Not forgotten: a meeting checked in or out (all day long on a busy scheme; the dashboard lists
no single meeting), a date passing (a review falling due), a change made in the Django admin.
Those show within DASHBOARD_SECONDS, as the "as of" time on the page says.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.db.models.signals import post_delete, post_save
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

from .cache import Kept, cache_bump, cache_forget, cache_kept
from .models import AuditEvent

DASHBOARD_SECONDS = 20
# Rendered into the kept body where each form's CSRF token goes; replaced per request.
CSRF_PLACEHOLDER = "csrf-token-of-this-request"
_GENERATION = "dashboard-body:generation"
# Audit verbs that record a look, not a change: nothing on the dashboard moves.
_LOOKS = ("_view", "_download")


def _key(scheme_id: int) -> str:
    return f"dashboard-body:v1:{scheme_id}"


def dashboard_forget(scheme_id: int | None) -> None:
    """The scheme's dashboard is worked out afresh on its next load (every scheme's when the
    scheme is not known)."""
    if scheme_id is None:
        cache_bump(_GENERATION)
    else:
        cache_forget(_key(scheme_id))


def dashboard_body(scheme, now: datetime, render: Callable[[], str]) -> Kept[str]:
    """The body as `render()` makes it, with CSRF_PLACEHOLDER for each form's token: kept per
    scheme for DASHBOARD_SECONDS."""
    return cache_kept(
        _key(scheme.pk), render, seconds=DASHBOARD_SECONDS, now=now, generation_key=_GENERATION
    )


def body_for_request(body: str, request) -> SafeString:
    """The kept body with this request's CSRF token in its forms."""
    return mark_safe(body.replace(CSRF_PLACEHOLDER, get_token(request)))  # noqa: S308 - rendered by our templates


def dashboard_forget_on(model, scheme_of: Callable[[object], int | None]) -> None:
    """Saving or deleting a `model` row forgets its scheme's dashboard (for rows that arrive
    with no audit row); `scheme_of(row)` says its scheme, None when not known."""

    def changed(sender, instance, **kwargs) -> None:
        dashboard_forget(scheme_of(instance))

    for signal in (post_save, post_delete):
        signal.connect(
            changed, sender=model, weak=False, dispatch_uid=f"dashboard-body-{model._meta.label}"
        )


def _audited(sender, instance: AuditEvent, created: bool, **kwargs) -> None:
    # A row with no scheme (a person's own account) is on no scheme's dashboard.
    if created and instance.scheme_id is not None and not instance.verb.endswith(_LOOKS):
        dashboard_forget(instance.scheme_id)


post_save.connect(_audited, sender=AuditEvent, dispatch_uid="dashboard-body-audit")
