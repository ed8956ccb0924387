"""The scheme's lone-working settings and the grace a venue allows."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.selectors import SettingsSection, settings_sections

from ..models import (
    LoneWorkingSettings,
    Meeting,
    RiskRating,
)

EXTENSIONS = (15, 30, 60)
MATCH_STATES_THAT_MEET = ("introduced", "active", "ending")


def lone_working(scheme) -> LoneWorkingSettings:
    config, _ = LoneWorkingSettings.objects.get_or_create(scheme=scheme)
    return config


def lone_working_to_read(scheme) -> LoneWorkingSettings:
    """The scheme's settings for a page to show, without writing: the defaults until saved."""
    return LoneWorkingSettings.objects.filter(scheme=scheme).first() or LoneWorkingSettings(
        scheme=scheme
    )


def grace(meeting_or_venue, config: LoneWorkingSettings) -> timedelta:
    venue = getattr(meeting_or_venue, "venue", meeting_or_venue)
    minutes = (
        config.high_risk_grace_minutes
        if venue.risk_rating == RiskRating.HIGH
        else config.grace_minutes
    )
    return timedelta(minutes=minutes)


def last_response_needed(meeting_or_venue, end, config: LoneWorkingSettings, extension=None):
    """The last moment someone may have to respond for a meeting ending at `end`: extended by
    `extension` (the most the scheme allows unless given), then the grace, then two rounds of
    escalation before the alert reaches every on-call responder."""
    if extension is None:
        extension = timedelta(minutes=config.max_extension_minutes)
    return (
        end
        + extension
        + grace(meeting_or_venue, config)
        + 2 * timedelta(minutes=config.escalation_minutes)
    )


def new_watch(meeting: Meeting) -> None:
    """Check-in, extension and reschedule start a new watch: escalation restarts at the bottom."""
    meeting.cycle += 1
    meeting.alert_level = 0


def check_in_window(meeting: Meeting, config: LoneWorkingSettings) -> tuple[datetime, datetime]:
    """When "I've arrived" opens and closes: a short while before the planned start (a buddy
    early at the café) until the planned end. Outside it a tap is a mistake, such as pressing
    on Saturday for Monday's meeting, which would start a watch nobody expects."""
    opens = meeting.planned_start - timedelta(minutes=config.check_in_opens_minutes)
    return opens, meeting.planned_end


# A phone's clock may run a little fast; beyond this its time is not believed.
DEVICE_CLOCK_SKEW = timedelta(minutes=2)
# A press saved with no signal is honoured when it arrives, but its time only within this.
DEVICE_TIME_OLDEST = timedelta(hours=12)


def pressed_at(
    meeting: Meeting, device_at: datetime | None, now: datetime, config: LoneWorkingSettings
) -> datetime | None:
    """When the buddy pressed, by the phone's clock, if that can be believed: a press saved
    with no signal reaches us later. Not believed when it is in the future (beyond a little
    skew), older than 12 hours, or before the meeting's check-in window opened (a phone's clock
    set wrong); then the arrival time stands. Never later than now."""
    if device_at is None:
        return None
    opens, _ = check_in_window(meeting, config)
    if device_at > now + DEVICE_CLOCK_SKEW or device_at < max(now - DEVICE_TIME_OLDEST, opens):
        return None
    return min(device_at, now)


def spoken_time(moment: datetime, scheme, now: datetime | None = None) -> str:
    """The time as a buddy reads it, in the scheme's zone: "09:30" when it is today, else
    "09:30 on Monday 30 November" (always with the day when there is no `now`: messages are
    read later)."""
    local = timezone.localtime(moment, scheme.zone)
    if now is not None and local.date() == timezone.localtime(now, scheme.zone).date():
        return f"{local:%H:%M}"
    return f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"


def calendar_changed(meeting: Meeting, now: datetime) -> list[str]:
    """The buddy's calendar must show this change: a higher SEQUENCE and a new DTSTAMP.
    Returns the fields to save."""
    meeting.sequence += 1
    meeting.updated_at = now
    return ["sequence", "updated_at"]


LONE_WORKING_FIELDS = (
    "grace_minutes",
    "high_risk_grace_minutes",
    "escalation_minutes",
    "reminder_before_minutes",
    "check_in_opens_minutes",
    "max_extension_minutes",
    "check_out_pin_required",
    "location_retention_days",
)


def lone_working_settings_save(
    *, scheme, by, allowed: tuple[str, ...], verb: str, fields: dict
) -> LoneWorkingSettings:
    """Change some of the scheme's LoneWorkingSettings (only the `allowed` ones), validated,
    under a row lock, and audited as `verb`. The safety timings and the pattern flags' settings
    (meetings.patterns) share the row and this one way of saving it."""
    if set(fields) - set(allowed):
        raise DomainError("Those settings cannot be changed here.")
    with transaction.atomic():
        lone_working(scheme)
        config = LoneWorkingSettings.objects.select_for_update().get(scheme=scheme)
        for name, value in fields.items():
            setattr(config, name, value)
        config.full_clean()
        config.save(update_fields=list(fields))
        audit_record(actor=by, verb=verb, obj=config, scheme=scheme)
    return config


def lone_working_update(*, scheme, by, **fields) -> LoneWorkingSettings:
    """Change the scheme's safety timings. Watches already running keep the deadline they were
    given; the new timings apply from the next check-in, extension or booking."""
    return lone_working_settings_save(
        scheme=scheme, by=by, allowed=LONE_WORKING_FIELDS, verb="lone_working_update", fields=fields
    )


@receiver(settings_sections)
def _safety_timings_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    config = lone_working_to_read(scheme)
    return [
        SettingsSection(
            position=50,
            title="Safety timings",
            url_name="meetings:settings_safety",
            summary=f"An alert {config.grace_minutes} minutes after a meeting should have ended "
            f"({config.high_risk_grace_minutes} at high-risk venues), then every "
            f"{config.escalation_minutes} minutes to the next level",
        )
    ]
