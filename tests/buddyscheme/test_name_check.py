"""The simple names check behind `initials_warnings` (the fuller guard replaces its body)."""

import pytest

from buddyscheme.name_check import initials_warnings

NAMES = ["Grace", "Obi", "Mark", "Rose", "O'Neil"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("G. was upset today.", []),
        ("Grace was upset today.", ["Grace"]),
        ("I met GRACE at the clinic.", ["Grace"]),
        ("Grace's sister came too.", ["Grace"]),
        ("Mrs Obi rang the office.", ["Obi"]),
        ("Mark said he was fine.", ["Mark"]),
        ("mark the date in the diary", []),  # the verb, lower case
        ("We rose at 7 to get the bus.", []),
        ("Rose and Grace both came.", ["Grace", "Rose"]),  # in the order given
        ("Gracefully done.", []),  # part of another word
        ("Saw O'Neil at the shop.", ["O'Neil"]),
        ("Neil from the pharmacy helped.", []),  # not the name we hold
        ("", []),
    ],
)
def test_names_are_found_as_names_only(text, found):
    assert initials_warnings(text, NAMES) == found


def test_initials_and_empty_names_are_not_looked_for():
    assert initials_warnings("G and O met at the café", ["G", "", "  ", "O"]) == []
