"""Issue 18, endings: each type's questions and consequences, through the coordinator's steps
(type → questions → confirm), "I want to stop" from either side, and "We have become friends"."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.emails import email_build, sms_build
from buddyscheme.models import Notification, Role, Supervision
from evaluation.dashboard import forget_figures
from matching import endings, services
from matching.models import (
    BreachRecord,
    ContactAttempt,
    Ending,
    EndingType,
    FriendshipDisclosure,
    Match,
    MatchState,
    PairBlock,
    StopRequest,
)
from matching.signals import match_ended
from meetings.models import Meeting, MeetingState

from ..base import PersonaTestCase
from ..factories import MembershipFactory, venue

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


class EndingCase(PersonaTestCase):
    def setUp(self):
        self.travel = time_machine.travel(NOW, tick=False)
        self.travel.start()
        self.addCleanup(self.travel.stop)
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state=MatchState.ACTIVE,
            activated_at=NOW - timedelta(days=200),
        )
        self.sent = []

        def heard(sender, match, by, now, **kwargs):
            # Receivers (signposting, evaluation) can read the ending's answers already.
            self.assertEqual(Ending.objects.get(match=match).ending_type, match.ending_type)
            self.sent.append((match.pk, match.ending_type))

        match_ended.connect(heard, dispatch_uid="test-endings", weak=False)
        self.addCleanup(match_ended.disconnect, dispatch_uid="test-endings")

    def step_url(self, ending_type):
        return f"/coordinator/matching/matches/{self.match.pk}/end/{ending_type}/"

    def end_through_the_pages(self, ending_type, answers):
        """Choose the type, answer its questions, see what will happen, confirm."""
        self.login_as("coordinator")
        start = f"/coordinator/matching/matches/{self.match.pk}/end/"
        self.assertEqual(self.client.get(start).status_code, 200)
        response = self.client.post(start, {"ending_type": ending_type})
        self.assertRedirects(response, self.step_url(ending_type))
        review = self.client.post(self.step_url(ending_type), {**answers, "action": "review"})
        self.assertContains(review, "What will happen")
        self.assertContains(review, "Confirm: end the match")
        self.assertEqual(Match.objects.get(pk=self.match.pk).state, MatchState.ACTIVE)
        done = self.client.post(self.step_url(ending_type), {**answers, "action": "confirm"})
        self.assertRedirects(done, f"/matches/{self.match.pk}/")
        self.match.refresh_from_db()
        return review

    def assert_ended_once_as(self, ending_type):
        self.assertEqual(self.match.state, MatchState.ENDED)
        self.assertEqual(self.match.ending_type, ending_type)
        self.assertEqual(self.sent, [(self.match.pk, ending_type)])
        return Ending.objects.get(match=self.match)

    def notified(self, template):
        return list(Notification.objects.filter(template=template))


class EachTypeTest(EndingCase):
    def test_planned_completion_records_the_goals_and_thanks_them_both(self):
        review = self.end_through_the_pages(
            EndingType.PLANNED, {"goals_note": "G. now goes to the group on her own."}
        )
        self.assertContains(review, "Both are thanked for their time together.")
        self.assertNotContains(review, "one-to-one")
        ending = self.assert_ended_once_as(EndingType.PLANNED)
        self.assertEqual(ending.goals_note, "G. now goes to the group on her own.")
        self.assertFalse(ending.supervision_follow_up)
        thanked = {row.recipient_id for row in self.notified("match_completed")}
        self.assertEqual(thanked, {self.buddy.pk, self.participant.pk})
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, "How it ended: Planned completion")

    def test_breakdown_blocks_the_pair_offers_rematches_and_flags_a_one_to_one(self):
        review = self.end_through_the_pages(
            EndingType.BREAKDOWN,
            {
                "notes": "They did not get on.",
                "rematch_participant": "on",
                "rematch_buddy": "on",
                "never_again": "on",
            },
        )
        self.assertContains(review, "This pair will never be matched again.")
        self.assertContains(review, "flagged for a one-to-one")
        ending = self.assert_ended_once_as(EndingType.BREAKDOWN)
        self.assertTrue(ending.never_again and ending.supervision_follow_up)
        self.assertTrue(
            PairBlock.objects.filter(
                buddy=self.buddy_membership,
                participant=self.participant_membership,
                kind="never_again",
            ).exists()
        )
        offered = {row.recipient_id for row in self.notified("rematch_offer")}
        self.assertEqual(offered, {self.buddy.pk, self.participant.pk})
        for row in self.notified("rematch_offer"):
            self.assertEqual(row.context, {"match_id": self.match.pk})
        # The buddy is owed a one-to-one on the dashboard until one is booked.
        dashboard = self.client.get("/coordinator/")
        self.assertContains(dashboard, "One-to-one after an ending")
        Supervision.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            mode="phone",
            starts_at=NOW + timedelta(days=2),
            ends_at=NOW + timedelta(days=2, hours=1),
        )
        self.assertEqual(list(endings.follow_ups_waiting(self.scheme)), [])

    def test_breakdown_needs_to_say_what_went_wrong(self):
        self.login_as("coordinator")
        page = self.client.post(
            self.step_url(EndingType.BREAKDOWN), {"action": "review", "never_again": "on"}
        )
        self.assertContains(page, "This field is required.")
        self.assertContains(
            page,
            'name="never_again" class="checkboxinput form-check-input" id="id_never_again" checked',
        )

    def test_a_one_to_one_booked_in_the_flow_is_booked_and_the_buddy_told(self):
        when = (NOW + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
        review = self.end_through_the_pages(
            EndingType.BREAKDOWN,
            {"notes": "Not working.", "one_to_one_at": when, "one_to_one_mode": "phone"},
        )
        self.assertContains(review, "A one-to-one is booked for the buddy")
        ending = self.assert_ended_once_as(EndingType.BREAKDOWN)
        self.assertEqual(ending.supervision.buddy, self.buddy_membership)
        self.assertEqual(len(self.notified("supervision_booked")), 1)
        self.assertEqual(list(endings.follow_ups_waiting(self.scheme)), [])

    def test_disengagement_needs_attempts_and_shows_the_last_meeting(self):
        met = NOW - timedelta(weeks=5)
        Meeting.objects.create(
            scheme=self.scheme,
            match=self.match,
            buddy=self.buddy_membership,
            venue=venue(self.scheme),
            purpose="Coffee",
            planned_start=met,
            planned_end=met + timedelta(hours=1),
            expected_end=met + timedelta(hours=1),
            state=MeetingState.CHECKED_OUT,
        )
        self.login_as("coordinator")
        url = self.step_url(EndingType.DISENGAGED)
        page = self.client.get(url)
        self.assertContains(page, "Last met Monday 12 October 2026: 5 weeks ago.")
        refused = self.client.post(
            url, {"action": "review", "weeks_without_contact": "5", "notes": "No reply."}
        )
        self.assertContains(refused, "Record at least one attempt to reach them")
        self.assertContains(refused, "No reply.")  # what was typed is kept
        attempts = f"/coordinator/matching/matches/{self.match.pk}/attempts/"
        bad = self.client.post(
            attempts, {"tried_on": "", "who": "participant", "how": "phone", "outcome": "No answer"}
        )
        self.assertContains(bad, "This field is required.")
        self.assertContains(bad, "No answer")
        future = self.client.post(
            attempts,
            {"tried_on": "2026-12-01", "who": "participant", "how": "phone", "outcome": "x"},
        )
        self.assertContains(future, "The date is still to come")
        for day, how in (("2026-11-02", "phone"), ("2026-11-09", "letter")):
            self.client.post(
                attempts,
                {"tried_on": day, "who": "participant", "how": how, "outcome": "No answer"},
            )
        self.assertEqual(ContactAttempt.objects.filter(match=self.match).count(), 2)
        self.assertContains(self.client.get(url), "Letter")
        self.client.post(url, {"action": "confirm", "weeks_without_contact": "5"})
        self.match.refresh_from_db()
        ending = self.assert_ended_once_as(EndingType.DISENGAGED)
        self.assertEqual(ending.weeks_without_contact, 5)
        self.assertEqual(ending.last_meeting_on, met.date())
        self.assertTrue(ending.supervision_follow_up)

    def test_breach_is_kept_on_the_persons_record(self):
        self.end_through_the_pages(
            EndingType.BREACH,
            {
                "breach_by": "buddy",
                "breach_what": "Shared the participant's status with a friend.",
                "breach_consequences": "Stepped back from buddying; extra supervision.",
                "never_again": "on",
            },
        )
        self.assert_ended_once_as(EndingType.BREACH)
        breach = BreachRecord.objects.get()
        self.assertEqual(breach.person, self.buddy_membership)
        self.assertTrue(PairBlock.objects.filter(kind="never_again").exists())
        page = self.client.get(f"/coordinator/people/{self.buddy_membership.pk}/")
        self.assertContains(page, "Boundary or confidentiality breaches")
        self.assertContains(page, "Stepped back from buddying")
        other = self.client.get(f"/coordinator/people/{self.participant_membership.pk}/")
        self.assertNotContains(other, "Boundary or confidentiality breaches")

    def test_breach_needs_who_what_and_consequences(self):
        self.login_as("coordinator")
        page = self.client.post(
            self.step_url(EndingType.BREACH), {"action": "review", "breach_what": "Kept this"}
        )
        self.assertContains(page, "Kept this")
        # Two fields missing: each problem in the error summary and again under its field.
        self.assertContains(page, "There is a problem")
        self.assertEqual(page.content.decode().count("This field is required."), 4)

    def test_moved_away_and_other(self):
        self.end_through_the_pages(EndingType.MOVED, {"notes": "Moving to Leeds."})
        self.assert_ended_once_as(EndingType.MOVED)
        self.assertFalse(Ending.objects.get().supervision_follow_up)

    def test_safeguarding_needs_the_concern_raised_first_and_links_to_it(self):
        self.login_as("coordinator")
        url = self.step_url(EndingType.SAFEGUARDING)
        self.assertContains(self.client.get(url), 'href="/coordinator/concerns/"')
        refused = self.client.post(url, {"action": "review", "notes": "See the concern."})
        self.assertContains(refused, "Raise the concern or make the referral first")
        self.end_through_the_pages(EndingType.SAFEGUARDING, {"safeguarding_acted": "on"})
        self.assertTrue(self.assert_ended_once_as(EndingType.SAFEGUARDING).supervision_follow_up)

    def test_notes_naming_someone_go_through_the_initials_guard(self):
        self.login_as("coordinator")
        name = self.participant.first_name
        text = f"{name} told me it is over."
        page = self.client.post(
            self.step_url(EndingType.OTHER), {"action": "review", "notes": text}
        )
        self.assertContains(page, "This may identify someone")
        self.assertContains(page, text)
        self.assertNotContains(page, "What will happen")

    def test_confirming_twice_ends_once(self):
        self.login_as("coordinator")
        data = {"action": "confirm", "notes": "Other reason."}
        self.client.post(self.step_url(EndingType.OTHER), data)
        again = self.client.post(self.step_url(EndingType.OTHER), data)
        self.assertRedirects(again, f"/matches/{self.match.pk}/")
        self.assertEqual(Ending.objects.count(), 1)
        self.assertEqual(len(self.sent), 1)

    def test_an_unknown_type_is_not_found(self):
        self.login_as("coordinator")
        self.assertEqual(self.client.get(self.step_url("tired")).status_code, 404)

    def test_the_service_refuses_a_match_that_is_not_active(self):
        self.match.state = MatchState.PROPOSED
        self.match.save()
        with self.assertRaisesMessage(Exception, "This match is not active"):
            endings.match_end_guided(
                match=self.match,
                ending_type=EndingType.MOVED,
                answers=endings.EndingAnswers(),
                by=self.coordinator,
            )
        self.assertEqual(self.sent, [])


class FriendshipTest(EndingCase):
    def test_either_side_tells_us_from_their_phone_once(self):
        for persona, membership in (
            ("participant", self.participant_membership),
            ("buddy", self.buddy_membership),
        ):
            self.login_as(persona)
            url = f"/matches/{self.match.pk}/friends/"
            self.assertContains(self.client.get(url), "Tell my coordinator")
            self.client.post(url, {"note": "We go to the cinema."})
            self.client.post(url, {"note": "Again"})
            self.assertContains(self.client.get(url), "You told us on")
            self.assertEqual(FriendshipDisclosure.objects.filter(by=membership).count(), 1)
        told = self.notified("friendship_told")
        self.assertEqual(len(told), 2)
        self.assertEqual({row.recipient_id for row in told}, {self.coordinator.pk})
        message = email_build(
            template="friendship_told", context=told[0].context, scheme=self.scheme, to="c@a"
        )
        for name in (self.participant.first_name, self.buddy.first_name):
            self.assertNotIn(name, message.body + message.subject)
        self.assertIn(
            str(self.match.pk),
            sms_build(template="friendship_told", context=told[0].context, scheme=self.scheme),
        )
        # The coordinator's flow starts on friendship and shows who told us.
        self.login_as("coordinator")
        start = self.client.get(f"/coordinator/matching/matches/{self.match.pk}/end/")
        self.assertEqual(start.context["form"].initial["ending_type"], EndingType.FRIENDSHIP)
        self.assertContains(start, "Told us they have become friends")
        self.assertContains(self.client.get("/coordinator/"), "Told us they have become friends")
        self.end_through_the_pages(EndingType.FRIENDSHIP, {})
        self.assert_ended_once_as(EndingType.FRIENDSHIP)

    def test_friendship_ending_needs_them_to_have_told_us(self):
        self.login_as("coordinator")
        url = self.step_url(EndingType.FRIENDSHIP)
        refused = self.client.post(url, {"action": "review", "notes": "Friends now"})
        self.assertContains(refused, "Neither of them has told us yet")
        self.assertContains(refused, "Friends now")
        self.end_through_the_pages(EndingType.FRIENDSHIP, {"told_in_person": "on"})
        self.assertTrue(self.assert_ended_once_as(EndingType.FRIENDSHIP).told_in_person)

    def test_someone_outside_the_match_cannot_tell(self):
        stranger = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        self.client.force_login(stranger.user)
        self.assertEqual(self.client.get(f"/matches/{self.match.pk}/friends/").status_code, 403)


class StopTest(EndingCase):
    def test_a_buddy_asks_to_stop_and_the_coordinator_ends_it_from_the_dashboard(self):
        self.login_as("buddy")
        today = self.client.get("/today/")
        self.assertContains(today, "I want to stop")
        self.assertContains(today, "We have become friends")
        page = self.client.get("/me/stop/")
        self.assertContains(page, "Yes, I want to stop")
        self.client.post("/me/stop/", {"reason": "moving"})
        self.client.post("/me/stop/", {"reason": "moving"})  # a double tap
        stop_request = StopRequest.objects.get()
        self.assertEqual(
            (stop_request.participant, stop_request.match, stop_request.reason),
            (self.buddy_membership, self.match, "moving"),
        )
        (told,) = self.notified("buddy_stop")
        self.assertEqual(told.recipient, self.coordinator)
        self.assertEqual(told.context, {"buddy_id": self.buddy_membership.pk})
        body = email_build(
            template="buddy_stop", context=told.context, scheme=self.scheme, to="c@a"
        ).body
        self.assertNotIn(self.buddy.first_name, body)
        self.assertContains(self.client.get("/today/"), "that you want to stop")

        self.login_as("coordinator")
        dashboard = self.client.get("/coordinator/")
        self.assertContains(dashboard, "Asked to stop: “I am moving away”")
        self.assertContains(dashboard, f"/coordinator/matching/matches/{self.match.pk}/end/")
        start = self.client.get(f"/coordinator/matching/matches/{self.match.pk}/end/")
        self.assertEqual(start.context["form"].initial["ending_type"], EndingType.MOVED)
        self.end_through_the_pages(EndingType.MOVED, {})
        self.assert_ended_once_as(EndingType.MOVED)
        self.assertIsNotNone(StopRequest.objects.get().handled_at)
        self.assertNotContains(self.client.get("/coordinator/"), "Asked to stop")

    def test_a_participants_stop_reason_is_optional_and_marks_handled_on_ending(self):
        self.login_as("participant")
        self.client.post("/me/stop/", {})
        stop_request = StopRequest.objects.get(participant=self.participant_membership)
        self.assertEqual(stop_request.reason, "")
        self.assertEqual(len(self.notified("participant_stop")), 1)
        self.assertEqual(endings.suggested_type(self.match), "")
        self.end_through_the_pages(EndingType.OTHER, {"notes": "They wanted to stop."})
        stop_request.refresh_from_db()
        self.assertIsNotNone(stop_request.handled_at)

    def test_a_made_up_reason_is_refused_with_the_form_again(self):
        self.login_as("buddy")
        page = self.client.post("/me/stop/", {"reason": "bored"})
        self.assertContains(page, "Select a valid choice")
        self.assertFalse(StopRequest.objects.exists())

    def test_a_coordinator_cannot_ask_to_stop_through_the_service(self):
        with self.assertRaisesMessage(Exception, "Only a participant or a buddy"):
            services.member_stop_request(membership=self.coordinator_membership)


class DashboardQueriesTest(EndingCase):
    def test_the_endings_section_keeps_the_dashboard_flat_as_rows_grow(self):
        self.login_as("coordinator")

        def count():
            forget_figures(self.scheme)  # the cached figures worked out afresh each time
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/coordinator/").status_code, 200)
            return len(queries)

        def add_rows():
            buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
            participant = MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT)
            match = Match.objects.create(
                scheme=self.scheme, buddy=buddy, participant=participant, state=MatchState.ACTIVE
            )
            services.member_stop_request(membership=participant)
            endings.friendship_disclose(match=match, by_membership=buddy)
            other = Match.objects.create(
                scheme=self.scheme,
                buddy=buddy,
                participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
                state=MatchState.ACTIVE,
            )
            endings.match_end_guided(
                match=other,
                ending_type=EndingType.BREAKDOWN,
                answers=endings.EndingAnswers(notes="x"),
                by=self.coordinator,
            )

        add_rows()
        self.client.get("/coordinator/")
        few = count()
        for _ in range(3):
            add_rows()
        self.assertEqual(count(), few)
        self.assertEqual(len(endings.follow_ups_waiting(self.scheme)), 4)
        self.assertEqual(timezone.now(), NOW)
