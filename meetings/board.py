"""The live board's shared part, kept per scheme between polls.

Every coordinator of a scheme polls the same board every 10 seconds, so its body (alerts,
counts, meetings now) is rendered once and kept in the cache under the scheme's generation. A
save or delete of a Meeting, Alert or AlertLocation of the scheme, and the services' bulk
updates (`board_forget`), bump the generation: as the writing transaction runs (so a test's
transaction sees it) and again once it commits (so a poll that read the old rows while it ran
cannot keep them). What time alone changes (a meeting passing its expected end, "not arrived
yet") is at most BOARD_SECONDS old for the first poll after it lapses, and twice that for the
others polling meanwhile (buddyscheme.cache.cache_kept: one poll works it out again).

Nothing per person is kept: the CSRF token of the Acknowledge and Resolve forms is a placeholder
in the kept HTML, filled in with the reader's own token on each request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from buddyscheme.cache import cache_bump, cache_kept

from .models import Alert, AlertLocation, Meeting

BOARD_SECONDS = 5
# What `{% csrf_token %}` writes into the kept HTML, replaced per request (never a real token:
# one person's token must never reach another's page).
CSRF_PLACEHOLDER = "board-csrf-placeholder-0f6b1c"


def _generation_key(scheme_id: int) -> str:
    return f"meetings:board:{scheme_id}:generation"


def _body_key(scheme_id: int) -> str:
    return f"meetings:board:{scheme_id}:body"


def board_body(scheme_id: int, build: Callable[[], str]) -> str:
    """The board's shared HTML for the scheme: kept, or built by `build()` and kept."""
    return cache_kept(
        _body_key(scheme_id),
        build,
        seconds=BOARD_SECONDS,
        now=timezone.now(),
        generation_key=_generation_key(scheme_id),
    ).value


def board_forget(scheme_id: int | None) -> None:
    """The scheme's board is rendered afresh on its next poll, and again after the current
    transaction commits."""
    if scheme_id is None:
        return
    key = _generation_key(scheme_id)
    cache_bump(key)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: cache_bump(key))


def _meeting_changed(sender, instance: Meeting, **kwargs) -> None:
    board_forget(instance.scheme_id)


def board_forget_alert(alert: Alert) -> None:
    """As board_forget, for the scheme of an alert changed by a bulk update."""
    if Alert.meeting.is_cached(alert):  # type: ignore[attr-defined]
        board_forget(alert.meeting.scheme_id)
    else:
        board_forget(
            Meeting.objects.filter(pk=alert.meeting_id).values_list("scheme_id", flat=True).first()
        )


def _alert_changed(sender, instance: Alert, **kwargs) -> None:
    board_forget_alert(instance)


def _location_changed(sender, instance: AlertLocation, **kwargs) -> None:
    board_forget(
        Alert.objects.filter(pk=instance.alert_id)
        .values_list("meeting__scheme_id", flat=True)
        .first()
    )


for _model, _receiver in (
    (Meeting, _meeting_changed),
    (Alert, _alert_changed),
    (AlertLocation, _location_changed),
):
    post_save.connect(_receiver, sender=_model, dispatch_uid=f"board-{_model.__name__}")
    post_delete.connect(_receiver, sender=_model, dispatch_uid=f"board-{_model.__name__}-d")
