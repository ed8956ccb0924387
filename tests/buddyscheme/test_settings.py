"""The settings pages of the core: the hub, scheme details, office hours, training modules and
eligibility questions. Each: the happy path, invalid input kept as typed, another scheme's 404."""

from datetime import time, timedelta

from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    EligibilityQuestion,
    Role,
    Scheme,
    TrainingCompletion,
    TrainingModule,
)

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, menu, venue


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


class SettingsHubTest(PersonaTestCase):
    def test_the_hub_links_every_settings_page_and_says_what_needs_attention(self):
        venue(self.scheme, risk_review_due=timezone.localdate() - timedelta(days=3))
        self.login_as("coordinator")
        response = self.client.get("/coordinator/settings/")
        page = response.content.decode()
        for url in (
            "/coordinator/settings/scheme/",
            "/coordinator/settings/office-hours/",
            "/coordinator/settings/on-call/",
            "/coordinator/settings/venues/",
            "/coordinator/settings/safety/",
            "/coordinator/settings/training/",
            "/coordinator/settings/eligibility/",
            "/coordinator/settings/menu/",
            "/coordinator/settings/public-page/",
            "/coordinator/settings/messages/",
            "/coordinator/settings/interview-questions/",
            "/coordinator/settings/training-sessions/",
            "/coordinator/questionnaires/",
            "/coordinator/signposting/",
        ):
            self.assertIn(f'href="{url}"', page)
        # In the order a new scheme sets itself up: its details first, then the menu, and
        # whether members may message each other directly.
        self.assertEqual(
            [section.title for section in response.context["sections"]],
            [
                "Scheme details",
                "Public page",
                "Office hours",
                "On-call rota",
                "Venues",
                "Safety timings",
                "Pattern flags",
                "Training modules",
                "Interview questions",
                "Training sessions",
                "Eligibility questions",
                "Menu",
                "Signposting directory",
                "Messages",
                "Questionnaires",
            ],
        )
        self.assertIn("1 risk assessment is past its review date", page)
        self.assertIn("Nobody is on call in the next 7 days", page)
        self.assertIn("No emergency phone number", page)

    def test_the_nav_has_a_settings_link_for_coordinators_only(self):
        self.login_as("coordinator")
        self.assertContains(self.client.get("/coordinator/"), 'href="/coordinator/settings/"')
        self.login_as("buddy")
        self.assertNotContains(self.client.get("/today/"), 'href="/coordinator/settings/"')

    def test_the_hub_reads_a_fixed_number_of_queries_as_the_scheme_grows(self):
        self.login_as("coordinator")

        def queries():
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get("/coordinator/settings/").status_code, 200)
            return len(captured)

        small = queries()
        for number in range(5):
            TrainingModule.objects.create(scheme=self.scheme, name=f"Module {number}")
            EligibilityQuestion.objects.create(scheme=self.scheme, text=f"Question {number}?")
            venue(self.scheme, name=f"Venue {number}")
        menu(self.scheme, "Shopping", "Cooking", "Forms")
        self.assertEqual(queries(), small)


class SchemeDetailsTest(PersonaTestCase):
    def test_a_coordinator_changes_the_schemes_details(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/scheme/",
            {
                "name": "Scheme A renamed",
                "sender_name": "Appointments",
                "time_zone": "Europe/Dublin",
                "emergency_phone": "020 7946 0000",
                "retention_months": "60",
            },
        )
        self.assertRedirects(response, "/coordinator/settings/")
        self.scheme.refresh_from_db()
        self.assertEqual(
            (self.scheme.name, self.scheme.time_zone, self.scheme.retention_months),
            ("Scheme A renamed", "Europe/Dublin", 60),
        )
        assert_audited(
            verb="scheme_update", obj=self.scheme, actor=self.coordinator, scheme=self.scheme
        )

    def test_invalid_details_come_back_with_the_errors_and_what_was_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/scheme/",
            {
                "name": "Scheme B",  # another scheme's name
                "sender_name": "Rendez-vous ✨",  # not plain GSM-7
                "time_zone": "Mars/Olympus",
                "emergency_phone": "0800 123",
                "retention_months": "0",
            },
        )
        self.assertEqual(response.status_code, 200)
        errors = response.context["form"].errors
        self.assertEqual(
            set(errors), {"name", "sender_name", "time_zone", "retention_months"}, errors
        )
        self.assertContains(response, "Another scheme already has this name")
        self.assertContains(response, 'value="0800 123"')
        self.scheme.refresh_from_db()
        self.assertEqual(self.scheme.name, "Scheme A")

    def test_each_coordinator_changes_only_their_own_scheme(self):
        self.login_as("other_coordinator")
        page = self.client.get("/coordinator/settings/scheme/").content.decode()
        self.assertIn('value="Scheme B"', page)
        self.assertNotIn("Scheme A", page)


class OfficeHoursTest(PersonaTestCase):
    def test_a_coordinator_sets_the_days_and_hours(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/settings/office-hours/").content.decode()
        self.assertIn('id="id_working_days_0" checked', page)
        self.assertNotIn('id="id_working_days_5" checked', page)
        response = self.client.post(
            "/coordinator/settings/office-hours/",
            {
                "working_days": ["0", "2", "5"],
                "working_hours_start": "08:30",
                "working_hours_end": "16:00",
            },
        )
        self.assertRedirects(response, "/coordinator/settings/")
        self.scheme.refresh_from_db()
        self.assertEqual(self.scheme.working_days, "0,2,5")
        self.assertEqual(self.scheme.working_hours_start, time(8, 30))
        self.assertIn(
            "Mon, Wed, Sat, 08:30–16:00", self.client.get("/coordinator/settings/").content.decode()
        )
        assert_audited(
            verb="scheme_update", obj=self.scheme, actor=self.coordinator, scheme=self.scheme
        )

    def test_closing_before_opening_or_no_day_is_refused_and_kept_as_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/office-hours/",
            {"working_hours_start": "18:00", "working_hours_end": "09:00"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Tick at least one day the office is open.")
        self.assertContains(response, 'value="18:00"')
        response = self.client.post(
            "/coordinator/settings/office-hours/",
            {"working_days": ["1"], "working_hours_start": "18:00", "working_hours_end": "09:00"},
        )
        self.assertContains(response, "Working hours must end after they start.")
        self.scheme.refresh_from_db()
        self.assertEqual(self.scheme.working_days, "0,1,2,3,4")


class TrainingModulesTest(PersonaTestCase):
    def _approved_buddy(self):
        buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        BuddyVetting.objects.create(membership=buddy, stage=BuddyStage.APPROVED)
        return buddy

    def test_add_a_module_and_be_told_when_a_required_one_blocks_buddies(self):
        self._approved_buddy()
        self.login_as("coordinator")
        page = self.client.get("/coordinator/settings/training/").content.decode()
        self.assertNotIn('name="mandatory" checked', page)  # required is a choice, not a default
        response = self.client.post(
            "/coordinator/settings/training/",
            {"name": "Listening skills", "description": "", "order": "1"},
        )
        self.assertRedirects(response, "/coordinator/settings/training/")
        optional = TrainingModule.objects.get(scheme=self.scheme, name="Listening skills")
        self.assertFalse(optional.mandatory)
        assert_audited(
            verb="training_module_create", obj=optional, actor=self.coordinator, scheme=self.scheme
        )
        response = self.client.post(
            "/coordinator/settings/training/",
            {"name": "Boundaries", "mandatory": "on", "valid_for_months": "12", "order": "2"},
        )
        self.assertIn(
            "1 approved buddy has not completed “Boundaries”: until it is recorded for them, "
            "they cannot be matched or booked into a meeting.",
            messages_of(response),
        )

    def test_a_duplicate_name_is_refused_and_kept_as_typed(self):
        TrainingModule.objects.create(scheme=self.scheme, name="Safeguarding")
        TrainingModule.objects.create(scheme=self.other_scheme, name="Induction")
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/training/",
            {"name": "safeguarding", "description": "Level 2", "order": "0"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "There is already a module with this name.")
        self.assertContains(response, "Level 2")
        # Another scheme's module of the same name is no clash.
        self.client.post("/coordinator/settings/training/", {"name": "Induction", "order": "0"})
        self.assertTrue(TrainingModule.objects.filter(scheme=self.scheme, name="Induction"))

    def test_change_a_module(self):
        module = TrainingModule.objects.create(scheme=self.scheme, name="Lone working")
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/settings/training/{module.pk}/",
            {"name": "Lone working (2027)", "valid_for_months": "24", "order": "3"},
        )
        self.assertRedirects(response, "/coordinator/settings/training/")
        module.refresh_from_db()
        self.assertEqual(
            (module.name, module.valid_for_months, module.mandatory),
            ("Lone working (2027)", 24, False),
        )
        assert_audited(
            verb="training_module_update", obj=module, actor=self.coordinator, scheme=self.scheme
        )
        response = self.client.post(
            f"/coordinator/settings/training/{module.pk}/",
            {"name": "", "valid_for_months": "0", "order": "-1"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Change “Lone working (2027)”")  # the saved name, not ""
        self.assertEqual(
            set(response.context["form"].errors), {"name", "valid_for_months", "order"}
        )

    def test_a_module_someone_completed_is_kept_and_one_nobody_did_is_deleted(self):
        done = TrainingModule.objects.create(scheme=self.scheme, name="Induction")
        TrainingCompletion.objects.create(
            membership=self.buddy_membership, module=done, completed_on=timezone.localdate()
        )
        unused = TrainingModule.objects.create(scheme=self.scheme, name="Draft module")
        self.login_as("coordinator")
        response = self.client.post(f"/coordinator/settings/training/{done.pk}/delete/")
        self.assertRedirects(response, f"/coordinator/settings/training/{done.pk}/")
        self.assertIn("1 person has completed this module", messages_of(response)[0])
        self.assertTrue(TrainingModule.objects.filter(pk=done.pk).exists())
        self.assertEqual(TrainingCompletion.objects.count(), 1)
        response = self.client.post(f"/coordinator/settings/training/{unused.pk}/delete/")
        self.assertRedirects(response, "/coordinator/settings/training/")
        self.assertFalse(TrainingModule.objects.filter(pk=unused.pk).exists())
        assert_audited(
            verb="training_module_delete", obj=unused, actor=self.coordinator, scheme=self.scheme
        )

    def test_another_schemes_coordinator_gets_404(self):
        module = TrainingModule.objects.create(scheme=self.scheme, name="Induction")
        self.login_as("other_coordinator")
        self.assertEqual(
            self.client.get(f"/coordinator/settings/training/{module.pk}/").status_code, 404
        )
        post = self.client.post(
            f"/coordinator/settings/training/{module.pk}/", {"name": "Mine now", "order": "0"}
        )
        self.assertEqual(post.status_code, 404)
        self.assertEqual(
            self.client.post(f"/coordinator/settings/training/{module.pk}/delete/").status_code,
            404,
        )
        self.assertNotContains(self.client.get("/coordinator/settings/training/"), "Induction")
        module.refresh_from_db()
        self.assertEqual(module.name, "Induction")


class EligibilityQuestionsTest(PersonaTestCase):
    def test_add_change_and_delete_a_question(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/eligibility/",
            {"text": "Do you live in the borough?", "eligible_answer": "yes", "order": "1"},
        )
        self.assertRedirects(response, "/coordinator/settings/eligibility/")
        question = EligibilityQuestion.objects.get(scheme=self.scheme)
        self.assertTrue(question.eligible_answer)
        assert_audited(
            verb="eligibility_question_create",
            obj=question,
            actor=self.coordinator,
            scheme=self.scheme,
        )
        self.client.post(
            f"/coordinator/settings/eligibility/{question.pk}/",
            {
                "text": "Are you already supported by another buddy?",
                "eligible_answer": "no",
                "order": "1",
            },
        )
        question.refresh_from_db()
        self.assertFalse(question.eligible_answer)
        # The form shows the stored answer, not a blank.
        page = self.client.get(f"/coordinator/settings/eligibility/{question.pk}/")
        self.assertEqual(page.context["form"]["eligible_answer"].value(), "no")
        response = self.client.post(f"/coordinator/settings/eligibility/{question.pk}/delete/")
        self.assertRedirects(response, "/coordinator/settings/eligibility/")
        self.assertFalse(EligibilityQuestion.objects.exists())
        assert_audited(
            verb="eligibility_question_delete",
            obj=question,
            actor=self.coordinator,
            scheme=self.scheme,
        )

    def test_an_unanswerable_question_is_refused_and_kept_as_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/eligibility/", {"text": "Aged 18 or over?", "order": "x"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["form"].errors), {"eligible_answer", "order"})
        self.assertContains(response, 'value="Aged 18 or over?"')
        self.assertFalse(EligibilityQuestion.objects.exists())

    def test_another_schemes_coordinator_gets_404(self):
        question = EligibilityQuestion.objects.create(scheme=self.scheme, text="Over 18?")
        self.login_as("other_coordinator")
        for url in (
            f"/coordinator/settings/eligibility/{question.pk}/",
            f"/coordinator/settings/eligibility/{question.pk}/delete/",
        ):
            self.assertEqual(
                self.client.post(url, {"text": "x", "eligible_answer": "no"}).status_code, 404
            )
        self.assertTrue(
            EligibilityQuestion.objects.filter(pk=question.pk, text="Over 18?").exists()
        )
        self.assertEqual(Scheme.objects.count(), 2)


class SettingsListsTest(PersonaTestCase):
    """Every settings list reads a fixed number of queries however many rows it shows."""

    URLS = (
        "/coordinator/settings/training/",
        "/coordinator/settings/eligibility/",
        "/coordinator/settings/menu/",
        "/coordinator/settings/venues/",
    )

    def _queries(self):
        sizes = {}
        for url in self.URLS:
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get(url).status_code, 200)
            sizes[url] = len(captured)
        return sizes

    def _add_rows(self, number):
        module = TrainingModule.objects.create(scheme=self.scheme, name=f"Module {number}")
        TrainingCompletion.objects.create(
            membership=self.buddy_membership, module=module, completed_on=timezone.localdate()
        )
        EligibilityQuestion.objects.create(scheme=self.scheme, text=f"Question {number}?")
        menu(self.scheme, f"Item {number}")
        venue(self.scheme, name=f"Venue {number}", kind="in_house", key_holder=self.coordinator)

    def test_lists_stay_flat(self):
        self.login_as("coordinator")
        self._add_rows(0)
        few = self._queries()
        for number in range(1, 8):
            self._add_rows(number)
        self.assertEqual(self._queries(), few)
