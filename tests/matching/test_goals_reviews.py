"""Goals, planned length, reviews and review reminders (issue 18, part 1): through the services
and the pages, with real rows and time moved by time_machine."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification, Role
from buddyscheme.selectors import scheme_sections
from contracts.services import contract_generate
from matching import goals
from matching.goal_selectors import _overdue_reviews_on_the_dashboard
from matching.goals import Score
from matching.models import Goal, GoalProgress, Match, MatchReview, MatchState, ReviewReminder
from matching.signals import match_review_due, match_reviewed
from meetings.services.debriefs import DebriefContent, _clean_items

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, SchemeFactory, menu

pytestmark = pytest.mark.django_db

START = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def active_match(scheme, buddy=None, participant=None, review_due=date(2026, 7, 5)):
    return Match.objects.create(
        scheme=scheme,
        buddy=buddy or MembershipFactory(scheme=scheme, role=Role.BUDDY),
        participant=participant or MembershipFactory(scheme=scheme, role=Role.PARTICIPANT),
        state=MatchState.ACTIVE,
        activated_at=START,
        review_due=review_due,
    )


@pytest.fixture
def scheme():
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user


# --- Goals --------------------------------------------------------------------------------------


def test_a_goal_from_the_menu_takes_its_name_and_a_double_submit_is_one_goal(scheme, coordinator):
    match = active_match(scheme)
    (cooking,) = menu(scheme, "Cooking")
    goal = goals.goal_add(match=match, by=coordinator, menu_item=cooking, how_we_know="Cooks")
    assert (goal.text, goal.menu_item, goal.how_we_know) == ("Cooking", cooking, "Cooks")
    with pytest.raises(DomainError, match="already has that goal"):
        goals.goal_add(match=match, by=coordinator, menu_item=cooking)
    typed = goals.goal_add(match=match, by=coordinator, text="Go to the clinic alone")
    assert typed.order == 1 and typed.menu_item is None
    assert Goal.objects.filter(match=match).count() == 2
    assert_audited(verb="goal_add", obj=goal, actor=coordinator, scheme=scheme)


def test_goals_need_text_an_open_match_and_a_menu_item_of_the_same_scheme(scheme, coordinator):
    match = active_match(scheme)
    with pytest.raises(DomainError, match="Pick one"):
        goals.goal_add(match=match, by=coordinator, text="  ")
    (elsewhere,) = menu(SchemeFactory(), "Shopping")
    with pytest.raises(DomainError, match="another scheme"):
        goals.goal_add(match=match, by=coordinator, menu_item=elsewhere)
    Match.objects.filter(pk=match.pk).update(state=MatchState.ENDED)
    with pytest.raises(DomainError, match="closed"):
        goals.goal_add(match=match, by=coordinator, text="Too late")


def test_the_planned_length_is_set_checked_and_shown_in_the_agreement(scheme, coordinator):
    match = active_match(scheme)
    with time_machine.travel(START, tick=False):
        with pytest.raises(DomainError, match="after today"):
            goals.match_plan_set(
                match=match, by=coordinator, planned_sessions=None, planned_end=date(2026, 1, 1)
            )
        with pytest.raises(DomainError, match="from 1 to"):
            goals.match_plan_set(match=match, by=coordinator, planned_sessions=0, planned_end=None)
        goals.match_plan_set(
            match=match, by=coordinator, planned_sessions=12, planned_end=date(2026, 12, 31)
        )
    goals.goal_add(match=match, by=coordinator, text="Cook a meal", how_we_know="Cooks for two")
    contract = contract_generate(match=match, by=coordinator)
    assert "We plan to meet for 12 sessions, until 31 December 2026." in contract.text
    assert "1. Cook a meal (we will know it is achieved when: Cooks for two)" in contract.text


def test_a_goal_with_progress_cannot_be_removed(scheme, coordinator):
    match = active_match(scheme)
    goal = goals.goal_add(match=match, by=coordinator, text="Cook a meal")
    spare = goals.goal_add(match=match, by=coordinator, text="Typo")
    goals.goal_remove(goal=spare, by=coordinator)
    with time_machine.travel(datetime(2026, 7, 6, 10, tzinfo=UTC), tick=False):
        goals.review_record(
            match=match,
            by=coordinator,
            held_on=date(2026, 7, 6),
            held_with="both",
            outcome="continue",
            scores={goal.pk: Score(5)},
        )
    with pytest.raises(DomainError, match="stays"):
        goals.goal_remove(goal=goal, by=coordinator)


# --- Reviews ------------------------------------------------------------------------------------


def test_a_review_records_progress_sets_the_next_date_and_says_so_once(scheme, coordinator):
    match = active_match(scheme)
    cook = goals.goal_add(match=match, by=coordinator, text="Cook a meal")
    clinic = goals.goal_add(match=match, by=coordinator, text="Clinic alone")
    heard = []
    match_reviewed.connect(lambda **kwargs: heard.append(kwargs["review"]), weak=False)
    try:
        with time_machine.travel(datetime(2026, 7, 8, 10, tzinfo=UTC), tick=False):
            with pytest.raises(DomainError, match="every goal"):
                goals.review_record(
                    match=match,
                    by=coordinator,
                    held_on=date(2026, 7, 7),
                    held_with="both",
                    outcome="continue",
                    scores={cook.pk: Score(4)},
                )
            with pytest.raises(DomainError, match="future"):
                goals.review_record(
                    match=match,
                    by=coordinator,
                    held_on=date(2026, 7, 9),
                    held_with="both",
                    outcome="continue",
                    scores={cook.pk: Score(4), clinic.pk: Score(10)},
                )
            review = goals.review_record(
                match=match,
                by=coordinator,
                held_on=date(2026, 7, 7),
                held_with="buddy",
                outcome="change",
                notes="Meet fortnightly",
                scores={cook.pk: Score(4, "Chops veg"), clinic.pk: Score(10)},
            )
    finally:
        match_reviewed.receivers.clear()
    match.refresh_from_db()
    assert review.due_on == date(2026, 7, 5)
    assert review.next_due == match.review_due == date(2027, 1, 7)
    assert heard == [review]
    assert {(p.goal_id, p.score, p.note) for p in review.progress.all()} == {
        (cook.pk, 4, "Chops veg"),
        (clinic.pk, 10, ""),
    }
    clinic.refresh_from_db()
    assert clinic.achieved_at is not None
    assert_audited(verb="review_record", obj=review, actor=coordinator, scheme=scheme)


def test_progress_at_the_end_is_recorded_once(scheme, coordinator):
    match = active_match(scheme)
    goal = goals.goal_add(match=match, by=coordinator, text="Cook a meal")
    Match.objects.filter(pk=match.pk).update(state=MatchState.ENDING)
    goals.goals_progress_at_end(match=match, by=coordinator, scores={goal.pk: Score(8, "Nearly")})
    with pytest.raises(DomainError, match="already"):
        goals.goals_progress_at_end(match=match, by=coordinator, scores={goal.pk: Score(9)})
    assert GoalProgress.objects.get(goal=goal).at_end


# --- Reminders ----------------------------------------------------------------------------------


def test_reminders_go_14_days_before_once_to_the_buddy_and_the_coordinator(scheme, coordinator):
    match = active_match(scheme, review_due=date(2026, 7, 5))
    goal = goals.goal_add(match=match, by=coordinator, text="Cook a meal")
    due = []
    match_review_due.connect(lambda **kwargs: due.append(kwargs["match"].pk), weak=False)
    try:
        with time_machine.travel(datetime(2026, 6, 20, 9, tzinfo=UTC), tick=False):
            assert goals.reviews_remind() == 0  # 15 days before: not yet
        with time_machine.travel(datetime(2026, 6, 21, 9, tzinfo=UTC), tick=False):
            assert goals.reviews_remind() == 1
            assert goals.reviews_remind() == 0  # beat twice, a retried task: nothing more
        sent = Notification.objects.filter(template="match_review_due")
        recipients = {row.recipient_id for row in sent}
        assert recipients == {match.buddy.user_id, coordinator.pk}
        assert all(set(row.context) == {"match_id", "side", "due_on"} for row in sent)
        assert due == [match.pk]
        # After the review, the next date gets its own reminder, in its own window.
        with time_machine.travel(datetime(2026, 7, 6, 9, tzinfo=UTC), tick=False):
            goals.review_record(
                match=match,
                by=coordinator,
                held_on=date(2026, 7, 6),
                held_with="both",
                outcome="continue",
                scores={goal.pk: Score(6)},
            )
            assert goals.reviews_remind() == 0
        with time_machine.travel(datetime(2026, 12, 24, 9, tzinfo=UTC), tick=False):
            assert goals.reviews_remind() == 1
    finally:
        match_review_due.receivers.clear()
    assert ReviewReminder.objects.filter(match=match).count() == 2
    assert due == [match.pk, match.pk]


def test_the_review_reminder_is_on_the_one_schedule():
    from buddyscheme.celery import app
    from matching.tasks import remind_match_reviews

    entry = app.conf.beat_schedule["remind-match-reviews"]
    assert remind_match_reviews.name == entry["task"]
    assert entry["task"] == "matching.tasks.remind_match_reviews"
    assert entry["task"] in app.tasks


# --- Overdue reviews on the dashboard -------------------------------------------------------------


def _dashboard_queries(scheme, now) -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        sections = _overdue_reviews_on_the_dashboard(sender=None, scheme=scheme, now=now)
        for section in sections:
            list(section.context["overdue"])
            [line.match.participant.user.display_name for line in section.context["overdue"]]
    return len(queries), sections


def test_overdue_reviews_are_listed_oldest_first_in_constant_queries(scheme):
    now = datetime(2026, 8, 1, 9, tzinfo=UTC)
    active_match(scheme, review_due=date(2026, 9, 1))  # not due yet
    reviewed_elsewhere = active_match(SchemeFactory(), review_due=date(2026, 6, 1))
    for day in (3, 2):
        active_match(scheme, review_due=date(2026, 7, day))
    small, sections = _dashboard_queries(scheme, now)
    lines = sections[0].context["overdue"]
    assert [line.match.review_due.day for line in lines] == [2, 3]
    assert lines[0].days == 30
    assert reviewed_elsewhere.pk not in {line.match.pk for line in lines}
    for _ in range(8):
        active_match(scheme, review_due=date(2026, 7, 10))
    large, sections = _dashboard_queries(scheme, now)
    assert small == large == 2
    assert sections[0].context["overdue_count"] == 10
    assert scheme_sections(scheme, now)  # reached through the core's signal too


# --- Debriefs' goals for next time ---------------------------------------------------------------


def test_a_debrief_goal_links_only_to_a_goal_of_its_own_match(scheme, coordinator):
    match = active_match(scheme)
    other = active_match(scheme)
    own = goals.goal_add(match=match, by=coordinator, text="Cook a meal")
    foreign = goals.goal_add(match=other, by=coordinator, text="Other")
    content = DebriefContent(
        goals=["Buy onions", "", "Peel them"], goal_links=[own.pk, None, foreign.pk]
    )
    _actions, cleaned = _clean_items(content, match.pk)
    assert cleaned == [("Buy onions", own.pk), ("Peel them", None)]


# --- Pages ----------------------------------------------------------------------------------------


class GoalPagesTest(PersonaTestCase):
    def setUp(self):
        self.match = active_match(
            self.scheme, buddy=self.buddy_membership, participant=self.participant_membership
        )
        self.goal = goals.goal_add(
            match=self.match, by=self.coordinator, text="Cook a meal", how_we_know="Cooks for two"
        )
        with time_machine.travel(datetime(2026, 7, 6, 10, tzinfo=UTC), tick=False):
            goals.review_record(
                match=self.match,
                by=self.coordinator,
                held_on=date(2026, 7, 6),
                held_with="both",
                outcome="continue",
                notes="Coordinator-only notes",
                scores={self.goal.pk: Score(7, "Chops veg now")},
            )

    def test_all_three_see_the_goals_and_progress_and_the_other_scheme_does_not(self):
        url = f"/matches/{self.match.pk}/"
        for persona in ("coordinator", "buddy", "participant"):
            self.login_as(persona)
            page = self.client.get(url).content.decode()
            assert "Cook a meal" in page and "7/10" in page and "Chops veg now" in page, persona
            assert ("Coordinator-only notes" in page) == (persona == "coordinator"), persona
        self.login_as("other_coordinator")
        assert self.client.get(url).status_code == 404
        assert (
            self.client.get(f"/coordinator/matching/matches/{self.match.pk}/goals/").status_code
            == 404
        )

    def test_the_participant_home_shows_their_goals(self):
        self.login_as("participant")
        page = self.client.get("/me/").content.decode()
        assert "My goals" in page and "Cook a meal" in page and "7 out of 10" in page

    def test_the_coordinator_adds_a_goal_and_a_name_in_it_is_caught(self):
        self.login_as("coordinator")
        url = f"/coordinator/matching/matches/{self.match.pk}/goals/"
        # A name that is not also a word: the factories' random ones can be ("Will", "Rose"),
        # which the guard rightly lets through at a sentence's start before a verb.
        type(self.participant).objects.filter(pk=self.participant.pk).update(first_name="Oluwaseun")
        name = "Oluwaseun"
        response = self.client.post(url, {"text": f"{name} cooks for friends", "how_we_know": ""})
        assert response.status_code == 200
        assert "This may identify someone" in response.content.decode()
        assert f"{name} cooks for friends" in response.content.decode()  # kept as typed
        response = self.client.post(url, {"text": "Cooks for friends"})
        assert response.status_code == 302
        assert self.match.goals.filter(text="Cooks for friends").exists()
        # Nothing picked or typed: the form again with a plain message.
        response = self.client.post(url, {"text": ""})
        assert "Pick one of the things they want" in response.content.decode()

    def test_a_review_through_the_page_with_outcome_end_goes_to_the_ending(self):
        self.login_as("coordinator")
        url = f"/coordinator/matching/matches/{self.match.pk}/review/"
        assert self.client.get(url).status_code == 200
        with time_machine.travel(datetime(2026, 9, 1, 10, tzinfo=UTC), tick=False):
            bad = self.client.post(url, {"held_on": "2026-09-01", "held_with": "both"})
            assert bad.status_code == 200 and "score" in bad.content.decode()
            response = self.client.post(
                url,
                {
                    "held_on": "2026-09-01",
                    "held_with": "both",
                    "outcome": "end",
                    f"score_{self.goal.pk}": "9",
                },
            )
        assert response.status_code == 302 and response["Location"].endswith("#ending")
        assert MatchReview.objects.filter(match=self.match).count() == 2

    def test_the_buddy_sees_a_review_coming_up_on_today(self):
        with time_machine.travel(datetime(2026, 12, 30, 10, tzinfo=UTC), tick=False):
            self.login_as("buddy")
            page = self.client.get("/today/").content.decode()
        assert "Review coming up" in page

    def test_the_dashboard_links_overdue_reviews_to_their_match(self):
        with time_machine.travel(datetime(2027, 2, 1, 10, tzinfo=UTC), tick=False):
            self.login_as("coordinator")
            page = self.client.get("/coordinator/").content.decode()
        assert "Reviews overdue (1)" in page
        assert f'href="/matches/{self.match.pk}/"' in page

    def test_the_planned_length_page_keeps_bad_input_and_saves_good(self):
        self.login_as("coordinator")
        url = f"/coordinator/matching/matches/{self.match.pk}/plan/"
        response = self.client.post(url, {"planned_sessions": "0", "planned_end": ""})
        assert response.status_code == 200
        assert "Give at least 1 session" in response.content.decode()
        with time_machine.travel(datetime(2026, 11, 28, 10, tzinfo=UTC), tick=False):
            self.login_as("coordinator")
            response = self.client.post(
                url, {"planned_sessions": "10", "planned_end": "2027-03-01"}
            )
            page = self.client.get(f"/matches/{self.match.pk}/").content.decode()
        assert response.status_code == 302
        self.match.refresh_from_db()
        assert (self.match.planned_sessions, self.match.planned_end) == (10, date(2027, 3, 1))
        assert "planned: 10 sessions, until 1 March 2027" in page
