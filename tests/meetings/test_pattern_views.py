"""Pattern flags on the pages: the dashboard, the match page (coordinators only), dismissing a
flag with a note through the initials guard, and the settings page."""

from datetime import timedelta

from django.utils import timezone

from matching.models import Match, MatchState
from meetings.models import LoneWorkingSettings, PatternDismissal, PatternKind

from ..base import PersonaTestCase


class PatternPagesTest(PersonaTestCase):
    def setUp(self):
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state=MatchState.ACTIVE,
            activated_at=timezone.now() - timedelta(weeks=4),
        )
        self.dismiss_url = f"/coordinator/matches/{self.match.pk}/flags/no_meeting/dismiss/"

    def test_the_dashboard_lists_the_match_with_a_link(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/")
        self.assertContains(page, "Matches to look at")
        self.assertContains(page, f'href="/matches/{self.match.pk}/#match-patterns"')
        self.assertContains(page, "No meeting since the match started, 4 weeks ago.")

    def test_the_match_page_shows_flags_to_coordinators_only(self):
        self.login_as("coordinator")
        self.assertContains(self.client.get(f"/matches/{self.match.pk}/"), "Patterns to look at")
        for persona in ("buddy", "participant"):
            self.login_as(persona)
            page = self.client.get(f"/matches/{self.match.pk}/")
            self.assertEqual(page.status_code, 200)
            self.assertNotContains(page, "Patterns to look at")
            self.assertNotContains(page, "No meeting since")

    def test_dismissed_with_a_note_it_leaves_the_dashboard(self):
        self.login_as("coordinator")
        empty = self.client.post(self.dismiss_url, {"note": ""})
        self.assertEqual(empty.status_code, 200)
        self.assertContains(empty, "This field is required")
        response = self.client.post(self.dismiss_url, {"note": "B. on holiday, back next week"})
        self.assertRedirects(response, f"/matches/{self.match.pk}/")
        dismissal = PatternDismissal.objects.get(match=self.match)
        self.assertEqual(dismissal.kind, PatternKind.NO_MEETING)
        self.assertEqual(dismissal.dismissed_by, self.coordinator)
        self.assertNotContains(self.client.get("/coordinator/"), "No meeting since")

    def test_a_note_naming_someone_is_caught_and_kept(self):
        self.login_as("coordinator")
        name = self.participant.first_name
        page = self.client.post(self.dismiss_url, {"note": f"Rang {name}, all well"})
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "this may identify someone")
        self.assertContains(page, f"Rang {name}, all well")
        self.assertFalse(PatternDismissal.objects.exists())

    def test_an_unknown_flag_or_a_flag_not_showing(self):
        self.login_as("coordinator")
        unknown = f"/coordinator/matches/{self.match.pk}/flags/nonsense/dismiss/"
        self.assertEqual(self.client.get(unknown).status_code, 404)
        page = self.client.post(
            f"/coordinator/matches/{self.match.pk}/flags/cancelled/dismiss/", {"note": "Fine"}
        )
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "no such flag now")

    def test_the_settings_page_saves_and_refuses_nonsense(self):
        self.login_as("coordinator")
        bad = self.client.post(
            "/coordinator/settings/patterns/",
            {
                "flag_weeks_without_meeting": "0",
                "flag_cancelled_in_a_row": "3",
                "flag_debriefs_missing_in_a_row": "3",
            },
        )
        self.assertEqual(bad.status_code, 200)
        self.assertContains(bad, 'value="0"')
        saved = self.client.post(
            "/coordinator/settings/patterns/",
            {
                "flag_weeks_without_meeting": "6",
                "flag_cancelled_in_a_row": "2",
                "flag_debriefs_missing_in_a_row": "4",
            },
        )
        self.assertRedirects(saved, "/coordinator/settings/")
        config = LoneWorkingSettings.objects.get(scheme=self.scheme)
        self.assertEqual(
            (
                config.flag_weeks_without_meeting,
                config.flag_cancelled_in_a_row,
                config.flag_debriefs_missing_in_a_row,
            ),
            (6, 2, 4),
        )
        self.assertNotContains(self.client.get("/coordinator/"), "No meeting since")
        self.assertContains(self.client.get("/coordinator/settings/"), "Pattern flags")
