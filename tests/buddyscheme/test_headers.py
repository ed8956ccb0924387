"""Headers on every page: no caching of logged-in pages, a token in every form, the browser
features each page may use, and a content policy that runs only our own scripts.

The logged-in pages are the URL matrix's: each GET row, as the first logged-in persona that
row lets in.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

from django.test import TestCase

from buddyscheme.headers import GEOLOCATION_VIEWS

from ..base import PERSONAS
from ..test_url_matrix import MATRIX, MatrixCase

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]


class _Forms(HTMLParser):
    """Each POST form on a page, and whether it carries Django's CSRF token."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self._open = {"action": attributes.get("action"), "token": False}
            self.forms.append(self._open)
        elif (
            tag == "input"
            and self._open is not None
            and attributes.get("name") == "csrfmiddlewaretoken"
            and attributes.get("value")
        ):
            self._open["token"] = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def post_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def logged_in_pages():
    """(route, persona) for every GET row a logged-in persona is let into."""
    for route, (method, kwargs_name, expected) in MATRIX.items():
        if method != "get":
            continue
        allowed = [persona for persona in PERSONAS[1:] if expected[persona] == 200]
        if allowed:
            yield route, kwargs_name, allowed[0]


class LoggedInPagesTest(MatrixCase):
    def test_every_logged_in_page_is_no_store_and_every_form_carries_a_csrf_token(self):
        objects = self._objects()
        cached, tokenless, seen_forms, pages = [], [], 0, 0
        for route, kwargs_name, persona in logged_in_pages():
            url = self._url(route, kwargs_name, objects)
            self.login_as(persona)
            response = self.client.get(url)
            if response.status_code != 200:
                continue
            pages += 1
            cache_control = response.get("Cache-Control", "")
            if "no-store" not in cache_control:
                cached.append(f"{url} as {persona}: {cache_control!r}")
            if response.get("Content-Type", "").startswith("text/html"):
                for form in post_forms(response.content.decode()):
                    seen_forms += 1
                    if not form["token"]:
                        tokenless.append(f"{url} as {persona}: form to {form['action']}")
        self.assertGreater(pages, 150)
        self.assertGreater(seen_forms, 100)
        self.assertEqual(cached, [], "\n" + "\n".join(cached))
        self.assertEqual(tokenless, [], "\n" + "\n".join(tokenless))

    def test_a_form_without_a_token_is_noticed(self):
        self.assertEqual(
            post_forms('<form method="post" action="/x/"><input name="a"></form>'),
            [{"action": "/x/", "token": False}],
        )
        self.assertEqual(
            post_forms('<form method="get"><input name="q"></form>'), [], "GET forms need none"
        )

    def test_the_csrf_check_is_on(self):
        self.login_as("buddy")
        client = self.client_class(enforce_csrf_checks=True)
        client.force_login(self.buddy)
        self.assertEqual(client.post("/profile/", {"preferred_name": "Zebedee"}).status_code, 403)


class TemplatesTest(TestCase):
    def test_every_post_form_in_the_templates_has_the_csrf_tag(self):
        missing = []
        for folder in TEMPLATE_DIRS:
            for template in folder.rglob("*.html"):
                text = template.read_text()
                for form in re.finditer(
                    r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", text, re.S | re.I
                ):
                    body = form.group(1)
                    # A form whose fields come from an include (or crispy's {% crispy %}, which
                    # adds the token itself) is checked on the rendered page instead.
                    if "csrf_token" not in body and "{% crispy" not in body:
                        missing.append(f"{template.relative_to(ROOT)}: {body[:60]!r}")
        self.assertEqual(missing, [], "\n" + "\n".join(missing))

    def test_no_inline_script_or_event_handler(self):
        inline = []
        for folder in TEMPLATE_DIRS:
            for template in folder.rglob("*.html"):
                text = template.read_text()
                for script in re.finditer(r"<script\b[^>]*>", text, re.I):
                    if "src=" not in script.group(0):
                        inline.append(f"{template.relative_to(ROOT)}: {script.group(0)}")
                if re.search(r"\son[a-z]+=\"", text):
                    inline.append(f"{template.relative_to(ROOT)}: an on…= handler")
        self.assertEqual(inline, [])


class PolicyHeadersTest(MatrixCase):
    def test_content_security_policy(self):
        policy = self.client.get("/accounts/login/")["Content-Security-Policy"]
        directives = dict(
            (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
        )
        self.assertNotIn("unsafe-inline", directives["script-src"])
        self.assertNotIn("unsafe-eval", directives["script-src"])
        self.assertEqual(directives["object-src"], "'none'")
        self.assertEqual(directives["base-uri"], "'none'")
        self.assertEqual(directives["frame-ancestors"], "'none'")

    def test_the_csrf_cookie_is_out_of_scripts_reach(self):
        from django.conf import settings

        self.assertTrue(settings.CSRF_COOKIE_HTTPONLY)
        response = self.client.get("/accounts/login/")
        self.assertTrue(response.cookies["csrftoken"]["httponly"])

    def test_transport_and_sniffing_headers(self):
        response = self.client.get("/accounts/login/", secure=True)
        max_age = int(re.search(r"max-age=(\d+)", response["Strict-Transport-Security"])[1])
        self.assertGreaterEqual(max_age, 365 * 24 * 60 * 60)
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_location_only_on_the_buddy_pages_that_share_it(self):
        """Both ways: only the pages that load location.js may ask for it, and each of them
        may (or its location button would be silently refused by the browser)."""
        objects = self._objects()
        allowed, unlisted = set(), []
        for route, kwargs_name, persona in logged_in_pages():
            url = self._url(route, kwargs_name, objects)
            self.login_as(persona)
            response = self.client.get(url)
            policy = response["Permissions-Policy"]
            self.assertIn("camera=()", policy, url)
            self.assertIn("microphone=()", policy, url)
            content = b"" if response.streaming else response.content
            if "geolocation=(self)" in policy:
                allowed.add(response.resolver_match.view_name)
            else:
                self.assertIn("geolocation=()", policy, url)
                if b"js/location" in content:
                    unlisted.append(response.resolver_match.view_name)
        self.assertEqual(unlisted, [])
        self.assertEqual(
            allowed, {"meetings:today", "meetings:help", "meetings:safety", "groups:run"}
        )
        self.assertLessEqual(allowed, GEOLOCATION_VIEWS)
        self.assertIn("geolocation=()", self.client.get("/accounts/login/")["Permissions-Policy"])
