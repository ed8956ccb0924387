"""The audit trail: `audit_record` is called by every service that changes people, consents,
roles or matches, inside that service's transaction.

Where a request came from (IP address, browser) reaches services through a context variable
that `AuditRequestMetaMiddleware` sets for the length of each request, not as an argument:
services are also called from the admin, Celery tasks and management commands, and threading
`request` through each of them would tie the domain layer to HTTP. A context variable is
private to its request under WSGI threads and ASGI tasks alike, and outside a request (a task,
a command) it is simply empty, so those rows say "no request" rather than guessing.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditEvent, Scheme

USER_AGENT_LENGTH = 200


@dataclass(frozen=True)
class RequestMeta:
    ip_address: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request) -> RequestMeta:
        # REMOTE_ADDR, as contract signatures record it: X-Forwarded-For is whatever the
        # client chose to send unless a trusted proxy rewrites it.
        return cls(
            ip_address=_valid_ip(request.META.get("REMOTE_ADDR")),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )


_current_request_meta: ContextVar[RequestMeta | None] = ContextVar(
    "audit_request_meta", default=None
)


def request_meta_set(meta: RequestMeta | None):
    """Make `meta` the current request's; returns the token `request_meta_reset` needs."""
    return _current_request_meta.set(meta)


def request_meta_reset(token) -> None:
    _current_request_meta.reset(token)


def _valid_ip(value) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def audit_record(
    *,
    actor,
    verb: str,
    obj: models.Model,
    scheme: Scheme | int | None,
    request_meta: RequestMeta | None = None,
) -> AuditEvent:
    """Write one audit row: `actor` did `verb` to `obj` in `scheme`.

    Ids only: never put a name, an email or free text in here. `actor` may be None (the
    system, a task); `request_meta` defaults to the current request's, if there is one.
    """
    meta = request_meta or _current_request_meta.get() or RequestMeta()
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) is not None else None,
        verb=verb,
        object_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        scheme_id=scheme.pk if isinstance(scheme, Scheme) else scheme,
        ip_address=_valid_ip(meta.ip_address),
        user_agent=(meta.user_agent or "")[:USER_AGENT_LENGTH],
    )
