"""Issue 22: buddy and participant pages load no script they do not use.

Every page of the URL matrix a buddy or participant opens (and the signed-out pages) is
rendered, and each `<script src>` on it must be one of the scripts below, on a page with what
that script acts on; htmx and Bootstrap also the other way round: a page that needs them has
them. A new script needs a rule here.
"""

import re

from .base import PERSONAS
from .test_url_matrix import MATRIX, MatrixCase

A, _, B, P, _ = PERSONAS

# script (under static/) -> what on the page it acts on
SCRIPT_NEEDS = {
    # htmx: an element with an hx- request or trigger attribute.
    "vendor/htmx.min.js": r"\shx-(get|post|put|patch|delete|trigger|boost)=",
    # Bootstrap's bundle: a collapse (the menu button), a dropdown, a modal or a dismissable alert.
    "vendor/bootstrap.bundle.min.js": r"\sdata-bs-(toggle|dismiss)=",
    "js/nav.js": r'data-bs-toggle="dropdown"',
    "js/leave-quickly.js": r"\sdata-leave-quickly",
    "js/location.js": r"\sdata-(share-location|location-check)",
    "js/press-again.js": r"\sdata-retry=",
    # The buddy app's service worker (registered from any buddy page: the app is installable
    # from every one of them) goes with the web app manifest.
    "js/pwa.js": r'<link rel="manifest"',
    # The offline queue: the safety buttons (check-in, extend, check-out, help) on Today, and
    # Today's offline banners (it sends presses kept on the phone even when no button is left).
    "js/offline-queue.js": r"\sdata-(safety-press|help-url|offline-now|offline-kept)",
}
# Needed wherever what they act on is present (the others are optional enhancements).
REQUIRED_WHEN_USED = ("vendor/htmx.min.js", "vendor/bootstrap.bundle.min.js")
SCRIPT_SRC = re.compile(r'<script[^>]*\ssrc="/static/([^"?]+?)(?:\.[0-9a-f]{12})?(\.js)[^"]*"')


def script_problems(html):
    loaded = {name + extension for name, extension in SCRIPT_SRC.findall(html)}
    problems = []
    for script in sorted(loaded):
        if script not in SCRIPT_NEEDS:
            problems.append(f"{script} has no rule in tests/test_scripts.py")
        elif not re.search(SCRIPT_NEEDS[script], html):
            problems.append(f"{script} is loaded but nothing on the page uses it")
    for script in REQUIRED_WHEN_USED:
        if script not in loaded and re.search(SCRIPT_NEEDS[script], html):
            problems.append(f"{script} is used on the page but not loaded")
    return problems


class ScriptAuditTest(MatrixCase):
    def test_each_page_loads_only_the_scripts_it_uses(self):
        objects = self._objects()
        problems = []
        pages = 0
        for persona in (A, B, P):
            self.login_as(persona)
            for route, (method, kwargs_name, expected) in MATRIX.items():
                if method != "get" or expected[persona] != 200:
                    continue
                url = self._url(route, kwargs_name, objects)
                response = self.client.get(url)
                if not response["Content-Type"].startswith("text/html"):
                    continue
                html = response.content.decode()
                if "<html" not in html:
                    continue  # a fragment htmx swaps into a page
                pages += 1
                problems += [f"{url} as {persona}: {p}" for p in script_problems(html)]
        self.assertGreater(pages, 100)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_htmx_comes_with_an_open_help_request_and_bootstrap_with_the_menu(self):
        self.login_as(B)
        html = self.client.get("/today/").content.decode()
        self.assertNotIn("htmx.min.js", html)
        self.assertIn("bootstrap.bundle", html)
        self.client.logout()
        html = self.client.get("/accounts/login/").content.decode()
        self.assertNotIn("bootstrap.bundle", html)
        self.assertNotIn("htmx.min.js", html)

    def test_the_rules_catch_an_unused_or_missing_script(self):
        unused = '<script src="/static/vendor/htmx.min.js"></script><p>Hello</p>'
        missing = '<div hx-get="/x/" hx-trigger="every 5s"></div>'
        self.assertEqual(
            script_problems(unused),
            ["vendor/htmx.min.js is loaded but nothing on the page uses it"],
        )
        self.assertEqual(
            script_problems(missing), ["vendor/htmx.min.js is used on the page but not loaded"]
        )
        self.assertEqual(
            script_problems('<script src="/static/js/new.js"></script>'),
            ["js/new.js has no rule in tests/test_scripts.py"],
        )
