"""Issue 14 point 11: every page names its icon, so browsers stop asking for /favicon.ico."""

import re

from django.contrib.staticfiles import finders

from ..base import PersonaTestCase


class FaviconTest(PersonaTestCase):
    def test_every_page_links_an_icon_that_exists(self):
        for persona, url in (("anonymous", "/"), ("coordinator", "/coordinator/")):
            self.login_as(persona)
            page = self.client.get(url).content.decode()
            icons = re.findall(r'<link rel="icon" href="/static/([^"]+)"', page)
            self.assertEqual(len(icons), 2, url)
            for icon in icons:
                self.assertTrue(finders.find(re.sub(r"\.[0-9a-f]{12}\.", ".", icon)), icon)
