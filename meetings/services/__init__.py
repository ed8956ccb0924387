"""Meetings and the lone-working safety net.

The truth lives in the database. Each meeting carries `next_alert_at`, the instant its next
alert falls due; a sweep every 10 s (Celery beat) raises whatever is due through a partial
index, and a UniqueConstraint(meeting, level) makes a duplicate alert impossible even with two
sweepers. Messages go through the outbox (buddyscheme.notifications). No Celery ETA timers.

One module per subject: `rules` (settings, grace, watches), `booking`, `buttons` (the buddy's
check-in, extend, check-out and help), `alerts` (raise, acknowledge, resolve, all-clear),
`sweep` and `calendar` (the buddy's private feed address); `debriefs` (after each meeting);
`duress` (the buddy's PINs and the
duress check-out), `locations` (the phone's position, kept only with a help or duress alert)
and `sms_replies` (checking out or asking for help by text); `venues` and `rota` (the
coordinator's settings pages: venues with their risk assessments, the on-call rota and its
gaps). Callers import from `meetings.services`.
"""

from .alerts import (
    TEMPLATE_FOR,
    alert_acknowledge,
    alert_resolve,
    alert_send_now,
    alert_send_soon,
    on_call_responders,
    recipients,
)
from .booking import (
    booking_problems,
    cover_ends_before,
    default_key_holder,
    meeting_book,
    meeting_cancel,
    meeting_rearrange_ask,
    meeting_reschedule,
    on_call_covers,
)
from .buttons import (
    OwnMeeting,
    meeting_check_in,
    meeting_check_out,
    meeting_extend,
    meeting_help,
    meeting_safe_now,
)
from .calendar import calendar_feed_create, calendar_feed_reset
from .debriefs import (
    Action,
    DebriefContent,
    boundary_questions_ensure,
    carried_items,
    debrief_feedback,
    debrief_follow_up_set,
    debrief_open,
    debrief_save_draft,
    debrief_send,
    debriefs_remind,
)
from .duress import (
    PinNeeded,
    PinNotRight,
    TooManyWrongPins,
    buddy_pins_set,
    buddy_safety,
    check_out_options,
    meeting_check_out_with_pin,
)
from .interview import interview_arrange
from .locations import (
    Position,
    alert_location_record,
    location_sharing_allowed,
    location_sharing_set,
    locations_expire,
    position_from,
)
from .rota import (
    on_call_shift_create,
    on_call_shift_delete,
    on_call_shift_update,
    rota_week,
    week_start,
)
from .rules import (
    EXTENSIONS,
    MATCH_STATES_THAT_MEET,
    check_in_window,
    grace,
    last_response_needed,
    lone_working,
    lone_working_to_read,
    lone_working_update,
    spoken_time,
)
from .sms_replies import SmsAnswer, buddies_with_number, sms_reply_receive
from .supervision import supervision_arrange
from .sweep import REMINDER_TEMPLATES, mark_missed, sweep
from .training import (
    invitable_people,
    my_training,
    session_invitations,
    training_answer,
    training_attendance_record,
    training_due,
    training_invite,
    training_session_create,
    training_sessions_for,
    upcoming_invitations,
)
from .venues import (
    venue_create,
    venue_meetings_still_booked,
    venue_review_overdue,
    venue_update,
    venues_for_scheme,
)

__all__ = [
    "OwnMeeting",
    "Action",
    "DebriefContent",
    "boundary_questions_ensure",
    "carried_items",
    "debrief_feedback",
    "debrief_follow_up_set",
    "debrief_open",
    "debrief_save_draft",
    "debrief_send",
    "debriefs_remind",
    "EXTENSIONS",
    "MATCH_STATES_THAT_MEET",
    "REMINDER_TEMPLATES",
    "TEMPLATE_FOR",
    "PinNeeded",
    "PinNotRight",
    "Position",
    "SmsAnswer",
    "TooManyWrongPins",
    "alert_acknowledge",
    "alert_send_now",
    "alert_send_soon",
    "alert_location_record",
    "alert_resolve",
    "booking_problems",
    "check_in_window",
    "buddies_with_number",
    "buddy_pins_set",
    "buddy_safety",
    "check_out_options",
    "cover_ends_before",
    "calendar_feed_create",
    "calendar_feed_reset",
    "default_key_holder",
    "grace",
    "last_response_needed",
    "location_sharing_allowed",
    "location_sharing_set",
    "locations_expire",
    "lone_working",
    "lone_working_to_read",
    "lone_working_update",
    "mark_missed",
    "meeting_book",
    "meeting_cancel",
    "meeting_rearrange_ask",
    "meeting_check_in",
    "meeting_check_out",
    "meeting_check_out_with_pin",
    "meeting_extend",
    "meeting_help",
    "meeting_reschedule",
    "meeting_safe_now",
    "on_call_covers",
    "on_call_shift_create",
    "on_call_shift_delete",
    "on_call_shift_update",
    "on_call_responders",
    "position_from",
    "recipients",
    "rota_week",
    "spoken_time",
    "sms_reply_receive",
    "supervision_arrange",
    "interview_arrange",
    "my_training",
    "session_invitations",
    "training_answer",
    "training_attendance_record",
    "training_due",
    "training_invite",
    "training_session_create",
    "training_sessions_for",
    "invitable_people",
    "upcoming_invitations",
    "sweep",
    "venue_create",
    "venue_meetings_still_booked",
    "venue_review_overdue",
    "venue_update",
    "venues_for_scheme",
    "week_start",
]
