"""Every admin choice list is scoped to the staff user's schemes (issue 21, "Access").

Two schemes with look-alike data; a non-superuser staff coordinator of scheme A walks every
registered ModelAdmin's add form (and the change form of each scheme-A row): no choice list,
dropdown or raw-id lookup offers a row of scheme B, and B's people never appear on the page.
"""

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.forms import ModelChoiceField
from django.test import RequestFactory

from buddyscheme.admin import SchemeScopedAdmin, scoped_choices
from buddyscheme.models import Membership, Role, Scheme, User
from meetings.models import Venue

from ..base import PersonaTestCase
from ..factories import MembershipFactory, scheme_a_rows

MAX_DEPTH = 3


def path_to_scheme(model, depth=0):
    """A lookup from `model` to Scheme found by following foreign keys (independently of the
    admin's own `scheme_path`), or None."""
    if model is Scheme:
        return "pk"
    if model is User:
        return "memberships__scheme"
    if depth >= MAX_DEPTH:
        return None
    for field in model._meta.get_fields():
        is_key = isinstance(field, models.ForeignKey | models.OneToOneField) and field.concrete
        if is_key and field.related_model is Scheme:
            return field.name
    for field in model._meta.get_fields():
        if isinstance(field, models.ForeignKey | models.OneToOneField) and field.concrete:
            if field.related_model is model:
                continue
            rest = path_to_scheme(field.related_model, depth + 1)
            if rest is not None:
                return f"{field.name}__{'' if rest == 'pk' else rest}".rstrip("_")
    return None


class AdminChoicesScopedTest(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # Scheme B mirrors scheme A: a buddy, a participant and one row of every admin model.
        cls.other_buddy = MembershipFactory(
            scheme=cls.other_scheme,
            role=Role.BUDDY,
            user__first_name="Zebedee",
            user__email="buddy@b.example",
        )
        cls.other_participant = MembershipFactory(
            scheme=cls.other_scheme,
            role=Role.PARTICIPANT,
            user__first_name="Quillon",
            user__email="participant@b.example",
        )
        cls.rows_a = scheme_a_rows(cls.scheme, cls.buddy_membership, cls.participant_membership)
        cls.rows_b = scheme_a_rows(cls.other_scheme, cls.other_buddy, cls.other_participant)
        cls.b_words = ["Zebedee", "Quillon", "buddy@b.example", "participant@b.example"]
        cls.b_words += ["coordinator@b.example", "Scheme B"]

    def b_ids(self, model) -> set:
        """Rows of `model` that belong to scheme B and to no scheme of A's coordinator."""
        path = path_to_scheme(model)
        assert path is not None, f"no way from {model.__name__} to a scheme: add one to the test"
        ours = set(
            model._default_manager.filter(**{path: self.scheme.pk}).values_list("pk", flat=True)
        )
        theirs = model._default_manager.filter(**{path: self.other_scheme.pk}).values_list(
            "pk", flat=True
        )
        return set(theirs) - ours

    def choice_fields(self, context):
        forms = [context["adminform"].form]
        for inline in context.get("inline_admin_formsets", []):
            forms.extend(inline.formset.forms)
            forms.append(inline.formset.empty_form)
        for form in forms:
            for name, field in form.fields.items():
                if isinstance(field, ModelChoiceField):
                    yield form, name, field

    def check_page(self, url):
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200, url)
        checked = 0
        for _form, name, field in self.choice_fields(response.context):
            model = field.queryset.model
            offered = set(field.queryset.values_list("pk", flat=True))
            leaked = offered & self.b_ids(model)
            self.assertFalse(leaked, f"{url}: {name} offers scheme B's {model.__name__} {leaked}")
            checked += 1
        for word in self.b_words:
            self.assertNotContains(response, word, msg_prefix=url)
        return checked

    def registered(self):
        site = admin.site
        for model, model_admin in site._registry.items():
            yield model, model_admin, f"/admin/{model._meta.app_label}/{model._meta.model_name}/"

    def test_every_add_form_offers_only_the_coordinators_scheme(self):
        self.login_as("coordinator")
        request = RequestFactory().get("/admin/")
        request.user = self.coordinator
        forms_checked, choices_checked = 0, 0
        for _model, model_admin, base in self.registered():
            if not model_admin.has_add_permission(request):
                # Refused: the coordinator gets no form at all.
                self.assertEqual(self.client.get(base + "add/").status_code, 403, base)
                continue
            choices_checked += self.check_page(base + "add/")
            forms_checked += 1
        self.assertGreaterEqual(forms_checked, 10)
        self.assertGreaterEqual(choices_checked, 10)

    def test_every_change_form_of_a_scheme_a_row_offers_only_scheme_a(self):
        self.login_as("coordinator")
        for key, pk in self.rows_a.items():
            self.check_page(f"/admin/{key}/{pk}/change/")
        self.check_page(f"/admin/buddyscheme/membership/{self.buddy_membership.pk}/change/")
        self.check_page(f"/admin/buddyscheme/scheme/{self.scheme.pk}/change/")

    def test_the_key_holder_list_offers_only_active_coordinators_of_the_scheme(self):
        self.login_as("coordinator")
        form = self.client.get(f"/admin/meetings/venue/{self.rows_a['meetings/venue']}/change/")
        offered = set(form.context["adminform"].form.fields["key_holder"].queryset)
        self.assertEqual(offered, {self.coordinator})

    def test_a_raw_id_of_another_scheme_is_refused(self):
        """A raw-id box takes any number typed; the scoped choices still refuse B's (before,
        a coordinator of A could record training for B's buddy by typing its id)."""
        from buddyscheme.models import TrainingCompletion

        self.login_as("coordinator")
        response = self.client.post(
            "/admin/buddyscheme/trainingcompletion/add/",
            {
                "membership": self.other_buddy.pk,
                "module": self.rows_a["buddyscheme/trainingmodule"],
                "completed_on": "2026-03-01",
            },
        )
        self.assertEqual(response.status_code, 200)  # the form again, with the error
        self.assertIn("membership", response.context["adminform"].form.errors)
        self.assertFalse(
            TrainingCompletion.objects.filter(
                membership=self.other_buddy, module=self.rows_a["buddyscheme/trainingmodule"]
            ).exists()
        )

    def test_the_superuser_still_sees_every_scheme(self):
        self.coordinator.is_superuser = True
        self.coordinator.save(update_fields=["is_superuser"])
        self.login_as("coordinator")
        response = self.client.get("/admin/meetings/venue/add/")
        schemes = set(response.context["adminform"].form.fields["scheme"].queryset)
        self.assertEqual(schemes, {self.scheme, self.other_scheme})


def test_a_model_with_no_way_to_a_scheme_offers_nothing(db):
    from django.contrib.contenttypes.models import ContentType

    assert not scoped_choices(ContentType, {1}).exists()


def test_every_registered_admin_is_scoped_or_for_superusers_only(rf, db):
    """A ModelAdmin that is not scheme-scoped must not open to a coordinator at all."""
    membership = MembershipFactory(role=Role.COORDINATOR, user__is_staff=True)
    request = rf.get("/admin/")
    request.user = membership.user
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, SchemeScopedAdmin):
            continue
        assert not model_admin.has_module_permission(request), model
        assert not model_admin.has_view_permission(request), model
        assert not model_admin.has_add_permission(request), model
    # Every app model a coordinator can reach in the admin has a path to its scheme.
    for model in apps.get_models():
        registered = admin.site._registry.get(model)
        if isinstance(registered, SchemeScopedAdmin):
            assert path_to_scheme(model) is not None, model
    assert Membership in admin.site._registry and Venue in admin.site._registry
