"""The scheme's lone-working settings and the grace a venue allows."""

from __future__ import annotations

from datetime import timedelta

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
