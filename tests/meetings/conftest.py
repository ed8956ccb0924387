import pytest

from buddyscheme.models import Role

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def people(scheme):
    """A coordinator, an on-call coordinator and a cleared buddy of the scheme."""
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coord@example.org"
    )
    on_call = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, is_on_call=True, user__email="oncall@example.org"
    )
    buddy = cleared_buddy(scheme, email="buddy@example.org")
    return {"coordinator": coordinator, "on_call": on_call, "buddy": buddy}
