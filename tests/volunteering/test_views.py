"""The pages: uploads through the form, private serving, reading, claims, decisions, the CSV."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    DBSCheck,
    DBSLevel,
    Role,
    TrainingModule,
)
from matching.models import Match
from volunteering import services
from volunteering.models import (
    ClaimState,
    DocumentCategory,
    DocumentRead,
    ExpenseCategory,
    ExpenseClaim,
    PackDocument,
)

from ..base import PersonaTestCase
from ..factories import MembershipFactory
from .helpers import PrivateFilesMixin, jpeg, pdf, renamed_exe, text


class VolunteeringCase(PrivateFilesMixin, PersonaTestCase):
    def setUp(self):
        super().setUp()
        BuddyVetting.objects.update_or_create(
            membership=self.buddy_membership, defaults={"stage": BuddyStage.APPROVED}
        )

    def add_document(self, title="Confidentiality", upload=None, required=True):
        return services.pack_document_add(
            scheme=self.scheme,
            title=title,
            category=DocumentCategory.CONFIDENTIALITY,
            required=required,
            upload=upload or pdf(),
            by=self.coordinator,
        )

    def add_claim(self, **kwargs):
        details = {
            "buddy": self.buddy_membership,
            "spent_on": timezone.localdate() - timedelta(days=1),
            "amount": Decimal("4.50"),
            "category": ExpenseCategory.TRAVEL,
            "description": "Bus fares",
        }
        return services.expense_claim_submit(**{**details, **kwargs})


class PackUploadViewTest(VolunteeringCase):
    def post(self, upload, title="Lone working"):
        self.login_as("coordinator")
        return self.client.post(
            "/coordinator/pack/",
            {"title": title, "category": "lone_working", "required": "on", "file": upload},
        )

    def test_a_real_pdf_is_added(self):
        response = self.post(pdf())
        self.assertRedirects(response, "/coordinator/pack/")
        document = PackDocument.objects.get()
        self.assertEqual(
            (document.title, document.required, document.version), ("Lone working", True, 1)
        )

    def test_a_renamed_executable_is_refused_with_a_clear_message(self):
        response = self.post(renamed_exe("lone-working.pdf"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "whatever its name says")
        self.assertContains(response, 'value="Lone working"', msg_prefix="what was typed stays")
        self.assertFalse(PackDocument.objects.exists())

    def test_an_oversize_file_is_refused(self):
        with self.settings(UPLOAD_MAX_BYTES=100):
            response = self.post(pdf())
        self.assertContains(response, "the limit is")
        self.assertFalse(PackDocument.objects.exists())

    def test_text_named_pdf_is_refused_and_nothing_is_saved(self):
        response = self.post(text("lone-working.pdf", body="<html>not a PDF</html>\n"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "name says it is a PDF")
        self.assertContains(response, 'value="Lone working"', msg_prefix="what was typed stays")
        self.assertFalse(PackDocument.objects.exists())

    def test_a_new_version_asks_for_reading_again(self):
        document = self.add_document()
        services.pack_document_mark_read(document=document, buddy=self.buddy_membership, version=1)
        self.login_as("coordinator")
        self.client.post(f"/coordinator/pack/{document.pk}/replace/", {"file": text()})
        document.refresh_from_db()
        self.assertEqual(document.version, 2)
        self.login_as("buddy")
        page = self.client.get("/pack/")
        self.assertContains(page, "Please read")

    def test_a_bad_new_version_changes_nothing(self):
        document = self.add_document()
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/pack/{document.pk}/replace/", {"file": renamed_exe()}, follow=True
        )
        self.assertContains(response, "whatever its name says")
        document.refresh_from_db()
        self.assertEqual(document.version, 1)


class PrivateServingTest(VolunteeringCase):
    def test_the_schemes_buddy_and_coordinator_get_the_file(self):
        document = self.add_document()
        for persona in ("buddy", "coordinator"):
            self.login_as(persona)
            response = self.client.get(f"/pack/{document.pk}/file/")
            self.assertEqual(response.status_code, 200, persona)
            self.assertEqual(response["Content-Type"], "application/pdf")
            self.assertEqual(response["X-Content-Type-Options"], "nosniff")
            self.assertEqual(
                response["Content-Disposition"], 'inline; filename="confidentiality-v1.pdf"'
            )
            self.assertTrue(b"".join(response.streaming_content).startswith(b"%PDF-"))
            self.assertNotIn("Content-Security-Policy", response)

    def test_text_and_images_are_sandboxed(self):
        document = self.add_document(upload=text())
        claim = self.add_claim(receipt=jpeg())
        self.login_as("coordinator")
        for url in (f"/pack/{document.pk}/file/", f"/expenses/{claim.pk}/receipt/"):
            response = self.client.get(url)
            self.assertIn("sandbox", response["Content-Security-Policy"], url)
            self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(
            self.client.get(f"/pack/{document.pk}/file/")["Content-Type"],
            "text/plain; charset=utf-8",
        )

    def test_others_are_kept_out(self):
        document = self.add_document()
        url = f"/pack/{document.pk}/file/"
        self.login_as("anonymous")
        response = self.client.get(url)
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])
        self.login_as("participant")
        self.assertEqual(self.client.get(url).status_code, 403)
        self.login_as("other_coordinator")
        self.assertEqual(self.client.get(url).status_code, 404)
        other_buddy = MembershipFactory(scheme=self.other_scheme, role=Role.BUDDY)
        self.client.force_login(other_buddy.user)
        self.assertEqual(self.client.get(url).status_code, 404)

    def test_the_file_is_not_under_the_web_root(self):
        document = self.add_document()
        self.login_as("anonymous")
        for guess in (f"/media/{document.file.name}", f"/static/{document.file.name}"):
            self.assertEqual(self.client.get(guess).status_code, 404, guess)

    def test_a_withdrawn_document_is_gone_for_buddies(self):
        document = self.add_document()
        services.pack_document_withdraw(document=document, by=self.coordinator)
        self.login_as("buddy")
        self.assertEqual(self.client.get(f"/pack/{document.pk}/file/").status_code, 404)

    def test_a_receipt_is_seen_by_its_buddy_and_the_coordinator_only(self):
        claim = self.add_claim(receipt=jpeg())
        url = f"/expenses/{claim.pk}/receipt/"
        self.login_as("buddy")
        response = self.client.get(url)
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/jpeg"))
        self.login_as("coordinator")
        self.assertEqual(self.client.get(url).status_code, 200)
        another_buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        self.client.force_login(another_buddy.user)
        self.assertEqual(self.client.get(url).status_code, 403)
        self.login_as("other_coordinator")
        self.assertEqual(self.client.get(url).status_code, 404)


class ReadingTest(VolunteeringCase):
    def test_a_buddy_marks_the_version_they_were_shown(self):
        document = self.add_document()
        self.login_as("buddy")
        page = self.client.get(f"/pack/{document.pk}/")
        self.assertContains(page, "I have read it")
        response = self.client.post(f"/pack/{document.pk}/read/", {"version": "1"})
        self.assertRedirects(response, "/pack/")
        self.client.post(f"/pack/{document.pk}/read/", {"version": "1"})
        self.assertEqual(DocumentRead.objects.count(), 1)
        self.assertContains(self.client.get(f"/pack/{document.pk}/"), "You have read this version")

    def test_a_stale_version_is_refused_with_a_message(self):
        document = self.add_document()
        services.pack_document_replace(document=document, upload=text(), by=self.coordinator)
        self.login_as("buddy")
        response = self.client.post(f"/pack/{document.pk}/read/", {"version": "1"}, follow=True)
        self.assertContains(response, "has a newer version")
        self.assertFalse(DocumentRead.objects.exists())

    def test_the_dashboard_and_the_list_show_who_has_not_read(self):
        self.add_document("Safeguarding policy")
        self.login_as("coordinator")
        dashboard = self.client.get("/coordinator/")
        self.assertContains(dashboard, "Buddy pack not read")
        self.assertContains(dashboard, "Safeguarding policy")
        listing = self.client.get("/coordinator/pack/unread/")
        self.assertContains(listing, self.buddy.get_full_name())
        document = PackDocument.objects.get()
        services.pack_document_mark_read(document=document, buddy=self.buddy_membership, version=1)
        self.assertContains(
            self.client.get("/coordinator/pack/unread/"), "has read every required document"
        )

    def test_the_buddys_today_has_a_card_until_read(self):
        document = self.add_document("Safeguarding policy")
        self.login_as("buddy")
        self.assertContains(self.client.get("/today/"), "Buddy pack: please read")
        services.pack_document_mark_read(document=document, buddy=self.buddy_membership, version=1)
        self.assertNotContains(self.client.get("/today/"), "Buddy pack: please read")


class ExpenseViewTest(VolunteeringCase):
    def claim_form(self, **changes):
        data = {
            "spent_on": (timezone.localdate() - timedelta(days=2)).isoformat(),
            "amount": "3.20",
            "category": "refreshments",
            "description": "Two teas",
        }
        return {**data, **changes}

    def test_a_buddy_claims_with_a_receipt_photo(self):
        self.login_as("buddy")
        response = self.client.post("/expenses/new/", {**self.claim_form(), "receipt": jpeg()})
        self.assertRedirects(response, "/expenses/")
        claim = ExpenseClaim.objects.get()
        self.assertEqual((claim.amount, claim.state), (Decimal("3.20"), ClaimState.SUBMITTED))
        self.assertEqual(claim.receipt_content_type, "image/jpeg")
        self.assertTrue(claim.receipt.name.startswith(f"receipts/{self.scheme.pk}/"))

    def test_bad_input_keeps_what_was_typed(self):
        self.login_as("buddy")
        for amount, message in (
            ("3.205", "at most 2 digits after the point"),
            ("0", "above £0.00"),
            ("lots", "pounds and pence"),
        ):
            response = self.client.post("/expenses/new/", self.claim_form(amount=amount))
            self.assertContains(response, message, msg_prefix=amount)
            self.assertContains(response, "Two teas")
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        self.assertContains(
            self.client.post("/expenses/new/", self.claim_form(spent_on=tomorrow)),
            "in the future",
        )
        response = self.client.post(
            "/expenses/new/", {**self.claim_form(), "receipt": renamed_exe("receipt.jpg")}
        )
        self.assertContains(response, "whatever its name says")
        self.assertFalse(ExpenseClaim.objects.exists())

    def test_a_receipt_whose_name_lies_or_that_is_too_big_is_refused_and_nothing_saved(self):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from .helpers import PDF_BYTES

        self.login_as("buddy")
        lying = SimpleUploadedFile("receipt.jpg", PDF_BYTES, content_type="image/jpeg")
        response = self.client.post("/expenses/new/", {**self.claim_form(), "receipt": lying})
        self.assertContains(response, "name says it is a JPEG photo")
        self.assertContains(response, "Two teas", msg_prefix="what was typed stays")
        with self.settings(UPLOAD_MAX_BYTES=1024):
            big = SimpleUploadedFile("receipt.pdf", PDF_BYTES + b"0" * 4096)
            response = self.client.post("/expenses/new/", {**self.claim_form(), "receipt": big})
        self.assertContains(response, "the limit is")
        self.assertContains(response, "Two teas")
        self.assertFalse(ExpenseClaim.objects.exists())

    def test_the_description_is_checked_for_the_participants_name(self):
        Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state="active",
        )
        first_name = self.participant.first_name
        self.login_as("buddy")
        response = self.client.post(
            "/expenses/new/", self.claim_form(description=f"Teas with {first_name}")
        )
        self.assertContains(response, "may identify someone")
        self.assertFalse(ExpenseClaim.objects.exists())

    def test_a_meeting_of_someone_else_cannot_be_linked(self):
        self.login_as("buddy")
        response = self.client.post("/expenses/new/", self.claim_form(meeting="999"))
        self.assertContains(response, "Select a valid choice")
        self.assertFalse(ExpenseClaim.objects.exists())

    def test_the_coordinator_refuses_and_the_buddy_reads_why(self):
        claim = self.add_claim()
        self.login_as("coordinator")
        empty = self.client.post(f"/coordinator/expenses/{claim.pk}/refuse/", {"reason": ""})
        self.assertContains(empty, "Say why it is refused")
        self.client.post(
            f"/coordinator/expenses/{claim.pk}/refuse/", {"reason": "Please claim taxis first."}
        )
        claim.refresh_from_db()
        self.assertEqual(claim.state, ClaimState.REFUSED)
        self.login_as("buddy")
        page = self.client.get("/expenses/")
        self.assertContains(page, "Refused")
        self.assertContains(page, "Please claim taxis first.")

    def test_the_coordinator_approves_then_marks_paid(self):
        claim = self.add_claim()
        self.login_as("coordinator")
        self.client.post(f"/coordinator/expenses/{claim.pk}/approve/")
        again = self.client.post(f"/coordinator/expenses/{claim.pk}/approve/", follow=True)
        self.assertContains(again, "already been decided")
        self.client.post(f"/coordinator/expenses/{claim.pk}/paid/", {"paid_on": "2026-11-20"})
        claim.refresh_from_db()
        self.assertEqual((claim.state, claim.paid_on), (ClaimState.PAID, date(2026, 11, 20)))


class CsvExportTest(VolunteeringCase):
    def rows(self, query=""):
        self.reauthenticate("coordinator")
        response = self.client.get("/coordinator/expenses/export.csv" + query)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertIn("attachment;", response["Content-Disposition"])
        return list(csv.reader(io.StringIO(response.content.decode())))

    def test_formula_cells_are_escaped_and_participants_not_named(self):
        Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state="active",
        )
        participant_name = self.participant.first_name
        self.add_claim(description='=HYPERLINK("http://evil.example","x")')
        self.add_claim(description="+44 trick", amount=Decimal("1.00"))
        self.add_claim(description=f"Lunch with {participant_name}", amount=Decimal("7.25"))
        rows = self.rows()
        self.assertEqual(
            rows[0][:6], ["Claim", "Buddy", "Date spent", "Category", "Description", "Amount (GBP)"]
        )
        descriptions = [row[4] for row in rows[1:]]
        self.assertIn('\'=HYPERLINK("http://evil.example","x")', descriptions)
        self.assertTrue(any(text.startswith("'+") for text in descriptions))
        body = "\n".join(",".join(row) for row in rows)
        self.assertNotIn(participant_name, body)
        self.assertNotIn(self.participant.last_name, body)
        self.assertIn("7.25", [row[5] for row in rows])
        self.assertIn(self.buddy.get_full_name(), [row[1] for row in rows])

    def test_filter_by_month_and_status(self):
        today = timezone.localdate()
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=3)
        kept = self.add_claim(spent_on=last_month, amount=Decimal("2.00"))
        self.add_claim(spent_on=last_month, amount=Decimal("9.00"))
        self.add_claim(spent_on=today, amount=Decimal("5.00"))
        services.expense_claim_approve(claim=kept, by=self.coordinator)
        rows = self.rows(f"?month={last_month:%Y-%m}&state=approved")
        self.assertEqual([row[0] for row in rows[1:]], [str(kept.pk)])
        self.assertEqual(len(self.rows()) - 1, 3)
        page = self.client.get(f"/coordinator/expenses/?month={last_month:%Y-%m}")
        self.assertContains(page, "2 claims, £11.00 in all.")


class BuddyPageTest(VolunteeringCase):
    def test_the_buddy_page_reads_the_buddys_own_records(self):
        renewal = timezone.localdate() + timedelta(days=200)
        DBSCheck.objects.create(
            membership=self.buddy_membership,
            level=DBSLevel.ENHANCED,
            certificate_number="001234567890",
            issue_date=renewal - timedelta(days=1000),
            renewal_due=renewal,
        )
        TrainingModule.objects.create(scheme=self.scheme, name="Boundaries", mandatory=True)
        self.add_document("Lone working policy")
        self.add_claim(description="Bus fares")
        BuddyVetting.objects.filter(membership=self.buddy_membership).update(
            support_person=self.coordinator_membership
        )
        self.login_as("buddy")
        page = self.client.get("/me/buddy/")
        self.assertContains(page, renewal.strftime("%-d %B %Y"))
        self.assertContains(page, "Boundaries")
        self.assertContains(page, "Lone working policy")
        self.assertContains(page, self.coordinator.display_name)
        self.assertContains(page, "£4.50")
        self.assertContains(page, "0 hours")

    def test_only_buddies_have_one(self):
        for persona, status in (("participant", 403), ("coordinator", 403), ("anonymous", 302)):
            self.login_as(persona)
            self.assertEqual(self.client.get("/me/buddy/").status_code, status, persona)


class HoursPageTest(VolunteeringCase):
    def test_the_coordinator_sees_hours_per_buddy(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/hours/?year=not-a-year")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, f"Volunteering hours in {timezone.localdate().year}")
        self.assertContains(page, self.buddy.get_full_name())


class DashboardQueriesTest(VolunteeringCase):
    def test_the_pack_section_keeps_the_dashboard_flat_as_buddies_and_documents_grow(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from evaluation.dashboard import forget_figures

        from ..factories import cleared_buddy

        self.add_document("One")
        self.login_as("coordinator")

        def count():
            forget_figures(self.scheme)  # both counts work the cached figures out afresh
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/coordinator/").status_code, 200)
            return len(queries)

        self.client.get("/coordinator/")
        few = count()
        for _ in range(3):
            cleared_buddy(self.scheme)
        self.add_document("Two")
        self.add_document("Three")
        self.add_claim()
        self.assertEqual(count(), few)


class DoubleSubmitTest(VolunteeringCase):
    def test_sending_the_same_claim_form_twice_makes_one_claim(self):
        self.login_as("buddy")
        page = self.client.get("/expenses/new/")
        key = page.context["form"].initial["submit_key"]
        data = {
            "spent_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
            "amount": "2.40",
            "category": "travel",
            "description": "Bus",
            "submit_key": str(key),
        }
        self.assertContains(page, f'value="{key}"')
        self.client.post("/expenses/new/", data)
        self.client.post("/expenses/new/", data)
        self.assertEqual(ExpenseClaim.objects.count(), 1)
        # A new form is a new claim.
        self.client.post("/expenses/new/", {**data, "submit_key": ""})
        self.assertEqual(ExpenseClaim.objects.count(), 2)
