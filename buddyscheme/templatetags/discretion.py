"""{% discreet text %}: a text shown discreetly on participants' pages (buddyscheme.discretion).

The words come from the scheme the person is acting in; coordinators see everything as it is.
"""

from django import template
from django.utils.html import format_html

from ..discretion import discreet_html
from ..models import Role

register = template.Library()


@register.simple_tag(takes_context=True)
def discreet(context, text):
    membership = context.get("membership")
    if membership is None or membership.role == Role.COORDINATOR:
        return format_html("{}", text or "")
    return discreet_html(str(text or ""), membership.scheme.sensitive_word_list)
