"""How long a subject-access export takes for a busy buddy (README figure).

Run against a seeded demo database (your own BUDDY_VAR_DIR):
    .venv/bin/python manage.py shell -c "exec(open('scripts/subject_access_timing.py').read())"
Gives buddy1 of the demo 2,000 finished meetings with debriefs, 1,000 messages, 300 case notes
and a signed agreement, builds the export, prints the time (wall and CPU), the rows and the size, and rolls
every added row back.
"""

import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from buddyscheme.models import CaseNote, Membership, Role
from evaluation.subject_access import subject_access_export, subject_access_gather
from matching.models import Match
from meetings.models import Debrief, Meeting, Venue
from messaging.models import Message
from messaging.services import message_to_coordinators

MEETINGS, MESSAGES, NOTES = 2000, 1000, 300


class RolledBack(Exception):
    pass


try:
    with transaction.atomic():
        buddy = Membership.objects.get(user__email="buddy1@example.org", role=Role.BUDDY)
        coordinator = Membership.objects.filter(scheme=buddy.scheme, role=Role.COORDINATOR).first()
        match = Match.objects.filter(buddy=buddy).first()
        place = Venue.objects.filter(scheme=buddy.scheme).first()
        start = timezone.now() - timedelta(days=MEETINGS)
        meetings = Meeting.objects.bulk_create(
            Meeting(
                scheme=buddy.scheme,
                buddy=buddy,
                match=match,
                venue=place,
                purpose="Coffee and a walk",
                planned_start=start + timedelta(days=day),
                planned_end=start + timedelta(days=day, hours=1),
                expected_end=start + timedelta(days=day, hours=1),
                state="checked_out",
                checked_in_at=start + timedelta(days=day),
                checked_out_at=start + timedelta(days=day, hours=1),
            )
            for day in range(MEETINGS)
        )
        Debrief.objects.bulk_create(
            Debrief(
                meeting=meeting,
                opened_at=meeting.checked_out_at,
                state="sent",
                sent_at=meeting.checked_out_at,
                how_it_went=4,
                what_happened="We walked to the park and talked about the week.",
            )
            for meeting in meetings
        )
        first = message_to_coordinators(member=buddy, text="Message 0: running a bit late.")
        Message.objects.bulk_create(
            Message(
                conversation=first.conversation,
                sender=buddy,
                side=first.side,
                text=f"Message {number}: running a bit late.",
            )
            for number in range(1, MESSAGES)
        )
        CaseNote.objects.bulk_create(
            CaseNote(membership=buddy, text=f"Note {n}: J. doing well.") for n in range(NOTES)
        )
        began, began_cpu = time.perf_counter(), time.process_time()
        name, content = subject_access_export(membership=buddy, by=coordinator.user)
        took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        rows = subject_access_gather(membership=buddy, viewer=coordinator.user).count()
        print(
            f"subject access for a buddy with {rows} rows: {took:.1f} s wall, {took_cpu:.1f} s CPU, "
            f"{len(content) // 1024} KiB"
        )
        raise RolledBack
except RolledBack:
    pass
