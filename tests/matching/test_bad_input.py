"""Issue 14 point 11: the matching pages' query parameters go through forms; a bad one is
explained on the page, never a 500."""

from datetime import timedelta

from django.utils import timezone

from buddyscheme.models import ParticipantEnrolment

from ..base import PersonaTestCase
from ..factories import waiting_participant


class WorkspaceFiltersTest(PersonaTestCase):
    def setUp(self):
        self.login_as("coordinator")
        self.long_wait = waiting_participant(self.scheme, postcode_district="SW9")
        self.short_wait = waiting_participant(self.scheme, postcode_district="M14")
        ParticipantEnrolment.objects.filter(membership=self.long_wait).update(
            waiting_since=timezone.localdate() - timedelta(days=101)
        )

    def waiting(self, query):
        response = self.client.get(f"/coordinator/matching/?{query}")
        self.assertEqual(response.status_code, 200, query)
        return response, {person.pk for person, _days in response.context["rows"]}

    def test_a_nul_byte_is_refused_before_the_filter_sees_it(self):
        response = self.client.get("/coordinator/matching/?district=%00")
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "Nothing was saved", status_code=400)

    def test_good_filters_still_filter(self):
        self.assertEqual(self.waiting("min_days=100")[1], {self.long_wait.pk})
        self.assertEqual(self.waiting("district=m1")[1], {self.short_wait.pk})

    def test_bad_filters_are_explained_and_filter_nothing(self):
        everyone = {self.long_wait.pk, self.short_wait.pk}
        for query, message in [
            ("min_days=99999999999999999999", "Give a number of days from 0 to 3650."),
            ("min_days=-5", "Give a number of days from 0 to 3650."),
            ("district=SW9+1AA+extra", "Give only the first half of the postcode"),
            ("district=%01", "Give only the first half of the postcode"),
            ("district=%3Cb%3E", "Give only the first half of the postcode"),
        ]:
            response, shown = self.waiting(query)
            self.assertContains(response, message, msg_prefix=query)
            self.assertEqual(shown, everyone, query)


class MatchListFilterTest(PersonaTestCase):
    def test_an_unknown_state_is_explained(self):
        self.login_as("coordinator")
        response = self.client.get("/coordinator/matching/matches/?state=nonsense")
        self.assertContains(response, "Choose one of the states in the list.")
        self.assertEqual(
            self.client.get("/coordinator/matching/matches/?state=active").status_code, 200
        )


class RematchReasonTest(PersonaTestCase):
    def test_a_request_without_a_reason_keeps_the_form_open_on_its_error(self):
        import re

        from matching import services

        from ..factories import cleared_buddy

        buddy = cleared_buddy(self.scheme)
        match = services.match_create(
            participant=self.participant_membership, buddy=buddy, by=self.coordinator
        )
        services.match_propose(match=match, by=self.coordinator)
        services.match_accept(match=match, by_membership=self.participant_membership)
        services.match_accept(match=match, by_membership=buddy)
        self.login_as("participant")
        closed = self.client.get(f"/matches/{match.pk}/").content.decode()
        self.assertRegex(closed, r"<details[^>]*>")
        self.assertNotRegex(closed, r"<details[^>]*\bopen\b")

        response = self.client.post(f"/matches/{match.pk}/", {"action": "rematch", "reason": ""})
        page = response.content.decode()
        self.assertRegex(page, r"<details[^>]*\bopen\b")
        textarea = re.search(r"<textarea[^>]*>", page).group(0)
        self.assertIn("autofocus", textarea)
        self.assertIn('aria-invalid="true"', textarea)
        self.assertContains(response, "This field is required")


class PostedIdsTest(PersonaTestCase):
    """No input gives a 500: ids posted by buttons and ticked boxes are read safely."""

    def test_garbage_ids_are_refused_not_crashed_on(self):
        from matching.models import MatchingRound, SuggestionOffer

        self.login_as("coordinator")
        participant = self.participant_membership.pk
        matching_round = MatchingRound.objects.create(scheme=self.scheme)
        for url, data in [
            (f"/coordinator/matching/participants/{participant}/", {"buddy": "²"}),
            (f"/coordinator/matching/participants/{participant}/", {"buddy": "abc"}),
            (
                f"/coordinator/matching/rounds/{matching_round.pk}/",
                {"action": "remove", "match": "x"},
            ),
            (
                "/coordinator/matching/rounds/new/",
                {"participants": ["²", "1e3"], "buddies": ["-1"]},
            ),
        ]:
            response = self.client.post(url, data)
            self.assertLess(response.status_code, 500, f"{url} {data}")
        self.login_as("participant")
        offer = SuggestionOffer.objects.create(participant=self.participant_membership)
        response = self.client.post(f"/choose/{offer.pk}/", {"option": "one"})
        self.assertLess(response.status_code, 500)
