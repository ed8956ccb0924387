"""Phone numbers and text messages in templates.

`{% sms %}…{% endsms %}` wraps every templates/notifications/*/sms.txt: the message comes out
in GSM-7 basic characters and at most 160 of them, shortening the parts marked `|shorten`.
"""

from django import template

from buddyscheme.sms import fit_sms, shortenable

register = template.Library()


@register.filter
def tel(value) -> str:
    """Only the digits and a leading plus: what a tel: link needs."""
    value = str(value or "").strip()
    digits = "".join(character for character in value if character.isdigit())
    return ("+" + digits) if value.startswith("+") else digits


@register.filter
def shorten(value) -> str:
    """A part of a text message that may be cut short to make it fit (names, places)."""
    return shortenable(str(value or ""))


class SMSNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        # Plain text: no HTML escaping ("Tea & Talk" stays as it is).
        autoescape, context.autoescape = context.autoescape, False
        try:
            return fit_sms(self.nodelist.render(context))
        finally:
            context.autoescape = autoescape


@register.tag
def sms(parser, token):
    nodelist = parser.parse(("endsms",))
    parser.delete_first_token()
    return SMSNode(nodelist)
