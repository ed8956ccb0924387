"""One rule for every name a person types (their own, an emergency contact's, a signature).

Names show on other people's screens, in messages and in signed agreements. Invisible
formatting characters can make a name display as something else (a right-to-left override turns
"Ann‮exe.gnp" into "Annpng.exe"), and a flood of combining marks spills over the lines around
it. Both are refused with a plain message; real names in any script pass.
"""

import unicodedata

from django.core.exceptions import ValidationError

# Joiners shape letters in Persian, Arabic and Indic names: they stay.
ALLOWED_FORMAT_CHARACTERS = {"\u200c", "\u200d"}
# Control, format (bidi overrides, zero-width spaces), private-use and surrogate characters, and
# line or paragraph separators.
REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}
# Vietnamese stacks two marks on a letter, Hebrew with cantillation three; more is a flood.
MOST_MARKS_ON_ONE_LETTER = 4


def validate_person_name(value: str) -> None:
    hidden = [
        character
        for character in value
        if unicodedata.category(character) in REFUSED_CATEGORIES
        and character not in ALLOWED_FORMAT_CHARACTERS
    ]
    if hidden:
        raise ValidationError(
            "This name contains hidden formatting characters (often copied by accident). "
            "Please type it again.",
            code="hidden_characters",
        )
    marks_in_a_row = 0
    for character in unicodedata.normalize("NFC", value):
        is_mark = unicodedata.category(character).startswith("M")
        marks_in_a_row = marks_in_a_row + 1 if is_mark else 0
        if marks_in_a_row > MOST_MARKS_ON_ONE_LETTER:
            raise ValidationError(
                "This name has too many accents on one letter. Please type it again.",
                code="too_many_marks",
            )


def clean_person_name(value: str) -> str:
    """The name as stored: composed (NFC, so "ễ" is one character), spaces tidied."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


# Explicit embeddings, overrides and isolates: they reorder what other people see.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Free text keeps a little more than names: enough for any script's stacked marks.
MOST_MARKS_KEPT = 3


def clean_free_text(value: str) -> str:
    """Free text (a note, a message, a description) as stored: bidi controls removed and a flood
    of combining marks cut to MOST_MARKS_KEPT on each letter. Unlike a name it is cleaned, not
    refused: a long note is not sent back for one pasted character."""
    if not value:
        return value
    kept = []
    marks_in_a_row = 0
    for character in unicodedata.normalize("NFC", value.translate(BIDI_CONTROLS)):
        if unicodedata.category(character).startswith("M"):
            marks_in_a_row += 1
            if marks_in_a_row > MOST_MARKS_KEPT:
                continue
        else:
            marks_in_a_row = 0
        kept.append(character)
    return "".join(kept)
