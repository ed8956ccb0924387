"""Issue 21, "Bad input": free text is cleaned of bidi controls and combining-mark floods, and a
NUL byte anywhere in a form or query is refused once (a 400 page), on SQLite and PostgreSQL."""

import unicodedata

import pytest
from django.http import QueryDict
from hypothesis import given, settings
from hypothesis import strategies as st

from buddyscheme.middleware import _has_nul
from buddyscheme.validators import BIDI_CONTROLS, MOST_MARKS_KEPT, clean_free_text
from messaging.models import Message

from ..base import PersonaTestCase

BIDI = "".join(map(chr, BIDI_CONTROLS))


def longest_mark_run(text):
    longest = run = 0
    for character in text:
        run = run + 1 if unicodedata.category(character).startswith("M") else 0
        longest = max(longest, run)
    return longest


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Meet at the \u202eenot\u202c café", "Meet at the enot café"),
        ("\u2066isolated\u2069 text", "isolated text"),
        ("Z" + "\u0336" * 40 + "oe", "Z" + "\u0336" * MOST_MARKS_KEPT + "oe"),
        ("Nguye\u0302\u0303n", "Nguyễn"),  # composed, nothing lost
        ("مهر\u200cزاد", "مهر\u200cزاد"),  # joiners are letters' shaping, kept
        ("line one\nline two", "line one\nline two"),
        ("", ""),
    ],
)
def test_free_text_is_cleaned_not_refused(typed, stored):
    assert clean_free_text(typed) == stored


@settings(max_examples=50, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(BIDI + "\u0301\u0336"))))
def test_cleaned_text_has_no_bidi_control_nor_flood_and_cleaning_twice_changes_nothing(text):
    cleaned = clean_free_text(text)
    assert not set(cleaned) & set(BIDI)
    assert longest_mark_run(cleaned) <= MOST_MARKS_KEPT
    assert clean_free_text(cleaned) == cleaned


class FreeTextInFormsTest(PersonaTestCase):
    def test_a_message_is_stored_cleaned(self):
        self.login_as("participant")
        response = self.client.post(
            "/messages/coordinators/",
            {"text": "See you \u202eyadseut\u202c at 3" + "\u0301" * 30, "form_key": ""},
        )
        self.assertEqual(response.status_code, 302)
        text = Message.objects.get().text
        self.assertFalse(set(text) & set(BIDI))
        self.assertLessEqual(longest_mark_run(text), MOST_MARKS_KEPT)
        self.assertTrue(text.startswith("See you yadseut at 3"))


NUL_FILTERS = [
    ("coordinator", "/coordinator/people/", {"q": "Ann\x00"}),
    ("coordinator", "/coordinator/matching/", {"district": "SW9\x00"}),
    ("coordinator", "/coordinator/matching/", {"min_days": "1\x00"}),
    ("coordinator", "/coordinator/matching/matches/", {"state": "active\x00"}),
    ("coordinator", "/coordinator/messages/", {"show\x00": "x"}),
]


class NulBytesTest(PersonaTestCase):
    """PostgreSQL refuses NUL in text; SQLite stores it. Refused before either sees it."""

    def assert_refused(self, response):
        self.assertEqual(response.status_code, 400)
        self.assertContains(response, "could not be read", status_code=400)

    def test_a_nul_in_a_filter_is_a_400_page(self):
        for persona, url, params in NUL_FILTERS:
            self.login_as(persona)
            self.assert_refused(self.client.get(url, params))

    def test_a_nul_in_a_posted_form_is_a_400_and_nothing_is_saved(self):
        self.login_as("participant")
        response = self.client.post(
            "/messages/coordinators/", {"text": "Hello\x00", "form_key": ""}
        )
        self.assert_refused(response)
        self.assertEqual(Message.objects.count(), 0)

    def test_keys_and_every_value_are_looked_at(self):
        self.assertFalse(_has_nul(QueryDict("a=1&b=2&b=3")))
        self.assertTrue(_has_nul(QueryDict("a=1&b=2&b=3%00")))
        self.assertTrue(_has_nul(QueryDict("a%00=1")))


@pytest.mark.postgres
class NulBytesOnPostgresTest(NulBytesTest):
    """The same, on the database that would have turned them into 500s."""
