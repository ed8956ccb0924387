"""Idempotent demo data: two schemes, coordinators, ~10 buddies, ~20 participants."""

from datetime import time

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from buddyscheme.models import Profile, Role, Scheme
from buddyscheme.services import membership_grant

DEMO_PASSWORD = "buddy-demo-2026"

BUDDIES = [
    ("Amara", "Okafor", "she/her"),
    ("Tom", "Hughes", "he/him"),
    ("Priya", "Shah", "she/her"),
    ("Kwame", "Mensah", "he/him"),
    ("Sian", "Davies", "she/her"),
    ("Alex", "Nowak", "they/them"),
    ("Fatima", "Rahman", "she/her"),
    ("Joe", "Walsh", "he/him"),
    ("Mei", "Chen", "she/her"),
    ("Daniel", "Costa", "he/him"),
]
PARTICIPANTS = [
    ("Grace",),
    ("Samuel",),
    ("Nadia",),
    ("Owen",),
    ("Chipo",),
    ("Luis",),
    ("Hannah",),
    ("Yusuf",),
    ("Beatriz",),
    ("Kofi",),
    ("Ellie",),
    ("Marek",),
    ("Aisha",),
    ("Patrick",),
    ("Zara",),
    ("Ibrahim",),
    ("Ruth",),
    ("Tendai",),
    ("Lena",),
    ("Dev",),
]


def _user(email, first_name="", last_name="", preferred_name="", pronouns="", phone=""):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    Profile.objects.update_or_create(
        user=user,
        defaults={
            "preferred_name": preferred_name or first_name,
            "pronouns": pronouns,
            "phone": phone,
        },
    )
    return user


class Command(BaseCommand):
    help = "Create or refresh the demo schemes and people. Safe to run again."

    @transaction.atomic
    def handle(self, *args, **options):
        scheme, _ = Scheme.objects.update_or_create(
            name="Positive Steps Buddies",
            defaults={
                "sender_name": "PS Appointments",
                "time_zone": "Europe/London",
                "working_hours_start": time(9, 0),
                "working_hours_end": time(17, 30),
            },
        )
        other, _ = Scheme.objects.update_or_create(
            name="Northside Befriending",
            defaults={"sender_name": "Northside", "time_zone": "Europe/London"},
        )
        coordinator = _user(
            "coordinator@example.org", "Ruth", "Morgan", pronouns="she/her", phone="020 7946 0101"
        )
        membership_grant(user=coordinator, scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
        membership_grant(user=coordinator, scheme=other, role=Role.COORDINATOR)
        second = _user("coordinator2@example.org", "Ben", "Adeyemi", pronouns="he/him")
        membership_grant(user=second, scheme=scheme, role=Role.COORDINATOR, is_on_call=True)
        northside = _user("north.coordinator@example.org", "Nia", "Evans")
        membership_grant(user=northside, scheme=other, role=Role.COORDINATOR)

        for number, (first, last, pronouns) in enumerate(BUDDIES, start=1):
            buddy = _user(
                f"buddy{number}@example.org",
                first,
                last,
                pronouns=pronouns,
                phone=f"07700 900{number:03d}",
            )
            membership_grant(user=buddy, scheme=scheme, role=Role.BUDDY, is_facilitator=number <= 2)
        for number, (first,) in enumerate(PARTICIPANTS, start=1):
            participant = _user(f"participant{number}@example.org", first, "")
            membership_grant(user=participant, scheme=scheme, role=Role.PARTICIPANT)

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write(
            "  Coordinator: coordinator@example.org (two schemes: switch between them)"
        )
        self.stdout.write("  Buddy:       buddy1@example.org … buddy10@example.org")
        self.stdout.write("  Participant: participant1@example.org … participant20@example.org")
        self.stdout.write("  Other scheme's coordinator: north.coordinator@example.org")
