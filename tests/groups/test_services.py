"""The group rules, through the services with real data and a moved clock."""

from datetime import date, timedelta

import pytest
from django.db import connection

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification
from contracts.models import ContractKind
from contracts.services import template_revise, templates_ensure
from groups import services
from groups.models import GroupQuestion, SessionFeedback, SessionState
from meetings.models import Debrief, MeetingState

from ..factories import MembershipFactory, venue
from .conftest import NOW, REVIEW_ON, START, join

pytestmark = pytest.mark.django_db


def minutes(n):
    return timedelta(minutes=n)


class TestGroupsAndSessions:
    def test_an_outside_venue_needs_its_checklist_before_sessions(self, group, people, scheme):
        outside = venue(scheme, name="Community hall")
        group = services.group_update(group=group, by=people["coordinator"].user, venue=outside)
        with pytest.raises(DomainError, match="insurance checked.*health and safety.*premises"):
            services.group_session_create(
                group=group, planned_start=START, planned_end=START + minutes(60), by=None
            )
        group = services.group_update(
            group=group,
            by=None,
            insurance_checked_on=date(2026, 11, 1),
            health_and_safety_checked_on=date(2026, 11, 1),
            premises_rules_checked_on=date(2026, 11, 1),
        )
        assert services.group_session_create(
            group=group, planned_start=START, planned_end=START + minutes(60), by=None
        ).pk

    def test_an_out_of_date_risk_assessment_refuses_a_session(self, group, scheme):
        group.venue.risk_review_due = date(2026, 11, 29)
        group.venue.save()
        with pytest.raises(DomainError, match="risk assessment needed review"):
            services.group_session_create(
                group=group, planned_start=START, planned_end=START + minutes(60), by=None
            )


class TestTwoFacilitators:
    def test_a_session_with_one_facilitator_cannot_start(self, session, people):
        services.facilitator_add(session=session, membership=people["first"], by=None)
        with pytest.raises(DomainError, match="needs two facilitators"):
            services.session_start(session=session, membership=people["first"])
        session.refresh_from_db()
        assert session.state == SessionState.PLANNED
        services.facilitator_add(session=session, membership=people["coordinator"], by=None)
        assert (
            services.session_start(session=session, membership=people["first"]).state == "running"
        )

    def test_only_flagged_buddies_or_staff_facilitate(self, session, scheme):
        plain = MembershipFactory(scheme=scheme, role="buddy")
        with pytest.raises(DomainError, match="Facilitators are buddies marked"):
            services.facilitator_add(session=session, membership=plain, by=None)

    def test_each_buddy_facilitator_gets_a_lone_working_meeting(self, staffed, people):
        meetings = [f.meeting for f in staffed.facilitators.select_related("meeting")]
        assert [m.buddy_id for m in meetings] == [people["first"].pk, people["second"].pk]
        assert all(m.planned_start == START and m.next_alert_at for m in meetings)

    def test_the_coordinator_is_told_in_time_once(self, session, people, clock):
        services.facilitator_add(session=session, membership=people["first"], by=None)
        # Three days before: not yet inside the warning window.
        assert services.sessions_short_of_facilitators_warn(now=START - timedelta(hours=72)) == 0
        clock.move_to(START - timedelta(hours=47))
        assert services.sessions_short_of_facilitators_warn() == 1
        assert services.sessions_short_of_facilitators_warn() == 0  # told once
        sent = Notification.objects.filter(template="group_short_of_facilitators", channel="email")
        assert list(sent.values_list("recipient__email", flat=True)) == ["coord@example.org"]

    def test_a_staffed_session_is_not_warned_about(self, staffed, clock):
        clock.move_to(START - timedelta(hours=2))
        assert services.sessions_short_of_facilitators_warn() == 0


class TestLoneWorking:
    def test_either_facilitator_checks_out_for_both(self, staffed, people, clock):
        clock.move_to(START - minutes(10))
        for buddy in (people["first"], people["second"]):
            services.session_check_in(session=staffed, membership=buddy, key=f"in-{buddy.pk}")
        services.session_start(session=staffed, membership=people["first"])
        clock.move_to(START + minutes(120))
        assert (
            services.session_check_out(session=staffed, membership=people["second"], key="out") == 2
        )
        staffed.refresh_from_db()
        assert staffed.state == SessionState.FINISHED
        meetings = [f.meeting for f in staffed.facilitators.select_related("meeting")]
        for meeting in meetings:
            meeting.refresh_from_db()
            assert meeting.state == MeetingState.CHECKED_OUT
            assert meeting.next_alert_at is None
        # The real check-out ran, but no one-to-one debrief opened: the facilitators write one
        # group debrief for the session instead (meetings.signals.debrief_elsewhere).
        assert Debrief.objects.filter(meeting__in=meetings).count() == 0

    def test_a_facilitator_who_never_checks_in_is_still_watched(self, staffed, people, clock):
        clock.move_to(START - minutes(10))
        services.session_check_in(session=staffed, membership=people["first"], key="in")
        meeting = staffed.facilitators.get(membership=people["second"]).meeting
        assert meeting.state == MeetingState.PLANNED and meeting.next_alert_at is not None

    def test_each_can_raise_help_on_their_own_meeting(self, staffed, people, clock):
        from meetings.services import meeting_help

        clock.move_to(START + minutes(5))
        meeting = staffed.facilitators.get(membership=people["second"]).meeting
        alert = meeting_help(meeting=meeting, key="help", by=people["second"].user)
        assert alert.level == 3 and alert.meeting_id == meeting.pk


class TestJoining:
    def test_the_group_check_needs_every_question_answered_yes(self, group, people, scheme):
        question = GroupQuestion.objects.create(scheme=scheme, text="Living with HIV?")
        with pytest.raises(DomainError, match="do not qualify"):
            services.group_member_add(
                group=group, membership=people["participant"], answers={question.pk: False}, by=None
            )
        member = services.group_member_add(
            group=group, membership=people["participant"], answers={question.pk: True}, by=None
        )
        assert services.agreement_status(member) == "awaiting"
        assert member.agreement.kind == ContractKind.GROUP
        assert "Sam on 020 7946 0000" in member.agreement.text
        body = Notification.objects.get(template="group_agreement", channel="email")
        assert body.context["group_name"] == "Tuesday group"
        assert body.context["complaints_contact"] == "Sam on 020 7946 0000"

    def test_a_second_join_is_refused(self, group, people):
        join(group, people["participant"], None)
        with pytest.raises(DomainError, match="already joined"):
            services.group_member_add(
                group=group, membership=people["participant"], answers={}, by=None
            )

    def test_unsigned_cannot_be_marked_present(self, staffed, group, people):
        member = services.group_member_add(
            group=group, membership=people["participant"], answers={}, by=None
        )
        services.ground_rules_read_out(session=staffed, membership=people["first"])
        with pytest.raises(DomainError, match="sign the group agreement"):
            services.attendance_mark(
                session=staffed, member=member, membership=people["first"], rules_confirmed=True
            )

    def test_a_new_version_of_the_rules_needs_reconsent(self, staffed, group, people, scheme):
        member = join(group, people["participant"], None)
        assert services.agreement_status(member) == "signed"
        template = templates_ensure(scheme)[ContractKind.GROUP]
        template_revise(
            template=template,
            clauses=template.current.clauses + [{"heading": "Phones", "text": "Phones on silent."}],
            easy_read="",
            by=people["coordinator"].user,
            requires_reconsent=True,
        )
        assert services.agreement_status(member) == "reconsent"
        with pytest.raises(DomainError, match="current version"):
            services.attendance_mark(
                session=staffed, member=member, membership=people["first"], rules_confirmed=True
            )
        member = services.group_member_reconsent(member=member, by=None)
        assert services.agreement_status(member) == "awaiting"


class TestGroundRulesEverySession:
    def test_present_needs_a_tick_or_the_rules_read_out(self, staffed, group, people):
        member = join(group, people["participant"], None)
        with pytest.raises(DomainError, match="Reconfirm the ground rules"):
            services.attendance_mark(
                session=staffed, member=member, membership=people["first"], rules_confirmed=False
            )
        attendance = services.attendance_mark(
            session=staffed, member=member, membership=people["first"], rules_confirmed=True
        )
        assert attendance.present and attendance.ground_rules_confirmed_at == NOW

    def test_read_out_is_recorded_once_per_session(self, staffed, group, people, scheme):
        member = join(group, people["participant"], None)
        services.ground_rules_read_out(session=staffed, membership=people["first"])
        services.ground_rules_read_out(session=staffed, membership=people["second"])
        staffed.refresh_from_db()
        assert staffed.ground_rules_read_out_by == people["first"].user
        assert services.attendance_mark(
            session=staffed, member=member, membership=people["second"], rules_confirmed=False
        ).present
        # The next session starts afresh: last time's reading does not count.
        later = services.group_session_create(
            group=group,
            planned_start=START + timedelta(days=7),
            planned_end=START + timedelta(days=7, hours=2),
            by=None,
        )
        services.facilitator_add(session=later, membership=people["coordinator"], by=None)
        with pytest.raises(DomainError, match="Reconfirm"):
            services.attendance_mark(
                session=later,
                member=member,
                membership=people["coordinator"],
                rules_confirmed=False,
            )

    def test_only_facilitators_run_the_session(self, staffed, group, people, scheme):
        member = join(group, people["participant"], None)
        stranger = MembershipFactory(scheme=scheme, role="buddy", is_facilitator=True)
        with pytest.raises(DomainError, match="Only the session's facilitators"):
            services.attendance_mark(
                session=staffed, member=member, membership=stranger, rules_confirmed=True
            )

    def test_counts_cannot_be_fewer_than_the_names_marked(self, staffed, group, people):
        member = join(group, people["participant"], None)
        services.attendance_mark(
            session=staffed, member=member, membership=people["first"], rules_confirmed=True
        )
        with pytest.raises(DomainError, match="at least that"):
            services.session_counts_set(
                session=staffed, membership=people["first"], new_count=0, returning_count=0
            )
        session = services.session_counts_set(
            session=staffed, membership=people["first"], new_count=3, returning_count=4
        )
        assert session.attendance_total == 7


class TestExclusion:
    def test_excluded_until_the_review_lifts_it(self, staffed, group, people, clock):
        member = join(group, people["participant"], None)
        exclusion = services.member_exclude(
            member=member,
            membership=people["first"],
            session=staffed,
            reason="G.O. shouted at others and would not stop.",
            review_on=REVIEW_ON,
        )
        # The coordinator is told at once, and the message does not carry the reason.
        told = Notification.objects.filter(template="group_exclusion")
        assert {n.recipient.email for n in told} == {"coord@example.org"}
        assert all("shouted" not in str(n.context) for n in told)
        with pytest.raises(DomainError, match="review lifts"):
            services.attendance_mark(
                session=staffed, member=member, membership=people["first"], rules_confirmed=True
            )
        with pytest.raises(DomainError, match="already excluded"):
            services.member_exclude(
                member=member,
                membership=people["first"],
                session=staffed,
                reason="Again",
                review_on=REVIEW_ON,
            )
        # Kept at the review, then lifted at the next one.
        services.exclusion_review(
            exclusion=exclusion,
            lift=False,
            note="Not yet",
            review_on=REVIEW_ON + timedelta(days=7),
            by=None,
        )
        with pytest.raises(DomainError, match="review lifts"):
            services.attendance_mark(
                session=staffed, member=member, membership=people["first"], rules_confirmed=True
            )
        services.exclusion_review(
            exclusion=exclusion, lift=True, note="Spoke to G.O.", by=people["coordinator"].user
        )
        assert services.attendance_mark(
            session=staffed, member=member, membership=people["first"], rules_confirmed=True
        ).present

    def test_an_exclusion_needs_a_reason_and_a_later_review(self, staffed, group, people):
        member = join(group, people["participant"], None)
        with pytest.raises(DomainError, match="Say why"):
            services.member_exclude(
                member=member,
                membership=people["first"],
                session=staffed,
                reason=" ",
                review_on=REVIEW_ON,
            )
        with pytest.raises(DomainError, match="after today"):
            services.member_exclude(
                member=member,
                membership=people["first"],
                session=staffed,
                reason="Unsafe",
                review_on=NOW.date(),
            )


class TestFeedbackAndDebrief:
    def test_feedback_keeps_no_person_no_address_no_time(self, staffed):
        services.feedback_record(
            session=staffed, felt_welcome=4, felt_safe=3, would_come_again=True, comments="Good"
        )
        columns = {
            column.name
            for column in connection.introspection.get_table_description(
                connection.cursor(), SessionFeedback._meta.db_table
            )
        }
        assert columns == {
            "id",
            "session_id",
            "felt_welcome",
            "felt_safe",
            "would_come_again",
            "comments",
        }
        summary = services.feedback_summary(staffed)
        assert (summary.count, summary.welcome, summary.again) == (1, 4.0, 1)

    def test_debrief_after_check_out_then_the_coordinator_replies(self, staffed, people, clock):
        with pytest.raises(DomainError, match="once you have checked out"):
            services.group_debrief_send(
                session=staffed,
                membership=people["first"],
                went_well="Good",
                did_not_go_well="",
                to_pick_up="",
            )
        clock.move_to(START - minutes(5))
        services.session_check_in(session=staffed, membership=people["first"], key="a")
        clock.move_to(START + minutes(120))
        services.session_check_out(session=staffed, membership=people["first"], key="b")
        debrief = services.group_debrief_send(
            session=staffed,
            membership=people["second"],
            went_well="Lively",
            did_not_go_well="Ran over",
            to_pick_up="Room too small",
        )
        with pytest.raises(DomainError, match="already sent"):
            services.group_debrief_send(
                session=staffed,
                membership=people["first"],
                went_well="Again",
                did_not_go_well="",
                to_pick_up="",
            )
        services.group_debrief_reply(
            debrief=debrief, text="Thanks, I'll book the big room.", by=people["coordinator"].user
        )
        told = Notification.objects.filter(template="group_debrief_reply", channel="email")
        assert {n.recipient.email for n in told} == {"first@example.org", "second@example.org"}


def test_referral_to_one_to_one_is_recorded_once(group, people):
    member = join(group, people["participant"], None)
    first = services.member_refer_one_to_one(member=member, by=people["coordinator"].user)
    again = services.member_refer_one_to_one(member=member, by=None)
    assert again.referred_one_to_one_at == first.referred_one_to_one_at
    assert again.referred_one_to_one_by == people["coordinator"].user


def test_a_complaint_is_recorded_then_followed_up_once(group, people):
    complaint = services.complaint_record(
        group=group,
        received_on=date(2026, 11, 27),
        summary="G.O. found the room hard to find",
        by=None,
    )
    with pytest.raises(DomainError, match="Say how"):
        services.complaint_close(complaint=complaint, outcome=" ", by=None)
    closed = services.complaint_close(
        complaint=complaint, outcome="New sign agreed", by=people["coordinator"].user
    )
    assert closed.closed_at == NOW and closed.outcome == "New sign agreed"
    with pytest.raises(DomainError, match="already closed"):
        services.complaint_close(complaint=complaint, outcome="Again", by=None)
