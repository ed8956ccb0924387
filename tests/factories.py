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
    ParticipantEnrolment.objects.create(
        membership=membership, eligible=True, consent_to_hold_data=True
    )
    match_profile = MatchProfile.objects.create(membership=membership, **profile)
    match_profile.items.set(items)
    return membership


def menu(scheme, *names):
    from matching.models import MenuCategory, MenuItem

    category, _ = MenuCategory.objects.get_or_create(scheme=scheme, name="Support")
    return [MenuItem.objects.get_or_create(category=category, name=name)[0] for name in names]
