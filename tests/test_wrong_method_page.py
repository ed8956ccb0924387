"""Issue 14 point 11: a GET on a POST-only action (a bookmark, the browser's history, a
reload after the session ran out) shows a friendly page, still a 405, on every such URL."""

from .test_url_matrix import MATRIX, OUR_APPS, PERSONAS, MatrixCase, all_views, declared_methods

FRIENDLY = "This address is for a button"


class WrongMethodPageTest(MatrixCase):
    def test_every_post_only_url_explains_itself(self):
        objects = self._objects()
        views = all_views()
        checked, bare = [], []
        for route, (_method, kwargs_name, expected) in MATRIX.items():
            view = views[route]
            allowed_methods = declared_methods(view) or []
            if (
                not view.__module__.startswith(OUR_APPS)
                or route.startswith("admin/")
                or "GET" in allowed_methods
            ):
                continue
            url = self._url(route, kwargs_name, objects)
            persona = next((p for p in PERSONAS[1:] if expected[p] in (200, 302)), PERSONAS[1])
            self.login_as(persona)
            response = self.client.get(url, headers={"referer": "http://testserver/coordinator/"})
            checked.append(route)
            if response.status_code != 405 or FRIENDLY not in response.content.decode():
                bare.append(f"GET {url} as {persona}: {response.status_code}")
            elif "POST" not in response["Allow"]:
                bare.append(f"GET {url}: Allow {response['Allow']}")
        self.assertGreater(len(checked), 20)
        self.assertEqual(bare, [], "\n" + "\n".join(bare))

    def test_the_page_offers_the_way_back(self):
        self.login_as("coordinator")
        response = self.client.get(
            f"/coordinator/people/{self.buddy_membership.pk}/stage/",
            headers={
                "referer": f"http://testserver/coordinator/people/{self.buddy_membership.pk}/"
            },
        )
        self.assertEqual(response.status_code, 405)
        self.assertContains(
            response, f'href="/coordinator/people/{self.buddy_membership.pk}/"', status_code=405
        )
        self.assertContains(response, "Nothing was changed", status_code=405)
        # A stranger's referer is not followed.
        response = self.client.get(
            f"/coordinator/people/{self.buddy_membership.pk}/stage/",
            headers={"referer": "https://evil.example/"},
        )
        self.assertNotContains(response, "evil.example", status_code=405)

    def test_a_bare_405_stays_bare_for_other_methods(self):
        self.login_as("coordinator")
        response = self.client.generic("PATCH", "/coordinator/")
        self.assertEqual(response.status_code, 405)
