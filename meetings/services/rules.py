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


def new_watch(meeting: Meeting) -> None:
    """Check-in, extension and reschedule start a new watch: escalation restarts at the bottom."""
    meeting.cycle += 1
    meeting.alert_level = 0
