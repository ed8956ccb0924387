"""Filters for phone numbers and text messages: `tel` (for a tel: link)."""

from django import template

register = template.Library()


@register.filter
def tel(value) -> str:
    """Only the digits and a leading plus: what a tel: link and a text message need."""
    value = str(value or "").strip()
    digits = "".join(character for character in value if character.isdigit())
    return ("+" + digits) if value.startswith("+") else digits
