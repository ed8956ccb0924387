"""Signals other parts of the project may subscribe to, defined here so that subscribing never
imports the services that send them."""

import django.dispatch

# Sent once a debrief is sent (by the buddy, or recorded by a coordinator on their behalf),
# after the transaction that saved it has committed. Arguments: `debrief` (a Debrief, its
# meeting, buddy and match loaded) and `by` (who sent it). The concern workflow hangs here: a
# debrief whose `worried_about` is set, or whose `concerns` field has text, should raise a
# concern (safeguarding about the participant, or the buddy's own wellbeing).
debrief_sent = django.dispatch.Signal()

# Sent at check-out, before the meeting's debrief opens. Argument: `meeting`. A receiver that
# answers True says the debrief of this meeting is written elsewhere, and no one-to-one debrief
# opens: a group session's facilitators write one group debrief together (groups app).
debrief_elsewhere = django.dispatch.Signal()
