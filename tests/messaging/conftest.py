import pytest
from django.test import Client

from buddyscheme.models import Role
from matching.models import Match, MatchProfile

from ..factories import MembershipFactory, SchemeFactory, enrol_totp


@pytest.fixture
def people(db):
    """Scheme A: two coordinators, a buddy matched (active) with a participant, a second
    buddy and a second participant; scheme B: its own coordinator and buddy."""
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    other_scheme = SchemeFactory(name="Scheme B", sender_name="Other")

    def member(role, first_name, scheme=scheme, **kwargs):
        person = MembershipFactory(
            scheme=scheme,
            role=role,
            user__first_name=first_name,
            user__email=f"{first_name.lower()}@{scheme.pk}.example.org",
            **kwargs,
        )
        if role == Role.COORDINATOR:
            enrol_totp(person.user)
        return person

    buddy = member(Role.BUDDY, "Sam")
    participant = member(Role.PARTICIPANT, "Grace")
    match = Match.objects.create(
        scheme=scheme, buddy=buddy, participant=participant, state="active"
    )
    second_buddy = member(Role.BUDDY, "Priya")
    MatchProfile.objects.create(
        membership=second_buddy, interests=["cooking", "walking"], languages=["Gujarati"]
    )
    return {
        "scheme": scheme,
        "other_scheme": other_scheme,
        "coordinator": member(Role.COORDINATOR, "Sunita"),
        "second_coordinator": member(Role.COORDINATOR, "Omar"),
        "buddy": buddy,
        "participant": participant,
        "match": match,
        "second_buddy": second_buddy,
        "second_participant": member(Role.PARTICIPANT, "Ada"),
        "other_coordinator": member(Role.COORDINATOR, "Olu", scheme=other_scheme),
        "other_buddy": member(Role.BUDDY, "Kit", scheme=other_scheme),
    }


def client_for(member):
    client = Client()
    client.force_login(member.user)
    return client
