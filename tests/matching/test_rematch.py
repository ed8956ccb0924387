"""Re-match requests answered (issue 18): the coordinator's list with who asked and how often,
"handled" with a note, and a new match that replaces the old one, linked both ways."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import AuditEvent, Role
from matching import selectors, services
from matching.models import Match, MatchState, RematchRequest

from ..base import PersonaTestCase
from ..factories import MembershipFactory, cleared_buddy, menu, waiting_participant


class RematchTest(PersonaTestCase):
    def setUp(self):
        self.items = menu(self.scheme, "Cooking")
        self.participant_member = waiting_participant(self.scheme, items=self.items)
        self.old_buddy = cleared_buddy(self.scheme, items=self.items)
        self.new_buddy = cleared_buddy(self.scheme, items=self.items)
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.old_buddy,
            participant=self.participant_member,
            state=MatchState.ACTIVE,
        )

    def ask(self, who, reason="We do not get on", days_ago=0):
        return services.rematch_request(
            match=self.match,
            by_membership=who,
            reason=reason,
            now=timezone.now() - timedelta(days=days_ago),
        )

    # --- Services ------------------------------------------------------------------------------

    def test_handled_with_a_note_once_however_often_it_is_submitted(self):
        rematch = self.ask(self.old_buddy)
        with self.assertRaisesMessage(DomainError, "how it was handled"):
            services.rematch_request_handle(rematch=rematch, note=" ", by=self.coordinator)
        handled = services.rematch_request_handle(
            rematch=rematch, note="Talked with P.: carrying on", by=self.coordinator
        )
        again = services.rematch_request_handle(
            rematch=rematch, note="Second click", by=self.coordinator
        )
        self.assertEqual(again.handled_note, "Talked with P.: carrying on")
        self.assertEqual(handled.handled_by, self.coordinator)
        self.assertEqual(
            AuditEvent.objects.filter(verb="rematch_handle", object_id=rematch.pk).count(), 1
        )
        self.assertEqual(list(selectors.open_rematch_requests(self.scheme)), [])

    def test_a_new_match_replaces_the_old_and_handles_the_request(self):
        rematch = self.ask(self.participant_member)
        new = services.rematch_request_new_match(
            rematch=rematch, buddy=self.new_buddy, by=self.coordinator
        )
        self.assertEqual(new.replaces, self.match)
        self.assertEqual(new.participant, self.participant_member)
        self.assertEqual(new.state, MatchState.DRAFT)
        rematch.refresh_from_db()
        self.assertIsNotNone(rematch.handled_at)
        self.assertEqual(rematch.new_match, new)
        # A double submit makes no second match.
        again = services.rematch_request_new_match(
            rematch=rematch, buddy=self.new_buddy, by=self.coordinator
        )
        self.assertEqual(again, new)
        self.assertEqual(Match.objects.filter(replaces=self.match).count(), 1)

    def test_the_same_buddy_or_an_already_handled_request_is_refused(self):
        rematch = self.ask(self.participant_member)
        with self.assertRaisesMessage(DomainError, "different buddy"):
            services.rematch_request_new_match(
                rematch=rematch, buddy=self.old_buddy, by=self.coordinator
            )
        services.rematch_request_handle(rematch=rematch, note="Sorted", by=self.coordinator)
        with self.assertRaisesMessage(DomainError, "already handled"):
            services.rematch_request_new_match(
                rematch=rematch, buddy=self.new_buddy, by=self.coordinator
            )

    def test_earlier_requests_are_counted_by_person_across_matches(self):
        self.ask(self.old_buddy, days_ago=30)
        self.ask(self.participant_member, days_ago=20)
        latest = self.ask(self.old_buddy, days_ago=1)
        rows = {row.request.pk: row for row in selectors.rematch_requests_to_handle(self.scheme)}
        self.assertEqual((rows[latest.pk].earlier, rows[latest.pk].earlier_on_match), (1, 1))
        self.assertEqual(rows[latest.pk].request.side, "buddy")

    def test_the_list_costs_the_same_queries_for_few_or_many_requests(self):
        self.login_as("coordinator")
        self.ask(self.old_buddy)

        def count():
            with CaptureQueriesContext(connection) as queries:
                page = self.client.get("/coordinator/matching/rematch-requests/")
            self.assertEqual(page.status_code, 200)
            return len(queries)

        small = count()
        for _ in range(6):
            participant = waiting_participant(self.scheme)
            match = Match.objects.create(
                scheme=self.scheme,
                buddy=cleared_buddy(self.scheme),
                participant=participant,
                state=MatchState.ACTIVE,
            )
            services.rematch_request(match=match, by_membership=participant, reason="No")
        self.assertEqual(count(), small)

    # --- Pages ----------------------------------------------------------------------------------

    def test_the_list_says_who_asked_and_how_often(self):
        self.ask(self.participant_member, days_ago=40)
        self.ask(self.participant_member, reason="Still too far")
        self.login_as("coordinator")
        page = self.client.get("/coordinator/matching/rematch-requests/")
        self.assertContains(page, "Still too far")
        self.assertContains(page, "Participant")
        self.assertContains(page, "1 time (1 on this match)")

    def test_handled_from_the_page_with_a_note(self):
        rematch = self.ask(self.old_buddy)
        self.login_as("coordinator")
        url = f"/coordinator/matching/rematch-requests/{rematch.pk}/handled/"
        empty = self.client.post(url, {"note": ""})
        self.assertEqual(empty.status_code, 200)
        self.assertContains(empty, "This field is required")
        done = self.client.post(url, {"note": "Spoke to both: carrying on"})
        self.assertRedirects(done, "/coordinator/matching/rematch-requests/")
        rematch.refresh_from_db()
        self.assertEqual(rematch.handled_note, "Spoke to both: carrying on")

    def test_a_note_naming_the_participant_is_caught_and_kept(self):
        rematch = self.ask(self.old_buddy)
        name = self.participant_member.user.first_name
        self.login_as("coordinator")
        page = self.client.post(
            f"/coordinator/matching/rematch-requests/{rematch.pk}/handled/",
            {"note": f"Spoke to {name}, all fine"},
        )
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "this may identify someone")
        self.assertContains(page, f"Spoke to {name}, all fine")
        rematch.refresh_from_db()
        self.assertIsNone(rematch.handled_at)

    def test_a_new_match_from_the_page_links_both_ways(self):
        rematch = self.ask(self.participant_member)
        self.login_as("coordinator")
        detail = self.client.get(f"/coordinator/matching/rematch-requests/{rematch.pk}/")
        self.assertContains(detail, self.new_buddy.user.display_name)
        response = self.client.post(
            f"/coordinator/matching/rematch-requests/{rematch.pk}/new-match/",
            {"buddy": self.new_buddy.pk},
        )
        new = Match.objects.get(replaces=self.match)
        self.assertRedirects(response, f"/matches/{new.pk}/")
        new_page = self.client.get(f"/matches/{new.pk}/")
        self.assertContains(new_page, f'href="/matches/{self.match.pk}/"')
        self.assertContains(new_page, "Replaces")
        old_page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(old_page, "Replaced by")
        self.assertContains(old_page, f'href="/matches/{new.pk}/"')

    def test_no_buddy_chosen_shows_the_page_again(self):
        rematch = self.ask(self.participant_member)
        self.login_as("coordinator")
        page = self.client.post(
            f"/coordinator/matching/rematch-requests/{rematch.pk}/new-match/", {"buddy": ""}
        )
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Choose a buddy.")
        self.assertFalse(Match.objects.filter(replaces=self.match).exists())

    def test_the_match_page_points_to_an_open_request(self):
        rematch = self.ask(self.old_buddy)
        self.login_as("coordinator")
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, "The buddy asked for a different match")
        self.assertContains(page, f"/coordinator/matching/rematch-requests/{rematch.pk}/")

    def test_another_schemes_coordinator_cannot_see_or_answer_it(self):
        rematch = self.ask(self.old_buddy)
        self.login_as("other_coordinator")
        self.assertEqual(
            self.client.get(f"/coordinator/matching/rematch-requests/{rematch.pk}/").status_code,
            404,
        )
        page = self.client.get("/coordinator/matching/rematch-requests/")
        self.assertNotContains(page, "We do not get on")
        self.assertEqual(RematchRequest.objects.get(pk=rematch.pk).handled_at, None)
        other = MembershipFactory(scheme=self.other_scheme, role=Role.BUDDY)
        self.assertNotEqual(other.scheme, self.scheme)
