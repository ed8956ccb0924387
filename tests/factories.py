import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from buddyscheme.models import Membership, Profile, Role, Scheme, User

PASSWORD = "correct-horse-battery-staple"


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    name = factory.Sequence(lambda n: f"Scheme {n}")
    sender_name = "Appointments"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
            Profile.objects.get_or_create(user=self)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    scheme = factory.SubFactory(SchemeFactory)
    role = Role.BUDDY

    @factory.post_generation
    def staff(self, create, extracted, **kwargs):
        if create and self.role == Role.COORDINATOR and not self.user.is_staff:
            self.user.is_staff = True
            self.user.save(update_fields=["is_staff"])


def enrol_totp(user) -> str:
    """Give a user an authenticator app; returns the secret so a test can compute codes."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def cleared_buddy(scheme, items=(), capacity=1, email=None, **profile):
    """An approved buddy with a DBS in date and a matching profile."""
    from datetime import timedelta

    from django.utils import timezone

    from buddyscheme.models import BuddyStage, BuddyVetting, DBSCheck, DBSLevel
    from matching.models import MatchProfile

    kwargs = {"user__email": email} if email else {}
    membership = MembershipFactory(scheme=scheme, role=Role.BUDDY, **kwargs)
    BuddyVetting.objects.create(membership=membership, stage=BuddyStage.APPROVED)
    today = timezone.localdate()
    DBSCheck.objects.create(
        membership=membership,
        level=DBSLevel.ENHANCED,
        certificate_number="001234567890",
        issue_date=today - timedelta(days=100),
        renewal_due=today + timedelta(days=900),
    )
    match_profile = MatchProfile.objects.create(membership=membership, capacity=capacity, **profile)
    match_profile.items.set(items)
    return membership


def waiting_participant(scheme, items=(), email=None, **profile):
    """An enrolled, eligible participant with a matching profile, waiting for a buddy."""
    from buddyscheme.models import ParticipantEnrolment
    from matching.models import MatchProfile

    kwargs = {"user__email": email} if email else {}
    membership = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT, **kwargs)
    from buddyscheme.models import ConsentKind, ConsentRecord

    ParticipantEnrolment.objects.create(membership=membership, eligible=True)
    ConsentRecord.objects.create(membership=membership, kind=ConsentKind.HOLD_DATA)
    match_profile = MatchProfile.objects.create(membership=membership, **profile)
    match_profile.items.set(items)
    return membership


def menu(scheme, *names):
    from matching.models import MenuCategory, MenuItem

    category, _ = MenuCategory.objects.get_or_create(scheme=scheme, name="Support")
    return [MenuItem.objects.get_or_create(category=category, name=name)[0] for name in names]


def scheme_a_rows(scheme, buddy, participant):
    """One row of each scheme-scoped admin model, keyed like the admin URL (app/model)."""
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from buddyscheme.models import (
        BuddyVetting,
        DBSCheck,
        EligibilityQuestion,
        ParticipantEnrolment,
        TrainingCompletion,
        TrainingModule,
    )
    from contracts.models import Contract, ContractSettings
    from contracts.services import templates_ensure
    from matching.models import (
        Match,
        MatchingRound,
        MatchingSettings,
        MenuCategory,
        PairBlock,
        SpeedEvent,
    )
    from meetings.models import Alert, BoundaryQuestion, LoneWorkingSettings, Meeting, OnCallShift

    module = TrainingModule.objects.create(scheme=scheme, name="Safeguarding")
    match = Match.objects.create(
        scheme=scheme, buddy=buddy, participant=participant, state="proposed"
    )
    place = venue(scheme)
    start = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("UTC"))
    meeting = Meeting.objects.create(
        scheme=scheme,
        buddy=buddy,
        venue=place,
        purpose="Coffee",
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        expected_end=start + timedelta(hours=1),
    )
    return {
        "buddyscheme/buddyvetting": BuddyVetting.objects.get_or_create(membership=buddy)[0].pk,
        "buddyscheme/dbscheck": DBSCheck.objects.create(
            membership=buddy,
            level="enhanced",
            certificate_number="1",
            issue_date=date(2026, 1, 1),
            renewal_due=date(2029, 1, 1),
        ).pk,
        "buddyscheme/trainingmodule": module.pk,
        "buddyscheme/trainingcompletion": TrainingCompletion.objects.create(
            membership=buddy, module=module, completed_on=date(2026, 2, 1)
        ).pk,
        "buddyscheme/eligibilityquestion": EligibilityQuestion.objects.create(
            scheme=scheme, text="Over 18?"
        ).pk,
        "buddyscheme/participantenrolment": ParticipantEnrolment.objects.get_or_create(
            membership=participant
        )[0].pk,
        "matching/menucategory": MenuCategory.objects.create(
            scheme=scheme, name="Practical help"
        ).pk,
        "matching/matchingsettings": MatchingSettings.objects.get_or_create(scheme=scheme)[0].pk,
        "matching/match": match.pk,
        "matching/matchinground": MatchingRound.objects.create(scheme=scheme).pk,
        "matching/pairblock": PairBlock.objects.create(
            buddy=buddy, participant=participant, kind="conflict", reason="neighbours"
        ).pk,
        "matching/speedevent": SpeedEvent.objects.create(
            scheme=scheme, name="Mixer", held_on=date(2026, 3, 1)
        ).pk,
        "meetings/venue": place.pk,
        "meetings/loneworkingsettings": LoneWorkingSettings.objects.get_or_create(scheme=scheme)[
            0
        ].pk,
        "meetings/oncallshift": OnCallShift.objects.create(
            scheme=scheme, responder=buddy, starts_at=start, ends_at=start + timedelta(hours=8)
        ).pk,
        "meetings/meeting": meeting.pk,
        "meetings/boundaryquestion": BoundaryQuestion.objects.filter(scheme=scheme).first().pk,
        "contracts/contract": Contract.objects.create(
            scheme=scheme,
            kind="match",
            match=match,
            version=templates_ensure(scheme)["match"].current,
            title="Buddy agreement",
            text="1. Who this is between\nA.B. and C.\n",
        ).pk,
        "contracts/contractsettings": ContractSettings.objects.get_or_create(scheme=scheme)[0].pk,
        "meetings/alert": Alert.objects.create(
            meeting=meeting, level=1, reason="overdue", due_at=start
        ).pk,
    }


def group_rows(scheme, buddy, participant):
    """A group of scheme A with a session the buddy facilitates, the participant as a member
    (excluded, under review), and a sent debrief."""
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from groups.models import (
        Exclusion,
        GroupComplaint,
        GroupDebrief,
        GroupMember,
        SessionFacilitator,
    )

    group, session = peer_group_session(
        scheme, datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("UTC")), complaints_contact="Sam"
    )
    SessionFacilitator.objects.create(session=session, membership=buddy)
    member = GroupMember.objects.create(group=group, membership=participant)
    exclusion = Exclusion.objects.create(
        member=member, reason="Unsafe", review_on=date(2026, 12, 15)
    )
    debrief = GroupDebrief.objects.create(session=session, went_well="Fine")
    return {
        "groups/peergroup": group.pk,
        "groups/groupsession": session.pk,
        "groups/groupmember": member.pk,
        "groups/exclusion": exclusion.pk,
        "groups/groupdebrief": debrief.pk,
        "groups/groupcomplaint": GroupComplaint.objects.create(
            group=group, received_on=date(2026, 11, 2), summary="Room too cold"
        ).pk,
        "feedback_link": f"/s/{scheme.slug}/feedback/{session.feedback_token}/",
    }


def peer_group_session(scheme, start, **group):
    """A peer group meeting in an in-house room, and one two-hour session of it from `start`."""
    from datetime import timedelta

    from groups.models import GroupSession, PeerGroup

    defaults = {
        "name": "Peer group",
        "neutral_name": "Tuesday group",
        "purpose": "Peer support",
        "signage_text": "Private meeting",
        "complaints_contact": "Office",
    }
    group = PeerGroup.objects.create(
        scheme=scheme,
        venue=venue(scheme, name="Group room", kind="in_house"),
        **{**defaults, **group},
    )
    session = GroupSession.objects.create(
        group=group, planned_start=start, planned_end=start + timedelta(hours=2)
    )
    return group, session


def venue(scheme, **kwargs):
    from datetime import timedelta

    from django.utils import timezone

    from meetings.models import Venue

    defaults = {
        "name": "Community café",
        "kind": "community",
        "risk_review_due": timezone.localdate() + timedelta(days=365),
    }
    return Venue.objects.create(scheme=scheme, **{**defaults, **kwargs})


def book_meeting(buddy, start, minutes=60, place=None, **kwargs):
    """A meeting booked through the service (so every deadline is computed as in real use)."""
    from datetime import timedelta

    from meetings.services import meeting_book

    return meeting_book(
        buddy=buddy,
        venue=place or venue(buddy.scheme),
        planned_start=start,
        planned_end=start + timedelta(minutes=minutes),
        purpose="Coffee",
        by=None,
        now=kwargs.pop("now", start - timedelta(hours=1)),
        **kwargs,
    )


def sign_all(match):
    """Generate the match's agreement and have the participant, buddy and a coordinator sign it."""
    from contracts.services import contract_generate, contract_sign

    contract = contract_generate(match=match, by=None)
    coordinator = MembershipFactory(scheme=match.scheme, role=Role.COORDINATOR)
    for member in (match.participant, match.buddy, coordinator):
        contract_sign(
            contract=contract,
            membership=member,
            typed_name=member.user.get_full_name() or member.user.display_name,
            agreed=True,
            read_to_end=True,
        )
    return contract


@dataclass(frozen=True)
class Identity:
    """A person's distinctive identifiers, written into every record they are seeded in."""

    first: str
    last: str
    email: str
    phone: str
    street: str
    town: str
    relative: str  # the first name of their emergency contact

    @property
    def address(self) -> str:
        return f"{self.street}, {self.town}"


ZEBEDIAH = Identity(
    "Zebediah",
    "Quillfeather",
    "zq-7731@example.org",
    "07700 900731",
    "14 Marmalade Row",
    "Thistlebury",
    "Ottoline",
)
SEED_WHEN = datetime(2026, 10, 5, 10, 0, tzinfo=ZoneInfo("Europe/London"))


def seed_participant_everywhere(scheme, who=ZEBEDIAH):
    """Zebediah Quillfeather, participant: profile, consent, referral, match, agreement,
    meetings at home, debrief, concerns, case notes, messages, outbox, questionnaire,
    groups, next steps. Returns (membership, buddy membership, match).

    Erasure searches every column for `who`'s identifiers afterwards; the subject-access export
    must find a row of every kind. `who` gives the name, email, phone and address to write."""
    from datetime import date, timedelta

    from buddyscheme.models import (
        CaseNote,
        Concern,
        ConcernAction,
        ConsentKind,
        ConsentRecord,
        DiaryEntry,
        Notification,
        ParticipantEnrolment,
        Profile,
        Referral,
    )
    from evaluation.models import (
        Answer,
        Invitation,
        Question,
        Questionnaire,
        QuestionnaireVersion,
        Response,
    )
    from groups.models import (
        Attendance,
        Exclusion,
        GroupMember,
        SessionFeedback,
    )
    from matching.models import (
        BreachRecord,
        Ending,
        FriendshipDisclosure,
        Goal,
        GoalProgress,
        Match,
        MatchEvent,
        MatchProfile,
        MatchReview,
        PairBlock,
        RematchRequest,
        StopRequest,
        SuggestionOffer,
        SuggestionOption,
    )
    from meetings.models import Alert, Debrief, DebriefItem, Meeting, PatternDismissal
    from messaging.models import Conversation, Message
    from signposting.models import NextStepsPlan, PlanAction

    membership = MembershipFactory(
        scheme=scheme,
        role=Role.PARTICIPANT,
        user__email=who.email,
        user__first_name=who.first,
        user__last_name=who.last,
    )
    person = membership.user
    Profile.objects.update_or_create(
        user=person,
        defaults={
            "preferred_name": who.first,
            "phone": who.phone,
            "contact_notes": f"Ring {who.phone} after 4pm, not at {who.address}",
            "emergency_contact_name": f"{who.relative} {who.last}",
            "emergency_contact_phone": "07700 900732",
            "emergency_contact_relationship": "Sister",
        },
    )
    ParticipantEnrolment.objects.create(
        membership=membership,
        eligible=True,
        referral_detail=f"GP surgery of {who.first} {who.last}",
        eligibility_answers={"where": who.address},
        sensitive_notes=f"{who.first} was diagnosed in 2019",
    )
    ConsentRecord.objects.create(
        membership=membership, kind=ConsentKind.HOLD_DATA, detail=f"Given by {who.first} at home"
    )
    Referral.objects.create(
        scheme=scheme,
        membership=membership,
        source="self",
        person_name=f"{who.first} {who.last}",
        person_email=who.email,
        person_phone=who.phone,
        consent_to_contact=True,
        needs=[f"lives at {who.address}"],
        risks=f"{who.first} has a dog",
    )
    MatchProfile.objects.create(membership=membership, about=f"I'm {who.first}, from {who.town}")
    buddy = cleared_buddy(scheme)
    match = Match.objects.create(
        scheme=scheme,
        buddy=buddy,
        participant=membership,
        state="active",
        reasons=[f"Both near {who.address}"],
    )
    MatchEvent.objects.create(match=match, to_state="active", note=f"{who.first} agreed")
    contract = sign_all(match)
    assert who.first in contract.text or who.first in contract.signatures.first().typed_name
    goal = Goal.objects.create(match=match, text=f"{who.first} to go to the library")
    review = MatchReview.objects.create(
        match=match,
        due_on=date(2026, 11, 1),
        held_on=date(2026, 11, 1),
        held_with="both",
        outcome="continue",
        notes=f"{who.first} is doing well",
    )
    GoalProgress.objects.create(goal=goal, review=review, score=3, note=f"{who.first} went twice")
    RematchRequest.objects.create(match=match, requested_by=membership, reason=f"{who.first} moved")
    StopRequest.objects.create(participant=membership, match=match, reason="moving")
    Ending.objects.create(match=match, ending_type="planned", notes=f"{who.first} thanked us")
    BreachRecord.objects.create(
        scheme=scheme,
        person=membership,
        match=match,
        what_happened=f"{who.first} gave his number {who.phone}",
        consequences="Talked it through",
    )
    FriendshipDisclosure.objects.create(match=match, by=buddy, note=f"Met {who.first}'s family")
    PairBlock.objects.create(
        buddy=cleared_buddy(scheme), participant=membership, kind="conflict", reason=f"{who.last}s"
    )
    offer = SuggestionOffer.objects.create(participant=membership)
    SuggestionOption.objects.create(
        offer=offer, buddy=buddy, position=1, score=5, reasons=[f"near {who.address}"]
    )
    home = venue(scheme, name="Home visit", kind="home_visit", address=who.address)
    meeting = Meeting.objects.create(
        scheme=scheme,
        match=match,
        buddy=buddy,
        venue=home,
        purpose="Coffee",
        planned_start=SEED_WHEN,
        planned_end=SEED_WHEN + timedelta(hours=1),
        expected_end=SEED_WHEN + timedelta(hours=1),
    )
    debrief = Debrief.objects.create(
        meeting=meeting,
        opened_at=SEED_WHEN,
        what_happened=f"{who.first} showed me round {who.town}",
        concerns=f"{who.first} seemed low",
    )
    DebriefItem.objects.create(
        debrief=debrief, match=match, kind="action", text=f"Call {who.first} on {who.phone}"
    )
    Alert.objects.create(
        meeting=meeting, level=1, reason="overdue", due_at=SEED_WHEN, notes=f"Rang {who.phone}"
    )
    PatternDismissal.objects.create(
        match=match, kind="no_meeting", evidence_at=SEED_WHEN, note=f"{who.first} was ill"
    )
    # Someone else's words about him, not linked to him: only the sweep finds these.
    DiaryEntry.objects.create(
        buddy=buddy, text=f"Worried about {who.first} today: rang {who.phone.replace(' ', '')}"
    )
    CaseNote.objects.create(membership=membership, text=f"{who.first} {who.last} phoned")
    concern = Concern.objects.create(
        scheme=scheme,
        raised_by=buddy,
        about=membership,
        kind="someone",
        text=f"{who.first} mentioned debts",
        source="today",
    )
    ConcernAction.objects.create(concern=concern, kind="note", text=f"Spoke to {who.last}")
    conversation = Conversation.objects.create(
        scheme=scheme, kind="direct", member=membership, other=buddy
    )
    Message.objects.create(
        conversation=conversation, sender=membership, side="member", text=f"It's {who.first}"
    )
    Message.objects.create(
        conversation=conversation, sender=buddy, side="other", text=f"Hi {who.first}!"
    )
    Notification.objects.create(
        scheme=scheme,
        recipient=person,
        channel="email",
        template="reminder",
        dedupe_key=f"seed-{uuid.uuid4()}",
        context={"name": who.first, "phone": who.phone},
    )
    # Sent before he had an account (his referral's acknowledgement): no link but the address.
    Notification.objects.create(
        scheme=scheme,
        channel="email",
        to_email=who.email,
        template="referral_received",
        dedupe_key=f"seed-{uuid.uuid4()}",
        context={"name": who.first},
    )
    Notification.objects.create(
        scheme=scheme,
        recipient=buddy.user,
        channel="email",
        template="reminder",
        dedupe_key=f"seed-{uuid.uuid4()}",
        context={"participant": f"{who.first} {who.last}"},
    )
    questionnaire = Questionnaire.objects.create(scheme=scheme, name="Wellbeing")
    version = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1)
    scale = Question.objects.create(version=version, position=1, text="How?", kind="scale")
    free = Question.objects.create(version=version, position=2, text="Anything?", kind="text")
    invitation = Invitation.objects.create(
        person=membership,
        questionnaire=questionnaire,
        version=version,
        occasion="other",
        match=match,
        expires_at=SEED_WHEN + timedelta(days=30),
    )
    response = Response.objects.create(invitation=invitation, version=version)
    Answer.objects.create(response=response, question=scale, value=7)
    Answer.objects.create(response=response, question=free, value=f"{who.first} says thanks")
    group, session = peer_group_session(scheme, SEED_WHEN)
    member = GroupMember.objects.create(
        group=group, membership=membership, eligibility={"note": f"{who.first} is eligible"}
    )
    Attendance.objects.create(session=session, member=member)
    Exclusion.objects.create(
        member=member, reason=f"{who.first} shouted", review_on=date(2026, 12, 1)
    )
    SessionFeedback.objects.create(
        session=session,
        felt_welcome=4,
        felt_safe=4,
        would_come_again=True,
        comments=f"Sat next to {who.first}",
    )
    plan = NextStepsPlan.objects.create(
        scheme=scheme, match=match, participant=membership, starts_on=date(2026, 11, 1)
    )
    PlanAction.objects.create(plan=plan, due_on=date(2026, 12, 1), what=f"{who.first} to call GP")
    return membership, buddy, match


def seed_buddy_everywhere(scheme, who=ZEBEDIAH):
    """A cleared buddy called `who`: application, reference, vetting, one-to-one, and an
    expense claim with a receipt file naming them. Returns the membership."""
    from datetime import date, timedelta
    from decimal import Decimal

    from django.core.files.base import ContentFile

    from buddyscheme.models import (
        BuddyVetting,
        DiaryEntry,
        Supervision,
        TrainingCompletion,
        TrainingModule,
        VettingStep,
    )
    from recruitment.models import Application, Reference
    from volunteering.models import ExpenseClaim

    buddy = cleared_buddy(scheme, email=who.email)
    User.objects.filter(pk=buddy.user_id).update(first_name=who.first, last_name=who.last)
    Profile.objects.update_or_create(user=buddy.user, defaults={"phone": who.phone})
    application = Application.objects.create(
        scheme=scheme,
        membership=buddy,
        first_name=who.first,
        last_name=who.last,
        email=who.email,
        phone=who.phone,
        motivation=f"I live at {who.address}",
        availability="Evenings",
        consent_to_checks=True,
    )
    Reference.objects.create(
        application=application,
        membership=buddy,
        position=1,
        referee_name=f"{who.relative} {who.last}",
        referee_email="ottoline@example.org",
        relationship="Sister",
        known_for="10 years",
        how_known=f"{who.first} is my brother",
    )
    vetting = BuddyVetting.objects.get(membership=buddy)
    VettingStep.objects.create(
        vetting=vetting, to_stage="approved", evidence=f"Met {who.first} at {who.town}"
    )
    Supervision.objects.create(
        scheme=scheme,
        buddy=buddy,
        mode="phone",
        starts_at=SEED_WHEN,
        ends_at=SEED_WHEN + timedelta(hours=1),
        notes=f"{who.first} is coping",
    )
    claim = ExpenseClaim(
        scheme=scheme,
        buddy=buddy,
        spent_on=date(2026, 10, 1),
        amount=Decimal("4.50"),
        category="travel",
        description=f"Bus from {who.address}",
    )
    claim.receipt.save("receipt.txt", ContentFile(f"Paid by {who.first} {who.last}".encode()))
    module = TrainingModule.objects.create(scheme=scheme, name="Boundaries")
    TrainingCompletion.objects.create(
        membership=buddy, module=module, completed_on=date(2026, 9, 1)
    )
    DiaryEntry.objects.create(buddy=buddy, text=f"{who.first}'s first month: tiring")
    return buddy
