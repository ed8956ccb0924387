"""Issue 16 on a phone: the buddy's own page shows a document to read; they read it and mark
it, then claim an expense with a receipt photo, and see the claim waiting for a decision."""

from decimal import Decimal

from django.core.files.base import ContentFile
from playwright.sync_api import expect

from buddyscheme.models import Role
from volunteering import services
from volunteering.models import ClaimState, DocumentRead, ExpenseClaim

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy
from .conftest import log_in, screenshot, serious_accessibility_problems

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


def test_the_buddy_reads_the_pack_and_claims_an_expense(open_phone):
    scheme = SchemeFactory(name="Positive Steps")
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    buddy = cleared_buddy(scheme, email="walker@example.org")
    document = services.pack_document_add(
        scheme=scheme,
        title="Lone working guide",
        category="lone_working",
        required=True,
        upload=ContentFile(b"Check in and check out, every time.\n", name="guide.txt"),
        by=coordinator.user,
    )

    page = open_phone()
    log_in(page, "walker@example.org")
    page.goto("/me/buddy/")
    expect(page.get_by_role("heading", name="Me as a buddy")).to_be_visible()
    expect(page.get_by_role("heading", name="My hours in")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_accessibility_problems(page) == []
    screenshot(page, "buddy-me-375")

    page.get_by_role("link", name="Lone working guide").click()
    page.get_by_role("button", name="I have read it").click()
    expect(page.get_by_text("is marked as read")).to_be_visible()
    assert DocumentRead.objects.filter(document=document, buddy=buddy, version=1).exists()

    page.goto("/me/buddy/")
    expect(page.get_by_text("You have read everything you need to")).to_be_visible()
    page.get_by_role("link", name="Claim an expense").click()
    page.get_by_label("Amount (£)").fill("4.505")
    page.get_by_label("Travel").check()
    page.get_by_label("What was it for?").fill("Bus fares, return")
    page.get_by_label("Receipt photo").set_input_files(
        {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": JPEG}
    )
    page.get_by_role("button", name="Send the claim").click()
    expect(page.locator(".error-summary")).to_contain_text("at most 2 digits after the point")
    expect(page.get_by_label("What was it for?")).to_have_value("Bus fares, return")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "expense-error-375")

    page.get_by_label("Amount (£)").fill("4.50")
    # A file input is emptied when the page comes back: the photo is chosen again.
    page.get_by_label("Receipt photo").set_input_files(
        {"name": "receipt.jpg", "mimeType": "image/jpeg", "buffer": JPEG}
    )
    page.get_by_role("button", name="Send the claim").click()
    expect(page.get_by_text("Your claim is sent")).to_be_visible()
    expect(page.get_by_text("Waiting for a decision")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "my-expenses-375")
    claim = ExpenseClaim.objects.get(buddy=buddy)
    assert (claim.amount, claim.state) == (Decimal("4.50"), ClaimState.SUBMITTED)
    assert claim.receipt_content_type == "image/jpeg"
