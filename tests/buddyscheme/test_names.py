"""Issue 14 point 11: names with bidi controls or floods of combining marks are refused, by one
validator, wherever a name is typed."""

import pytest
from django.core.exceptions import ValidationError

from buddyscheme.forms import AcceptInvitationForm, ProfileForm
from buddyscheme.models import Profile
from buddyscheme.validators import validate_person_name
from contracts.forms import SignForm

from ..factories import UserFactory

RIGHT_TO_LEFT_OVERRIDE = "\u202e"
ZALGO = "Z" + "\u0336\u0322\u031b\u035a\u0317\u0353" + "oe"

REAL_NAMES = [
    "José",
    "Nguyễn Thị Ánh",  # precomposed (NFC)
    "Nguye\u0302\u0303n",  # decomposed: two marks on one letter
    "Zoë O'Brien-Smith",
    "محمد",
    "फ़ातिमा",
    "مهر\u200cزاد",  # a zero-width non-joiner belongs in Persian names
    "Siân",
    "李小龍",
]
BAD_NAMES = [
    f"Ann{RIGHT_TO_LEFT_OVERRIDE}exe.gnp",
    "Ann\u2066e\u2069",  # isolates
    "Ann\u200fe",  # right-to-left mark
    "Ann\u200be",  # zero-width space
    "Ann\x00e",
    "Ann\ne",
    ZALGO,
]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_names_pass(name):
    validate_person_name(name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_hidden_controls_and_mark_floods_are_refused(name):
    with pytest.raises(ValidationError):
        validate_person_name(name)


@pytest.mark.django_db
def test_every_name_form_refuses_them():
    user = UserFactory()
    profile = Profile.objects.get(user=user)
    for bad in (f"Ann{RIGHT_TO_LEFT_OVERRIDE}e", ZALGO):
        profile_form = ProfileForm(
            {"preferred_name": bad, "preferred_contact": "email"}, instance=profile
        )
        assert "preferred_name" in profile_form.errors
        buddy_form = ProfileForm(
            {"preferred_contact": "email", "emergency_contact_name": bad},
            instance=profile,
            show_emergency_contact=True,
        )
        assert "emergency_contact_name" in buddy_form.errors
        invitation_form = AcceptInvitationForm(
            {"preferred_name": bad, "password1": "a long pass phrase", "password2": "x"},
            email="new@example.org",
        )
        assert "preferred_name" in invitation_form.errors
        sign_form = SignForm({"read_to_end": "on", "agreed": "on", "typed_name": bad})
        assert "typed_name" in sign_form.errors


@pytest.mark.django_db
def test_the_admin_and_model_refuse_them_too():
    user = UserFactory(first_name=f"Ann{RIGHT_TO_LEFT_OVERRIDE}e")
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert "first_name" in error.value.message_dict


@pytest.mark.django_db
def test_a_name_is_stored_composed():
    user = UserFactory()
    form = ProfileForm(
        {"preferred_name": "  Nguye\u0302\u0303n  ", "preferred_contact": "email"},
        instance=Profile.objects.get(user=user),
    )
    assert form.is_valid(), form.errors
    assert form.save().preferred_name == "Nguyễn"
