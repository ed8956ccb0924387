"""Debriefs: opened by the check-out, drafted as the buddy types, sent with actions and goals
that are carried forward, boundary answers that flag the match, recorded on the buddy's behalf,
reminded at 24 hours (once) and listed for the coordinator at 48."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification
from matching.models import Match
from meetings import selectors, services
from meetings.models import (
    BoundaryQuestion,
    Debrief,
    DebriefItem,
    FollowUp,
    MeetingState,
)
from meetings.services import Action, DebriefContent
from meetings.signals import debrief_sent

from ..base import assert_audited
from ..factories import SchemeFactory, book_meeting, waiting_participant

UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def match(scheme, people):
    participant = waiting_participant(scheme, email="participant@example.org")
    participant.user.first_name, participant.user.last_name = "Daniel", "Okonkwo"
    participant.user.save()
    return Match.objects.create(
        scheme=scheme, buddy=people["buddy"], participant=participant, state="active"
    )


def met(match, start=MONDAY_10AM, check_out=True):
    """A meeting of the match, checked in and (unless told not to) checked out at its end."""
    meeting = book_meeting(match.buddy, start, match=match)
    services.meeting_check_in(meeting=meeting, key=f"in-{start}", by=None, now=start)
    if check_out:
        services.meeting_check_out(
            meeting=meeting, key=f"out-{start}", by=None, now=start + timedelta(hours=1)
        )
    meeting.refresh_from_db()
    return meeting


def content(**overrides):
    values = {
        "how_it_went": 4,
        "what_happened": "Coffee and the housing form.",
        "actions": [Action("Phone the housing office", "participant", date(2026, 12, 4))],
        "goals": ["Walk to the library together"],
    }
    return DebriefContent(**{**values, **overrides})


def test_a_new_scheme_gets_the_default_boundary_questions():
    scheme = SchemeFactory()
    assert [question.text for question in BoundaryQuestion.objects.filter(scheme=scheme)] == [
        "Were gifts given or offered, either way?",
        "Was money lent or borrowed, or asked for?",
        "Was there contact outside the hours you agreed?",
        "Does it feel like a friendship or romance is starting?",
    ]
    # A scheme that retires them keeps them retired.
    BoundaryQuestion.objects.filter(scheme=scheme).update(is_active=False)
    assert services.boundary_questions_ensure(scheme) == []


def test_check_out_opens_the_debrief_once(match):
    meeting = met(match)
    debrief = Debrief.objects.get(meeting=meeting)
    assert (debrief.state, debrief.opened_at) == ("due", MONDAY_10AM + timedelta(hours=1))
    # The same check-out posted again (a retry) opens nothing more.
    services.meeting_check_out(meeting=meeting, key=f"out-{MONDAY_10AM}", by=None)
    assert Debrief.objects.filter(meeting=meeting).count() == 1


def test_a_duress_check_out_opens_the_debrief_like_any_other(match):
    services.buddy_pins_set(membership=match.buddy, check_out_pin="1234", duress_pin="9876")
    meeting = met(match, check_out=False)
    services.meeting_check_out_with_pin(
        meeting=meeting, key="duress", pin="9876", by=None, now=MONDAY_10AM + timedelta(hours=1)
    )
    assert Debrief.objects.get(meeting=meeting).state == "due"


def test_no_debrief_before_the_meeting_has_finished(match):
    meeting = met(match, check_out=False)
    with pytest.raises(DomainError, match="once the meeting has finished"):
        services.debrief_save_draft(meeting=meeting, content=content(), by=match.buddy.user)


def test_drafts_keep_what_was_typed_and_replace_it_as_typing_goes_on(match):
    meeting = met(match)
    buddy = match.buddy.user
    services.debrief_save_draft(
        meeting=meeting, content=content(how_it_went=None, goals=[]), by=buddy
    )
    services.debrief_save_draft(
        meeting=meeting,
        content=content(actions=[Action("Phone the housing office"), Action("  ")]),
        by=buddy,
    )
    debrief = Debrief.objects.get(meeting=meeting)
    assert debrief.state == "draft" and debrief.sent_at is None
    assert [(item.kind, item.text) for item in debrief.items.all()] == [
        ("action", "Phone the housing office"),
        ("goal", "Walk to the library together"),
    ]
    # One audit row for the draft however often it saves.
    assert_audited(verb="debrief_draft_start", obj=debrief, actor=buddy, scheme=match.scheme)


def test_sending_carries_actions_and_goals_to_the_next_meeting_which_ticks_them_off(match):
    first = met(match)
    buddy = match.buddy.user
    services.debrief_send(meeting=first, content=content(), by=buddy)
    action, goal = DebriefItem.objects.filter(debrief__meeting=first).order_by("kind")
    second = met(match, start=MONDAY_10AM + timedelta(days=7))
    assert services.carried_items(second) == [action, goal]
    # The next debrief ticks the action off; the goal stays open and is carried again.
    services.debrief_save_draft(
        meeting=second, content=content(done_item_ids={action.pk}, actions=[], goals=[]), by=buddy
    )
    action.refresh_from_db()
    assert action.done_at is None  # a tick in a draft is not done yet
    debrief = services.debrief_send(
        meeting=second,
        content=content(done_item_ids={action.pk}, actions=[], goals=[]),
        by=buddy,
        now=MONDAY_10AM + timedelta(days=7, hours=2),
    )
    action.refresh_from_db()
    assert (action.done_in, action.done_at) == (debrief, MONDAY_10AM + timedelta(days=7, hours=2))
    third = met(match, start=MONDAY_10AM + timedelta(days=14))
    assert services.carried_items(third) == [goal]
    assert_audited(verb="debrief_send", obj=debrief, actor=buddy, scheme=match.scheme)


def test_a_tick_cannot_reach_another_matchs_items(scheme, match, people):
    other_participant = waiting_participant(scheme)
    other = Match.objects.create(
        scheme=scheme, buddy=people["buddy"], participant=other_participant, state="active"
    )
    elsewhere = met(other)
    services.debrief_send(meeting=elsewhere, content=content(), by=None)
    foreign = DebriefItem.objects.filter(debrief__meeting=elsewhere).first()
    mine = met(match, start=MONDAY_10AM + timedelta(days=1))
    services.debrief_send(meeting=mine, content=content(done_item_ids={foreign.pk}), by=None)
    foreign.refresh_from_db()
    assert foreign.done_at is None and foreign.done_in is None


def test_a_sent_debrief_cannot_change(match):
    meeting = met(match)
    services.debrief_send(meeting=meeting, content=content(), by=None)
    with pytest.raises(DomainError, match="sent already"):
        services.debrief_save_draft(meeting=meeting, content=content(), by=None)
    with pytest.raises(DomainError, match="sent already"):
        services.debrief_send(meeting=meeting, content=content(), by=None)


def test_sending_needs_how_it_went_and_what_happened(match):
    meeting = met(match)
    with pytest.raises(DomainError, match="how it went"):
        services.debrief_send(meeting=meeting, content=content(how_it_went=None), by=None)
    with pytest.raises(DomainError, match="how it went"):
        services.debrief_send(meeting=meeting, content=content(what_happened="  "), by=None)


def test_a_crossed_boundary_flags_the_match_for_the_coordinator(scheme, match):
    gifts, money, *_ = BoundaryQuestion.objects.filter(scheme=scheme)
    quiet = met(match)
    services.debrief_send(
        meeting=quiet, content=content(boundaries={gifts.pk: False, money.pk: None}), by=None
    )
    assert Debrief.objects.get(meeting=quiet).follow_up == FollowUp.NONE
    assert selectors.boundary_flags_for_match(match) == []
    crossed = met(match, start=MONDAY_10AM + timedelta(days=7))
    debrief = services.debrief_send(
        meeting=crossed, content=content(boundaries={gifts.pk: True, money.pk: False}), by=None
    )
    assert debrief.follow_up == FollowUp.OPEN
    [flag] = selectors.boundary_flags_for_match(match)
    assert (flag.debrief, flag.question_text) == (debrief, gifts.text)
    # Rewording the question later leaves the answer as it was asked.
    BoundaryQuestion.objects.filter(pk=gifts.pk).update(text="Any presents?")
    assert selectors.boundary_flags_for_match(match)[0].question_text == gifts.text
    # Followed up: the flag goes.
    services.debrief_follow_up_set(
        debrief=debrief, state=FollowUp.DONE, note="Talked it through", by=None
    )
    assert selectors.boundary_flags_for_match(match) == []


def test_another_schemes_question_is_ignored(match):
    stranger = BoundaryQuestion.objects.filter(scheme=SchemeFactory()).first()
    meeting = met(match)
    debrief = services.debrief_send(
        meeting=meeting, content=content(boundaries={stranger.pk: True}), by=None
    )
    assert debrief.boundary_answers.count() == 0 and debrief.follow_up == FollowUp.NONE


def test_a_worry_opens_a_follow_up_and_the_signal_carries_it(
    match, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, debrief, by, **kwargs):
        received.append((debrief.pk, debrief.worried_about, by))

    debrief_sent.connect(listener)
    try:
        meeting = met(match)
        with django_capture_on_commit_callbacks(execute=True):
            debrief = services.debrief_send(
                meeting=meeting,
                content=content(worried_about="participant", concerns="Seemed very low."),
                by=match.buddy.user,
            )
    finally:
        debrief_sent.disconnect(listener)
    assert debrief.follow_up == FollowUp.OPEN
    assert received == [(debrief.pk, "participant", match.buddy.user)]


def test_a_coordinator_records_a_debrief_given_by_phone(match, people):
    meeting = met(match)
    coordinator = people["coordinator"].user
    debrief = services.debrief_send(
        meeting=meeting, content=content(), by=coordinator, given_by="phone"
    )
    assert (debrief.given_by, debrief.recorded_by) == ("phone", coordinator)
    assert debrief.get_given_by_display() == "Given by phone"
    assert_audited(verb="debrief_record", obj=debrief, actor=coordinator, scheme=match.scheme)


def test_feedback_is_kept_audited_and_the_buddy_is_told_discreetly(match, people):
    meeting = met(match)
    debrief = services.debrief_send(meeting=meeting, content=content(), by=None)
    coordinator = people["coordinator"].user
    services.debrief_feedback(debrief=debrief, text="Well handled.", by=coordinator)
    debrief.refresh_from_db()
    assert (debrief.feedback, debrief.feedback_by) == ("Well handled.", coordinator)
    assert_audited(verb="debrief_feedback", obj=debrief, actor=coordinator, scheme=match.scheme)
    [email] = Notification.objects.filter(template="debrief_feedback")
    assert email.recipient == match.buddy.user
    assert "Well handled" not in str(email.context)
    with pytest.raises(DomainError, match="Write some feedback"):
        services.debrief_feedback(debrief=debrief, text=" ", by=coordinator)


def test_feedback_waits_for_the_debrief(match, people):
    meeting = met(match)
    debrief = Debrief.objects.get(meeting=meeting)
    with pytest.raises(DomainError, match="once the debrief has been sent"):
        services.debrief_feedback(debrief=debrief, text="Hi", by=people["coordinator"].user)


def test_the_buddy_is_reminded_once_24_hours_after_checking_out(match):
    checked_out = MONDAY_10AM + timedelta(hours=1)
    meeting = met(match)
    assert services.debriefs_remind(now=checked_out + timedelta(hours=23, minutes=59)) == 0
    with time_machine.travel(checked_out + timedelta(hours=24), tick=False):
        assert services.debriefs_remind() == 1
        assert services.debriefs_remind() == 0  # a second run: nobody twice
    assert services.debriefs_remind(now=checked_out + timedelta(days=3)) == 0
    [reminder] = Notification.objects.filter(template="debrief_reminder")
    assert reminder.recipient == match.buddy.user
    assert reminder.context == {"meeting_id": meeting.pk}


def test_a_debrief_sent_in_time_is_never_reminded(match):
    meeting = met(match)
    services.debrief_send(meeting=meeting, content=content(), by=None)
    assert services.debriefs_remind(now=MONDAY_10AM + timedelta(days=2)) == 0


def test_the_reminder_is_discreet(scheme, match):
    from buddyscheme.emails import email_build, sms_build

    context = {"meeting_id": 12}
    email = email_build(template="debrief_reminder", context=context, scheme=scheme, to="b@x.org")
    text = sms_build(template="debrief_reminder", context=context, scheme=scheme)
    for words in (email.subject, email.body, text):
        assert (
            "HIV" not in words and "Positive Living" not in words and "debrief" not in email.subject
        )
    assert "/meetings/12/debrief/" in email.body and "/meetings/12/debrief/" in text


def test_the_dashboard_lists_debriefs_missing_for_48_hours(scheme, match):
    checked_out = MONDAY_10AM + timedelta(hours=1)
    meeting = met(match)
    assert selectors.debriefs_missing(scheme, now=checked_out + timedelta(hours=47)) == []
    [missing] = selectors.debriefs_missing(scheme, now=checked_out + timedelta(hours=48))
    assert missing.meeting == meeting
    services.debrief_send(meeting=meeting, content=content(), by=None)
    assert selectors.debriefs_missing(scheme, now=checked_out + timedelta(hours=48)) == []


def test_the_reminder_runs_from_the_one_schedule(match):
    from buddyscheme.celery import app
    from meetings import tasks

    entry = app.conf.beat_schedule["remind-missing-debriefs"]
    assert entry["task"] == "meetings.tasks.remind_missing_debriefs"
    assert entry["task"] == tasks.remind_missing_debriefs.name
    met(match)
    with time_machine.travel(MONDAY_10AM + timedelta(days=1, hours=2), tick=False):
        tasks.remind_missing_debriefs.delay()
    assert Notification.objects.filter(template="debrief_reminder").exists()


def test_a_meeting_without_a_match_has_a_debrief_but_nothing_to_carry(scheme, people):
    meeting = book_meeting(people["buddy"], MONDAY_10AM)
    services.meeting_check_in(meeting=meeting, key="i", by=None, now=MONDAY_10AM)
    services.meeting_check_out(meeting=meeting, key="o", by=None, now=MONDAY_10AM)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CHECKED_OUT
    debrief = services.debrief_send(meeting=meeting, content=content(), by=None)
    assert services.carried_items(meeting) == []
    assert {item.match_id for item in debrief.items.all()} == {None}


def test_an_inactive_buddy_is_not_reminded(match):
    met(match)
    match.buddy.is_active = False
    match.buddy.save()
    assert services.debriefs_remind(now=MONDAY_10AM + timedelta(days=2)) == 0
    assert not Notification.objects.filter(template="debrief_reminder").exists()
