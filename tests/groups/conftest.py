from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from buddyscheme.models import Role
from contracts.models import ContractState
from contracts.services import contract_sign
from groups import services
from groups.models import GroupQuestion

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, venue

UTC = ZoneInfo("UTC")
# A Monday morning; sessions run 10:00-12:00 (GMT, office hours).
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living", sender_name="Appointments")


@pytest.fixture
def people(scheme, clock):
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org"
    )
    first = cleared_buddy(scheme, email="first@example.org")
    second = cleared_buddy(scheme, email="second@example.org")
    for buddy in (first, second):
        buddy.is_facilitator = True
        buddy.save(update_fields=["is_facilitator"])
    participant = MembershipFactory(
        scheme=scheme,
        role=Role.PARTICIPANT,
        user__email="grace@example.org",
        user__first_name="Grace",
        user__last_name="Obi",
    )
    return {
        "coordinator": coordinator,
        "first": first,
        "second": second,
        "participant": participant,
    }


@pytest.fixture
def group(scheme, people):
    return services.group_create(
        scheme=scheme,
        by=people["coordinator"].user,
        name="HIV peer group",
        neutral_name="Tuesday group",
        kind="drop_in",
        schedule="regular",
        schedule_text="Mondays 10-12",
        purpose="Peer support",
        venue=venue(
            scheme, name="Our building", kind="in_house", key_holder=people["coordinator"].user
        ),
        signage_text="Room 2: private meeting",
        complaints_contact="Sam on 020 7946 0000",
    )


@pytest.fixture
def session(group, people):
    return services.group_session_create(
        group=group,
        planned_start=START,
        planned_end=START + timedelta(hours=2),
        by=people["coordinator"].user,
    )


@pytest.fixture
def staffed(session, people):
    """The session with its two buddy facilitators."""
    for buddy in (people["first"], people["second"]):
        services.facilitator_add(session=session, membership=buddy, by=people["coordinator"].user)
    return session


def join(group, participant, by):
    """Pass the group check and sign the agreement."""
    answers = {question.pk: True for question in GroupQuestion.objects.filter(scheme=group.scheme)}
    member = services.group_member_add(group=group, membership=participant, answers=answers, by=by)
    contract_sign(
        contract=member.agreement,
        membership=participant,
        typed_name=participant.user.get_full_name(),
        agreed=True,
        read_to_end=True,
    )
    member.agreement.refresh_from_db()
    assert member.agreement.state == ContractState.SIGNED
    return member


REVIEW_ON = date(2026, 12, 14)
