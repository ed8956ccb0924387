"""The initials-only guard: a table of true and false positives, and the rules under it.

Phone numbers are Ofcom's drama ranges (07700 900xxx, 020 7946 0xxx, 0161 496 0xxx), postcodes
are made up or well known public ones, NHS numbers are the NHS's published test numbers: nothing
here is a real person's.
"""

from datetime import date

import pytest
from django import forms

from buddyscheme.initials import (
    IdentifyingDetailsFormMixin,
    identifying_details,
    initials_warnings,
    marked_text,
    nhs_number_valid,
)

TODAY = date(2026, 11, 20)
DAN = ("Daniel", "Okonkwo", "Dan")
MARK = ("Mark", "Rosewood")
ROSE = ("Rose", "Ndiaye")

# (text, the participant's names, what must be found as (kind, text))
TABLE = [
    # --- names: the person's own, and the same letters meaning something else
    ("Met Dan at the café.", DAN, [("name", "Dan")]),
    ("Dan said he is sleeping better.", DAN, [("name", "Dan")]),
    ("met dan today, he was cheerful", DAN, [("name", "dan")]),
    ("Spoke to Mr Okonkwo's sister on the phone.", DAN, [("name", "Okonkwo")]),
    ("D.O. seemed tired but positive.", DAN, []),
    ("DO and I agreed to meet again.", DAN, []),
    ("Dancing lessons came up again.", DAN, []),
    ("We went to see Daniel's GP together.", DAN, [("name", "Daniel")]),
    ("Mark the date of the next clinic visit.", MARK, []),
    ("We need to mark the date on the calendar.", MARK, []),
    ("Mark said the new tablets suit him.", MARK, [("name", "Mark")]),
    ("I talked with Mark about the forms.", MARK, [("name", "Mark")]),
    ("Mark's mum came along.", MARK, [("name", "Mark")]),
    # What notes say people did: "rang", "called", "texted" follow a name too.
    ("Mark rang about Tuesday.", MARK, [("name", "Mark")]),
    ("Mark called the office twice.", MARK, [("name", "Mark")]),
    ("Spoke to M.R. about the forms.", MARK, []),
    # A surname that is no everyday word counts in any case: asking costs the writer a tick.
    ("The rosewood table was lovely.", MARK, [("name", "rosewood")]),
    ("Rose at 7 to get to the appointment.", ROSE, []),
    ("She rose at 7 and felt fine.", ROSE, []),
    ("Rose was upset about the letter.", ROSE, [("name", "Rose")]),
    ("Took Rose to the benefits office.", ROSE, [("name", "Rose")]),
    ("The roses in the park were out.", ROSE, []),
    ("Coffee with Ms Ndiaye.", ROSE, [("name", "Ndiaye")]),
    ("R.N. and I walked to the market.", ROSE, []),
    # --- phone numbers: UK written every way, and things that are not phones
    ("Her number is 07700 900123.", (), [("phone", "07700 900123")]),
    ("Call 07700900123 if late", (), [("phone", "07700900123")]),
    ("new mobile +44 7700 900123", (), [("phone", "+44 7700 900123")]),
    ("+447700900123 is the one to text", (), [("phone", "+447700900123")]),
    ("Office on +44 (0)20 7946 0958", (), [("phone", "+44 (0)20 7946 0958")]),
    ("landline 0161 496 0000", (), [("phone", "0161 496 0000")]),
    ("ring (020) 7946 0958 after 6", (), [("phone", "(020) 7946 0958")]),
    ("We met at 14:30 for 45 minutes.", (), []),
    ("The bus fare was £1,250 for the year, room 1234567.", (), []),
    ("Meds at 08.00 and 20.00; 2 tablets.", (), []),
    # --- email
    ("He emailed from dan.o@example.org last week", (), [("email", "dan.o@example.org")]),
    ("Use the office inbox (not an address) and the @ sign story.", (), []),
    # --- postcodes: full ones with and without the space; a district alone is fine
    ("Lives near SW1A 1AA.", (), [("postcode", "SW1A 1AA")]),
    ("lives near sw1a1aa", (), [("postcode", "sw1a1aa")]),
    ("Flat is in M14 5TP", (), [("postcode", "M14 5TP")]),
    ("moved to M145TP last month", (), [("postcode", "M145TP")]),
    ("They live in SW9 and like Brixton market.", (), []),
    ("Catch the N19 bus, then the 2B.", (), []),
    # --- dates of birth; meeting dates and deadlines are not
    ("DOB 12/03/1985", (), [("date_of_birth", "12/03/1985")]),
    ("born 12 March 1985 in Leeds", (), [("date_of_birth", "12 March 1985")]),
    ("He was born on 3rd of June 1990.", (), [("date_of_birth", "3rd of June 1990")]),
    ("birthday is March 12, 1985", (), [("date_of_birth", "March 12, 1985")]),
    ("Her date of birth: 1985-03-12", (), [("date_of_birth", "1985-03-12")]),
    ("d.o.b. 12/03/85", (), [("date_of_birth", "12/03/85")]),
    ("Next meeting 12/03/2027 at the library.", (), []),
    ("Housing form due by 5 December 2026.", (), []),
    ("We meet on 12 March.", (), []),
    # --- NHS numbers: 10 digits with the check digit, spaced 3-3-4 or not
    ("NHS no 943 476 5919 on the letter", (), [("nhs_number", "943 476 5919")]),
    ("nhs 9434765919", (), [("nhs_number", "9434765919")]),
    ("Ref 943 476 5918 on the letter", (), [("phone", "943 476 5918")]),
    # --- address lines
    ("Visited at 12 Acacia Avenue", (), [("address", "12 Acacia Avenue")]),
    ("picked up from 221B Baker Street", (), [("address", "221B Baker Street")]),
    ("meet outside 3 St John's Road", (), [("address", "3 St John's Road")]),
    ("his flat at 14 acacia avenue", (), [("address", "14 acacia avenue")]),
    ("She is at Flat 3 now", (), [("address", "Flat 3")]),
    ("We walked 2 miles down the road to the park.", (), []),
    ("Has 2 close friends and 3 Park runs a month.", (), []),
    ("Caught the 12 bus to the High Street.", (), []),
    # --- several at once, in order
    (
        "Dan (07700 900123, dan@example.org) lives at 12 Acacia Avenue, M14 5TP.",
        DAN,
        [
            ("name", "Dan"),
            ("phone", "07700 900123"),
            ("email", "dan@example.org"),
            ("address", "12 Acacia Avenue"),
            ("postcode", "M14 5TP"),
        ],
    ),
    ("", DAN, []),
]


@pytest.mark.parametrize(("text", "names", "expected"), TABLE, ids=[row[0][:40] for row in TABLE])
def test_the_table(text, names, expected):
    hits = identifying_details(text, names, today=TODAY)
    assert [(hit.kind, hit.text) for hit in hits] == expected
    for hit in hits:
        assert text[hit.start : hit.end] == hit.text
        assert hit.reason


def test_the_table_is_big_enough_and_balanced():
    true_positives = [row for row in TABLE if row[2]]
    false_positives = [row for row in TABLE if not row[2]]
    assert len(TABLE) >= 40
    assert len(true_positives) >= 20 and len(false_positives) >= 15


def test_reasons_are_plain_words():
    hits = identifying_details("07700 900123 M14 5TP", today=TODAY)
    assert [hit.reason for hit in hits] == [
        "a phone number",
        "a full postcode (the first half alone, like SW9, is fine)",
    ]


def test_nhs_check_digit():
    assert nhs_number_valid("9434765919")
    assert not nhs_number_valid("9434765918")
    assert not nhs_number_valid("943476591")
    # A remainder giving 10 has no check digit: never a valid number.
    assert not nhs_number_valid("0000000060")


def test_a_birth_date_is_a_date_long_enough_ago():
    recent = identifying_details("Appointment on 12/03/2020", today=TODAY)
    assert recent == []
    older = identifying_details("Appointment on 12/03/2010", today=TODAY)
    assert [hit.kind for hit in older] == ["date_of_birth"]


def test_an_impossible_date_is_not_a_birth_date():
    assert identifying_details("born 31/02/1985", today=TODAY) == []


def test_names_are_split_into_parts_and_particles_are_ignored():
    names = ("Anne-Marie", "van der Berg")
    hits = identifying_details("Marie and Anne-Marie met the van driver; Berg too.", names)
    assert [hit.text for hit in hits] == ["Marie", "Anne-Marie", "Berg"]


def test_a_word_name_alone_as_a_sentence_is_the_name():
    assert [hit.text for hit in identifying_details("Met him. Mark.", MARK)] == ["Mark"]


def test_initials_warnings_is_the_same_check():
    assert initials_warnings("Dan called", DAN) == identifying_details("Dan called", DAN)


# --- The form mixin ------------------------------------------------------------------------------


class NoteForm(IdentifyingDetailsFormMixin, forms.Form):
    identifying_fields = ("note",)
    note = forms.CharField(widget=forms.Textarea)
    when = forms.CharField(required=False)


def test_a_clean_note_saves_at_once():
    form = NoteForm({"note": "D.O. and I had coffee."}, names=DAN)
    assert form.is_valid() and not form.identifying_confirmed
    assert form.identifying_report == []


def test_a_finding_stops_the_form_and_keeps_the_text():
    form = NoteForm({"note": "Dan rang from 07700 900123"}, names=DAN)
    assert not form.is_valid()
    assert "“Dan” (a name: use initials instead)" in form.errors["note"][0]
    assert "“07700 900123” (a phone number)" in form.errors["note"][0]
    assert form["note"].value() == "Dan rang from 07700 900123"
    [finding] = form.identifying_report
    assert str(finding.marked) == "<mark>Dan</mark> rang from <mark>07700 900123</mark>"
    assert form["identifying_shown"].value()  # the page carries what it asked about


def test_ticking_the_box_for_what_was_shown_lets_it_save():
    first = NoteForm({"note": "Dan rang"}, names=DAN)
    assert not first.is_valid()
    shown = first["identifying_shown"].value()
    confirmed = NoteForm(
        {"note": "Dan rang", "identifying_shown": shown, "not_identifying": "on"}, names=DAN
    )
    assert confirmed.is_valid() and confirmed.identifying_confirmed
    assert confirmed.identifying_report == []


def test_a_tick_does_not_cover_new_findings():
    first = NoteForm({"note": "Dan rang"}, names=DAN)
    first.is_valid()
    shown = first["identifying_shown"].value()
    changed = NoteForm(
        {"note": "Dan rang, SW1A 1AA", "identifying_shown": shown, "not_identifying": "on"},
        names=DAN,
    )
    assert not changed.is_valid()
    assert changed["not_identifying"].value() is False  # asked again, box empty
    assert changed["identifying_shown"].value() != shown


def test_editing_the_text_clears_the_warning():
    first = NoteForm({"note": "Dan rang"}, names=DAN)
    first.is_valid()
    edited = NoteForm(
        {"note": "D.O. rang", "identifying_shown": first["identifying_shown"].value()}, names=DAN
    )
    assert edited.is_valid() and not edited.identifying_confirmed


def test_a_draft_skips_the_check():
    assert NoteForm({"note": "Dan rang"}, names=DAN, check_identifying=False).is_valid()


def test_marked_text_escapes_what_was_typed():
    text = "<b>Dan</b>"
    [hit] = identifying_details(text, DAN)
    assert str(marked_text(text, [hit])) == "&lt;b&gt;<mark>Dan</mark>&lt;/b&gt;"
