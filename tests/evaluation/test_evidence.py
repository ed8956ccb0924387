"""The quality-standard evidence pack: what is in the ZIP, what each file says, and what must
never be in it (names, emails, phones, notes, the other scheme's records)."""

import csv
import io
import re
import subprocess
import zipfile
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from buddyscheme.models import (
    Profile,
    Referral,
    ReferralSource,
    ReferralStatus,
    Scheme,
    Supervision,
    SupervisionMode,
    SupervisionState,
    TrainingCompletion,
    TrainingModule,
    User,
)
from evaluation import evidence
from matching.models import EndingType, Match, MatchEvent, MatchState
from meetings.models import Meeting, MeetingState
from volunteering.models import PackDocument
from volunteering.services import (
    pack_document_add,
    pack_document_mark_read,
    pack_document_replace,
)

from ..base import PersonaTestCase, assert_audited
from ..factories import cleared_buddy, venue, waiting_participant

EXPECTED_FILES = [
    "00-index.pdf",
    "01-scheme-figures.csv",
    "02-policies-and-agreements-read.csv",
    "03-vetting-and-training-by-buddy.csv",
    "04-training-modules.csv",
    "05-supervision-log.csv",
    "06-referrals-by-month.csv",
    "07-matching-reasons.csv",
    "08-reviews-and-endings.csv",
    "09-meetings-and-alerts-by-month.csv",
    "10-safety-records.csv",
    "11-outcome-figures.csv",
    "12-journey-referral-to-ending.csv",
    "12-journey-referral-to-ending.pdf",
]


def _person(membership, first, last, phone):
    user = membership.user
    user.first_name, user.last_name = first, last
    user.save(update_fields=["first_name", "last_name"])
    Profile.objects.update_or_create(user=user, defaults={"phone": phone})


def seed_scheme(scheme, tag: str, interest: str, extra_matches: int = 0):
    """A buddy and a participant with a whole journey (referral, match, meetings, ending),
    training, a supervision with notes, a pack document read. `tag` makes every name, email,
    phone and note unique to the scheme, so a leak or a scheme crossing shows up."""
    now = timezone.now()
    buddy = cleared_buddy(scheme, email=f"buddy.{tag}@example.org", postcode_district="SE5")
    participant = waiting_participant(
        scheme, email=f"participant.{tag}@example.org", postcode_district="SE5"
    )
    _person(buddy, f"Bartholomew{tag}", f"Quillfeather{tag}", f"07700 9{tag}01")
    _person(participant, f"Philippa{tag}", f"Ravensworth{tag}", f"07700 9{tag}02")
    module, _ = TrainingModule.objects.get_or_create(
        scheme=scheme, name="Safeguarding", defaults={"mandatory": True}
    )
    TrainingCompletion.objects.create(
        membership=buddy, module=module, completed_on=timezone.localdate() - timedelta(days=30)
    )
    Supervision.objects.create(
        scheme=scheme,
        buddy=buddy,
        mode=SupervisionMode.PHONE,
        starts_at=now - timedelta(days=20),
        ends_at=now - timedelta(days=20) + timedelta(hours=1),
        state=SupervisionState.HELD,
        held_at=now - timedelta(days=20),
        notes=f"Secret supervision note {tag} about Philippa{tag}",
        notes_written_at=now - timedelta(days=20),
    )
    document = pack_document_add(
        scheme=scheme,
        title="Confidentiality policy",
        category="confidentiality",
        required=True,
        upload=ContentFile(b"Keep it confidential.", name="pack.txt"),
        by=None,
    )
    pack_document_mark_read(document=document, buddy=buddy, version=1)
    Referral.objects.create(
        scheme=scheme,
        membership=participant,
        source=ReferralSource.CLINIC,
        referrer_name=f"Reginald{tag} Referrer",
        referrer_email=f"referrer.{tag}@clinic.example.org",
        person_name=f"Philippa{tag} Ravensworth{tag}",
        person_phone=f"07700 9{tag}02",
        consent_to_contact=True,
        received_at=now - timedelta(days=120),
        assessed_at=now - timedelta(days=115),
        decided_at=now - timedelta(days=110),
        status=ReferralStatus.ENROLLED,
        risks=f"Risk note {tag}",
    )
    match = Match.objects.create(
        scheme=scheme,
        buddy=buddy,
        participant=participant,
        state=MatchState.ENDED,
        score=42,
        reasons=[
            {"label": "Same postcode district (SE5)", "points": 15},
            {"label": f"Shared interests: {interest}", "points": 3},
            {"label": f"Offers what is wanted: chat with Philippa{tag}", "points": 10},
        ],
        created_at=now - timedelta(days=100),
        activated_at=now - timedelta(days=90),
        review_due=timezone.localdate() - timedelta(days=10),
        ended_at=now - timedelta(days=5),
        ending_type=EndingType.PLANNED,
        end_reason=f"Ending note {tag}",
    )
    MatchEvent.objects.create(
        match=match, to_state=MatchState.PROPOSED, at=now - timedelta(days=100), note=tag
    )
    MatchEvent.objects.create(match=match, to_state=MatchState.ACTIVE, at=now - timedelta(days=90))
    MatchEvent.objects.create(match=match, to_state=MatchState.ENDED, at=now - timedelta(days=5))
    place = venue(scheme, name=f"Flat of Philippa{tag}")
    start = now - timedelta(days=60)
    Meeting.objects.create(
        scheme=scheme,
        match=match,
        buddy=buddy,
        venue=place,
        purpose=f"Coffee with Philippa{tag}",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        expected_end=start + timedelta(hours=1),
        state=MeetingState.CHECKED_OUT,
        checked_in_at=start,
        checked_out_at=start + timedelta(minutes=50),
    )
    for number in range(extra_matches):
        other = waiting_participant(scheme, email=f"extra{number}.{tag}@example.org")
        Match.objects.create(
            scheme=scheme,
            buddy=cleared_buddy(scheme, email=f"extra-buddy{number}.{tag}@example.org"),
            participant=other,
            state=MatchState.ACTIVE,
            activated_at=now - timedelta(days=10),
            review_due=timezone.localdate() + timedelta(days=170),
            reasons=[{"label": "Both free for 4 hours a week", "points": 4}],
        )
    return buddy, participant


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name.removeprefix("evidence-pack/"): archive.read(name) for name in archive.namelist()
        }


def pdf_text(content: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def readable(files: dict[str, bytes]) -> dict[str, str]:
    return {
        name: pdf_text(body) if name.endswith(".pdf") else body.decode("utf-8")
        for name, body in files.items()
    }


def rows(files: dict[str, bytes], name: str) -> list[list[str]]:
    return list(csv.reader(StringIO(files[name].decode("utf-8"))))


def assert_absent(values: list[str], files: dict[str, str]) -> None:
    """Each value as a whole word, so "Dev" is not found in "develop"."""
    for name, text in files.items():
        flat = " ".join(text.split())
        for value in values:
            pattern = r"(?<!\w)" + re.escape(value) + r"(?!\w)"
            assert not re.search(pattern, flat, re.IGNORECASE), f"{value!r} found in {name}"


def personal_details() -> list[str]:
    """Every name, email and phone number the database holds for anyone."""
    found: set[str] = set()
    for user in User.objects.select_related("profile"):
        found |= {user.first_name, user.last_name, user.email}
        profile = getattr(user, "profile", None)
        if profile is not None:
            found |= {profile.phone, profile.preferred_name, profile.emergency_contact_name}
            found |= {profile.emergency_contact_phone}
    for referral in Referral.objects.all():
        found |= {referral.person_name, referral.person_email, referral.person_phone}
        found |= {referral.referrer_name, referral.referrer_email, referral.referrer_phone}
    # Two-letter names ("Jo") would match ordinary words; the seeded ones are all longer.
    return sorted(value for value in found if value and len(value) > 2)


class EvidencePackTests(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.seeded_buddy, cls.seeded_participant = seed_scheme(cls.scheme, "11", "chess")
        seed_scheme(cls.other_scheme, "22", "origami")
        # The factories' random names can be ordinary words ("Long", "Hall") that a PDF says
        # for its own reasons: every person gets a name no sentence contains, so a hit is a leak.
        for user in User.objects.select_related("profile"):
            if any(c.isdigit() for c in user.first_name + user.last_name):
                continue  # seeded above with distinctive names
            User.objects.filter(pk=user.pk).update(
                first_name=f"Givenname{user.pk}q", last_name=f"Familyname{user.pk}q"
            )
            profile = getattr(user, "profile", None)
            if (
                profile is not None
                and profile.preferred_name
                and not any(c.isdigit() for c in profile.preferred_name)
            ):
                type(profile).objects.filter(pk=profile.pk).update(
                    preferred_name=f"Knownas{user.pk}q"
                )

    def build(self, scheme=None):
        _, content = evidence.evidence_pack_build(scheme=scheme or self.scheme, by=self.coordinator)
        return unzip(content)

    def test_the_zip_holds_the_index_and_every_file(self):
        files = self.build()
        self.assertEqual(sorted(files), EXPECTED_FILES)

    def test_the_index_maps_both_standards_to_the_files(self):
        text = " ".join(pdf_text(self.build()["00-index.pdf"]).split())
        self.assertIn("Approved Provider Standard", text)
        for area, requirements in evidence.APS_AREAS:
            self.assertIn(area, text)
            for requirement in requirements:
                # The first words: a table cell wraps the rest.
                start = " ".join(requirement.heading.split()[:2])
                self.assertIn(f"{requirement.number}. {start}", text)
        self.assertEqual(sum(len(r) for _, r in evidence.APS_AREAS), 10)
        self.assertIn("Quality in Befriending", text)
        for domain in ("The Service", "Policies and Procedures", "Staff Management"):
            self.assertIn(domain, text)
        for domain in ("Monitoring and Evaluation", "Befriendee Journey", "Befriender Journey"):
            self.assertIn(domain, text)
        self.assertIn("Matching and Endings", text)
        self.assertIn("Add by hand", text)
        self.assertIn("Interviews with volunteers", text)
        self.assertIn('shown as "fewer than 5"', text)

    def test_each_csv_has_its_header_and_a_known_row(self):
        files = self.build()
        vetting = rows(files, "03-vetting-and-training-by-buddy.csv")
        self.assertEqual(vetting[0], evidence.VETTING_HEADER)
        # B001 is the persona buddy, with no vetting record yet; B002 the seeded one.
        self.assertEqual(vetting[1][:3], ["B001", "Not started", ""])
        self.assertEqual(vetting[2][:3], ["B002", "Approved", "Enhanced"])
        self.assertEqual(vetting[2][-2:], ["1 of 1", "yes"])

        supervision = rows(files, "05-supervision-log.csv")
        self.assertEqual(supervision[0], evidence.SUPERVISION_HEADER)
        day = timezone.localdate(timezone.now() - timedelta(days=20), self.scheme.zone)
        self.assertEqual(
            supervision[1],
            [day.isoformat(), "B002", "Supervision one-to-one", "Phone call", "Held", "yes", "no"],
        )

        matching = rows(files, "07-matching-reasons.csv")
        self.assertEqual(matching[0], evidence.MATCHING_HEADER)
        self.assertEqual(matching[1][:3], ["M001", "B002", "P002"])
        # The district is dropped, and a name in a reason is blanked.
        self.assertEqual(
            matching[1][6],
            "Same postcode district; Shared interests: chess; "
            "Offers what is wanted: chat with [removed]",
        )

        reviews = rows(files, "08-reviews-and-endings.csv")
        self.assertEqual(reviews[0], evidence.REVIEWS_HEADER)
        self.assertEqual(reviews[1][0], "M001")
        self.assertEqual(reviews[1][5], "Planned completion")

        policies = rows(files, "02-policies-and-agreements-read.csv")
        self.assertEqual(policies[0], evidence.POLICIES_HEADER)
        self.assertEqual(
            policies[1][:7],
            ["Buddy pack", "Confidentiality policy", "Confidentiality", "1", policies[1][4]]
            + ["yes", "fewer than 5"],
        )

        training = rows(files, "04-training-modules.csv")
        self.assertEqual(training[0], evidence.TRAINING_HEADER)
        self.assertEqual(training[1], ["Safeguarding", "yes", "", "fewer than 5", "fewer than 5"])

        outcomes = rows(files, "11-outcome-figures.csv")
        self.assertEqual(outcomes[0], evidence.OUTCOMES_HEADER)
        self.assertIn(["Ended: Planned completion", "fewer than 5"], outcomes)
        self.assertIn(["Ended: The match broke down", "0"], outcomes)

        referrals = rows(files, "06-referrals-by-month.csv")
        self.assertEqual(referrals[0], evidence.REFERRALS_HEADER)
        self.assertEqual(len(referrals), 1 + evidence.MONTHS_COVERED)

        meetings = rows(files, "09-meetings-and-alerts-by-month.csv")
        self.assertEqual(meetings[0], evidence.MEETINGS_HEADER)
        self.assertIn("fewer than 5", [row[1] for row in meetings[1:]])

        safety = rows(files, "10-safety-records.csv")
        self.assertEqual(safety[0], evidence.SAFETY_HEADER)
        self.assertEqual(safety[1][:3], ["Venue risk assessment", "V001 (Community venue)", "Low"])

        figures = rows(files, "01-scheme-figures.csv")
        self.assertEqual(figures[0], ["Figure", "Value", "Speaks to"])
        self.assertIn(["Matches ended", "fewer than 5", "Monitoring"], figures)

    def test_the_journey_runs_from_referral_to_ending(self):
        files = self.build()
        journey = rows(files, "12-journey-referral-to-ending.csv")
        self.assertEqual(journey[0], ["Date", "Step"])
        steps = [step for _, step in journey[1:]]
        self.assertEqual(steps[0], "Referral received from: Clinic or GP (urgency: routine)")
        self.assertEqual(steps[1:3], ["Needs assessed", "Referral decided: enrolled"])
        self.assertIn("Match: Active", steps)
        self.assertIn("Meeting held (community venue), checked out safely", steps)
        self.assertEqual(steps[-1], "Match ended: Planned completion")
        self.assertEqual([row[0] for row in journey[1:]], sorted(row[0] for row in journey[1:]))
        text = " ".join(pdf_text(files["12-journey-referral-to-ending.pdf"]).split())
        self.assertIn("Participant P002, match M001", text)
        self.assertIn("Match ended: Planned completion", text)

    def test_no_name_email_phone_or_note_is_in_any_file(self):
        files = readable(self.build())
        forbidden = personal_details() + [
            "Secret supervision note",
            "Risk note",
            "Ending note",
            "Flat of",
            "Coffee with",
            "SE5",
        ]
        self.assertIn("Bartholomew11", forbidden)
        self.assertIn("07700 91102", forbidden)
        assert_absent(forbidden, files)

    def test_the_other_schemes_records_are_absent(self):
        mine, theirs = readable(self.build()), readable(self.build(self.other_scheme))
        self.assertIn("chess", mine["07-matching-reasons.csv"])
        self.assertNotIn("origami", " ".join(mine.values()))
        self.assertIn("origami", theirs["07-matching-reasons.csv"])
        self.assertNotIn("chess", " ".join(theirs.values()))
        # Scheme A's one match and no other.
        self.assertEqual(len(rows(self.build(), "07-matching-reasons.csv")), 2)

    def test_a_new_version_of_a_document_counts_its_readers_afresh(self):
        document = PackDocument.objects.get(scheme=self.scheme)
        pack_document_replace(
            document=document,
            upload=ContentFile(b"Keep it confidential, always.", name="pack.txt"),
            by=None,
        )
        policies = rows(self.build(), "02-policies-and-agreements-read.csv")
        self.assertEqual(policies[1][3], "2")
        # Read at version 1 only: not counted at version 2, counted (suppressed) as earlier.
        self.assertEqual(policies[1][6:8], ["0", "fewer than 5"])

    def test_a_cell_that_looks_like_a_formula_is_escaped(self):
        TrainingModule.objects.create(scheme=self.scheme, name="=HYPERLINK(evil)", mandatory=False)
        training = rows(self.build(), "04-training-modules.csv")
        self.assertIn("'=HYPERLINK(evil)", [row[0] for row in training])

    def test_counts_of_four_are_suppressed_and_five_shown(self):
        module = TrainingModule.objects.get(scheme=self.scheme)
        for _ in range(3):
            TrainingCompletion.objects.create(
                membership=cleared_buddy(self.scheme),
                module=module,
                completed_on=timezone.localdate(),
            )
        by_module = {row[0]: row for row in rows(self.build(), "04-training-modules.csv")}
        self.assertEqual(by_module["Safeguarding"][3], "fewer than 5")  # 4
        TrainingCompletion.objects.create(
            membership=cleared_buddy(self.scheme), module=module, completed_on=timezone.localdate()
        )
        by_module = {row[0]: row for row in rows(self.build(), "04-training-modules.csv")}
        self.assertEqual(by_module["Safeguarding"][3], "5")

    def test_queries_do_not_grow_with_the_records(self):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                evidence.evidence_pack(self.scheme)
            return len(captured)

        few = queries()
        seed_scheme(self.scheme, "33", "chess", extra_matches=6)
        self.assertEqual(queries(), few)

    def test_the_page_and_the_download(self):
        self.login_as("coordinator")
        page = self.client.get(reverse("evaluation:evidence"))
        self.assertContains(page, "Build and download the evidence pack")
        self.assertContains(page, "12-journey-referral-to-ending.pdf")
        self.assertNotContains(page, "No match has ended yet")
        self.reauthenticate("coordinator")
        response = self.client.post(reverse("evaluation:evidence_download"))
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn('attachment; filename="evidence-pack-', response["Content-Disposition"])
        self.assertEqual(sorted(unzip(response.content)), EXPECTED_FILES)
        assert_audited(
            verb=evidence.AUDIT_VERB, obj=self.scheme, actor=self.coordinator, scheme=self.scheme
        )

    def test_the_dashboard_links_to_the_pack(self):
        self.login_as("coordinator")
        self.assertContains(self.client.get("/coordinator/"), reverse("evaluation:evidence"))

    def test_without_an_ended_match_the_page_and_index_say_so(self):
        Match.objects.filter(scheme=self.scheme).update(state=MatchState.ACTIVE)
        self.login_as("coordinator")
        self.assertContains(
            self.client.get(reverse("evaluation:evidence")), "No match has ended yet"
        )
        files = self.build()
        self.assertIn("No match has ended yet", " ".join(pdf_text(files["00-index.pdf"]).split()))
        self.assertEqual(rows(files, "12-journey-referral-to-ending.csv"), [["Date", "Step"]])


@pytest.mark.django_db
def test_the_demo_schemes_pack_names_no_seeded_person():
    """On `seed_demo`'s data: every seeded person's name, email and phone, searched for in every
    file of the pack."""
    call_command("seed_demo", stdout=StringIO())
    scheme = Scheme.objects.get(name="Positive Steps Buddies")
    _, content = evidence.evidence_pack_build(scheme=scheme, by=None)
    files = readable(unzip(content))
    forbidden = personal_details()
    assert (
        "Ruth" in forbidden and "buddy1@example.org" in forbidden and "Robin Ashworth" in forbidden
    )
    assert_absent(forbidden, files)
    journey = files["12-journey-referral-to-ending.csv"]
    assert "Referral received from: Clinic or GP" in journey
    assert "Match ended: Planned completion" in journey
