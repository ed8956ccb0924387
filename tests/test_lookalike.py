"""Two schemes with look-alike data: nobody in scheme A sees a row of scheme B, and a buddy or
participant never sees another match's (issue 21, "Access").

Scheme B is built by the URL matrix's own seeding (`MatrixCase._objects`) run for B's personas,
so it has the same kinds of rows: the same venue names ("Library", "Corner café"), the same
texts ("Coffee", "Running late."), matches in every state, and buddy and participant personas
with the same first names as scheme A's. What tells B apart is a surname, an email domain
and a scheme name, all "Brackwater", plus a few typed texts carrying it. In scheme A, one more
match (buddy and participant "Farthingale", a meeting and messages saying so) belongs to
nobody who logs in: A's buddy and participant must not see it either.

Every GET route of the matrix is fetched as each of scheme A's logged-in roles, and every
export the matrix names (CSV, XLSX, PDF, ZIP, ICS; POST ones included), read back as text:
PDFs through pdftotext, ZIPs and XLSX member by member.
"""

import io
import subprocess
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)
from django.contrib.auth.models import Group

from buddyscheme.consent import consent_give
from buddyscheme.models import (
    CaseNote,
    ConsentKind,
    Membership,
    ParticipantEnrolment,
    Role,
    User,
)
from matching.models import Match
from meetings.models import Meeting
from messaging.services import message_to_coordinators

from .factories import MembershipFactory, venue
from .recruitment.helpers import application_arguments
from .test_url_matrix import MATRIX, PERSONAS, MatrixCase

A, C, B, P, O = PERSONAS  # noqa: E741
SCHEME_B_MARKER = "brackwater"
OTHER_MATCH_MARKER = "farthingale"
# Scheme A's participant's special-category notes (consent on record): readable on their
# person page and in their subject-access export by a coordinator, and nowhere else.
SPECIAL_MARKER = "zirconia"
SPECIAL_ALLOWED = ("coordinator/people/<int:pk>/", "coordinator/people/<int:pk>/subject-access/")
# Exports reached by POST (building them is audited); every GET export is found by its route.
POSTED_EXPORTS = (
    "coordinator/evidence/download/",
    "coordinator/people/<int:pk>/subject-access/",
)
EXPORT_TYPES = ("csv", "spreadsheet", "pdf", "zip", "calendar", "octet-stream")


def readable(content: bytes, content_type: str) -> str:
    """The text someone would read in the response: HTML and CSV as they are, a PDF through
    pdftotext, a ZIP or XLSX as the text of every file inside."""
    if content.startswith(b"%PDF"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "file.pdf"
            path.write_bytes(content)
            return subprocess.run(
                ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
            ).stdout
    if content.startswith(b"PK\x03\x04"):
        archive = zipfile.ZipFile(io.BytesIO(content))
        return "\n".join(
            archive.namelist() + [readable(archive.read(name), "") for name in archive.namelist()]
        )
    return content.decode("utf-8", errors="replace")


class LookAlikeSchemesTest(MatrixCase):
    def _scheme_b(self):
        """Scheme B's rows, seeded as scheme A's are, by its own personas (same first names)."""
        b_coordinator = self.other_coordinator_membership
        b_buddy = MembershipFactory(
            scheme=self.other_scheme,
            role=Role.BUDDY,
            user__first_name=self.buddy.first_name,
            user__email="buddy@brackwater.example",
        )
        b_participant = MembershipFactory(
            scheme=self.other_scheme,
            role=Role.PARTICIPANT,
            user__first_name=self.participant.first_name,
            user__email="participant@brackwater.example",
        )
        saved = {
            name: getattr(self, name)
            for name in (
                "scheme",
                "coordinator_membership",
                "buddy_membership",
                "participant_membership",
                "coordinator",
                "buddy",
                "participant",
            )
        }
        self.scheme = self.other_scheme
        self.coordinator_membership, self.coordinator = b_coordinator, b_coordinator.user
        self.buddy_membership, self.buddy = b_buddy, b_buddy.user
        self.participant_membership, self.participant = b_participant, b_participant.user
        try:
            # Names unique across the installation get B's own.
            with (
                mock.patch(
                    "tests.test_url_matrix.application_arguments",
                    lambda: application_arguments(email="sam@brackwater.example"),
                ),
                mock.patch.object(
                    Group.objects, "create", lambda name: Group.objects.get(name=name)
                ),
            ):
                objects = self._objects()
        finally:
            for name, value in saved.items():
                setattr(self, name, value)
        # One more active match in B, its pair with A's personas' first names as well.
        self._mark(
            self.other_scheme,
            SCHEME_B_MARKER,
            MembershipFactory(
                scheme=self.other_scheme, role=Role.BUDDY, user__first_name=self.buddy.first_name
            ),
            MembershipFactory(
                scheme=self.other_scheme,
                role=Role.PARTICIPANT,
                user__first_name=self.participant.first_name,
            ),
        )
        return objects

    def _mark(self, scheme, marker, buddy, participant):
        """Everyone only in `scheme` (or the pair given) gets `marker` as a surname; a meeting,
        a note and a message carry it too."""
        if scheme is not None:
            scheme.name = f"{marker.title()} Befriending"
            scheme.sender_name = marker.title()  # at most 15 characters
            scheme.save()
            people = User.objects.filter(memberships__scheme=scheme).exclude(
                memberships__scheme=self.scheme
            )
        else:
            people = User.objects.filter(pk__in=[buddy.user_id, participant.user_id])
        people.update(last_name=marker.title())
        start = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
        match = Match.objects.create(
            scheme=buddy.scheme, buddy=buddy, participant=participant, state="active"
        )
        Meeting.objects.create(
            scheme=buddy.scheme,
            buddy=buddy,
            match=match,
            venue=venue(buddy.scheme, name="Library", address=f"1 {marker.title()} Road"),
            purpose=f"Walk by the {marker.title()} canal",
            planned_start=start,
            planned_end=start + timedelta(hours=1),
            expected_end=start + timedelta(hours=1),
        )
        CaseNote.objects.create(membership=participant, text=f"Q. likes the {marker} canal.")
        message_to_coordinators(member=participant, text=f"See you at {marker.title()} Road.")
        message_to_coordinators(member=buddy, text=f"Running late to {marker.title()} Road.")

    def _reauthenticated(self, persona):
        user = self.login_as(persona)
        if user is not None:
            session = self.client.session
            session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
            session[AUTHENTICATION_METHODS_SESSION_KEY] = [
                {"method": "password", "at": time.time(), "reauthenticated": True}
            ]
            session.save()

    def test_no_row_of_scheme_b_or_of_another_match_appears(self):
        objects = self._objects()
        self._scheme_b()
        other_buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        other_participant = MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT)
        self._mark(None, OTHER_MATCH_MARKER, other_buddy, other_participant)
        consent_give(
            membership=self.participant_membership,
            kind=ConsentKind.SPECIAL_CATEGORY,
            by=self.coordinator,
        )
        ParticipantEnrolment.objects.filter(membership=self.participant_membership).update(
            sensitive_notes=f"{SPECIAL_MARKER.title()} clinic on Thursdays"
        )
        self.assertTrue(
            Membership.objects.filter(
                scheme=self.other_scheme, user__first_name=self.buddy.first_name
            ).exists()
        )

        leaks, fetched, exports = [], 0, 0
        for route, (method, kwargs_name, _expected) in MATRIX.items():
            if method != "get" and route not in POSTED_EXPORTS:
                continue
            url = self._url(route, kwargs_name, objects)
            for persona in (C, B, P):
                self._reauthenticated(persona)
                response = getattr(self.client, method)(url)
                if response.status_code != 200:
                    continue
                content = (
                    b"".join(response.streaming_content) if response.streaming else response.content
                )
                content_type = response.get("Content-Type", "")
                text = readable(content, content_type).lower()
                fetched += 1
                if any(kind in content_type for kind in EXPORT_TYPES) or route.endswith(
                    (".csv", ".ics", ".xlsx", "pdf/")
                ):
                    exports += 1
                if SCHEME_B_MARKER in text:
                    leaks.append(f"{method.upper()} {url} as {persona}: a row of scheme B")
                if persona in (B, P) and OTHER_MATCH_MARKER in text:
                    leaks.append(f"{method.upper()} {url} as {persona}: another match's row")
                if SPECIAL_MARKER in text and (persona != C or route not in SPECIAL_ALLOWED):
                    leaks.append(f"{method.upper()} {url} as {persona}: special-category notes")
        print(f"\nlook-alike: {fetched} pages and files fetched (URL x role), {exports} exports")
        self.assertGreater(fetched, 150)
        self.assertGreater(exports, 5)
        self.assertEqual(leaks, [], "\n" + "\n".join(leaks))
