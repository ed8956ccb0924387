"""`{% nav_url 'name' %}`: `{% url %}` for a link with no arguments, reversed once per process.

Every signed-in page draws the menu: a coordinator's holds about thirty links, and reversing
them on each request was a fifth of a cached dashboard's time (measured with cProfile). A
name with no arguments always reverses to the same path under the same script prefix, so it is
kept per (name, prefix); anything with arguments still goes through `{% url %}`.
"""

from functools import lru_cache

from django import template
from django.urls import get_script_prefix, reverse

register = template.Library()


@lru_cache(maxsize=256)
def _reversed(name: str, prefix: str) -> str:
    return reverse(name)


@register.simple_tag
def nav_url(name: str) -> str:
    return _reversed(name, get_script_prefix())
