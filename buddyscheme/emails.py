"""The one helper that turns a message template into an email.

Templates live in templates/emails/<name>/{subject.txt,body.txt,body.html}. The sender is the
scheme's discreet sender name, never the charity's or the condition's name.
"""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render_email(name: str, context: dict) -> tuple[str, str, str]:
    subject = " ".join(render_to_string(f"emails/{name}/subject.txt", context).split())
    text = render_to_string(f"emails/{name}/body.txt", context)
    html = render_to_string(f"emails/{name}/body.html", context)
    return subject, text, html


def send_email(name: str, to: str, context: dict, scheme=None) -> None:
    context = {"scheme": scheme, "site_url": settings.SITE_URL, **context}
    subject, text, html = render_email(name, context)
    sender_name = scheme.sender_name if scheme else "Appointments"
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((sender_name, settings.DEFAULT_FROM_EMAIL)),
        to=[to],
    )
    message.attach_alternative(html, "text/html")
    message.send()


def render_notification(notification) -> tuple[str, str, str, str]:
    """Subject, text, HTML and SMS wording for an outbox row, from templates/notifications/."""
    context = {"scheme": notification.scheme, "site_url": settings.SITE_URL, **notification.context}
    name = f"notifications/{notification.template}"
    subject = " ".join(render_to_string(f"{name}/subject.txt", context).split())
    text = render_to_string(f"{name}/body.txt", context)
    html = render_to_string("notifications/body.html", {**context, "text": text})
    sms = " ".join(render_to_string(f"{name}/sms.txt", context).split())
    return subject, text, html, sms
