"""The one place a message's words come from: its templates, in
templates/notifications/<name>/ (subject.txt, body.txt, and sms.txt for one that may go by text;
body.html when it has its own HTML, otherwise notifications/body.html wraps the text); and the
answers to a text someone sent us, in templates/sms_replies/<name>.txt.

The sender is the scheme's discreet sender name, never the charity's or the condition's name.
"""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def _with_scheme(context: dict, scheme) -> dict:
    return {"scheme": scheme, "site_url": settings.SITE_URL, **context}


def email_build(*, template: str, context: dict, scheme, to: str) -> EmailMultiAlternatives:
    folder, context = f"notifications/{template}", _with_scheme(context, scheme)
    subject = " ".join(render_to_string(f"{folder}/subject.txt", context).split())
    text = render_to_string(f"{folder}/body.txt", context)
    html = render_to_string(
        [f"{folder}/body.html", "notifications/body.html"], {**context, "text": text}
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((scheme.sender_name, settings.DEFAULT_FROM_EMAIL)),
        to=[to],
    )
    message.attach_alternative(html, "text/html")
    return message


def sms_build(*, template: str, context: dict, scheme) -> str:
    text = render_to_string(f"notifications/{template}/sms.txt", _with_scheme(context, scheme))
    return " ".join(text.split())


def sms_reply_build(*, template: str, scheme=None) -> str:
    """The text sent back to a reply (signed with the scheme's sender name, or none when the
    number is unknown: nothing may say whose number it might have been)."""
    text = render_to_string(f"sms_replies/{template}.txt", _with_scheme({}, scheme))
    return " ".join(text.split())
