"""Idempotent demo data for every app (it lives in evaluation, the app that may import all others): two schemes, coordinators, ~10 buddies, ~20 participants.

Buddies are vetted (one with a DBS renewal due soon, one still in training), everyone has a
matching menu, participants are enrolled and waiting, and a few matches are under way.
"""

import random
from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from buddyscheme import concerns, referrals, support
from buddyscheme.consent import consent_give
from buddyscheme.models import (
    BuddyStage,
    BuddyVetting,
    ConsentKind,
    ConsentMethod,
    DBSCheck,
    DBSLevel,
    EligibilityQuestion,
    ParticipantEnrolment,
    Profile,
    Referral,
    ReferralSource,
    ReferralUrgency,
    Role,
    Scheme,
    Supervision,
    TrainingCompletion,
    TrainingModule,
)
from buddyscheme.referrals import ReferralDetails
from buddyscheme.services import membership_grant
from buddyscheme.vetting import buddy_support_person_set
from contracts import services as contract_services
from evaluation import demo
from matching import services as matching_services
from matching.models import Match, MatchProfile, MenuCategory, MenuItem, SpeedEvent, SuggestionOffer

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
                "emergency_phone": "020 7946 0100",
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

        buddies, participants = [], []
        for number, (first, last, pronouns) in enumerate(BUDDIES, start=1):
            buddy = _user(
                f"buddy{number}@example.org",
                first,
                last,
                pronouns=pronouns,
                phone=f"07700 900{number:03d}",
            )
            buddies.append(
                membership_grant(
                    user=buddy, scheme=scheme, role=Role.BUDDY, is_facilitator=number <= 2
                )
            )
        for number, (first,) in enumerate(PARTICIPANTS, start=1):
            participant = _user(f"participant{number}@example.org", first, "")
            participants.append(
                membership_grant(user=participant, scheme=scheme, role=Role.PARTICIPANT)
            )
        self._vetting_and_menu(scheme, coordinator, buddies, participants)
        self._support(scheme, coordinator, second, buddies)
        self._referrals(scheme, coordinator)
        self._lone_working_and_waiting(scheme, coordinator, second, buddies, participants)
        demo.demo_messages(
            scheme=scheme,
            coordinator=coordinator.memberships.get(scheme=scheme, role=Role.COORDINATOR),
            buddies=buddies,
            participants=participants,
        )
        demo.demo_volunteering(scheme=scheme, coordinator_user=coordinator, buddies=buddies)
        for problem in demo.demo_journey(scheme=scheme, coordinator=coordinator, buddies=buddies):
            self.stdout.write(f"  (Journey for the evidence pack: {problem})")
        demo.demo_funder_report(scheme=scheme, coordinator_user=coordinator)
        answer_path = demo.demo_questionnaires(
            scheme=scheme, buddies=buddies, participants=participants, by=coordinator
        )
        demo.demo_signposting(
            scheme=scheme, coordinator_user=coordinator, buddies=buddies, participants=participants
        )
        demo.demo_endings(
            scheme=scheme,
            coordinator_user=coordinator,
            pairs=list(zip(participants[9:12], buddies[7:10], strict=True)),
        )

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}")
        self.stdout.write(
            "  Coordinator: coordinator@example.org (two schemes: switch between them)"
        )
        self.stdout.write("  Buddy:       buddy1@example.org … buddy10@example.org")
        self.stdout.write("  Participant: participant1@example.org … participant20@example.org")
        self.stdout.write(
            "  (participant1 has buddies to choose from; buddy3 and participant6 met at a speed event)"
        )
        self.stdout.write("  Applicants:  applicant1@example.org … applicant3@example.org")
        self.stdout.write("  Other scheme's coordinator: north.coordinator@example.org")
        self.stdout.write(
            "  (Evidence pack for an accreditation visit: /coordinator/evidence/; one match has "
            "gone from referral to ending)"
        )
        self.stdout.write(
            "  (Messages: buddy2's message relayed to participant2; buddy1, buddy3 and buddy5 "
            "are in the buddy network)"
        )
        self.stdout.write(
            "  (the live board has a meeting in progress and an overdue one; Settings has venues "
            "and the on-call rota)"
        )
        self.stdout.write(
            f"  Referrals: three waiting (one urgent); the public form is /s/{scheme.slug}/refer/"
        )
        self.stdout.write(
            f"  Public page: /s/{scheme.slug}/ (applicant@example.org has applied: one "
            "reference back, one awaited)"
        )
        self.stdout.write(
            "  (Meetings > Groups: a drop-in group; buddy1 and buddy2 facilitate its next session)"
        )
        self.stdout.write(
            "  (Settings > Questionnaires: ONS4, exit and buddy questionnaires; "
            "/coordinator/outcomes/ has six past matches' wellbeing change)"
        )
        if answer_path:
            self.stdout.write(f"  participant2's ONS4 link, no password needed: {answer_path}")
        self.stdout.write(
            "  (Dashboard > Matches to look at: participant13 with buddy8, participant14 with "
            "buddy9; Matching > re-match requests)"
        )
        self.stdout.write(
            "  (Signposting: a dozen services, two not checked for a year; participant19 has a "
            "next-steps plan on Home; participant20's ended match still needs one)"
        )
        self.stdout.write(
            "  (Endings on the dashboard: participant10 asked to stop, buddy9 told us they are "
            "friends with participant11, buddy10 is owed a one-to-one after a breakdown)"
        )

    def _lone_working_and_waiting(self, scheme, coordinator, second, buddies, participants):
        """Venues, the rota and meetings for the live board; an agreement waiting to be signed;
        rankings open at the speed event. Each part is made only when missing."""
        on_call = [
            user.memberships.get(scheme=scheme, role=Role.COORDINATOR)
            for user in (coordinator, second)
        ]
        venues = demo.demo_venues(scheme=scheme, key_holder=coordinator, by=coordinator)
        demo.demo_rota(scheme=scheme, responders=on_call, by=coordinator)
        active = Match.objects.get(scheme=scheme, participant=participants[1], buddy=buddies[1])
        skipped = demo.demo_meetings(
            scheme=scheme,
            match=active,
            other_buddy=buddies[4],
            venues=venues,
            on_call=on_call[0],
            by=coordinator,
        )
        for problem in skipped:
            self.stdout.write(self.style.WARNING(f"  Demo meetings not made ({problem})"))
        demo.demo_agreement_waiting(
            participant=participants[3], buddy=buddies[5], coordinator_user=coordinator
        )
        for problem in demo.demo_goals_and_reviews(
            active=active,
            coordinator_user=coordinator,
            overdue_buddy=buddies[6],
            overdue_participant=participants[8],
        ):
            self.stdout.write(self.style.WARNING(f"  Demo overdue review not made ({problem})"))
        event = SpeedEvent.objects.get(scheme=scheme, name="Autumn speed-buddying")
        demo.demo_speed_rankings(event=event, ranker=participants[5])
        self._recruitment(scheme, coordinator, buddies, venues)
        demo.demo_front_door(scheme=scheme, coordinator_user=coordinator)
        for problem in demo.demo_groups(
            scheme=scheme,
            venue=venues["Meeting room, first floor"],
            facilitators=[buddies[0], buddies[1]],
            members=[participants[6], participants[7]],
            by=on_call[0],
        ):
            self.stdout.write(self.style.WARNING(f"  Demo group not complete ({problem})"))
        for problem in demo.demo_patterns(
            scheme=scheme,
            buddies=buddies,
            participants=participants,
            venue=venues["Café on the high street"],
            by=coordinator,
        ):
            self.stdout.write(self.style.WARNING(f"  Demo pattern flags not complete ({problem})"))

    def _recruitment(self, scheme, coordinator, buddies, venues):
        """Applicants on the pipeline page, an interview booked, a training session with
        invitations (buddy10, still in training, among them), how buddies heard of us."""
        applicants = []
        for email, first, last, stage, days, source in demo.APPLICANTS:
            user = _user(email, first, last)
            member = membership_grant(user=user, scheme=scheme, role=Role.BUDDY)
            BuddyVetting.objects.get_or_create(
                membership=member,
                defaults={
                    "stage": stage,
                    "stage_changed_at": timezone.now() - timedelta(days=days),
                    "recruitment_source": source,
                },
            )
            applicants.append(member)
        sources = ["word_of_mouth", "social_media", "website", "event", "partner", "other"]
        for number, buddy in enumerate(buddies):
            BuddyVetting.objects.filter(membership=buddy, recruitment_source="").update(
                recruitment_source=sources[number % len(sources)]
            )
        ruth = coordinator.memberships.get(scheme=scheme, role=Role.COORDINATOR)
        for problem in demo.demo_recruitment(
            scheme=scheme,
            applicants=applicants,
            trainees=[buddies[9], applicants[1], applicants[2]],
            venues=venues,
            coordinator=ruth,
            by=coordinator,
        ):
            self.stdout.write(self.style.WARNING(f"  Demo recruitment not made ({problem})"))

    def _vetting_and_menu(self, scheme, coordinator, buddies, participants):
        # Imported here: the core command fills in the matching app's demo data too.

        rng = random.Random(2026)
        today = timezone.localdate()
        modules = []
        for order, (name, months) in enumerate(
            [("Induction", None), ("Safeguarding", 24), ("Lone working", 12)]
        ):
            module, _ = TrainingModule.objects.get_or_create(
                scheme=scheme,
                name=name,
                defaults={"mandatory": True, "valid_for_months": months, "order": order},
            )
            modules.append(module)
        for order, text in enumerate(["Lives in the borough?", "Aged 18 or over?"]):
            EligibilityQuestion.objects.get_or_create(
                scheme=scheme, text=text, defaults={"order": order}
            )
        menu = {
            "Practical help": [
                "Benefits forms",
                "Letters and phone calls",
                "Shopping",
                "Finding services",
            ],
            "Social contact": ["A coffee and a chat", "Getting out and about", "Joining groups"],
            "Appointments": [
                "Going with you to the clinic",
                "Going with you to the housing office",
            ],
            "Peer experience": [
                "Living well after diagnosis",
                "Telling family and friends",
                "Medication routines",
            ],
            "Skills": ["Cooking on a budget", "English practice", "Using a smartphone"],
        }
        items = []
        for order, (category_name, names) in enumerate(menu.items()):
            category, _ = MenuCategory.objects.get_or_create(
                scheme=scheme, name=category_name, defaults={"order": order}
            )
            items += [
                MenuItem.objects.get_or_create(category=category, name=name)[0] for name in names
            ]
        districts = ["SE5", "SE15", "SW9", "SW2", "SE22", "SE1", "SW4", "E8"]
        languages = ["english", "french", "portuguese", "shona", "polish", "yoruba", "spanish"]
        interests = [
            "music",
            "football",
            "cooking",
            "films",
            "walking",
            "gardening",
            "reading",
            "faith",
        ]

        def profile_for(membership, **extra):
            profile, created = MatchProfile.objects.get_or_create(
                membership=membership,
                defaults={
                    "postcode_district": rng.choice(districts),
                    "languages": ["english", *rng.sample(languages[1:], rng.randint(0, 1))],
                    "interests": rng.sample(interests, 2),
                    "availability": rng.getrandbits(21),
                    "gender": rng.choice(["woman", "man", "non_binary", "woman"]),
                    "age_band": rng.choice(["25_34", "35_49", "50_64"]),
                    **extra,
                },
            )
            if created:
                profile.items.set(rng.sample(items, 4))
            return profile

        for number, buddy in enumerate(buddies, start=1):
            profile_for(
                buddy,
                travel_range=rng.choice(["area", "anywhere"]),
                capacity=2 if number % 3 == 0 else 1,
            )
            stage = BuddyStage.TRAINING if number == 10 else BuddyStage.APPROVED
            BuddyVetting.objects.get_or_create(membership=buddy, defaults={"stage": stage})
            renewal = today + timedelta(days=20 if number == 9 else 700)
            DBSCheck.objects.get_or_create(
                membership=buddy,
                defaults={
                    "level": DBSLevel.ENHANCED_BARRED,
                    "certificate_number": f"0011{number:08d}",
                    "issue_date": renewal - timedelta(days=1095),
                    "renewal_due": renewal,
                    "update_service": number % 2 == 0,
                },
            )
            for module in modules if number != 10 else modules[:1]:
                completed = today - timedelta(days=60)
                expires = (
                    completed + timedelta(days=30 * module.valid_for_months)
                    if module.valid_for_months
                    else None
                )
                TrainingCompletion.objects.get_or_create(
                    membership=buddy,
                    module=module,
                    completed_on=completed,
                    defaults={"expires_on": expires},
                )
        for number, participant in enumerate(participants, start=1):
            profile_for(participant, wants_buddy_gender="woman" if number % 5 == 0 else "")
            ParticipantEnrolment.objects.get_or_create(
                membership=participant,
                defaults={
                    "referral_source": rng.choice(["self", "clinic", "voluntary"]),
                    # Eligible because each question has the eligible answer, as the person
                    # page's form shows them.
                    "eligibility_answers": {
                        str(question.pk): question.eligible_answer
                        for question in EligibilityQuestion.objects.filter(scheme=scheme)
                    },
                    "eligible": True,
                    "waiting_since": today - timedelta(days=rng.randint(3, 120)),
                },
            )
            consent_give(
                membership=participant,
                kind=ConsentKind.HOLD_DATA,
                by=coordinator,
                how=ConsentMethod.PAPER,
                detail="Given at enrolment",
            )
        if Match.objects.filter(scheme=scheme).exists():
            return
        by = coordinator
        active = matching_services.match_create(
            participant=participants[1], buddy=buddies[1], by=by, state="proposed"
        )
        matching_services.match_accept(match=active, by_membership=participants[1])
        matching_services.match_accept(match=active, by_membership=buddies[1])
        matching_services.match_introduce(
            match=active, intro_at=timezone.now() - timedelta(days=20), by=by
        )
        # The agreement is made and signed by all three before the match can start.
        contract = contract_services.contract_generate(match=active, by=by)
        coordinator_membership = coordinator.memberships.get(scheme=scheme, role=Role.COORDINATOR)
        for member in (participants[1], buddies[1], coordinator_membership):
            contract_services.contract_sign(
                contract=contract,
                membership=member,
                typed_name=member.user.get_full_name() or member.user.display_name,
                agreed=True,
                read_to_end=True,
            )
        matching_services.match_activate(match=active, by=by)
        # A proposal awaiting both answers, made as a coordinator makes one.
        proposal = matching_services.match_create(
            participant=participants[2], buddy=buddies[0], by=by
        )
        matching_services.match_propose(match=proposal, by=by)
        if not SuggestionOffer.objects.filter(participant=participants[0]).exists():
            matching_services.suggestion_offer_create(participant=participants[0], by=by)
        event, _ = SpeedEvent.objects.get_or_create(
            scheme=scheme,
            name="Autumn speed-buddying",
            defaults={
                "held_on": today - timedelta(days=2),
                "rankings_close_at": timezone.now() + timedelta(days=5),
            },
        )
        for buddy in buddies[2:5]:
            for participant in participants[5:8]:
                matching_services.speed_meeting_record(
                    event=event, buddy=buddy, participant=participant
                )

    def _support(self, scheme, coordinator, second, buddies):
        """Support persons, one-to-ones (one overdue), contact, concerns and a diary."""
        if Supervision.objects.filter(scheme=scheme).exists():
            return
        now = timezone.now()
        ruth = coordinator.memberships.get(scheme=scheme, role=Role.COORDINATOR)
        ben = second.memberships.get(scheme=scheme, role=Role.COORDINATOR)
        for number, buddy in enumerate(buddies[:9], start=1):
            buddy_support_person_set(
                buddy=buddy, support_person=ruth if number <= 5 else ben, by=coordinator
            )
        # They were approved in the summer: a one-to-one and a call were due since.
        BuddyVetting.objects.filter(membership__in=buddies[:9]).update(
            stage_changed_at=now - timedelta(days=120)
        )

        def held(buddy, days_ago, notes, shared=True):
            start = now - timedelta(days=days_ago)
            supervision = support.supervision_book(
                buddy=buddy,
                mode="phone",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                by=coordinator,
                now=start - timedelta(days=7),
            )
            support.supervision_hold(
                supervision=supervision, notes=notes, by=coordinator, now=start
            )
            if shared:
                support.supervision_notes_share(supervision=supervision, by=coordinator, now=start)

        held(
            buddies[1],
            30,
            "T. feels the match with S. is going well. Agreed to look at "
            "benefits forms together next time.",
        )
        held(buddies[0], 75, "A. is waiting for her first match; talked through the menu.")
        held(buddies[2], 20, "P. enjoyed the speed event.", shared=False)
        soon = now + timedelta(days=5)
        support.supervision_book(
            buddy=buddies[1],
            mode="video",
            starts_at=soon,
            ends_at=soon + timedelta(hours=1),
            by=coordinator,
        )
        for buddy in buddies[1:5]:
            support.contact_log(
                buddy=buddy,
                mode="phone",
                notes="All well.",
                by=coordinator,
                now=now - timedelta(days=12),
            )
        participant = buddies[1].matches_as_buddy.first().participant
        concerns.concern_raise(
            buddy=buddies[1],
            kind="someone",
            about=participant,
            text="S. said he has not been eating properly for a week and seemed low.",
            one_to_one_wanted=True,
            by=buddies[1].user,
            now=now - timedelta(hours=2),
        )
        worry = concerns.concern_raise(
            buddy=buddies[3],
            kind="myself",
            text="Finding it hard to switch off after meetings.",
            by=buddies[3].user,
            now=now - timedelta(days=3),
        )
        concerns.concern_take(concern=worry, coordinator=ben, now=now - timedelta(days=3))
        entry = support.diary_write(
            buddy=buddies[1], text="Good meeting. I talked too much at the start; listen more."
        )
        support.diary_share(entry=entry, buddy=buddies[1])
        support.diary_write(buddy=buddies[1], text="Tired today. Need an early night.")

    def _referrals(self, scheme, coordinator):
        """Three referrals: an urgent one from a clinic, a self-referral, and one assessed."""
        if Referral.objects.filter(scheme=scheme).exists():
            return
        now = timezone.now()
        needs = referrals.referral_needs_menu(scheme)[:2]
        referrals.referral_receive(
            scheme=scheme,
            details=ReferralDetails(
                source=ReferralSource.CLINIC,
                person_name="Jordan Price",
                person_phone="07700 900301",
                preferred_contact="phone",
                consent_to_contact=True,
                needs=needs[:1],
                urgency=ReferralUrgency.URGENT,
                referrer_name="Amira Shah",
                referrer_organisation="Riverside Clinic",
                referrer_role="Specialist nurse",
                referrer_email="amira.shah@clinic.example.org",
                referrer_may_be_told=True,
            ),
            now=now - timedelta(days=1),
        )
        referrals.referral_receive(
            scheme=scheme,
            details=ReferralDetails(
                source=ReferralSource.SELF,
                person_name="Casey Lowe",
                person_email="casey.lowe@example.org",
                preferred_contact="email",
                safe_to_leave_messages=True,
                consent_to_contact=True,
                needs=needs,
                other_help="Someone to go to the cinema with",
            ),
            now=now - timedelta(days=4),
        )
        assessed = referrals.referral_receive(
            scheme=scheme,
            details=ReferralDetails(
                source=ReferralSource.SOCIAL_CARE,
                person_name="Morgan Ellis",
                person_phone="07700 900302",
                preferred_contact="sms",
                consent_to_contact=True,
                needs=needs[1:],
                urgency=ReferralUrgency.SOON,
                referrer_name="Dan Okafor",
                referrer_organisation="City Council adult social care",
                referrer_role="Social worker",
                referrer_email="dan.okafor@council.example.org",
            ),
            now=now - timedelta(days=12),
        )
        referrals.referral_assess(
            referral=assessed,
            by=coordinator,
            answers={
                question.pk: question.eligible_answer
                for question in EligibilityQuestion.objects.filter(scheme=scheme)
            },
            needs=assessed.needs,
            risks="M. prefers to meet in public places at first.",
            now=now - timedelta(days=8),
        )
