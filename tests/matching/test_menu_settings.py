"""The menu's settings page: categories and items added, renamed, retired; never another scheme's."""

from matching.forms import MatchProfileForm
from matching.models import MatchProfile, MenuCategory, MenuItem

from ..base import PersonaTestCase, assert_audited
from ..factories import menu


class MenuSettingsTest(PersonaTestCase):
    def setUp(self):
        self.shopping, self.forms = menu(self.scheme, "Shopping", "Benefits forms")
        self.category = self.shopping.category

    def test_add_a_category_then_an_item_in_it(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/menu/categories/",
            {"category-name": "Skills", "category-order": "2"},
        )
        self.assertRedirects(response, "/coordinator/settings/menu/")
        skills = MenuCategory.objects.get(scheme=self.scheme, name="Skills")
        assert_audited(
            verb="menu_category_create", obj=skills, actor=self.coordinator, scheme=self.scheme
        )
        response = self.client.post(
            "/coordinator/settings/menu/",
            {
                "item-category": skills.pk,
                "item-name": "  Cooking on a budget ",
                "item-description": "",
                "item-order": "0",
            },
        )
        self.assertRedirects(response, "/coordinator/settings/menu/")
        item = MenuItem.objects.get(category=skills)
        self.assertEqual((item.name, item.is_active), ("Cooking on a budget", True))
        assert_audited(
            verb="menu_item_create", obj=item, actor=self.coordinator, scheme=self.scheme
        )
        page = self.client.get("/coordinator/settings/menu/").content.decode()
        self.assertLess(page.index("Shopping"), page.index("Cooking on a budget"))

    def test_a_duplicate_item_is_refused_and_both_forms_keep_what_was_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/menu/",
            {
                "item-category": self.category.pk,
                "item-name": "shopping",
                "item-description": "Going to the market together",
                "item-order": "0",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "already has an item with this name")
        self.assertContains(response, 'value="Going to the market together"')
        response = self.client.post(
            "/coordinator/settings/menu/categories/",
            {"category-name": "support", "category-order": "x"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "There is already a category with this name.")
        self.assertContains(response, 'value="support"')
        self.assertEqual(MenuItem.objects.count(), 2)
        self.assertEqual(MenuCategory.objects.count(), 1)

    def test_an_item_cannot_go_into_another_schemes_category(self):
        theirs = menu(self.other_scheme, "Gardening")[0].category
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/menu/",
            {"item-category": theirs.pk, "item-name": "Knitting", "item-order": "0"},
        )
        self.assertContains(response, "Choose one of this scheme&#x27;s categories.")
        response = self.client.post(
            f"/coordinator/settings/menu/items/{self.shopping.pk}/",
            {
                "item-category": theirs.pk,
                "item-name": "Shopping",
                "item-order": "0",
                "item-is_active": "on",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.shopping.refresh_from_db()
        self.assertEqual(self.shopping.category, self.category)

    def test_retiring_an_item_takes_it_off_everyones_menu_form(self):
        profile = MatchProfile.objects.create(membership=self.participant_membership)
        profile.items.set([self.shopping])
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/settings/menu/items/{self.shopping.pk}/",
            {"item-category": self.category.pk, "item-name": "Shopping", "item-order": "0"},
        )
        self.assertRedirects(response, "/coordinator/settings/menu/")
        self.shopping.refresh_from_db()
        self.assertFalse(self.shopping.is_active)
        assert_audited(
            verb="menu_item_update", obj=self.shopping, actor=self.coordinator, scheme=self.scheme
        )
        # Kept by whoever chose it; offered to nobody new.
        self.assertEqual(list(profile.items.all()), [self.shopping])
        form = MatchProfileForm(instance=profile, scheme=self.scheme, side="wants")
        self.assertEqual(list(form.fields["items"].queryset), [self.forms])
        self.assertContains(self.client.get("/coordinator/settings/menu/"), "Retired")

    def test_rename_a_category(self):
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/settings/menu/categories/{self.category.pk}/",
            {"category-name": "Practical help", "category-order": "1"},
        )
        self.assertRedirects(response, "/coordinator/settings/menu/")
        self.category.refresh_from_db()
        self.assertEqual(self.category.name, "Practical help")
        assert_audited(
            verb="menu_category_update",
            obj=self.category,
            actor=self.coordinator,
            scheme=self.scheme,
        )

    def test_another_schemes_coordinator_gets_404(self):
        self.login_as("other_coordinator")
        for url in (
            f"/coordinator/settings/menu/items/{self.shopping.pk}/",
            f"/coordinator/settings/menu/categories/{self.category.pk}/",
        ):
            self.assertEqual(self.client.get(url).status_code, 404)
            self.assertEqual(
                self.client.post(url, {"category-name": "Mine", "item-name": "Mine"}).status_code,
                404,
            )
        self.assertNotContains(self.client.get("/coordinator/settings/menu/"), "Shopping")
        self.assertEqual(MenuItem.objects.filter(name="Mine").count(), 0)
