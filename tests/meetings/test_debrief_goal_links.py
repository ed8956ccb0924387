"""A debrief's goals for next time can say which of the match's goals they work towards
(issue 18): a select on the phone form when the match has goals, saved on the item, and kept
when the draft is opened again."""

from datetime import timedelta

from matching import goals
from meetings.models import DebriefItem

from .test_debrief_views import MONDAY_10AM, DebriefCase


class DebriefGoalLinkTest(DebriefCase):
    def setUp(self):
        super().setUp()
        self.goal = goals.goal_add(match=self.match, by=self.coordinator, text="Cook a meal")
        self.meeting = self.met()
        self.at(MONDAY_10AM + timedelta(hours=1, minutes=5))
        self.url = f"/meetings/{self.meeting.pk}/debrief/"

    def test_the_goal_for_next_time_links_to_the_matchs_goal(self):
        page = self.client.get(self.url)
        self.assertContains(page, "works towards which of the match")
        self.assertContains(page, "Cook a meal")
        response = self.client.post(
            self.url + "send/",
            {
                "how_it_went": "4",
                "what_happened": "Coffee and a shopping list.",
                "action_rows": "1",
                "goal_rows": "1",
                "goal_0": "Buy the onions",
                "goal_0_link": str(self.goal.pk),
            },
        )
        self.assertEqual(response.status_code, 302)
        item = DebriefItem.objects.get(kind="goal")
        self.assertEqual((item.text, item.goal_id), ("Buy the onions", self.goal.pk))

    def test_a_draft_keeps_the_link_and_a_bogus_one_is_refused(self):
        data = {"how_it_went": "", "goal_rows": "1", "goal_0": "Buy the onions"}
        self.client.post(self.url + "draft/", {**data, "goal_0_link": str(self.goal.pk)})
        page = self.client.get(self.url).content.decode()
        self.assertIn(f'<option value="{self.goal.pk}" selected>Cook a meal</option>', page)
        response = self.client.post(self.url + "draft/", {**data, "goal_0_link": "999999"})
        self.assertEqual(response.status_code, 200)  # the form again, with the choice error
        self.assertEqual(DebriefItem.objects.get(kind="goal").goal_id, self.goal.pk)
