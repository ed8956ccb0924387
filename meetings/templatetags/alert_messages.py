"""What staff and on-call messages say about an alert, filled in when the message is sent.

The outbox holds ids only (templates/notifications/*: `meeting_id`, `alert_id`,
`recipient_id`); `{% alert_facts as a %}` reads the rest as the message leaves, so the buddy's
name and phone never sit in the outbox, a time carries its date whenever it is not on the day
the message leaves, and the link is signed, when it leaves, for the person it goes to.

Said: the buddy's first name and phone, the venue's name and area, the times. Never said:
the participant, the purpose, the address, anything about anyone's health.
"""

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from buddyscheme.localtime import moment_label

from ..access import responder_link_token
from ..selectors import alert_for_message, meeting_for_message, membership_for_message

register = template.Library()


@dataclass
class AlertFacts:
    first_name: str
    phone: str  # as the buddy typed it, for emails
    phone_text: str  # compact, for texts: "07700900123"
    venue: str
    area: str
    starts: str
    ends: str
    span: str  # "10:00-11:00"; the end's day only when it is another day than the start's
    extended: bool
    raised: str  # when the alert was raised ("" for the all-clear)
    link: str


def _phone_for_text(phone: str) -> str:
    digits = "".join(character for character in phone if character.isdigit())
    if phone.strip().startswith("+"):
        # UK schemes: +44 7700 900123 reads (and dials) as 07700900123.
        return "0" + digits[2:] if digits.startswith("44") else "+" + digits
    return digits


def _link(site_url: str, alert_id, recipient_id) -> str:
    if not alert_id:
        return ""
    if recipient_id:
        token = responder_link_token(alert_id, recipient_id)
        return site_url + reverse("meetings:responder_link", args=[token])
    # Queued before links were signed per person: the page itself (it asks for the login too).
    return site_url + reverse("meetings:responder", args=[alert_id])


@register.simple_tag(takes_context=True)
def alert_facts(context) -> AlertFacts:
    site_url = context.get("site_url") or settings.SITE_URL
    alert_id, meeting_id = context.get("alert_id"), context.get("meeting_id")
    link = _link(site_url, alert_id, context.get("recipient_id"))
    alert = alert_for_message(alert_id) if alert_id else None
    meeting = alert.meeting if alert else meeting_for_message(meeting_id)
    if meeting is None:  # deleted since: the message still goes, and says what it can
        return AlertFacts("a buddy", "", "", "the venue", "", "", "", "", False, "", link)
    user = meeting.buddy.user
    profile = getattr(user, "profile", None)
    phone = profile.phone if profile else ""
    first_name = (profile.preferred_name if profile else "") or user.first_name or "the buddy"
    zone, now = meeting.scheme.zone, timezone.now()

    def label(moment, day=now):
        return moment_label(moment, zone, day, weekday=False)

    return AlertFacts(
        first_name=first_name.strip(),
        phone=phone,
        phone_text=_phone_for_text(phone),
        venue=meeting.venue.name,
        area=meeting.venue.area,
        starts=label(meeting.planned_start),
        ends=label(meeting.expected_end),
        span=f"{label(meeting.planned_start)}-{label(meeting.expected_end, meeting.planned_start)}",
        extended=meeting.expected_end != meeting.planned_end,
        raised=label(alert.raised_at) if alert else "",
        link=link,
    )


@dataclass
class BuddyFacts:
    first_name: str
    phone: str
    phone_text: str
    link: str


@register.simple_tag(takes_context=True)
def buddy_facts(context) -> BuddyFacts:
    """For a notice about a buddy with no alert to open (a HELP text with no appointment in
    progress): who to phone. Read as the message leaves, like alert_facts."""
    site_url = context.get("site_url") or settings.SITE_URL
    membership = membership_for_message(context.get("membership_id"))
    if membership is None:
        return BuddyFacts("a buddy", "", "", "")
    profile = getattr(membership.user, "profile", None)
    phone = profile.phone if profile else ""
    first_name = (profile.preferred_name if profile else "") or membership.user.first_name
    return BuddyFacts(
        first_name=(first_name or "a buddy").strip(),
        phone=phone,
        phone_text=_phone_for_text(phone),
        link=site_url + reverse("meetings:board"),
    )
