"""The scheme's public front door: published or 404, discreet title/address/meta, the link to
the referral form only when it exists, cacheable, and its settings page."""

import re

from buddyscheme.models import AuditEvent
from recruitment.models import FrontDoor

from ..base import PersonaTestCase
from .helpers import publish_front_door


def meta_and_title(html: str) -> str:
    head = html.split("</head>", 1)[0]
    return " ".join(
        re.findall(r"<title>(.*?)</title>", head, re.S) + re.findall(r'content="([^"]*)"', head)
    )


class FrontDoorPageTest(PersonaTestCase):
    def test_published_page_shows_each_part_without_login(self):
        publish_front_door(self.scheme)
        response = self.client.get(f"/s/{self.scheme.slug}/")
        self.assertEqual(response.status_code, 200)
        for text in (
            "North Buddies",
            "Weekly visits from a trained volunteer buddy.",
            "Adults in the north",
            "manager@example.org",
            f'href="/s/{self.scheme.slug}/volunteer/"',
        ):
            self.assertContains(response, text)

    def test_unpublished_or_unknown_page_is_not_found(self):
        publish_front_door(self.scheme, is_published=False)
        self.assertEqual(self.client.get(f"/s/{self.scheme.slug}/").status_code, 404)
        self.assertEqual(self.client.get("/s/no-such-scheme/").status_code, 404)
        self.assertEqual(self.client.get(f"/s/{self.scheme.slug}/volunteer/").status_code, 404)

    def test_page_is_read_in_a_fixed_number_of_queries_and_is_cacheable(self):
        publish_front_door(self.scheme)
        with self.assertNumQueries(2):  # last-modified, then the page with its scheme
            response = self.client.get(f"/s/{self.scheme.slug}/")
        self.assertIn("public", response["Cache-Control"])
        self.assertIn("max-age=300", response["Cache-Control"])
        again = self.client.get(
            f"/s/{self.scheme.slug}/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]
        )
        self.assertEqual(again.status_code, 304)

    def test_logged_in_visitor_gets_a_private_copy(self):
        publish_front_door(self.scheme)
        self.login_as("buddy")
        response = self.client.get(f"/s/{self.scheme.slug}/")
        self.assertIn("private", response["Cache-Control"])

    def test_the_page_links_to_the_schemes_referral_form(self):
        publish_front_door(self.scheme, how_to_be_referred="Ask your clinic.")
        response = self.client.get(f"/s/{self.scheme.slug}/")
        self.assertContains(response, "Ask your clinic.")
        self.assertContains(response, f'href="/s/{self.scheme.slug}/refer/"')
        self.assertEqual(self.client.get(f"/s/{self.scheme.slug}/refer/").status_code, 200)

    def test_discreet_page_never_shows_a_sensitive_word_in_title_or_meta(self):
        # Saved before the scheme added the word: checked again as the page is shown.
        self.scheme.sensitive_words = "HIV, positive"
        self.scheme.save()
        publish_front_door(
            self.scheme,
            public_title="North HIV Buddies",
            offer="Support for people living with HIV.",
        )
        response = self.client.get(f"/s/{self.scheme.slug}/")
        head = meta_and_title(response.content.decode())
        self.assertNotIn("HIV", head)
        self.assertIn("North … Buddies", head)
        self.assertNotIn("HIV", response.content.decode().split("<h1", 1)[1].split("</h1>")[0])
        # The body may say who the scheme is for: that is the point of the page.
        self.assertContains(response, "living with HIV")

    def test_page_that_is_not_discreet_may_name_it(self):
        self.scheme.sensitive_words = "HIV"
        self.scheme.save()
        publish_front_door(self.scheme, public_title="North HIV Buddies", is_discreet=False)
        response = self.client.get(f"/s/{self.scheme.slug}/")
        self.assertIn("North HIV Buddies", meta_and_title(response.content.decode()))


class FrontDoorSettingsTest(PersonaTestCase):
    def form_data(self, **overrides):
        return {
            "slug": "north-buddies",
            "public_title": "North Buddies",
            "offer": "Weekly visits.",
            "who_for": "Adults in the north.",
            "how_to_volunteer": "",
            "how_to_be_referred": "",
            "complaints_contact": "manager@example.org",
            "is_discreet": "on",
            "is_published": "on",
            **overrides,
        }

    def test_coordinator_writes_and_publishes_the_page(self):
        self.login_as("coordinator")
        self.assertEqual(self.client.get("/coordinator/settings/public-page/").status_code, 200)
        response = self.client.post("/coordinator/settings/public-page/", self.form_data())
        self.assertRedirects(response, "/coordinator/settings/", fetch_redirect_response=False)
        self.scheme.refresh_from_db()
        self.assertEqual(self.scheme.slug, "north-buddies")
        page = FrontDoor.objects.get(scheme=self.scheme)
        self.assertTrue(page.is_published)
        self.assertEqual(AuditEvent.objects.filter(verb="front_door_save").count(), 1)
        self.assertEqual(self.client.get("/s/north-buddies/").status_code, 200)
        self.assertContains(self.client.get("/coordinator/settings/"), "Public page")

    def test_discreet_page_refuses_a_sensitive_title_or_address_and_keeps_what_was_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/public-page/",
            self.form_data(slug="north-hiv-buddies", public_title="HIV buddies north"),
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(len(response.context["form"].errors["slug"]), 1)
        self.assertEqual(len(response.context["form"].errors["public_title"]), 1)
        self.assertContains(response, 'value="HIV buddies north"')
        self.assertFalse(FrontDoor.objects.exists())
        # Not discreet: the scheme chose to name it.
        response = self.client.post(
            "/coordinator/settings/public-page/",
            self.form_data(slug="north-hiv-buddies", is_discreet=""),
        )
        self.assertEqual(response.status_code, 302)

    def test_address_of_another_scheme_is_refused(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/public-page/", self.form_data(slug=self.other_scheme.slug)
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Another scheme already uses this address")

    def test_other_roles_cannot_edit_it(self):
        self.login_as("buddy")
        response = self.client.post("/coordinator/settings/public-page/", self.form_data())
        self.assertEqual(response.status_code, 403)
        self.assertFalse(FrontDoor.objects.exists())
