"""The shared defences of public forms: the honeypot and allauth's rate limiter."""

import pytest
from django import forms
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from buddyscheme.models import Scheme
from buddyscheme.public_forms import HoneypotMixin, allow_public_post


class ContactForm(HoneypotMixin, forms.Form):
    name = forms.CharField()


def test_honeypot_filled_is_spam_and_empty_is_not():
    assert ContactForm(data={"name": "A", "website": "http://spam.example"}).is_spam
    assert not ContactForm(data={"name": "A", "website": "  "}).is_spam
    assert not ContactForm(data={"name": "A"}).is_spam


@override_settings(ACCOUNT_RATE_LIMITS={"public_referral": "3/h/ip,1/h/key"})
def test_rate_limit_per_address_and_per_key():
    cache.clear()
    factory = RequestFactory()
    first = factory.post("/", REMOTE_ADDR="203.0.113.5")
    assert allow_public_post(first, "public_referral", key="Sam@Example.org")
    # The same email again (case and spaces do not matter) is refused; another is allowed.
    assert not allow_public_post(first, "public_referral", key=" sam@example.org")
    assert allow_public_post(first, "public_referral", key="other@example.org")
    # Every attempt counts against the address, refused ones too: three used.
    assert not allow_public_post(first, "public_referral", key="third@example.org")
    other_address = factory.post("/", REMOTE_ADDR="198.51.100.7")
    assert allow_public_post(other_address, "public_referral", key="third@example.org")


@pytest.mark.django_db
def test_scheme_slug_is_filled_from_the_name_and_kept_unique():
    first = Scheme.objects.create(name="North Buddies", sender_name="Appointments")
    second = Scheme.objects.create(name="North  buddies!", sender_name="Appointments")
    assert first.slug == "north-buddies"
    assert second.slug == "north-buddies-2"
    first.name = "Renamed"
    first.save()
    first.refresh_from_db()
    assert first.slug == "north-buddies"
