"""The funder counts on a small, hand-made scheme whose every figure is worked out below."""

from datetime import UTC, date, datetime, timedelta

from django.test import TestCase

from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    ParticipantEnrolment,
    Referral,
    Role,
    TrainingCompletion,
    TrainingModule,
)
from evaluation.figures import funder_figures, median, percentile_90
from evaluation.report import report_sections
from evaluation.report_models import FunderReport
from groups.models import GroupSession, PeerGroup
from matching.models import Goal, Match
from meetings.models import Meeting
from tests.factories import MembershipFactory, SchemeFactory, venue

SINCE, UNTIL = date(2026, 1, 1), date(2026, 6, 30)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def participant(scheme, waiting_since: date):
    member = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    ParticipantEnrolment.objects.create(
        membership=member, eligible=True, waiting_since=waiting_since
    )
    return member


def buddy(scheme, joined: date, stage=BuddyStage.APPROVED, stage_changed: date | None = None):
    member = MembershipFactory(scheme=scheme, role=Role.BUDDY, joined_at=at(joined))
    BuddyVetting.objects.update_or_create(
        membership=member,
        defaults={"stage": stage, "stage_changed_at": at(stage_changed or joined)},
    )
    return member


def referral(scheme, member, received: date):
    return Referral.objects.create(
        scheme=scheme,
        membership=member,
        source="self",
        person_name="Someone Referred",
        consent_to_contact=True,
        received_at=at(received),
    )


class KnownScheme:
    """Five matches waiting 10, 20, 30, 40, 50 days to be offered a buddy and 15, 25, 35, 45,
    100 days to start; one earlier match still running into the period, one over before it."""

    @staticmethod
    def build(scheme):
        buddies = [buddy(scheme, date(2025, 6, 1)) for _ in range(3)]
        buddies.append(buddy(scheme, date(2025, 6, 1), BuddyStage.LEFT, date(2026, 3, 1)))
        buddies += [buddy(scheme, date(2026, 2, 1)) for _ in range(2)]  # recruited
        module = TrainingModule.objects.create(scheme=scheme, name="Induction")
        for trained in buddies[-2:]:
            TrainingCompletion.objects.create(
                membership=trained, module=module, completed_on=date(2026, 2, 15)
            )
        start = date(2026, 1, 1)
        matches = []
        for index, (offered, started) in enumerate(
            [(10, 15), (20, 25), (30, 35), (40, 45), (50, 100)]
        ):
            person = participant(scheme, start)
            referral(scheme, person, date(2025, 12, 20) if index == 0 else date(2026, 1, 1))
            matches.append(
                Match.objects.create(
                    scheme=scheme,
                    buddy=buddies[index % 3],
                    participant=person,
                    state="active",
                    proposed_at=at(start + timedelta(days=offered)),
                    activated_at=at(start + timedelta(days=started)),
                )
            )
        for match in matches[:2]:
            Match.objects.filter(pk=match.pk).update(
                state="ended", ended_at=at(date(2026, 6, 1)), ending_type="planned"
            )
        earlier = participant(scheme, date(2025, 1, 1))
        Match.objects.create(
            scheme=scheme,
            buddy=buddies[0],
            participant=earlier,
            state="ended",
            proposed_at=at(date(2025, 2, 1)),
            activated_at=at(date(2025, 3, 1)),
            ended_at=at(date(2026, 2, 10)),
            ending_type="breakdown",
        )
        # Offered a buddy in March, then back on the waiting list since May: that wait is not
        # known any more, so it counts in neither measure (but the person was supported).
        rejoined = participant(scheme, date(2026, 5, 1))
        broke_down = Match.objects.create(
            scheme=scheme,
            buddy=buddies[2],
            participant=rejoined,
            state="ended",
            proposed_at=at(date(2026, 3, 1)),
            activated_at=at(date(2026, 3, 10)),
            ended_at=at(date(2026, 4, 20)),
            ending_type="breakdown",
        )
        # Its goals: three set, one achieved (scored 10). Goals of a match that ended before
        # the period do not count.
        for text, achieved in (("Cook a meal", True), ("Go to the group", False), ("Walk", False)):
            Goal.objects.create(
                match=broke_down, text=text, achieved_at=at(date(2026, 4, 1)) if achieved else None
            )
        long_gone = participant(scheme, date(2025, 1, 1))
        gone_match = Match.objects.create(
            scheme=scheme,
            buddy=buddies[1],
            participant=long_gone,
            state="ended",
            activated_at=at(date(2025, 3, 1)),
            ended_at=at(date(2025, 12, 1)),
            ending_type="moved",
        )
        Goal.objects.create(match=gone_match, text="Long ago", achieved_at=at(date(2025, 11, 1)))
        place = venue(scheme)
        for day in range(6):  # six buddy meetings of 90 minutes in March
            begin = at(date(2026, 3, 2 + day), 10)
            Meeting.objects.create(
                scheme=scheme,
                match=matches[day % 5],
                buddy=matches[day % 5].buddy,
                venue=place,
                purpose="Coffee",
                planned_start=begin,
                planned_end=begin + timedelta(minutes=90),
                expected_end=begin + timedelta(minutes=90),
                state="checked_out",
                checked_in_at=begin,
                checked_out_at=begin + timedelta(minutes=90),
            )
        begin = at(date(2026, 4, 1), 10)
        for state, match in (("checked_out", None), ("cancelled", matches[0])):
            Meeting.objects.create(  # an hour with no match (buddy hours only); a cancelled one
                scheme=scheme,
                match=match,
                buddy=buddies[0],
                venue=place,
                purpose="Training",
                planned_start=begin,
                planned_end=begin + timedelta(hours=1),
                expected_end=begin + timedelta(hours=1),
                state=state,
                checked_in_at=begin if state == "checked_out" else None,
                checked_out_at=begin + timedelta(hours=1) if state == "checked_out" else None,
            )
        group = PeerGroup.objects.create(
            scheme=scheme, name="Group", neutral_name="Group", purpose="Peer support", venue=place
        )
        for day, state, new, returning in (
            (5, "finished", 3, 4),
            (12, "finished", 2, 4),
            (19, "cancelled", 9, 9),
        ):
            begin = at(date(2026, 5, day), 18)
            GroupSession.objects.create(
                group=group,
                planned_start=begin,
                planned_end=begin + timedelta(hours=2),
                state=state,
                new_count=new,
                returning_count=returning,
            )
        return matches


class FunderFiguresTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.scheme = SchemeFactory()
        KnownScheme.build(cls.scheme)
        KnownScheme.build(SchemeFactory())  # another scheme's data counts for nothing here

    def test_every_count_by_hand(self):
        with self.assertNumQueries(11):
            figures = funder_figures(self.scheme, SINCE, UNTIL)
        self.assertEqual(figures.referrals, 4)  # the first was received in December
        # Five new matches, the one running on and the one that broke down in April.
        self.assertEqual(figures.people_supported, 7)
        self.assertEqual(sorted(figures.waiting_days), [10, 20, 30, 40, 50])
        self.assertEqual((figures.waiting_median, figures.waiting_p90), (30.0, 50.0))
        self.assertEqual(sorted(figures.days_to_match), [15, 25, 35, 45, 100])
        self.assertEqual((figures.match_median, figures.match_p90), (35.0, 100.0))
        self.assertEqual((figures.meetings, figures.contact_hours), (6, 9.0))
        # The six meetings and the hour with no match.
        self.assertEqual((figures.buddy_hours, figures.buddy_time_items), (10.0, 7))
        self.assertEqual(
            (figures.group_sessions, figures.group_new, figures.group_returning), (2, 5, 8)
        )
        self.assertEqual(figures.buddies_recruited, 2)
        self.assertEqual(figures.buddies_trained, 2)
        self.assertEqual((figures.buddies_at_start, figures.buddies_retained), (4, 3))
        self.assertEqual(figures.endings["Planned completion"], 2)
        self.assertEqual(figures.endings["The match broke down"], 2)
        self.assertEqual(figures.endings["Moved away"], 0)  # ended before the period
        self.assertEqual((figures.goals_set, figures.goals_achieved), (3, 1))

    def test_the_report_suppresses_what_is_small(self):
        report = FunderReport.objects.create(scheme=self.scheme, starts_on=SINCE, ends_on=UNTIL)
        rows = {row[0]: row[1] for section in report_sections(report) for row in section.table.rows}
        self.assertEqual(rows["Referrals received"], "fewer than 5")
        self.assertEqual(rows["People supported by a buddy"], 7)
        self.assertEqual(rows["Waiting time, median (days)"], 30)
        self.assertEqual(rows["Time to match, 90th percentile (days)"], 100)
        self.assertEqual(rows["Buddy meetings held"], 6)
        self.assertEqual(rows["Contact hours"], 9)
        self.assertEqual(rows["Hours volunteered by buddies"], 10)
        self.assertEqual(rows["New attendances"], 5)
        self.assertEqual(rows["Returning attendances"], 8)
        self.assertEqual(rows["Group sessions held"], "fewer than 5")
        self.assertEqual(rows["Buddies recruited"], "fewer than 5")
        self.assertEqual(rows["Planned completion"], "fewer than 5")
        self.assertEqual(rows["Moved away"], 0)


class MeasuresTest(TestCase):
    def test_median_and_nearest_rank_percentile(self):
        self.assertIsNone(median([]))
        self.assertEqual(median([3, 1, 2, 10]), 2.5)
        self.assertEqual(percentile_90(list(range(1, 11))), 9.0)  # ceil(9.0) = 9th of 10
        self.assertEqual(percentile_90(list(range(1, 12))), 10.0)  # ceil(9.9) = 10th of 11
        self.assertEqual(percentile_90([7]), 7.0)
