"""Text messages that fit one SMS: 160 characters of the GSM-7 basic set.

One character outside that set (a curly apostrophe, "ë", an emoji) turns the whole message
into UCS-2, where one SMS holds only 70; a message over the limit goes as several, which
some phones show late or out of order. So every text is made of GSM-7 basic characters, and
the parts of it that may be shortened (names, places) are shortened until it fits.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

SMS_LENGTH = 160

# GSM 03.38 basic character set (the escape to the extension table left out: its characters
# count twice).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_LOOKALIKES = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "…": "...",
    "€": "EUR",
    "[": "(",
    "]": ")",
    "{": "(",
    "}": ")",
    "~": "-",
    "\\": "/",
    "|": "/",
    "^": "",
    "\u00a0": " ",
}

# Marks around a part that may be shortened (private-use characters: never in real text).
SHORTEN_START, SHORTEN_END = "\ue000", "\ue001"
_SHORTENABLE = re.compile(f"{SHORTEN_START}(.*?){SHORTEN_END}", re.DOTALL)
SHORTEST = 3  # a part is never cut below this: "Sam", "Caf"


def gsm7(text: str) -> str:
    """The text in GSM-7 basic characters: accents dropped where the set lacks them ("ë" to
    "e", "ç" to "c"), typographic quotes and dashes made plain, anything else a "?"."""
    out = []
    for character in str(text):
        if character in GSM7_BASIC:
            out.append(character)
        elif character in _LOOKALIKES:
            out.append(_LOOKALIKES[character])
        else:
            base = "".join(
                part
                for part in unicodedata.normalize("NFKD", character)
                if not unicodedata.combining(part)
            )
            out.append(base if base and all(part in GSM7_BASIC for part in base) else "?")
    return "".join(out)


def validate_gsm7(value: str) -> None:
    """For what goes into every text as typed (the scheme's sender name): plain characters."""
    outside = sorted({character for character in value if character not in GSM7_BASIC})
    if outside:
        raise ValidationError(
            "Use plain letters, digits and punctuation: %(characters)s cannot go in a text "
            "message (it would be sent as several).",
            params={"characters": " ".join(outside)},
        )


def shortenable(text: str) -> str:
    """Mark a part (a name, a place) that `fit_sms` may shorten when the message is too long."""
    return f"{SHORTEN_START}{text}{SHORTEN_END}"


def fit_sms(text: str, limit: int = SMS_LENGTH) -> str:
    """One SMS: GSM-7 basic characters, spaces collapsed, and the marked parts shortened
    (the longest first: its last word, or its last letter when a word is too much) until the
    whole is at most `limit`."""
    pieces: list[list] = []  # [text, may be shortened]
    position = 0
    for found in _SHORTENABLE.finditer(text):
        pieces.append([text[position : found.start()], False])
        pieces.append([found.group(1), True])
        position = found.end()
    pieces.append([text[position:], False])
    for piece in pieces:
        piece[0] = gsm7(" ".join(piece[0].split()) if piece[1] else piece[0])
    joined = _join(pieces)
    while len(joined) > limit:
        longest = max(
            (piece for piece in pieces if piece[1]), key=lambda p: len(p[0]), default=None
        )
        if longest is None or len(longest[0]) <= SHORTEST:
            break  # nothing left to shorten: the test over every template catches this
        next_longest = max(
            (len(piece[0]) for piece in pieces if piece[1] and piece is not longest), default=0
        )
        longest[0] = _shorter(longest[0], next_longest)
        joined = _join(pieces)
    return joined


def _shorter(part: str, keep: int) -> str:
    """`part` without its last word, unless that leaves it shorter than `keep` (the next
    longest part: it is that one's turn then): without its last letter."""
    words = part.split()
    without_word = " ".join(words[:-1]).rstrip(" ,.-'(")
    if len(words) > 1 and len(without_word) >= keep:
        return without_word
    return part[:-1].rstrip(" ,.-'(") or part[:-1]


def _join(pieces) -> str:
    return " ".join("".join(piece[0] for piece in pieces).split())
