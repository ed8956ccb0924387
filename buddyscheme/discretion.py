"""Discretion on participants' pages: the words that say what someone lives with (HIV, a
diagnosis, medication: each scheme lists its own) are never in a page's title or headings,
and appear only after a tap, in small type. Someone may be looking over their shoulder.

`discreet_html` turns a text into the masked words plus a <details> that shows it in full.
"""

import re

from django.utils.html import format_html

MASK = "…"


def sensitive_pattern(words: list[str]) -> re.Pattern | None:
    """One case-insensitive pattern for whole words (and phrases) of the list, or None."""
    words = sorted({word.strip() for word in words if word.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)", re.IGNORECASE
    )


def is_sensitive(text: str, words: list[str]) -> bool:
    pattern = sensitive_pattern(words)
    return bool(pattern and pattern.search(text or ""))


def masked(text: str, words: list[str]) -> str:
    """ "Living well after diagnosis" -> "Living well after …"."""
    pattern = sensitive_pattern(words)
    return pattern.sub(MASK, text) if pattern else text


def discreet_html(text: str, words: list[str]):
    """The text as it is when it holds no sensitive word; otherwise the masked words and a
    tap to show the whole text in small type. Safe HTML either way (the text is escaped)."""
    text = text or ""
    if not is_sensitive(text, words):
        return format_html("{}", text)
    return format_html(
        '<span class="discreet-masked">{}</span> '
        '<details class="discreet"><summary>show in full</summary>'
        '<span class="small">{}</span></details>',
        masked(text, words),
        text,
    )
