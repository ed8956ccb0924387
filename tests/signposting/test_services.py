"""The directory and next-steps plans through their services, with real data and moved time."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification, Role
from signposting import selectors, services
from signposting.models import ActionBy, DirectoryEntry, NextStepsPlan, PlanAction, PlanState

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory
from .helpers import add_entry, end_match, entry_values

ENDED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class DirectoryTest(PersonaTestCase):
    def test_add_change_check_and_retire(self):
        with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False):
            entry = add_entry(self.scheme, self.coordinator)
        self.assertEqual(entry.last_checked_on, date(2026, 1, 5))
        assert_audited(
            verb="directory_entry_add", obj=entry, actor=self.coordinator, scheme=self.scheme
        )
        with time_machine.travel(datetime(2026, 2, 1, 9, 0, tzinfo=UTC), tick=False):
            entry = services.directory_entry_change(
                entry=entry,
                by=self.coordinator,
                values=entry_values(area="Lambeth and Southwark"),
            )
        self.assertEqual(
            (entry.area, entry.last_checked_on), ("Lambeth and Southwark", date(2026, 2, 1))
        )
        services.directory_entry_retire(entry=entry, by=self.coordinator)
        services.directory_entry_retire(entry=entry, by=self.coordinator)
        assert_audited(
            verb="directory_entry_retire", obj=entry, actor=self.coordinator, scheme=self.scheme
        )
        self.assertEqual(list(selectors.directory_entries(self.scheme)), [])
        with self.assertRaisesMessage(DomainError, "retired"):
            services.directory_entry_checked(entry=entry, by=self.coordinator)
        # Retired, its name is free again.
        add_entry(self.scheme, self.coordinator)

    def test_a_second_entry_of_the_same_name_is_refused(self):
        add_entry(self.scheme, self.coordinator)
        with self.assertRaisesMessage(DomainError, "already has"):
            add_entry(self.scheme, self.coordinator, name="citizens advice lambeth")
        self.assertEqual(DirectoryEntry.objects.count(), 1)
        # Another scheme may have its own.
        add_entry(self.other_scheme, self.other_coordinator)

    def test_required_details(self):
        with self.assertRaisesMessage(DomainError, "how to contact it"):
            add_entry(self.scheme, self.coordinator, contact="  ")

    def test_not_checked_for_a_year_with_moved_time(self):
        with time_machine.travel(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), tick=False):
            old = add_entry(self.scheme, self.coordinator, name="Old helpline")
            add_entry(self.scheme, self.coordinator, name="Checked later")
        with time_machine.travel(datetime(2025, 6, 1, 9, 0, tzinfo=UTC), tick=False):
            services.directory_entry_checked(
                entry=DirectoryEntry.objects.get(name="Checked later"), by=self.coordinator
            )
        # 364 days on: nothing is stale yet.
        self.assertEqual(list(selectors.stale_entries(self.scheme, date(2026, 2, 28))), [])
        # A year and a day on: the first one is.
        self.assertEqual(list(selectors.stale_entries(self.scheme, date(2026, 3, 2))), [old])
        with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
            services.directory_entry_checked(entry=old, by=self.coordinator)
        self.assertEqual(list(selectors.stale_entries(self.scheme, date(2026, 3, 2))), [])

    def test_search_by_area_kind_and_words(self):
        add_entry(self.scheme, self.coordinator)
        add_entry(
            self.scheme,
            self.coordinator,
            name="Samaritans",
            kind="crisis",
            offers="Someone to talk to, day or night.",
            area="UK-wide",
            contact="116 123",
        )

        def names(**filters):
            return [entry.name for entry in selectors.directory_entries(self.scheme, **filters)]

        self.assertEqual(names(area="uk"), ["Samaritans"])
        self.assertEqual(names(kind="money"), ["Citizens Advice Lambeth"])
        self.assertEqual(names(text="night"), ["Samaritans"])
        self.assertEqual(names(), ["Citizens Advice Lambeth", "Samaritans"])


class PlanTest(PersonaTestCase):
    def ended(self, now=ENDED, **kwargs):
        return end_match(
            self.scheme,
            self.buddy_membership,
            self.participant_membership,
            self.coordinator,
            now=now,
            **kwargs,
        )

    def test_an_ending_makes_one_draft_plan(self):
        match = self.ended()
        plan = NextStepsPlan.objects.get(match=match)
        self.assertEqual(
            (plan.state, plan.participant_id, plan.starts_on),
            (PlanState.DRAFT, self.participant_membership.pk, date(2026, 3, 2)),
        )
        # The signal again, or the coordinator's "start the plan", finds the same plan.
        self.assertEqual(services.plan_for_match_ensure(match=match, by=self.coordinator), plan)
        from matching.signals import match_ended

        match_ended.send(sender=type(match), match=match, by=self.coordinator, now=ENDED)
        self.assertEqual(NextStepsPlan.objects.filter(match=match).count(), 1)

    def test_a_plan_waits_for_the_ending(self):
        from matching.models import Match

        match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state="active",
        )
        with self.assertRaisesMessage(DomainError, "once the match has ended"):
            services.plan_for_match_ensure(match=match, by=self.coordinator)

    def test_step_dates_fall_within_six_months_of_the_ending(self):
        plan = self.ended().next_steps_plan
        with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False):
            with self.assertRaisesMessage(DomainError, "has passed"):
                services.plan_action_add(
                    plan=plan, by=self.coordinator, due_on=date(2026, 3, 2), what="Ring"
                )
            with self.assertRaisesMessage(DomainError, "by 9 September 2026"):
                services.plan_action_add(
                    plan=plan, by=self.coordinator, due_on=date(2026, 9, 10), what="Ring"
                )
            with self.assertRaisesMessage(DomainError, "plain words"):
                services.plan_action_add(
                    plan=plan, by=self.coordinator, due_on=date(2026, 4, 1), what="  "
                )
            services.plan_action_add(
                plan=plan, by=self.coordinator, due_on=date(2026, 9, 9), what="Review how it went"
            )
            services.plan_action_add(
                plan=plan, by=self.coordinator, due_on=date(2026, 3, 3), what="Ring the group"
            )
        self.assertEqual(
            [action.due_on for action in plan.actions.all()], [date(2026, 3, 3), date(2026, 9, 9)]
        )

    def test_a_service_must_be_a_live_entry_of_the_scheme(self):
        plan = self.ended().next_steps_plan
        theirs = add_entry(self.other_scheme, self.other_coordinator)
        with (
            time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False),
            self.assertRaisesMessage(DomainError, "directory"),
        ):
            services.plan_action_add(
                plan=plan, by=self.coordinator, due_on=date(2026, 4, 1), what="Go", entry=theirs
            )

    def test_finishing_needs_a_step_and_tells_the_participant_once(self):
        plan = self.ended().next_steps_plan
        with self.assertRaisesMessage(DomainError, "at least one step"):
            services.plan_finish(plan=plan, by=self.coordinator)
        entry = add_entry(self.scheme, self.coordinator)
        with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False):
            services.plan_action_add(
                plan=plan,
                by=self.coordinator,
                due_on=date(2026, 4, 1),
                what="Ask about the benefits check",
                who=ActionBy.TOGETHER,
                entry=entry,
            )
            plan = services.plan_finish(plan=plan, by=self.coordinator)
            services.plan_finish(plan=plan, by=self.coordinator)
        self.assertEqual(plan.state, PlanState.FINISHED)
        assert_audited(
            verb="next_steps_plan_finish", obj=plan, actor=self.coordinator, scheme=self.scheme
        )
        sent = Notification.objects.filter(template="next_steps_ready")
        self.assertEqual({row.recipient_id for row in sent}, {self.participant.pk})
        self.assertEqual(len({row.channel for row in sent}), len(sent))
        # Discreet: ids only, nothing of the plan's content.
        self.assertEqual([row.context for row in sent][0], {"plan_id": plan.pk})

    def test_the_last_step_of_a_finished_plan_stays(self):
        plan = self.ended().next_steps_plan
        with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False):
            action = services.plan_action_add(
                plan=plan, by=self.coordinator, due_on=date(2026, 4, 1), what="Ring"
            )
            services.plan_finish(plan=plan, by=self.coordinator)
        with self.assertRaisesMessage(DomainError, "at least one step"):
            services.plan_action_remove(action=action, by=self.coordinator)


class RemindersTest(PersonaTestCase):
    def setUp(self):
        super().setUp()
        match = end_match(
            self.scheme,
            self.buddy_membership,
            self.participant_membership,
            self.coordinator,
            now=ENDED,
        )
        self.plan = match.next_steps_plan
        with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=UTC), tick=False):
            for day, what in (
                (date(2026, 4, 1), "Go to the group"),
                (date(2026, 5, 6), "Ring CAB"),
            ):
                services.plan_action_add(plan=self.plan, by=self.coordinator, due_on=day, what=what)
            services.plan_finish(plan=self.plan, by=self.coordinator)

    def reminders(self):
        return list(Notification.objects.filter(template="next_steps_reminder"))

    def run_at(self, moment):
        with time_machine.travel(moment, tick=False):
            return services.plan_reminders_send()

    def test_none_without_the_participants_agreement(self):
        self.assertEqual(self.run_at(datetime(2026, 4, 1, 9, 5, tzinfo=UTC)), 0)
        self.assertEqual(self.reminders(), [])

    def test_sent_once_on_each_date(self):
        services.plan_reminders_set(plan=self.plan, remind_me=True, by=self.participant)
        # The day before: nothing.
        self.assertEqual(self.run_at(datetime(2026, 3, 31, 16, 5, tzinfo=UTC)), 0)
        # 1 April, in London (BST from 29 March): 00:30 local is still 31 March in UTC.
        self.assertEqual(self.run_at(datetime(2026, 3, 31, 23, 30, tzinfo=UTC)), 1)
        first = self.reminders()
        self.assertTrue(first)
        self.assertEqual({row.context["plan_id"] for row in first}, {self.plan.pk})
        # Every later beat of the day, and the next day: nothing more.
        self.assertEqual(self.run_at(datetime(2026, 4, 1, 10, 5, tzinfo=UTC)), 0)
        self.assertEqual(self.run_at(datetime(2026, 4, 2, 10, 5, tzinfo=UTC)), 0)
        self.assertEqual(len(self.reminders()), len(first))
        # The second step on its own day.
        self.assertEqual(self.run_at(datetime(2026, 5, 6, 9, 5, tzinfo=UTC)), 1)
        self.assertEqual(
            PlanAction.objects.filter(plan=self.plan, reminded_at__isnull=False).count(), 2
        )

    def test_a_beat_missed_for_two_days_still_reminds_but_not_weeks_later(self):
        services.plan_reminders_set(plan=self.plan, remind_me=True, by=self.participant)
        self.assertEqual(self.run_at(datetime(2026, 4, 3, 9, 5, tzinfo=UTC)), 1)
        # Reminders switched on after the second step passed long ago send nothing for it.
        self.assertEqual(self.run_at(datetime(2026, 6, 1, 9, 5, tzinfo=UTC)), 0)

    def test_the_reminder_wording_is_discreet(self):
        from buddyscheme.emails import email_build, sms_build

        message = email_build(
            template="next_steps_reminder",
            context={"plan_id": self.plan.pk},
            scheme=self.scheme,
            to="p@example.org",
        )
        text = sms_build(
            template="next_steps_reminder", context={"plan_id": self.plan.pk}, scheme=self.scheme
        )
        for words in (message.subject, message.body, text):
            for secret in ("Go to the group", "Ring CAB", "HIV", self.participant.first_name):
                self.assertNotIn(secret, words)
        self.assertIn(f"/me/next-steps/{self.plan.pk}/", message.body)

    def test_beat_runs_the_task_that_sends_them(self):
        from buddyscheme.celery import app
        from signposting.tasks import remind_plan_steps

        entry = app.conf.beat_schedule["remind-plan-steps"]
        self.assertEqual(entry["task"], "signposting.tasks.remind_plan_steps")
        self.assertIn(entry["task"], app.tasks)
        services.plan_reminders_set(plan=self.plan, remind_me=True, by=self.participant)
        with time_machine.travel(datetime(2026, 4, 1, 9, 5, tzinfo=UTC), tick=False):
            remind_plan_steps.delay()  # no arguments: nothing personal in the task
            remind_plan_steps.delay()
        self.assertEqual(
            PlanAction.objects.filter(plan=self.plan, reminded_at__isnull=False).count(), 1
        )
        self.assertEqual(len({row.dedupe_key for row in self.reminders()}), len(self.reminders()))


class PlanSelectorsTest(PersonaTestCase):
    def test_the_dashboard_lists_endings_without_a_finished_plan(self):
        now = ENDED + timedelta(days=1)
        match = end_match(
            self.scheme,
            self.buddy_membership,
            self.participant_membership,
            self.coordinator,
            now=ENDED,
        )
        self.assertEqual(list(selectors.ended_matches_needing_plan(self.scheme, now)), [match])
        self.assertEqual(list(selectors.ended_matches_needing_plan(self.other_scheme, now)), [])
        plan = match.next_steps_plan
        with time_machine.travel(now, tick=False):
            services.plan_action_add(
                plan=plan, by=self.coordinator, due_on=date(2026, 4, 1), what="Go"
            )
            services.plan_finish(plan=plan, by=self.coordinator)
        self.assertEqual(list(selectors.ended_matches_needing_plan(self.scheme, now)), [])

    def test_participant_sees_only_their_own_finished_plans(self):
        other = MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT)
        mine = end_match(
            self.scheme,
            self.buddy_membership,
            self.participant_membership,
            self.coordinator,
            now=ENDED,
        ).next_steps_plan
        theirs = end_match(
            self.scheme, self.buddy_membership, other, self.coordinator, now=ENDED
        ).next_steps_plan
        with time_machine.travel(ENDED + timedelta(days=1), tick=False):
            for plan in (mine, theirs):
                services.plan_action_add(
                    plan=plan, by=self.coordinator, due_on=date(2026, 4, 1), what="Go"
                )
            services.plan_finish(plan=theirs, by=self.coordinator)
        self.assertEqual(selectors.plans_for_participant(self.participant_membership), [])
        with time_machine.travel(ENDED + timedelta(days=1), tick=False):
            services.plan_finish(plan=mine, by=self.coordinator)
        self.assertEqual(selectors.plans_for_participant(self.participant_membership), [mine])


@pytest.mark.django_db(transaction=True)
def test_the_plan_is_made_in_the_ending_transaction():
    """An ending rolled back leaves no plan behind (the receiver runs inside it)."""
    from ..factories import MembershipFactory as Member
    from ..factories import SchemeFactory

    scheme = SchemeFactory()
    coordinator = Member(scheme=scheme, role=Role.COORDINATOR)
    buddy, participant = Member(scheme=scheme), Member(scheme=scheme, role=Role.PARTICIPANT)
    with pytest.raises(RuntimeError), transaction.atomic():
        end_match(scheme, buddy, participant, coordinator.user, now=ENDED)
        raise RuntimeError
    assert not NextStepsPlan.objects.exists()
