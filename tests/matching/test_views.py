from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.models import Role
from matching import services
from matching.models import Match, MatchProfile, MatchState, SpeedEvent, SpeedPreference

from ..base import PersonaTestCase
from ..factories import MembershipFactory, cleared_buddy, menu, sign_all, waiting_participant


class MenuFormTest(PersonaTestCase):
    def setUp(self):
        self.cooking, self.forms = menu(self.scheme, "Cooking", "Benefits forms")

    def test_a_buddy_fills_the_menu_on_a_phone(self):
        self.login_as("buddy")
        page = self.client.get("/menu/")
        self.assertContains(page, "What can you offer?")
        self.assertContains(page, "Support: Cooking")
        self.assertNotContains(page, "wants_buddy_gender")
        response = self.client.post(
            "/menu/",
            {
                "items": [self.cooking.pk],
                "availability_slots": ["0", "5"],  # Monday morning, Tuesday evening
                "postcode_district": " sw 9 ",
                "travel_range": "area",
                "gender": "woman",
                "age_band": "35_49",
                "languages_text": "English, shona, english",
                "interests_text": "music",
                "about": "I like cooking",
                "capacity": "2",
            },
        )
        self.assertRedirects(response, "/menu/")
        profile = MatchProfile.objects.get(membership=self.buddy_membership)
        self.assertEqual(profile.postcode_district, "SW9")
        self.assertEqual(profile.languages, ["english", "shona"])
        self.assertEqual(profile.available_slots, [0, 5])
        self.assertEqual(profile.capacity, 2)
        self.assertEqual(list(profile.items.all()), [self.cooking])

    def test_a_full_postcode_keeps_only_its_first_half(self):
        self.login_as("participant")
        self.client.post("/menu/", {"postcode_district": "sw9 4ab", "gender": "man"})
        profile = MatchProfile.objects.get(membership=self.participant_membership)
        self.assertEqual(profile.postcode_district, "SW9")

    def test_bad_postcode_is_explained_and_everything_typed_is_kept(self):
        self.login_as("participant")
        response = self.client.post(
            "/menu/",
            {
                "items": [self.forms.pk],
                "postcode_district": "12345",
                "gender": "man",
                "languages_text": "French",
                "about": "Need help with letters",
                "wants_buddy_gender": "man",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "only the first half of the postcode")
        self.assertContains(response, "Need help with letters")
        self.assertContains(response, 'value="French"')
        self.assertFalse(
            MatchProfile.objects.filter(
                membership=self.participant_membership, about__gt=""
            ).exists()
        )

    def test_another_schemes_menu_items_are_refused(self):
        foreign = menu(self.other_scheme, "Skydiving")[0]
        self.login_as("participant")
        response = self.client.post("/menu/", {"items": [foreign.pk], "gender": "man"})
        self.assertContains(response, "Select a valid choice")


class ProposalOnPhoneTest(PersonaTestCase):
    def setUp(self):
        self.buddy_membership.refresh_from_db()
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state=MatchState.PROPOSED,
        )

    def test_both_accept_on_their_phones(self):
        self.login_as("participant")
        self.assertContains(self.client.get("/matches/"), "please answer")
        self.client.post(f"/matches/{self.match.pk}/accept/")
        self.login_as("buddy")
        self.client.post(f"/matches/{self.match.pk}/accept/")
        self.match.refresh_from_db()
        self.assertEqual(self.match.state, MatchState.ACCEPTED)

    def test_declining_asks_for_a_reason_only_afterwards_and_keeps_it(self):
        self.login_as("participant")
        self.assertNotContains(self.client.get(f"/matches/{self.match.pk}/"), 'name="reason"')
        self.assertContains(self.client.get(f"/matches/{self.match.pk}/decline/"), 'name="reason"')
        too_long = "x" * 201
        response = self.client.post(f"/matches/{self.match.pk}/decline/", {"reason": too_long})
        self.assertContains(response, "at most 200 characters")
        self.assertContains(response, too_long)
        self.match.refresh_from_db()
        self.assertEqual(self.match.state, MatchState.PROPOSED)
        self.client.post(f"/matches/{self.match.pk}/decline/", {"reason": "I work evenings"})
        self.match.refresh_from_db()
        self.assertEqual(
            (self.match.state, self.match.decline_reason), (MatchState.DECLINED, "I work evenings")
        )

    def test_a_second_answer_gets_a_clear_message(self):
        self.login_as("participant")
        self.client.post(f"/matches/{self.match.pk}/decline/", {"reason": "No"})
        response = self.client.post(f"/matches/{self.match.pk}/accept/", follow=True)
        self.assertContains(response, "nothing to accept")

    def test_nobody_else_sees_the_match(self):
        stranger = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        self.client.force_login(stranger.user)
        self.assertEqual(self.client.get(f"/matches/{self.match.pk}/").status_code, 403)
        self.login_as("other_coordinator")
        self.assertEqual(self.client.get(f"/matches/{self.match.pk}/").status_code, 404)

    def test_drafts_stay_with_the_coordinator(self):
        self.match.state = MatchState.DRAFT
        self.match.save()
        self.login_as("buddy")
        self.assertEqual(self.client.get(f"/matches/{self.match.pk}/").status_code, 404)
        self.assertNotContains(self.client.get("/matches/"), f"/matches/{self.match.pk}/")


class CoordinatorMatchingTest(PersonaTestCase):
    def test_candidates_side_by_side_then_propose(self):
        items = menu(self.scheme, "Cooking")
        participant = waiting_participant(self.scheme, items=items)
        buddy = cleared_buddy(self.scheme, items=items)
        self.login_as("coordinator")
        page = self.client.get(f"/coordinator/matching/participants/{participant.pk}/")
        self.assertContains(page, "Offers what is wanted: Cooking")
        self.assertContains(page, "Would like help with")
        response = self.client.post(
            f"/coordinator/matching/participants/{participant.pk}/",
            {"action": "propose", "buddy": buddy.pk},
        )
        match = Match.objects.get(participant=participant)
        self.assertRedirects(response, f"/matches/{match.pk}/")
        self.assertEqual(match.state, MatchState.PROPOSED)

    def test_proposing_an_uncleared_buddy_explains_why_not(self):
        participant = waiting_participant(self.scheme)
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/matching/participants/{participant.pk}/",
            {"action": "propose", "buddy": self.buddy_membership.pk},
            follow=True,
        )
        self.assertContains(response, "no DBS check recorded")
        self.assertFalse(Match.objects.filter(participant=participant).exists())

    def test_the_whole_flow_from_the_match_page(self):
        participant, buddy = waiting_participant(self.scheme), cleared_buddy(self.scheme)
        match = services.match_create(participant=participant, buddy=buddy, by=self.coordinator)
        self.login_as("coordinator")
        url = f"/matches/{match.pk}/"
        self.client.post(url, {"action": "propose"})
        services.match_accept(match=match, by_membership=participant)
        services.match_accept(match=match, by_membership=buddy)
        response = self.client.post(url, {"action": "introduce", "intro_at": "not a date"})
        self.assertContains(response, "Enter a valid date/time")
        self.client.post(url, {"action": "introduce", "intro_at": "2026-12-01T14:30"})
        response = self.client.post(url, {"action": "activate"}, follow=True)
        self.assertContains(response, "The agreement must be signed")
        sign_all(match)
        self.client.post(url, {"action": "activate"})
        self.client.post(url, {"action": "end", "reason": "breakdown", "never_again": "on"})
        match.refresh_from_db()
        self.assertEqual(match.state, MatchState.ENDED)
        self.assertContains(self.client.get(url), "Ended")

    def test_round_page_runs_and_releases(self):
        items = menu(self.scheme, "Cooking")
        participants = [waiting_participant(self.scheme, items=items) for _ in range(3)]
        buddies = [cleared_buddy(self.scheme, items=items) for _ in range(2)]
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/matching/rounds/new/",
            {"participants": [p.pk for p in participants], "buddies": [b.pk for b in buddies]},
        )
        round_url = response["Location"]
        self.assertContains(self.client.get(round_url), "2 of 3 participants matched")
        self.client.post(round_url, {"action": "release"})
        self.assertEqual(Match.objects.filter(state=MatchState.PROPOSED).count(), 2)

    def test_workspace_and_lists_stay_flat_as_data_grows(self):
        self.login_as("coordinator")
        items = menu(self.scheme, "Cooking")

        def count(url):
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(queries)

        def grow():
            for _ in range(4):
                participant = waiting_participant(self.scheme, items=items)
                buddy = cleared_buddy(self.scheme, items=items, capacity=2)
                services.match_create(participant=participant, buddy=buddy, by=self.coordinator)
                waiting_participant(self.scheme, items=items)

        grow()
        urls = [
            "/coordinator/matching/",
            "/coordinator/matching/matches/",
            "/coordinator/matching/rounds/new/",
        ]
        small = {url: count(url) for url in urls}
        grow()
        grow()
        self.assertEqual(small, {url: count(url) for url in urls})


class ChooseOnPhoneTest(PersonaTestCase):
    def test_participant_sees_first_names_only_and_picks(self):
        items = menu(self.scheme, "Cooking")
        participant = waiting_participant(self.scheme, items=items, email="chooser@a.example")
        buddies = [cleared_buddy(self.scheme, items=items) for _ in range(3)]
        for buddy in buddies:
            buddy.user.last_name = "Surnameington"
            buddy.user.save()
        offer = services.suggestion_offer_create(participant=participant, by=self.coordinator)
        self.client.force_login(participant.user)
        page = self.client.get(f"/choose/{offer.pk}/")
        self.assertContains(page, "Why we suggest them")
        self.assertNotContains(page, "Surnameington")
        self.assertNotContains(page, buddies[0].user.email)
        option = offer.options.first()
        self.assertRedirects(
            self.client.post(f"/choose/{offer.pk}/", {"option": option.pk}), "/matches/"
        )
        self.assertEqual(Match.objects.get(participant=participant).buddy, option.buddy)
        # Another participant cannot open or answer this offer.
        self.login_as("participant")
        self.assertEqual(self.client.get(f"/choose/{offer.pk}/").status_code, 403)


class SpeedEventTest(PersonaTestCase):
    def test_rank_on_the_phone_and_the_coordinator_makes_matches(self):
        event = SpeedEvent.objects.create(
            scheme=self.scheme, name="Autumn mixer", held_on=timezone.localdate()
        )
        participant = waiting_participant(self.scheme)
        buddy = cleared_buddy(self.scheme)
        self.login_as("coordinator")
        self.client.post(
            f"/coordinator/matching/events/{event.pk}/",
            {"buddy": buddy.pk, "participant": participant.pk},
        )
        self.client.force_login(participant.user)
        page = self.client.get(f"/events/{event.pk}/rank/")
        self.assertContains(page, buddy.user.display_name)
        self.client.post(f"/events/{event.pk}/rank/", {f"choice_{buddy.pk}": "1"})
        self.client.force_login(buddy.user)
        self.client.post(f"/events/{event.pk}/rank/", {f"choice_{participant.pk}": "1"})
        self.assertEqual(SpeedPreference.objects.filter(event=event).count(), 2)
        self.login_as("coordinator")
        self.client.post(f"/coordinator/matching/events/{event.pk}/", {"action": "match"})
        self.assertTrue(
            Match.objects.filter(buddy=buddy, participant=participant, state="draft").exists()
        )


class PersonPageTest(PersonaTestCase):
    def test_vetting_steps_and_dbs_from_the_person_page(self):
        self.login_as("coordinator")
        url = f"/coordinator/people/{self.buddy_membership.pk}/"
        self.assertContains(self.client.get(url), "no DBS check recorded")
        self.client.post(
            url + "stage/", {"to_stage": "references", "evidence": "Two references back"}
        )
        response = self.client.post(
            url + "dbs/",
            {
                "level": "enhanced",
                "certificate_number": "001122",
                "issue_date": "2026-11-01",
                "renewal_due": "2026-10-01",
            },
        )
        self.assertContains(response, "must be after the issue date")
        self.assertContains(response, 'value="001122"')
        page = self.client.get(url)
        self.assertContains(page, "Two references back")

    def test_enrolment_from_the_person_page(self):
        self.login_as("coordinator")
        url = f"/coordinator/people/{self.participant_membership.pk}/"
        response = self.client.post(
            url + "enrolment/", {"referral_source": "clinic", "buddies_needed": "1"}
        )
        self.assertContains(response, "agrees to us holding")
        self.client.post(
            url + "enrolment/",
            {"referral_source": "clinic", "buddies_needed": "1", "consent_to_hold_data": "on"},
        )
        self.participant_membership.refresh_from_db()
        self.assertTrue(self.participant_membership.enrolment.eligible)

    def test_the_dashboard_lists_lapses(self):
        from datetime import timedelta

        from buddyscheme.models import DBSCheck

        buddy = cleared_buddy(self.scheme)
        DBSCheck.objects.filter(membership=buddy).update(
            renewal_due=timezone.localdate() + timedelta(days=12)
        )
        self.login_as("coordinator")
        self.assertContains(self.client.get("/coordinator/"), "DBS renewal due")


class MatchAdminActionTest(PersonaTestCase):
    def test_propose_drafts_in_bulk_from_the_admin(self):
        drafts = [
            services.match_create(
                participant=waiting_participant(self.scheme),
                buddy=cleared_buddy(self.scheme),
                by=None,
            )
            for _ in range(2)
        ]
        active = Match.objects.create(
            scheme=self.scheme,
            buddy=cleared_buddy(self.scheme),
            participant=waiting_participant(self.scheme),
            state=MatchState.ACTIVE,
        )
        self.login_as("coordinator")
        response = self.client.post(
            "/admin/matching/match/",
            {"action": "propose_drafts", "_selected_action": [m.pk for m in drafts] + [active.pk]},
            follow=True,
        )
        self.assertContains(response, "2 match(es) proposed")
        self.assertContains(response, f"Match {active.pk}: This match is active")
        self.assertEqual(Match.objects.filter(state=MatchState.PROPOSED).count(), 2)
