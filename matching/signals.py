"""Signals matching sends so higher apps (evaluation, signposting, meetings) can act on a
match's life without matching importing them. Receivers run inside the sender's transaction:
anything that leaves the building (email, text) goes through `transaction.on_commit` or the
outbox."""

import django.dispatch

# A match became active: `match`, `by` (the user who did it), `now`.
match_activated = django.dispatch.Signal()

# A match's review is coming up and its reminders went out: `match`, `now`.
# (Sent once per review, by the review reminder task.)
match_review_due = django.dispatch.Signal()

# A review was recorded: `match`, `review`, `by`, `now`.
match_reviewed = django.dispatch.Signal()

# A match ended: `match` (with `ending_type` set when the ending flow knew it), `by`, `now`.
match_ended = django.dispatch.Signal()

# Asked by the ending flow: when did this match last meet? Receivers (meetings) get `match`
# and return a date or None; the latest answer wins. Lets matching show "last met on" without
# importing the app that keeps meetings.
match_last_met = django.dispatch.Signal()
