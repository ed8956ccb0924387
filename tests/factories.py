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
    from datetime import date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from groups.models import (
        Exclusion,
        GroupComplaint,
        GroupDebrief,
        GroupMember,
        GroupSession,
        PeerGroup,
        SessionFacilitator,
    )

    group = PeerGroup.objects.create(
        scheme=scheme,
        name="Peer group",
        neutral_name="Tuesday group",
        purpose="Peer support",
        venue=venue(scheme, name="Group room", kind="in_house"),
        signage_text="Private meeting",
        complaints_contact="Sam",
    )
    start = datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("UTC"))
    session = GroupSession.objects.create(
        group=group, planned_start=start, planned_end=start + timedelta(hours=2)
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
