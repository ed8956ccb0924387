"""The support pages, URL × role, with the people who matter for privacy that the main matrix's
personas do not include: the buddy's named support person, another coordinator of the same
scheme (who is not), and another buddy of the same scheme.

A diary entry is the buddy's; shared, their support person reads it too; nobody else (another
coordinator of the scheme included) learns that it exists. A concern or a one-to-one is its
buddy's and the coordinators'; another buddy gets nothing."""

from datetime import timedelta

from django.test import TestCase
from django.utils import timezone

from buddyscheme.concerns import concern_raise
from buddyscheme.models import Role, SupervisionMode
from buddyscheme.support import diary_share, diary_write, supervision_book
from buddyscheme.vetting import buddy_support_person_set

from ..factories import MembershipFactory, SchemeFactory, enrol_totp

PERSONAS = (
    "anonymous",
    "buddy",
    "other_buddy",
    "participant",
    "support_person",
    "second_coordinator",
    "other_scheme_coordinator",
)
AN, BU, OB, PA, SP, SC, OS = PERSONAS

NOBODY_ELSE = {AN: 302, BU: 200, OB: 404, PA: 403, SP: 404, SC: 404, OS: 404}
# route -> (method, object, expected status per persona); each row has its own object.
ROWS = [
    ("get", "/diary/{}/", "private_entry", NOBODY_ELSE),
    ("get", "/diary/{}/", "shared_entry", {**NOBODY_ELSE, SP: 200}),
    # Changing an entry is the writer's alone (coordinators: not their role at all).
    (
        "post",
        "/diary/{}/unshare/",
        "shared_entry_2",
        {AN: 302, BU: 302, OB: 404, PA: 403, SP: 403, SC: 403, OS: 403},
    ),
    (
        "post",
        "/diary/{}/share/",
        "private_entry_2",
        {AN: 302, BU: 302, OB: 404, PA: 403, SP: 403, SC: 403, OS: 403},
    ),
    (
        "post",
        "/diary/{}/delete/",
        "private_entry_3",
        {AN: 302, BU: 302, OB: 404, PA: 403, SP: 403, SC: 403, OS: 403},
    ),
    (
        "get",
        "/concerns/{}/",
        "concern",
        {AN: 302, BU: 200, OB: 404, PA: 403, SP: 403, SC: 403, OS: 403},
    ),
    (
        "get",
        "/coordinator/concerns/{}/",
        "concern",
        {AN: 302, BU: 403, OB: 403, PA: 403, SP: 200, SC: 200, OS: 404},
    ),
    (
        "get",
        "/support/one-to-ones/{}/",
        "supervision",
        {AN: 302, BU: 200, OB: 404, PA: 403, SP: 403, SC: 403, OS: 403},
    ),
    (
        "get",
        "/coordinator/one-to-ones/{}/",
        "supervision",
        {AN: 302, BU: 403, OB: 403, PA: 403, SP: 200, SC: 200, OS: 404},
    ),
    (
        "get",
        "/coordinator/people/{}/support/",
        "buddy",
        {AN: 302, BU: 403, OB: 403, PA: 403, SP: 200, SC: 200, OS: 404},
    ),
]


class SupportMatrixTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        scheme = SchemeFactory(name="Scheme A", sender_name="A Appointments")

        def member(role, email, in_scheme=scheme):
            membership = MembershipFactory(scheme=in_scheme, role=role, user__email=email)
            if role == Role.COORDINATOR:
                enrol_totp(membership.user)
            return membership

        cls.members = {
            BU: member(Role.BUDDY, "buddy@a.example"),
            OB: member(Role.BUDDY, "other-buddy@a.example"),
            PA: member(Role.PARTICIPANT, "participant@a.example"),
            SP: member(Role.COORDINATOR, "support@a.example"),
            SC: member(Role.COORDINATOR, "second@a.example"),
            OS: member(Role.COORDINATOR, "coordinator@b.example", SchemeFactory(name="B")),
        }
        buddy = cls.members[BU]
        buddy_support_person_set(buddy=buddy, support_person=cls.members[SP], by=None)

        def shared(text):
            return diary_share(entry=diary_write(buddy=buddy, text=text), buddy=buddy)

        start = timezone.now() + timedelta(days=2)
        cls.objects = {
            "private_entry": diary_write(buddy=buddy, text="Only mine").pk,
            "private_entry_2": diary_write(buddy=buddy, text="Only mine 2").pk,
            "private_entry_3": diary_write(buddy=buddy, text="Only mine 3").pk,
            "shared_entry": shared("For Sunita").pk,
            "shared_entry_2": shared("For Sunita 2").pk,
            "concern": concern_raise(
                buddy=buddy, kind="myself", text="Tired out", by=buddy.user
            ).pk,
            "supervision": supervision_book(
                buddy=buddy,
                mode=SupervisionMode.PHONE,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                by=None,
            ).pk,
            "buddy": buddy.pk,
        }

    def login_as(self, persona):
        self.client.logout()
        if persona != AN:
            self.client.force_login(self.members[persona].user)

    def test_each_persona_gets_the_expected_status(self):
        mismatches = []
        for method, route, name, expected in ROWS:
            assert set(expected) == set(PERSONAS), route
            url = route.format(self.objects[name])
            # Writers go last, so every persona meets the object as it was.
            for persona in sorted(PERSONAS, key=lambda p: p == BU):
                self.login_as(persona)
                status = getattr(self.client, method)(url).status_code
                if status != expected[persona]:
                    mismatches.append(f"{method.upper()} {url} as {persona}: {status}")
        self.assertEqual(mismatches, [], "\n" + "\n".join(mismatches))

    def test_the_buddys_support_page_shows_shared_entries_to_the_support_person_only(self):
        url = f"/coordinator/people/{self.objects['buddy']}/support/"
        self.login_as(SP)
        page = self.client.get(url).content.decode()
        assert "For Sunita" in page and "Only mine" not in page
        self.login_as(SC)
        page = self.client.get(url).content.decode()
        assert "For Sunita" not in page and "Only mine" not in page
        assert "you see only entries they share with you" in page
