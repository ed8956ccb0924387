"""Concerns (issue 16): "I'm worried about someone" and "I'm worried about myself", raised by a
buddy at any time. Every coordinator is told at once through the outbox, in words that give
nothing away; the concern waits at the top of the dashboard until someone takes it; it has an
owner, a log (a referral to an outside agency among it) and an outcome."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from buddyscheme.concerns import (
    concern_close,
    concern_note_add,
    concern_raise,
    concern_referral_record,
    concern_take,
    concerns_waiting,
)
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    AuditEvent,
    Concern,
    ConcernActionKind,
    ConcernKind,
    ConcernSource,
    ConcernStatus,
    Notification,
    Role,
)
from matching.models import Match

from ..base import confirmed
from ..factories import MembershipFactory, SchemeFactory, enrol_totp
from ..meetings.net import rendered

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WORRY = "G. said her partner took her phone and money again. She looked frightened."


@pytest.fixture
def scheme():
    return SchemeFactory(
        name="Positive Living HIV Buddies",
        sender_name="Appointments",
        emergency_phone="020 7946 0000",
    )


@pytest.fixture
def people(scheme):
    def member(role, email, first, last="Smith", **kwargs):
        membership = MembershipFactory(
            scheme=scheme,
            role=role,
            user__email=email,
            user__first_name=first,
            user__last_name=last,
            **kwargs,
        )
        if role == Role.COORDINATOR:
            enrol_totp(membership.user)
            membership.user.profile.phone = "07700 900111"
            membership.user.profile.save()
        return membership

    buddy = member(Role.BUDDY, "buddy@example.org", "Sam")
    participant = member(Role.PARTICIPANT, "grace@example.org", "Grace", "Obi")
    Match.objects.create(scheme=scheme, buddy=buddy, participant=participant, state="active")
    return {
        "buddy": buddy,
        "participant": participant,
        "cora": member(Role.COORDINATOR, "cora@example.org", "Cora"),
        "omar": member(Role.COORDINATOR, "omar@example.org", "Omar"),
        "gone": member(Role.COORDINATOR, "gone@example.org", "Gone", is_active=False),
        "elsewhere": MembershipFactory(
            scheme=SchemeFactory(), role=Role.COORDINATOR, user__email="else@example.org"
        ),
    }


def raise_one(people, kind=ConcernKind.SOMEONE, **kwargs):
    return concern_raise(
        buddy=people["buddy"],
        kind=kind,
        text=kwargs.pop("text", WORRY),
        about=kwargs.pop("about", people["participant"] if kind == ConcernKind.SOMEONE else None),
        by=people["buddy"].user,
        now=kwargs.pop("now", NOON),
        **kwargs,
    )


class TestRaising:
    def test_every_active_coordinator_of_the_scheme_is_told_at_once_by_email_and_text(self, people):
        concern = raise_one(people)
        rows = Notification.objects.filter(template="concern_raised")
        assert sorted((row.recipient.email, row.channel) for row in rows) == [
            ("cora@example.org", "email"),
            ("cora@example.org", "sms"),
            ("omar@example.org", "email"),
            ("omar@example.org", "sms"),
        ]
        assert {row.next_attempt_at for row in rows} == {NOON}  # due now, not batched later
        assert AuditEvent.objects.get(verb="concern_raise").object_id == concern.pk

    def test_the_messages_never_carry_what_was_written_nor_whom_it_is_about(self, people):
        raise_one(people)
        for row in Notification.objects.filter(template="concern_raised"):
            subject, body, sms = rendered(row)
            assert f"/coordinator/concerns/{row.context['concern_id']}/" in body
            assert f"/coordinator/concerns/{row.context['concern_id']}/" in sms
            for text in (subject, body, sms):
                for secret in (
                    "frightened",
                    "phone and money",
                    "Grace",
                    "Obi",
                    "Sam",
                    "HIV",
                    "Positive Living",
                    "safeguarding",
                    "worried",
                ):
                    assert secret not in text, (secret, text)
            assert len(sms) <= 160

    def test_raised_twice_is_two_concerns_each_told_once(self, people):
        first, second = raise_one(people), raise_one(people, now=NOON + timedelta(minutes=1))
        assert first.pk != second.pk
        assert Notification.objects.filter(template="concern_raised", channel="email").count() == 4

    def test_about_myself_is_about_nobody_else(self, people):
        concern = raise_one(people, kind=ConcernKind.MYSELF, text="I can't sleep after Tuesday.")
        assert (concern.kind, concern.about) == (ConcernKind.MYSELF, None)
        with pytest.raises(DomainError):
            raise_one(people, kind=ConcernKind.MYSELF, about=people["participant"])

    def test_only_someone_the_buddy_supports_can_be_named(self, people, scheme):
        stranger = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
        with pytest.raises(DomainError, match="people you support"):
            raise_one(people, about=stranger)
        assert raise_one(people, about=None).about is None  # "someone else"

    def test_empty_words_or_a_non_buddy_are_refused(self, people):
        with pytest.raises(DomainError, match="what is worrying you"):
            raise_one(people, text="   ")
        with pytest.raises(DomainError, match="Only a buddy"):
            concern_raise(
                buddy=people["cora"], kind=ConcernKind.MYSELF, text="x", by=people["cora"].user
            )
        assert not Concern.objects.exists() and not Notification.objects.exists()

    def test_a_debrief_raises_one_the_same_way(self, people):
        concern = raise_one(people, source=ConcernSource.DEBRIEF, one_to_one_wanted=True)
        assert concern.get_source_display() == "a debrief" and concern.one_to_one_wanted
        assert Notification.objects.filter(template="concern_raised").count() == 4


class TestTakingAndClosing:
    def test_it_waits_on_the_dashboard_until_someone_takes_it(self, people, scheme):
        concern = raise_one(people)
        assert concerns_waiting(scheme) == [concern]
        concern_take(concern=concern, coordinator=people["cora"], now=NOON + timedelta(minutes=4))
        assert concerns_waiting(scheme) == []
        concern.refresh_from_db()
        assert (concern.status, concern.owner, concern.taken_at) == (
            ConcernStatus.TAKEN,
            people["cora"],
            NOON + timedelta(minutes=4),
        )

    def test_the_second_to_press_is_told_who_has_it(self, people):
        concern = raise_one(people)
        concern_take(concern=concern, coordinator=people["cora"], now=NOON + timedelta(minutes=4))
        with pytest.raises(DomainError, match="Cora took this concern at 12:04"):
            concern_take(concern=concern, coordinator=people["omar"])
        # Pressing again oneself changes nothing and logs nothing twice.
        concern_take(concern=concern, coordinator=people["cora"])
        assert concern.actions.filter(kind=ConcernActionKind.TAKEN).count() == 1

    def test_a_coordinator_of_another_scheme_cannot_take_it(self, people):
        with pytest.raises(DomainError):
            concern_take(concern=raise_one(people), coordinator=people["elsewhere"])

    def test_the_log_holds_notes_a_referral_and_the_outcome_in_order(self, people):
        cora = people["cora"]
        concern = raise_one(people)
        with pytest.raises(DomainError, match="Take the concern first"):
            concern_close(concern=concern, outcome="referred", by=cora.user)
        concern_take(concern=concern, coordinator=cora, now=NOON + timedelta(minutes=5))
        concern_note_add(
            concern=concern,
            text="Rang S.; G. safe tonight.",
            by=cora.user,
            now=NOON + timedelta(minutes=20),
        )
        concern_referral_record(
            concern=concern,
            agency="Hackney adult safeguarding team",
            reference="ASC-2291",
            by=cora.user,
            now=NOON + timedelta(hours=2),
        )
        with pytest.raises(DomainError, match="Name the agency"):
            concern_referral_record(concern=concern, agency=" ", by=cora.user)
        concern_close(
            concern=concern,
            outcome="referred",
            notes="Social worker visiting Thursday.",
            by=cora.user,
            now=NOON + timedelta(days=1),
        )
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.CLOSED and concern.outcome == "referred"
        assert [(a.kind, a.agency) for a in concern.actions.all()] == [
            ("taken", ""),
            ("note", ""),
            ("referral", "Hackney adult safeguarding team"),
            ("closed", ""),
        ]
        with pytest.raises(DomainError, match="closed"):
            concern_note_add(concern=concern, text="late", by=cora.user)
        assert set(AuditEvent.objects.values_list("verb", flat=True)) >= {
            "concern_raise",
            "concern_take",
            "concern_note_add",
            "concern_referral_record",
            "concern_close",
        }


def _client(user):
    client = Client()
    client.force_login(user)
    return client


class TestPages:
    def test_the_buddy_raises_one_from_today_and_sees_what_happens_next(self, people):
        buddy = _client(people["buddy"].user)
        today = buddy.get("/today/")
        assert b"I'm worried about someone" in today.content
        assert b"I'm worried about myself" in today.content
        page = buddy.get("/concerns/new/someone/")
        assert b"Grace" in page.content and b"Someone else" in page.content
        assert b"020 7946 0000" in page.content  # whom to ring if it cannot wait
        response = buddy.post(
            "/concerns/new/someone/",
            {"about": people["participant"].pk, "text": WORRY, "one_to_one_wanted": "on"},
        )
        concern = Concern.objects.get()
        assert response["Location"] == f"/concerns/{concern.pk}/"
        assert (concern.about, concern.one_to_one_wanted, concern.source) == (
            people["participant"],
            True,
            ConcernSource.TODAY,
        )
        page = buddy.get(response["Location"])
        assert b"The team has been told" in page.content

    def test_a_name_in_the_words_is_caught_until_changed_or_confirmed(self, people):
        buddy = _client(people["buddy"].user)
        typed = {"about": people["participant"].pk, "text": "Grace was crying at the bus stop."}
        page = buddy.post("/concerns/new/someone/", typed)
        assert page.status_code == 200 and not Concern.objects.exists()
        assert "“Grace” (a name" in page.content.decode()
        assert b"Grace was crying at the bus stop." in page.content  # kept as typed
        assert b"I have checked" in page.content
        buddy.post("/concerns/new/someone/", {**typed, "text": "G. was crying at the bus stop."})
        assert Concern.objects.count() == 1
        buddy.post("/concerns/new/someone/", {**typed, **confirmed(page)})
        assert Concern.objects.count() == 2

    def test_an_unknown_kind_is_not_found_and_an_empty_post_asks_again(self, people):
        buddy = _client(people["buddy"].user)
        assert buddy.get("/concerns/new/everyone/").status_code == 404
        page = buddy.post("/concerns/new/myself/", {})
        assert page.status_code == 200 and b"Say in a few words" in page.content
        assert b"Who is it about" not in page.content  # about yourself: nobody to choose

    def test_about_myself_a_name_is_caught_too(self, people):
        buddy = _client(people["buddy"].user)
        page = buddy.post("/concerns/new/myself/", {"text": "Since Grace told me, I can't sleep."})
        assert "“Grace” (a name" in page.content.decode() and not Concern.objects.exists()

    def test_who_it_is_about_is_chosen_on_purpose(self, people):
        buddy = _client(people["buddy"].user)
        page = buddy.post("/concerns/new/someone/", {"text": WORRY})
        assert "Choose who it is about" in page.content.decode()
        assert "checked" not in page.content.decode().split('name="about"')[1][:80]
        buddy.post("/concerns/new/someone/", {"about": "else", "text": WORRY})
        assert Concern.objects.get().about is None
        stranger = MembershipFactory(scheme=people["buddy"].scheme, role=Role.PARTICIPANT)
        page = buddy.post("/concerns/new/someone/", {"about": stranger.pk, "text": WORRY})
        assert page.status_code == 200 and Concern.objects.count() == 1

    def test_a_buddy_sees_only_their_own(self, people, scheme):
        concern = raise_one(people)
        another = MembershipFactory(scheme=scheme, role=Role.BUDDY)
        assert _client(another.user).get(f"/concerns/{concern.pk}/").status_code == 404
        assert _client(people["buddy"].user).get(f"/concerns/{concern.pk}/").status_code == 200

    def test_the_coordinator_takes_it_from_the_dashboard_and_closes_it(self, people):
        concern = raise_one(people)
        cora = _client(people["cora"].user)
        dashboard = cora.get("/coordinator/")
        assert b"1 concern waiting for someone to take it" in dashboard.content
        assert b"asks for a one-to-one" not in dashboard.content
        assert f'/coordinator/concerns/{concern.pk}/take/"'.encode() in dashboard.content
        assert WORRY.encode() not in dashboard.content  # the words are on the concern's page
        response = cora.post(f"/coordinator/concerns/{concern.pk}/take/")
        assert response["Location"] == f"/coordinator/concerns/{concern.pk}/"
        assert b"waiting for someone to take" not in cora.get("/coordinator/").content
        # Omar is too late: told who has it.
        omar = _client(people["omar"].user)
        omar.post(f"/coordinator/concerns/{concern.pk}/take/")
        page = omar.get(f"/coordinator/concerns/{concern.pk}/")
        assert b"Cora took this concern" in page.content and WORRY.encode() in page.content
        page = cora.post(f"/coordinator/concerns/{concern.pk}/close/", {"close-notes": "x"})
        assert b"Choose the outcome." in page.content
        cora.post(
            f"/coordinator/concerns/{concern.pk}/referral/",
            {"referral-agency": "Adult safeguarding", "referral-reference": "A1"},
        )
        cora.post(f"/coordinator/concerns/{concern.pk}/close/", {"close-outcome": "referred"})
        concern.refresh_from_db()
        assert concern.status == ConcernStatus.CLOSED
        page = cora.get(f"/coordinator/concerns/{concern.pk}/")
        assert b"Adult safeguarding" in page.content and b"(ref A1)" in page.content
