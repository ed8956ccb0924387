"""Initials only (DESIGN §4, seed 003): find what in a note could identify the person supported.

`identifying_details(text, names=...)` returns each hit with its span and a plain reason: the
participant's first or last name, a phone number, an email address, a full UK postcode, a date of
birth, an NHS number or an address line. It is a pure function (no database), so debriefs, case
notes, concerns, supervision notes and diaries all use the same one; `IdentifyingDetailsFormMixin`
puts it in front of a form.

It warns, it does not decide: the writer edits the text or confirms that what is highlighted is
not identifying. So it leans towards asking (a name at the start of a sentence followed by "said"
is a name; "Mark the date" is not), and every rule is pinned by tests/buddyscheme/test_initials.py.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from django import forms
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .validators import clean_free_text


@dataclass(frozen=True)
class Hit:
    start: int
    end: int
    text: str
    kind: str  # one of KINDS
    reason: str  # plain words for the writer


def _words(text: str) -> list[str]:
    return text.split()


NAME, PHONE, EMAIL, POSTCODE, BIRTH_DATE, NHS_NUMBER, ADDRESS = (
    "name",
    "phone",
    "email",
    "postcode",
    "date_of_birth",
    "nhs_number",
    "address",
)
REASONS = {
    NAME: "a name: use initials instead",
    PHONE: "a phone number",
    EMAIL: "an email address",
    POSTCODE: "a full postcode (the first half alone, like SW9, is fine)",
    BIRTH_DATE: "looks like a date of birth",
    NHS_NUMBER: "an NHS number",
    ADDRESS: "an address",
}
KINDS = tuple(REASONS)


# --- Names ------------------------------------------------------------------------------------

# Names that are also everyday English words: "Mark the date", "Rose at 7", "Will you call?".
# Written in lower case they are the word; capitalised mid-sentence they are the name; at the
# start of a sentence they are the name only when what follows reads like a name's sentence.
WORD_NAMES = frozenset(
    _words(
        """
        amber april august autumn bill bob brook brooke bud candy carol chase chip christian
        clay cliff crystal daisy dale dawn dean destiny dick drew dusty earl eve faith fern
        forest frank gale gene georgia gil glen grace grant guy hazel heath heather holly
        honey hope hunter iris ivy jack jade jasmine jay jean jewel jimmy joy june justice
        kit lance laurel lily mark marsh mason max may melody mercy miles misty molly nick
        olive opal pat patience pearl penny pepper poppy ray reed rich rob robin rock rod
        rose ruby rusty sage sandy scott shannon sky skye sonny spring star sterling stone
        storm summer sunny sue teddy terry tiger val victor violet wade ward warren wes will
        willow windy winter wolf wren
        """
    )
)
# What follows a name at the start of a sentence ("Rose said", "Mark's mum", "Will, who").
NAME_FOLLOWERS = frozenset(
    _words(
        """
        said says told tells asked asks was is wasnt isnt wants wanted felt feels seemed
        seems has had and agreed agrees talked talks mentioned mentions thinks thought would
        could didnt doesnt cant wont will does did went goes came comes likes liked loves
        loved needs needed shared shares brought explained explains looked looks arrived
        left rang rings called calls phoned phones texted texts emailed emails messaged
        cancelled cried spoke speaks met meets visited missed
        """
    )
)
# Parts of a surname that identify nobody on their own ("van der Berg": only "Berg" counts).
NAME_PARTICLES = frozenset(
    _words(
        """
        al ap bin bint da de del della der di du el la le mac san st van von
        """
    )
)
MIN_NAME_LENGTH = 2
SENTENCE_END = re.compile(r"(?:[.!?]\s*|\n\s*)$")
NEXT_WORD = re.compile(r"^(?:['’]s\b|\s*,|\s+([A-Za-z'’]+))")


def _name_parts(names) -> list[str]:
    parts: set[str] = set()
    for name in names:
        for word in (name or "").split():
            # "Anne-Marie" as written, and each half ("Marie" on its own is her name too).
            for part in {word, *word.split("-")}:
                part = part.strip(".'’-")
                if len(part) >= MIN_NAME_LENGTH and part.lower() not in NAME_PARTICLES:
                    parts.add(part)
    # Longest first, so "Ann-Marie" is found before "Ann".
    return sorted(parts, key=lambda part: (-len(part), part.lower()))


def _at_sentence_start(text: str, start: int) -> bool:
    before = text[:start]
    return not before.strip() or bool(SENTENCE_END.search(before))


def _reads_as_a_name(text: str, end: int) -> bool:
    """After a word-name at the start of a sentence: "Rose said", "Mark's", "Will, who"."""
    follow = NEXT_WORD.match(text[end:])
    if follow is None:
        rest = text[end:].lstrip()
        return rest == "" or rest[0] in ".!?"  # the name alone ("Mark.") is the name
    word = follow.group(1)
    return word is None or word.lower().replace("'", "").replace("’", "") in NAME_FOLLOWERS


def _find_names(text: str, names) -> list[Hit]:
    hits = []
    for part in _name_parts(names):
        is_word = part.lower() in WORD_NAMES
        pattern = re.compile(rf"(?<![\w@]){re.escape(part)}(?![\w@])", re.IGNORECASE)
        for found in pattern.finditer(text):
            written = found.group(0)
            if is_word and not written[0].isupper():
                continue  # "mark the date", "rose at 7"
            if (
                is_word
                and _at_sentence_start(text, found.start())
                and not written.isupper()
                and not _reads_as_a_name(text, found.end())
            ):
                continue  # "Mark the date on the calendar."
            hits.append(_hit(found.start(), found.end(), text, NAME))
    return hits


# --- Numbers: NHS number, phone ----------------------------------------------------------------

NHS_CANDIDATE = re.compile(r"(?<![\d+])(\d{3})[ \-]?(\d{3})[ \-]?(\d{4})(?!\d)")


def nhs_number_valid(digits: str) -> bool:
    """The NHS number's modulus 11 check digit (NHS Data Dictionary)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _find_nhs_numbers(text: str) -> list[Hit]:
    return [
        _hit(found.start(), found.end(), text, NHS_NUMBER)
        for found in NHS_CANDIDATE.finditer(text)
        if nhs_number_valid("".join(found.groups()))
    ]


# A UK number is 10 digits after its 0 (11 written); fewer digits than 10 is a date, a time, a
# sum of money or a room number far more often than a phone.
PHONE_MIN_DIGITS = 10


def _find_phones(text: str) -> list[Hit]:
    hits = []
    # POSSIBLE, not VALID: a number typed from memory with one digit wrong still identifies,
    # and Ofcom's numbers for drama (07700 900xxx), which tests use, are not "valid".
    for found in phonenumbers.PhoneNumberMatcher(
        text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        raw, start = found.raw_string, found.start
        if raw.count("(") > raw.count(")"):
            raw, start = raw[1:], start + 1  # "(07700 900123, ...)": the bracket is not the number
        if sum(character.isdigit() for character in raw) >= PHONE_MIN_DIGITS:
            hits.append(_hit(start, found.end, text, PHONE))
    return hits


# --- Email, postcode ---------------------------------------------------------------------------

EMAIL_PATTERN = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
# A full postcode: outward code (A9, A99, A9A, AA9, AA99, AA9A) and inward code (9AA, whose
# letters are never C, I, K, M, O or V), with or without the space. The outward code alone (a
# postcode district, which matching uses) does not identify anyone and is not flagged.
POSTCODE_PATTERN = re.compile(
    r"(?<![A-Za-z0-9])"
    r"(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r"\s?[0-9][ABD-HJLNP-UW-Z]{2}"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)


def _find_pattern(text: str, pattern: re.Pattern, kind: str) -> list[Hit]:
    return [_hit(found.start(), found.end(), text, kind) for found in pattern.finditer(text)]


# --- Dates of birth ------------------------------------------------------------------------------

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month_name>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"
DATE_PATTERNS = [
    # 12/03/1985, 12-03-1985, 12.03.1985, 12/03/85
    re.compile(
        r"(?<![\d/.\-])(?P<day>[0-3]?\d)[/.\-](?P<month>[01]?\d)[/.\-]"
        r"(?P<year>(?:19|20)?\d{2})(?![\d/.\-]*\d)"
    ),
    # 1985-03-12
    re.compile(r"(?<![\d\-])(?P<year>(?:19|20)\d{2})-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)(?!\d)"),
    # 12 March 1985, 12th of March 1985
    re.compile(rf"(?<!\w){_DAY}\s+(?:of\s+)?{_MONTH}\s*,?\s+{_YEAR}(?!\d)", re.IGNORECASE),
    # March 12, 1985
    re.compile(rf"(?<!\w){_MONTH}\s+{_DAY},?\s+{_YEAR}(?!\d)", re.IGNORECASE),
]
BIRTH_WORDS = re.compile(r"\b(?:d\.?o\.?b\.?|date of birth|born|birthday)\b[:\s]*$", re.IGNORECASE)
# A whole date this long ago is taken for someone's birthday; a date in the last few years is
# a meeting, an appointment or a deadline. Any whole date right after "born" or "DOB" counts.
BIRTH_YEARS_AGO = 12


def _date_parts(found: re.Match) -> tuple[int, int, int] | None:
    parts = found.groupdict()
    month = MONTHS[parts["month_name"].lower()] if parts.get("month_name") else int(parts["month"])
    year = int(parts["year"])
    if year < 100:
        year += 1900 if year > 30 else 2000  # "85" is 1985; "25" is 2025
    try:
        return date(year, month, int(parts["day"])).timetuple()[:3]
    except ValueError:
        return None


def _find_birth_dates(text: str, today: date) -> list[Hit]:
    hits = []
    for pattern in DATE_PATTERNS:
        for found in pattern.finditer(text):
            parts = _date_parts(found)
            if parts is None:
                continue
            said_born = bool(BIRTH_WORDS.search(text[: found.start()][-30:]))
            if said_born or parts[0] <= today.year - BIRTH_YEARS_AGO:
                hits.append(_hit(found.start(), found.end(), text, BIRTH_DATE))
    return hits


# --- Address lines -------------------------------------------------------------------------------

STREET_WORDS = _words(
    """
    street st road rd avenue ave lane ln close drive dr way place pl crescent cres court
    ct gardens gdns grove gr terrace terr square sq mews hill park row walk parade rise
    view green vale gate mount boulevard embankment wharf yard passage circus
    """
)
# Written in lower case, only the words no sentence uses for anything else ("2 close friends").
PLAIN_STREET_WORDS = _words("street road avenue crescent terrace boulevard")
_STREET = "|".join(STREET_WORDS)
ADDRESS_PATTERNS = [
    # 12 Acacia Avenue, 221B Baker Street, 3 St John's Road, 4 Mill lane
    re.compile(
        r"(?<![\w£$€.,:/])\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][\w'’\-]*\.?\s+){1,3}"
        rf"(?i:{_STREET})\b\.?"
    ),
    # 12 acacia avenue (typed in lower case on a phone)
    re.compile(
        r"(?<![\w£$€.,:/])\d{1,4}[a-z]?\s+(?:[a-z][\w'’\-]*\s+){1,2}"
        rf"(?:{'|'.join(PLAIN_STREET_WORDS)})\b",
        re.IGNORECASE,
    ),
    # Flat 3, Apartment 12b
    re.compile(r"\b(?:flat|apartment|apt)\.?\s+\d{1,4}[A-Za-z]?\b", re.IGNORECASE),
]


def _find_addresses(text: str) -> list[Hit]:
    hits = []
    for pattern in ADDRESS_PATTERNS:
        hits += _find_pattern(text, pattern, ADDRESS)
    return hits


# --- Together ------------------------------------------------------------------------------------


def _hit(start: int, end: int, text: str, kind: str) -> Hit:
    return Hit(start=start, end=end, text=text[start:end], kind=kind, reason=REASONS[kind])


def identifying_details(text: str, names=(), today: date | None = None) -> list[Hit]:
    """Everything in `text` that could identify the person, in the order it appears.

    `names`: the participant's names (first, last, preferred), each split into its parts.
    Where two findings overlap, the more specific one wins (an NHS number is not also a phone
    number; an email's name part is not also a name).
    """
    text = text or ""
    if not text.strip():
        return []
    today = today or timezone.localdate()
    # Most specific first: an earlier kind's span hides a later kind's overlapping one.
    found = (
        _find_pattern(text, EMAIL_PATTERN, EMAIL)
        + _find_nhs_numbers(text)
        + _find_birth_dates(text, today)
        + _find_phones(text)
        + _find_pattern(text, POSTCODE_PATTERN, POSTCODE)
        + _find_addresses(text)
        + _find_names(text, names)
    )
    kept: list[Hit] = []
    for hit in found:
        if not any(hit.start < other.end and other.start < hit.end for other in kept):
            kept.append(hit)
    return sorted(kept, key=lambda hit: hit.start)


def initials_warnings(text: str, names=()) -> list[Hit]:
    """The same check under the name other modules were written against."""
    return identifying_details(text, names)


def hits_digest(hits_by_field: dict[str, list[Hit]]) -> str:
    """A short fingerprint of what was shown to the writer. Their "I have checked" stands only
    for exactly these findings: text changed to say something else identifying asks again."""
    shown = sorted(
        (field, hit.kind, hit.text.casefold())
        for field, hits in hits_by_field.items()
        for hit in hits
    )
    return hashlib.sha256(repr(shown).encode()).hexdigest()[:16]


def marked_text(text: str, hits: list[Hit]) -> SafeString:
    """The text, escaped, with each finding in a <mark> (for the page that asks the writer)."""
    pieces, at = [], 0
    for hit in sorted(hits, key=lambda hit: hit.start):
        pieces.append(format_html("{}<mark>{}</mark>", text[at : hit.start], hit.text))
        at = hit.end
    pieces.append(format_html("{}", text[at:]))
    return format_html_join("", "{}", ((piece,) for piece in pieces))


# --- In front of a form --------------------------------------------------------------------------

CHECKED_FIELD = "not_identifying"
SHOWN_FIELD = "identifying_shown"


@dataclass(frozen=True)
class Finding:
    """One field's findings, for the template: the field, its text marked up, each hit."""

    field: forms.BoundField
    marked: SafeString
    hits: list[Hit]


class IdentifyingDetailsFormMixin:
    """The initials-only guard in front of a form's free-text fields.

    Name the fields in `identifying_fields` (or override `identifying_field_names`) and pass the
    participant's names as `names=`. When something is found, each field gets an error saying
    what, the page shows the text with each finding highlighted (`identifying_report`, rendered
    by templates/_identifying_details.html), and the form is valid only once the writer has
    changed the text or ticked "I have checked: these are not identifying" for exactly those
    findings. What was typed stays in the form either way. `check_identifying=False` (a draft)
    skips the check; `identifying_confirmed` says whether the writer ticked.
    """

    identifying_fields: tuple[str, ...] = ()

    def __init__(self, *args, names=(), check_identifying: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.identifying_names = tuple(name for name in names if name)
        self.check_identifying = check_identifying
        self.identifying_hits: dict[str, list[Hit]] = {}
        self.identifying_confirmed = False
        self.fields[CHECKED_FIELD] = forms.BooleanField(
            required=False, label="I have checked: these are not identifying"
        )
        self.fields[SHOWN_FIELD] = forms.CharField(required=False, widget=forms.HiddenInput)

    def identifying_field_names(self) -> list[str]:
        return [name for name in self.identifying_fields if name in self.fields]

    def clean(self):
        cleaned = super().clean()
        # Cleaned first, so a bidi override cannot hide a name from the check below.
        for name in self.identifying_field_names():
            if isinstance(cleaned.get(name), str):
                cleaned[name] = clean_free_text(cleaned[name])
        if not self.check_identifying:
            return cleaned
        hits: dict[str, list[Hit]] = {}
        self._identifying_texts: dict[str, str] = {}
        for name in self.identifying_field_names():
            value = cleaned.get(name)
            found = (
                identifying_details(value, self.identifying_names) if isinstance(value, str) else []
            )
            if found:
                hits[name], self._identifying_texts[name] = found, value
        self.identifying_hits = hits
        if not hits:
            return cleaned
        digest = hits_digest(hits)
        if cleaned.get(CHECKED_FIELD) and cleaned.get(SHOWN_FIELD) == digest:
            self.identifying_confirmed = True
            return cleaned
        for name, found in hits.items():
            self.add_error(
                name,
                "This may identify someone: "
                + "; ".join(f"“{hit.text}” ({hit.reason})" for hit in found)
                + ". Change it, or tick “I have checked” above if it does not.",
            )
        # The page shown next carries what it asks about; a tick given for other findings (the
        # text changed since) does not count, so the box starts empty again.
        data = self.data.copy()
        data[self.add_prefix(SHOWN_FIELD)] = digest
        if cleaned.get(SHOWN_FIELD) != digest:
            data.pop(self.add_prefix(CHECKED_FIELD), None)
        self.data = data
        return cleaned

    @property
    def identifying_report(self) -> list[Finding]:
        if self.is_bound and self.identifying_confirmed:
            return []
        return [
            Finding(
                field=self[name], marked=marked_text(self._identifying_texts[name], hits), hits=hits
            )
            for name, hits in self.identifying_hits.items()
        ]
