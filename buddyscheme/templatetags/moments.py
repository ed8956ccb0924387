"""`{{ moment|moment }}`: the time alone today, with the day otherwise, in the page's zone."""

from django import template
from django.utils import timezone

from buddyscheme.localtime import moment_label

register = template.Library()


@register.filter
def moment(value):
    if not value:
        return ""
    return moment_label(value, timezone.get_current_timezone(), timezone.now())
