"""The inventory of personal data covers every text, JSON and file field of every model."""

from django.apps import apps
from django.db import models

from buddyscheme.erasure import _link_target
from buddyscheme.personal_data import DELETE, INVENTORY, SCRUB, USER

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField, models.FileField)


def text_fields(model):
    return [field.name for field in model._meta.concrete_fields if isinstance(field, TEXT_FIELDS)]


def test_every_text_json_and_file_field_of_every_model_is_classified():
    unlisted = []
    for model in apps.get_models():
        label = model._meta.label
        entry = INVENTORY.get(label)
        fields = text_fields(model)
        if entry is None:
            if fields:
                unlisted.append(f"{label} (not in the inventory): {fields}")
            continue
        classified = entry.identifiers + entry.free_text + entry.files + entry.not_personal
        unlisted += [f"{label}.{name}" for name in fields if name not in classified]
    assert unlisted == [], "classify these in buddyscheme/personal_data.py: " + ", ".join(unlisted)


def test_each_field_is_classified_once_and_exists():
    problems = []
    for label, entry in INVENTORY.items():
        model = apps.get_model(label)
        names = entry.identifiers + entry.free_text + entry.files + entry.not_personal
        problems += [f"{label}.{name} twice" for name in set(names) if names.count(name) > 1]
        existing = set(text_fields(model))
        problems += [f"{label}.{name} is no text field" for name in names if name not in existing]
    assert problems == []


def test_links_and_scheme_paths_resolve():
    user_model = apps.get_model("buddyscheme", "User")
    targets = {
        user_model,
        apps.get_model("buddyscheme", "Membership"),
        apps.get_model("matching", "Match"),
    }
    for label, entry in INVENTORY.items():
        model = apps.get_model(label)
        for lookup in entry.links:
            assert _link_target(model, lookup) in targets, f"{label}: {lookup}"
        if entry.scheme:
            assert _link_target(model, entry.scheme) is apps.get_model("buddyscheme", "Scheme"), (
                f"{label}: {entry.scheme}"
            )


def test_personal_rows_linked_to_a_person_say_what_erasure_does():
    for label, entry in INVENTORY.items():
        if entry.on_erase == USER:
            continue
        if entry.links and entry.personal_fields:
            assert entry.on_erase in (SCRUB, DELETE), (
                f"{label} holds personal fields linked to a person: scrub or delete them"
            )


def test_personal_fields_are_free_values_not_choices():
    """A choice (a kind, a state, a band) is a statistic; emptying it would break the figures
    and the field's own rule, so only free values are listed as personal."""
    choices = [
        f"{label}.{name}"
        for label, entry in INVENTORY.items()
        for name in entry.identifiers + entry.free_text
        if apps.get_model(label)._meta.get_field(name).choices
    ]
    assert choices == []
