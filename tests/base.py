"""Personas shared by every view test, after healthchecks' alice/bob/charlie.

Scheme A has a coordinator (with MFA), a buddy and a participant; scheme B has its own
coordinator, a stranger to everything in scheme A.
"""

from django.test import TestCase

from buddyscheme.models import Role

from .factories import MembershipFactory, SchemeFactory, enrol_totp

PERSONAS = ("anonymous", "coordinator", "buddy", "participant", "other_coordinator")


class PersonaTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.scheme = SchemeFactory(name="Scheme A", sender_name="A Appointments")
        cls.other_scheme = SchemeFactory(name="Scheme B", sender_name="B Appointments")
        cls.coordinator_membership = MembershipFactory(
            scheme=cls.scheme, role=Role.COORDINATOR, user__email="coordinator@a.example"
        )
        cls.buddy_membership = MembershipFactory(
            scheme=cls.scheme, role=Role.BUDDY, user__email="buddy@a.example"
        )
        cls.participant_membership = MembershipFactory(
            scheme=cls.scheme, role=Role.PARTICIPANT, user__email="participant@a.example"
        )
        cls.other_coordinator_membership = MembershipFactory(
            scheme=cls.other_scheme, role=Role.COORDINATOR, user__email="coordinator@b.example"
        )
        cls.coordinator = cls.coordinator_membership.user
        cls.buddy = cls.buddy_membership.user
        cls.participant = cls.participant_membership.user
        cls.other_coordinator = cls.other_coordinator_membership.user
        enrol_totp(cls.coordinator)
        enrol_totp(cls.other_coordinator)

    def persona_user(self, persona):
        return None if persona == "anonymous" else getattr(self, persona)

    def login_as(self, persona):
        self.client.logout()
        user = self.persona_user(persona)
        if user is not None:
            self.client.force_login(user)
        return user

    def reauthenticate(self, persona):
        """`login_as`, then re-entering the password, as an export or role change asks."""
        user = self.login_as(persona)
        reauthenticate(self.client, user)
        return user


def reauthenticate(client, user, method="password"):
    """What allauth records when someone re-enters their password (or authenticator code):
    exports and role changes then go through for its five-minute window."""
    import time

    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )

    session = client.session
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": method, "at": time.time(), "reauthenticated": True}
    ]
    session.save()


def assert_audited(*, verb, obj, actor, scheme):
    """Exactly one audit row says `actor` did `verb` to `obj` in `scheme`; returns it."""
    from django.contrib.contenttypes.models import ContentType

    from buddyscheme.models import AuditEvent

    rows = list(
        AuditEvent.objects.filter(
            verb=verb, object_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        )
    )
    assert len(rows) == 1, f"{len(rows)} audit rows for {verb} on {obj!r}, expected 1"
    row = rows[0]
    expected = (getattr(actor, "pk", None), getattr(scheme, "pk", None))
    assert (row.actor_id, row.scheme_id) == expected, (
        f"{verb}: actor, scheme {(row.actor_id, row.scheme_id)}, expected {expected}"
    )
    return row


def confirmed(page) -> dict[str, str]:
    """The post that ticks "I have checked" for exactly what `page` showed (the initials-only
    guard, buddyscheme/initials.py): the tick box and the fingerprint the page carried."""
    import re

    found = re.search(r'name="identifying_shown" value="([0-9a-f]+)"', page.content.decode())
    assert found, "the page shows no initials-only findings to confirm"
    return {"not_identifying": "on", "identifying_shown": found.group(1)}
