"""The buddy app on a phone: the manifest and the service worker are served as a browser needs
them, and only a buddy's own Today is marked for the phone to keep (static/js/sw.js keeps
nothing else; tests/browser/test_offline.py shows it doing so)."""

import json

from django.contrib.staticfiles import finders

from ..base import PersonaTestCase


class ManifestAndServiceWorkerTest(PersonaTestCase):
    def test_the_manifest_names_the_app_plainly_and_starts_on_today(self):
        response = self.client.get("/manifest.webmanifest")
        self.assertEqual(response["Content-Type"], "application/manifest+json")
        manifest = json.loads(response.content)
        self.assertEqual(manifest["name"], "Buddy scheme")
        self.assertEqual(manifest["start_url"], "/today/")
        self.assertEqual(manifest["display"], "standalone")
        self.assertEqual(manifest["theme_color"], "#0d6efd")
        sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
        self.assertEqual(
            sizes,
            {
                ("192x192", "any"),
                ("512x512", "any"),
                ("192x192", "maskable"),
                ("512x512", "maskable"),
            },
        )
        for icon in manifest["icons"]:
            self.assertIsNotNone(finders.find(icon["src"].removeprefix("/static/")), icon["src"])

    def test_the_service_worker_is_served_from_the_root_and_always_checked_afresh(self):
        response = self.client.get("/sw.js")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response["Content-Type"].startswith("text/javascript"))
        self.assertEqual(response["Cache-Control"], "no-cache")
        self.assertEqual(response["Service-Worker-Allowed"], "/")
        self.assertIn(b'var TODAY = "/today/";', response.content)
        self.assertEqual(self.client.post("/sw.js").status_code, 405)

    def test_only_a_buddy_gets_the_manifest_and_the_worker(self):
        self.client.force_login(self.buddy)
        page = self.client.get("/today/")
        self.assertContains(page, '<link rel="manifest" href="/manifest.webmanifest">')
        self.assertContains(page, "js/pwa.js")
        self.client.force_login(self.coordinator)
        page = self.client.get("/today/")
        self.assertNotContains(page, 'rel="manifest"')
        self.assertNotContains(page, "js/pwa.js")

    def test_only_a_buddys_own_today_is_marked_to_keep(self):
        self.client.force_login(self.buddy)
        self.assertEqual(self.client.get("/today/")["Buddy-Offline"], "keep")
        self.assertNotIn("Buddy-Offline", self.client.get("/profile/"))
        self.client.force_login(self.coordinator)
        for url in ("/today/", "/coordinator/board/", "/coordinator/"):
            response = self.client.get(url, follow=True)
            self.assertNotIn("Buddy-Offline", response, url)
