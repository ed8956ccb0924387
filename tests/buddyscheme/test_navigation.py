"""Issue 14 point 12: the coordinator's navigation in six groups (one line on a laptop; the
browser test measures it), each group's own link going somewhere useful without JavaScript."""

import re

from ..base import PersonaTestCase

GROUPS = {
    "People": "/coordinator/people/",
    "Matching": "/coordinator/matching/",
    "Meetings": "/coordinator/meetings/",
    "Agreements": "/contracts/",
    "Reports": "/coordinator/reports/funder/",
    "Settings": "/coordinator/settings/",
}


def top_level_links(page: str) -> dict[str, str]:
    """{text: href} of the main navigation's top-level links."""
    nav = page[page.index('aria-label="Main"') : page.index("</nav>")]
    links = re.findall(r'<a class="nav-link[^"]*"\s+href="([^"]+)"[^>]*>([^<]+)</a>', nav)
    return {text.strip(): href for href, text in links}


class CoordinatorNavigationTest(PersonaTestCase):
    def test_six_groups_each_leading_to_its_main_page(self):
        self.login_as("coordinator")
        links = top_level_links(self.client.get("/coordinator/").content.decode())
        self.assertEqual({name: links.get(name) for name in GROUPS}, GROUPS)
        # The rest is the coordinator's own account, in one menu.
        self.assertEqual(set(links) - set(GROUPS), {"Account"})

    def test_the_groups_open_menus_with_every_page(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/").content.decode()
        for href in (
            "/coordinator/invitations/",
            "/coordinator/messages/",
            "/coordinator/matching/matches/",
            "/coordinator/matching/rounds/new/",
            "/coordinator/board/",
            "/meetings/new/",
            "/coordinator/contract-templates/",
            "/profile/",
            "/accounts/2fa/",
        ):
            self.assertIn(f'class="dropdown-item" href="{href}"', page)
        self.assertEqual(page.count('data-bs-toggle="dropdown"'), 5)
        self.assertIn("js/nav", page)  # Space opens a menu, as on a button

    def test_buddies_and_participants_keep_their_short_navigation(self):
        self.login_as("participant")
        links = top_level_links(self.client.get("/me/").content.decode())
        self.assertEqual(list(links)[:3], ["Home", "My buddy", "Agreements"])
        self.assertNotIn("Settings", links)
