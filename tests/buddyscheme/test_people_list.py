"""The people list: search, filters validated by a form, natural order, stage and status
(issue 14, points 2 and 11)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from buddyscheme.models import BuddyStage, BuddyVetting, ParticipantEnrolment, Role
from buddyscheme.selectors import natural_key

from ..base import PersonaTestCase
from ..factories import MembershipFactory, cleared_buddy, waiting_participant


def names(response) -> list[str]:
    return [row.member.user.display_name for row in response.context["page"]]


class PeopleListTest(PersonaTestCase):
    def setUp(self):
        self.login_as("coordinator")

    def person(self, role, first_name, last_name="", **kwargs):
        member = MembershipFactory(
            scheme=self.scheme,
            role=role,
            user__first_name=first_name,
            user__last_name=last_name,
            **kwargs,
        )
        return member

    def test_natural_order_puts_participant2_before_participant10(self):
        for number in (10, 2, 1, 11):
            self.person(Role.PARTICIPANT, f"Member{number}")
        page = self.client.get("/coordinator/people/?q=member")
        self.assertEqual(names(page), ["Member1", "Member2", "Member10", "Member11"])
        self.assertLess(natural_key("Room 9b"), natural_key("room 10a"))

    def test_search_by_any_part_of_the_name(self):
        self.person(Role.BUDDY, "Amara", "Okafor")
        preferred = self.person(Role.PARTICIPANT, "Robert", "Smith")
        preferred.user.profile.preferred_name = "Bobby"
        preferred.user.profile.save()
        self.person(Role.PARTICIPANT, "Grace", "Okoro")
        self.assertEqual(names(self.client.get("/coordinator/people/?q=oka")), ["Amara"])
        self.assertEqual(names(self.client.get("/coordinator/people/?q=bob")), ["Bobby"])
        self.assertEqual(names(self.client.get("/coordinator/people/?q=grace+oko")), ["Grace"])
        stranger = MembershipFactory(scheme=self.other_scheme, user__first_name="Amara")
        self.assertNotContains(self.client.get("/coordinator/people/?q=amara"), stranger.user.email)

    def test_stage_and_status_columns_and_filters(self):
        from matching import services as matching

        free = cleared_buddy(self.scheme, email="free@a.example")
        busy = cleared_buddy(self.scheme, email="busy@a.example")
        waiting = waiting_participant(self.scheme, email="waiting@a.example")
        arranging = waiting_participant(self.scheme, email="arranging@a.example")
        matching.match_create(participant=arranging, buddy=busy, by=self.coordinator)
        BuddyVetting.objects.create(membership=self.buddy_membership, stage=BuddyStage.TRAINING)
        ParticipantEnrolment.objects.filter(membership=waiting).update(
            waiting_since=timezone.localdate() - timedelta(days=40)
        )

        rows = {
            row.member.pk: (row.stage, row.status_label)
            for row in self.client.get("/coordinator/people/").context["page"]
        }
        self.assertEqual(rows[free.pk], ("Approved", "Free to match"))
        self.assertEqual(rows[busy.pk], ("Approved", "Match being arranged"))
        self.assertEqual(rows[waiting.pk], ("Enrolled, eligible", "Waiting 40 days"))
        self.assertEqual(
            rows[self.buddy_membership.pk], ("Induction and training", "Not cleared yet")
        )
        self.assertEqual(
            rows[self.participant_membership.pk], ("Not enrolled", "Not ready to match")
        )
        self.assertEqual(rows[self.coordinator_membership.pk], ("", ""))

        def pks(query):
            return {
                row.member.pk
                for row in self.client.get(f"/coordinator/people/?{query}").context["page"]
            }

        self.assertEqual(pks("stage=training"), {self.buddy_membership.pk})
        self.assertEqual(pks("stage=not_enrolled"), {self.participant_membership.pk})
        self.assertEqual(pks("status=arranging"), {busy.pk, arranging.pk})
        self.assertEqual(
            pks("status=waiting&role=participant"), {waiting.pk, arranging.pk} - {arranging.pk}
        )
        self.assertEqual(pks("min_days=30"), {waiting.pk})
        self.assertEqual(pks("min_days=41"), set())

    def test_the_page_says_buddies_not_buddys(self):
        page = self.client.get("/coordinator/people/?role=buddy").content.decode()
        self.assertNotIn("Buddys", page)
        self.assertIn("Buddy", page)


class PeopleListBadInputTest(PersonaTestCase):
    """Point 11: every query parameter is validated by the form; nothing gives a 500."""

    def test_each_bad_parameter_gets_a_message_and_the_list(self):
        self.login_as("coordinator")
        for query, message in [
            ("min_days=99999999999999999999", "Give a number of days from 0 to 3650."),
            ("min_days=-1", "Give a number of days from 0 to 3650."),
            ("min_days=soon", "Give a number of days from 0 to 3650."),
            ("role=admin", "Choose one of the roles in the list."),
            ("stage=%01", "Choose one of the stages in the list."),  # NUL: a 400 (test_free_text)
            ("status=happy", "Choose one of the statuses in the list."),
            ("q=" + "x" * 101, "at most 100 characters"),
        ]:
            response = self.client.get(f"/coordinator/people/?{query}")
            self.assertEqual(response.status_code, 200, query)
            self.assertContains(response, message, msg_prefix=query)
            self.assertContains(response, "Some filters could not be used", msg_prefix=query)
            self.assertIn(self.buddy_membership.user.display_name, names(response), query)
        for query in ("page=abc", "page=99999999999999999999", "page=0", "page=7"):
            response = self.client.get(f"/coordinator/people/?{query}")
            self.assertEqual(response.status_code, 200, query)


class PeopleListQueriesTest(PersonaTestCase):
    def _count(self):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get("/coordinator/people/").status_code, 200)
        return len(queries)

    def test_the_query_count_stays_flat(self):
        from matching import services as matching

        self.login_as("coordinator")
        small = self._count()
        for _ in range(8):
            buddy = cleared_buddy(self.scheme)
            participant = waiting_participant(self.scheme)
            matching.match_create(participant=participant, buddy=buddy, by=self.coordinator)
            waiting_participant(self.scheme)
            BuddyVetting.objects.create(
                membership=MembershipFactory(scheme=self.scheme, role=Role.BUDDY),
                stage=BuddyStage.REFERENCES,
            )
        large = self._count()
        self.assertEqual(small, large)
