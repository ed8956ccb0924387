"""Issue: a participant signs their agreement on a phone."""

from buddyscheme.models import Role
from contracts import services
from contracts.models import Signature
from matching.models import Match, MatchState

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, waiting_participant
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_a_participant_signs_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    participant = waiting_participant(scheme, email="signer@example.org")
    participant.user.first_name, participant.user.last_name = "Grace", "Obi"
    participant.user.save()
    match = Match.objects.create(
        scheme=scheme,
        participant=participant,
        buddy=cleared_buddy(scheme),
        state=MatchState.ACCEPTED,
    )
    contract = services.contract_generate(match=match, by=None)

    page = open_phone()
    log_in(page, "signer@example.org")
    page.goto("/contracts/")
    page.get_by_role("link", name="Buddy agreement").click()
    assert page.get_by_text("Stopping at once").is_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "participant-contract")
    page.get_by_label("Type your name to sign").fill("Grace O")
    page.get_by_role("button", name="Sign the agreement").click()
    # Forgot the ticks: told what is missing, the typed name kept.
    assert (
        "Please read the agreement to the end first." in page.locator(".error-summary").inner_text()
    )
    assert page.get_by_label("Type your name to sign").input_value() == "Grace O"
    page.get_by_label("I have read the whole agreement").check()
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Sign the agreement").click()
    assert page.get_by_text("you have signed the agreement").is_visible()
    signature = Signature.objects.get(contract=contract)
    assert (signature.party, signature.typed_name) == ("participant", "Grace O")
    assert "Mobile" in signature.user_agent or "Chrome" in signature.user_agent
