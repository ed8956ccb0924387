"""The pages: the directory for coordinators, writing a plan, the participant's own plan and
its PDF, the dashboard and match page sections; query counts at two sizes."""

import re
import subprocess
import zlib
from datetime import UTC, date, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.models import Notification, Role
from signposting import services
from signposting.models import DirectoryEntry, NextStepsPlan, PlanAction, PlanState

from ..base import PersonaTestCase, confirmed
from ..factories import MembershipFactory
from .helpers import add_entry, end_match, entry_values

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def pdf_text(pdf: bytes, tmp_dir) -> str:
    path = f"{tmp_dir}/plan.pdf"
    with open(path, "wb") as handle:
        handle.write(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def pdf_objects(pdf: bytes) -> bytes:
    inflated = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            inflated.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(inflated)


@time_machine.travel(NOW, tick=False)
class DirectoryViewsTest(PersonaTestCase):
    def setUp(self):
        super().setUp()
        self.login_as("coordinator")

    def test_add_through_the_form(self):
        response = self.client.post("/coordinator/signposting/new/", entry_values())
        self.assertRedirects(response, "/coordinator/signposting/")
        entry = DirectoryEntry.objects.get()
        self.assertEqual((entry.scheme, entry.last_checked_on), (self.scheme, date(2026, 3, 3)))
        page = self.client.get("/coordinator/signposting/")
        self.assertContains(page, "Citizens Advice Lambeth")

    def test_a_duplicate_shows_the_form_again_with_what_was_typed(self):
        add_entry(self.scheme, self.coordinator)
        response = self.client.post(
            "/coordinator/signposting/new/", entry_values(offers="Typed again")
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "already has")
        self.assertContains(response, "Typed again")
        self.assertEqual(DirectoryEntry.objects.count(), 1)

    def test_missing_details_are_asked_for(self):
        response = self.client.post("/coordinator/signposting/new/", entry_values(contact=""))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Citizens Advice Lambeth")
        self.assertFalse(DirectoryEntry.objects.exists())

    def test_edit_checked_today_and_retire(self):
        with time_machine.travel(datetime(2024, 12, 1, 9, 0, tzinfo=UTC), tick=False):
            entry = add_entry(self.scheme, self.coordinator)
        page = self.client.get("/coordinator/signposting/")
        self.assertContains(page, "badge text-bg-warning")
        self.assertContains(self.client.get("/coordinator/"), "not been checked for a year")
        self.client.post(f"/coordinator/signposting/{entry.pk}/checked/")
        entry.refresh_from_db()
        self.assertEqual(entry.last_checked_on, date(2026, 3, 3))
        self.assertNotContains(
            self.client.get("/coordinator/signposting/"), "badge text-bg-warning"
        )
        response = self.client.post(
            f"/coordinator/signposting/{entry.pk}/edit/", entry_values(area="Southwark")
        )
        self.assertRedirects(response, "/coordinator/signposting/")
        entry.refresh_from_db()
        self.assertEqual(entry.area, "Southwark")
        self.client.post(f"/coordinator/signposting/{entry.pk}/retire/")
        self.assertNotContains(self.client.get("/coordinator/signposting/"), "Lambeth</a>")

    def test_the_settings_hub_links_to_the_directory_and_counts_stale_entries(self):
        with time_machine.travel(datetime(2024, 12, 1, 9, 0, tzinfo=UTC), tick=False):
            add_entry(self.scheme, self.coordinator)
        page = self.client.get("/coordinator/settings/")
        self.assertContains(page, "/coordinator/signposting/")
        self.assertContains(page, "1 not checked for a year.")

    def test_filters(self):
        add_entry(self.scheme, self.coordinator)
        add_entry(self.scheme, self.coordinator, name="Samaritans", kind="crisis", area="UK-wide")
        page = self.client.get("/coordinator/signposting/", {"area": "uk"})
        self.assertContains(page, "Samaritans")
        self.assertNotContains(page, "Citizens Advice Lambeth</a>")
        page = self.client.get("/coordinator/signposting/", {"kind": "money"})
        self.assertContains(page, "Citizens Advice Lambeth</a>")
        self.assertNotContains(page, "Samaritans</a>")

    def test_the_other_schemes_coordinator_cannot_touch_an_entry(self):
        entry = add_entry(self.scheme, self.coordinator)
        self.login_as("other_coordinator")
        self.assertEqual(
            self.client.post(f"/coordinator/signposting/{entry.pk}/retire/").status_code, 404
        )
        self.assertNotContains(self.client.get("/coordinator/signposting/"), "Citizens Advice")

    def test_the_directory_list_takes_the_same_queries_at_two_sizes(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/coordinator/signposting/").status_code, 200)
            return len(queries)

        for number in range(3):
            add_entry(self.scheme, self.coordinator, name=f"Service {number}")
        small = count()
        for number in range(3, 30):
            add_entry(
                self.scheme, self.coordinator, name=f"Service {number}", area=f"Area {number}"
            )
        self.assertEqual(count(), small)
        with self.assertNumQueries(small):
            self.client.get("/coordinator/signposting/")


@time_machine.travel(NOW, tick=False)
class PlanViewsTest(PersonaTestCase):
    def setUp(self):
        super().setUp()
        user = self.participant
        user.first_name, user.last_name = "Grace", "Obi"
        user.save()
        self.match = end_match(
            self.scheme,
            self.buddy_membership,
            self.participant_membership,
            self.coordinator,
            now=NOW - timedelta(days=1),
        )
        self.plan = self.match.next_steps_plan
        # The scheme's sensitive words (HIV, …) must not reach the PDF, even in a service's name.
        self.entry = add_entry(
            self.scheme,
            self.coordinator,
            name="Positive Peers HIV group",
            offers="Peer support for people living with HIV",
        )

    def add_step(self, **overrides):
        return self.client.post(
            f"/coordinator/plans/{self.plan.pk}/steps/",
            {
                "due_on": "2026-04-07",
                "what": "Go to the Tuesday group",
                "who": "participant",
                "entry": self.entry.pk,
                **overrides,
            },
        )

    def test_the_coordinator_writes_and_finishes_the_plan(self):
        self.login_as("coordinator")
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, f"/coordinator/plans/{self.plan.pk}/")
        self.assertContains(self.client.get("/coordinator/"), "Next-steps plans needed")
        self.assertRedirects(self.add_step(), f"/coordinator/plans/{self.plan.pk}/")
        self.client.post(f"/coordinator/plans/{self.plan.pk}/reminders/", {"remind_me": "on"})
        response = self.client.post(f"/coordinator/plans/{self.plan.pk}/finish/")
        self.assertRedirects(response, f"/coordinator/plans/{self.plan.pk}/")
        self.plan.refresh_from_db()
        self.assertEqual((self.plan.state, self.plan.remind_me), (PlanState.FINISHED, True))
        self.assertTrue(Notification.objects.filter(template="next_steps_ready").exists())
        self.assertContains(self.client.get("/coordinator/"), "Every recent ending has a finished")

    def test_a_bad_step_shows_the_form_again_with_what_was_typed(self):
        self.login_as("coordinator")
        response = self.add_step(due_on="2026-12-25", what="Go to the winter lunch")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "six months after the ending")
        self.assertContains(response, "Go to the winter lunch")
        response = self.add_step(due_on="not a date")
        self.assertContains(response, "Enter the date")
        self.assertFalse(PlanAction.objects.exists())

    def test_a_step_naming_the_participant_goes_through_the_initials_guard(self):
        self.login_as("coordinator")
        response = self.add_step(what="Grace rings the group")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "This may identify someone")
        self.assertFalse(PlanAction.objects.exists())
        response = self.add_step(what="Grace rings the group", **confirmed(response))
        self.assertEqual(PlanAction.objects.count(), 1)

    def test_finishing_without_a_step_says_why(self):
        self.login_as("coordinator")
        response = self.client.post(f"/coordinator/plans/{self.plan.pk}/finish/", follow=True)
        self.assertContains(response, "at least one step")
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.state, PlanState.DRAFT)

    def finish(self):
        services.plan_action_add(
            plan=self.plan,
            by=self.coordinator,
            due_on=date(2026, 4, 7),
            what="Go to the Tuesday group",
            entry=self.entry,
        )
        services.plan_finish(plan=self.plan, by=self.coordinator)

    def test_the_participant_sees_it_on_home_only_once_finished(self):
        self.login_as("participant")
        self.assertNotContains(self.client.get("/me/"), "Your next steps")
        self.assertEqual(self.client.get(f"/me/next-steps/{self.plan.pk}/").status_code, 404)
        self.finish()
        home = self.client.get("/me/")
        self.assertContains(home, "Your next steps")
        self.assertContains(home, "Go to the Tuesday group")
        page = self.client.get(f"/me/next-steps/{self.plan.pk}/")
        # Sensitive words only after a tap (buddyscheme/discretion.py).
        self.assertContains(page, "Positive Peers … group")
        self.assertContains(page, "show in full")
        response = self.client.post(
            f"/me/next-steps/{self.plan.pk}/reminders/", {"remind_me": "on"}
        )
        self.assertRedirects(response, f"/me/next-steps/{self.plan.pk}/")
        self.plan.refresh_from_db()
        self.assertTrue(self.plan.remind_me)

    def test_another_participant_cannot_see_it(self):
        self.finish()
        stranger = MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT)
        self.client.force_login(stranger.user)
        self.assertEqual(self.client.get(f"/me/next-steps/{self.plan.pk}/").status_code, 403)
        self.assertEqual(self.client.get(f"/me/next-steps/{self.plan.pk}/pdf/").status_code, 403)
        self.assertNotContains(self.client.get("/me/"), "Your next steps")
        self.login_as("buddy")
        self.assertEqual(self.client.get(f"/me/next-steps/{self.plan.pk}/").status_code, 403)
        self.assertNotContains(self.client.get(f"/matches/{self.match.pk}/"), "Next-steps plan")

    def test_the_pdf_reads_back_with_initials_only(self):
        self.finish()
        self.login_as("participant")
        response = self.client.get(f"/me/next-steps/{self.plan.pk}/pdf/")
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertNotIn("Obi", response["Content-Disposition"])
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            text = pdf_text(response.content, folder)
        self.assertIn("Next steps", text)
        self.assertIn("For G.O.", text)
        self.assertIn("Go to the Tuesday group", text)
        self.assertIn("Positive Peers … group", text)
        for secret in ("Grace", "Obi", "HIV", self.buddy.first_name, self.buddy.last_name):
            self.assertNotIn(secret, text)
        objects = pdf_objects(response.content)
        self.assertIn(b"/StructTreeRoot", objects)
        self.assertTrue(re.search(rb"/Lang\s*\(en-GB\)", objects))
        self.assertTrue(re.search(rb"/Title\s*\(Next steps\)", objects))

    def test_the_coordinator_can_start_a_plan_for_an_older_ending(self):
        NextStepsPlan.objects.all().delete()
        self.login_as("coordinator")
        self.assertContains(self.client.get("/coordinator/plans/"), "Start the plan")
        response = self.client.post(f"/coordinator/matches/{self.match.pk}/next-steps/")
        plan = NextStepsPlan.objects.get(match=self.match)
        self.assertRedirects(response, f"/coordinator/plans/{plan.pk}/")
        self.client.post(f"/coordinator/matches/{self.match.pk}/next-steps/")
        self.assertEqual(NextStepsPlan.objects.count(), 1)

    def test_the_dashboard_section_takes_the_same_queries_at_two_sizes(self):
        self.login_as("coordinator")

        def count():
            with CaptureQueriesContext(connection) as queries:
                self.client.get("/coordinator/")
            return len(queries)

        small = count()
        for _ in range(6):
            end_match(
                self.scheme,
                MembershipFactory(scheme=self.scheme),
                MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
                self.coordinator,
                now=timezone.now() - timedelta(days=2),
            )
        for number in range(8):
            with time_machine.travel(datetime(2024, 1, 1, tzinfo=UTC), tick=False):
                add_entry(self.scheme, self.coordinator, name=f"Old {number}")
        self.assertEqual(count(), small)
