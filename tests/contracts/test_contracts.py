import subprocess

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from buddyscheme.consent import consent_give, consent_withdraw, may_text
from buddyscheme.errors import DomainError
from buddyscheme.models import ConsentKind, Notification, ParticipantEnrolment, Role
from buddyscheme.notifications import notification_enqueue, notifications_deliver
from contracts import services
from contracts.models import Contract, ContractState, Signature, text_hash
from contracts.pdf import StaticOnlyFetcher, contract_pdf
from matching import services as matching_services
from matching.models import Match, MatchState

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, menu, waiting_participant

pytestmark = pytest.mark.django_db


@pytest.fixture
def agreed_match():
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    items = menu(scheme, "Benefits forms", "Cooking")
    participant = waiting_participant(scheme, items=items)
    participant.user.first_name, participant.user.last_name = "Grace", "Obi"
    participant.user.save()
    buddy = cleared_buddy(scheme, items=items[:1])
    match = Match.objects.create(
        scheme=scheme, participant=participant, buddy=buddy, state=MatchState.INTRODUCED
    )
    return match, coordinator


def sign(contract, member, **kwargs):
    return services.contract_sign(
        contract=contract,
        membership=member,
        typed_name=member.user.get_full_name(),
        agreed=True,
        read_to_end=True,
        **kwargs,
    )


class TestTemplates:
    def test_defaults_ship_and_editing_makes_a_new_version(self):
        scheme = SchemeFactory()
        templates = services.templates_ensure(scheme)
        assert set(templates) == {"match", "volunteer", "group"}
        template = templates["match"]
        first = template.current
        second = services.template_revise(
            template=template,
            clauses=[{"heading": "Only", "text": "We meet {{ frequency }}."}],
            easy_read="",
            by=None,
            requires_reconsent=False,
        )
        assert (first.number, second.number) == (1, 2)
        assert (
            template.versions.count() == 2 and first.clauses != second.clauses
        )  # the old one stays readable

    def test_unknown_placeholders_are_refused_with_their_names(self):
        template = services.templates_ensure(SchemeFactory())["match"]
        with pytest.raises(DomainError, match="favourite_colour"):
            services.template_revise(
                template=template,
                clauses=[{"heading": "X", "text": "{{ favourite_colour }}"}],
                easy_read="",
                by=None,
                requires_reconsent=False,
            )


class TestFreezing:
    def test_the_text_is_filled_frozen_and_hashed(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(
            match=match, by=coordinator.user, specifics={"frequency": "every Tuesday"}
        )
        assert "every Tuesday" in contract.text
        assert (
            "G.O." in contract.text and "Obi" not in contract.text
        )  # initials for the participant
        assert "The buddy will help with: Benefits forms." in contract.text
        assert contract.sha256 == text_hash(contract.text) and contract.hash_matches

    def test_changing_the_text_is_refused_by_the_service_and_the_database(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        contract.text += "\n12. And one more thing."
        with pytest.raises(ValidationError):
            contract.save()
        with pytest.raises(DatabaseError), transaction.atomic():
            Contract.objects.filter(pk=contract.pk).update(text="something else")
        sign(contract, match.participant)
        with pytest.raises(DatabaseError), transaction.atomic():
            Signature.objects.filter(contract=contract).update(typed_name="Someone Else")
        assert Contract.objects.get(pk=contract.pk).hash_matches


class TestSigning:
    def test_everyone_signs_then_the_match_can_start(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        with pytest.raises(DomainError, match="must be signed"):
            matching_services.match_activate(match=match, by=coordinator.user)
        sign(contract, match.participant, ip_address="203.0.113.5", user_agent="Phone browser")
        sign(contract, match.buddy)
        with pytest.raises(DomainError, match="must be signed"):
            matching_services.match_activate(match=match, by=coordinator.user)
        sign(contract, coordinator)
        contract.refresh_from_db()
        assert contract.state == ContractState.SIGNED
        signature = contract.signatures.get(party="participant")
        assert (signature.ip_address, signature.user_agent) == ("203.0.113.5", "Phone browser")
        assert (
            matching_services.match_activate(match=match, by=coordinator.user).state
            == MatchState.ACTIVE
        )

    def test_signing_needs_reading_ticking_and_a_name_and_happens_once(self, agreed_match):
        match, _ = agreed_match
        contract = services.contract_generate(match=match, by=None)
        kwargs = {"contract": contract, "membership": match.participant}
        with pytest.raises(DomainError, match="read"):
            services.contract_sign(**kwargs, typed_name="Grace Obi", agreed=True, read_to_end=False)
        with pytest.raises(DomainError, match="I agree"):
            services.contract_sign(**kwargs, typed_name="Grace Obi", agreed=False, read_to_end=True)
        with pytest.raises(DomainError, match="Type your name"):
            services.contract_sign(**kwargs, typed_name=" ", agreed=True, read_to_end=True)
        sign(contract, match.participant)
        with pytest.raises(DomainError, match="already has that signature"):
            sign(contract, match.participant)
        stranger = MembershipFactory(scheme=match.scheme, role=Role.BUDDY)
        with pytest.raises(DomainError, match="Only the people named"):
            sign(contract, stranger)

    def test_in_person_signing_needs_a_witness(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        with pytest.raises(DomainError, match="witness"):
            sign(contract, match.participant, mode="in_person")
        signature = sign(
            contract, match.participant, mode="in_person", attested_by=coordinator.user
        )
        assert signature.attested_by == coordinator.user

    def test_each_signature_is_audited_with_who_signed_and_from_where(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        online = sign(contract, match.buddy, ip_address="203.0.113.5", user_agent="Phone browser")
        row = assert_audited(
            verb="contract_sign", obj=online, actor=match.buddy.user, scheme=match.scheme
        )
        assert (row.ip_address, row.user_agent) == ("203.0.113.5", "Phone browser")
        # On the coordinator's tablet, the coordinator is the one acting.
        in_person = sign(
            contract, match.participant, mode="in_person", attested_by=coordinator.user
        )
        assert_audited(
            verb="contract_sign", obj=in_person, actor=coordinator.user, scheme=match.scheme
        )

    def test_reminders_after_three_days_to_whoever_has_not_signed(self, agreed_match):
        match, _ = agreed_match
        contract = services.contract_generate(
            match=match, by=None, now=timezone.now() - timezone.timedelta(days=2)
        )
        sign(contract, match.participant)
        assert services.remind_unsigned() == 0
        later = timezone.now() + timezone.timedelta(days=1, hours=1)
        assert services.remind_unsigned(now=later) >= 1
        assert services.remind_unsigned(now=later) == 0  # once a day
        notifications_deliver(now=later)
        assert [m.to for m in mail.outbox] == [[match.buddy.user.email]]


class TestReconsent:
    def test_a_new_version_with_reconsent_asks_active_matches_to_sign_again(self, agreed_match):
        match, coordinator = agreed_match
        first = services.contract_generate(match=match, by=None)
        for member in (match.participant, match.buddy, coordinator):
            sign(first, member)
        matching_services.match_activate(match=match, by=coordinator.user)
        template = services.templates_ensure(match.scheme)["match"]
        services.template_revise(
            template=template,
            clauses=template.current.clauses
            + [{"heading": "New", "text": "Texts only after 8pm."}],
            easy_read="",
            by=coordinator.user,
            requires_reconsent=True,
        )
        assert services.match_contract_status(match) == "reconsent"
        second = match.contracts.get(is_reconsent=True)
        assert "Texts only after 8pm." in second.text
        for member in (match.participant, match.buddy, coordinator):
            sign(second, member)
        assert services.match_contract_status(match) == "signed"
        first.refresh_from_db()
        assert first.state == ContractState.SUPERSEDED

    def test_without_reconsent_nothing_changes_for_active_matches(self, agreed_match):
        match, coordinator = agreed_match
        services.contract_generate(match=match, by=None)
        template = services.templates_ensure(match.scheme)["match"]
        services.template_revise(
            template=template,
            clauses=template.current.clauses,
            easy_read="",
            by=None,
            requires_reconsent=False,
        )
        assert match.contracts.count() == 1


class TestPDF:
    def test_the_pdf_reads_back_with_clauses_signatures_and_hash(self, agreed_match, tmp_path):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        for member in (match.participant, match.buddy, coordinator):
            sign(contract, member)
        pdf = tmp_path / "agreement.pdf"
        pdf.write_bytes(contract_pdf(contract, discreet=True))
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        squashed = " ".join(text.split())
        for clause in (
            "Who this is between",
            "Stopping at once",
            "When confidentiality must be broken",
        ):
            assert clause in squashed
        assert contract.sha256 in squashed.replace(" ", "")
        assert "Page 1 of" in squashed
        assert (
            "Agreement" in squashed.split("Reference")[0]
            and "Buddy agreement" not in squashed.split("Reference")[0]
        )

    def test_the_fetcher_refuses_files_and_the_network(self):
        fetcher = StaticOnlyFetcher()
        for url in ("file:///etc/passwd", "https://example.org/logo.png", "http://127.0.0.1:8000/"):
            with pytest.raises(ValueError):
                fetcher.fetch(url)
        assert fetcher.fetch("https://static.invalid/css/app.css").status == 200


class TestConsent:
    def test_withdrawing_sms_stops_texts_at_once(self):
        participant = MembershipFactory(role=Role.PARTICIPANT)
        participant.user.profile.phone = "07700 900111"
        participant.user.profile.save()
        assert not may_text(participant.user, participant.scheme)  # participants opt in
        consent_give(membership=participant, kind=ConsentKind.SMS, by=None)
        assert may_text(participant.user, participant.scheme)
        consent_withdraw(membership=participant, kind=ConsentKind.SMS, by=participant.user)
        made = notification_enqueue(
            scheme=participant.scheme,
            recipient=participant.user,
            template="all_clear",
            dedupe_key="t",
        )
        assert [n.channel for n in made] == ["email"]

    def test_staff_and_buddies_are_texted_unless_they_opt_out(self):
        buddy = MembershipFactory(role=Role.BUDDY)
        assert may_text(buddy.user, buddy.scheme)
        consent_give(membership=buddy, kind=ConsentKind.SMS, by=None)
        consent_withdraw(membership=buddy, kind=ConsentKind.SMS, by=None)
        assert not may_text(buddy.user, buddy.scheme)

    def test_withdrawing_special_category_consent_hides_and_flags_sensitive_notes(self):
        from buddyscheme.consent import sensitive_notes_visible

        participant = MembershipFactory(role=Role.PARTICIPANT)
        consent_give(
            membership=participant, kind=ConsentKind.SPECIAL_CATEGORY, by=None, how="paper"
        )
        enrolment = ParticipantEnrolment.objects.create(
            membership=participant, sensitive_notes="Diagnosed 2019"
        )
        assert sensitive_notes_visible(enrolment)
        consent_withdraw(membership=participant, kind=ConsentKind.SPECIAL_CATEGORY, by=None)
        enrolment.refresh_from_db()
        assert not sensitive_notes_visible(enrolment)
        assert enrolment.sensitive_flagged_for_deletion_at is not None

    def test_consent_records_keep_wording_version_and_how(self):
        member = MembershipFactory(role=Role.PARTICIPANT)
        record = consent_give(membership=member, kind=ConsentKind.PHOTOS, by=None, how="verbal")
        assert (record.wording_version, record.given_how) == ("2026-11", "verbal")
        assert Notification.objects.count() == 0


class ContractViewsTest(PersonaTestCase):
    def setUp(self):
        self.participant.first_name, self.participant.last_name = "Pat", "Participant"
        self.participant.save()
        self.match = Match.objects.create(
            scheme=self.scheme,
            participant=self.participant_membership,
            buddy=self.buddy_membership,
            state=MatchState.ACCEPTED,
        )
        self.contract = services.contract_generate(match=self.match, by=self.coordinator)

    def test_the_participant_reads_and_signs_on_their_phone(self):
        self.login_as("participant")
        url = f"/contracts/{self.contract.pk}/"
        response = self.client.post(url, {"typed_name": "Pat", "agreed": "on"})
        self.assertContains(response, "Please read the agreement to the end first.")
        self.assertContains(response, 'value="Pat"')
        self.client.post(
            url,
            {"typed_name": "Pat Participant", "agreed": "on", "read_to_end": "on"},
            REMOTE_ADDR="198.51.100.7",
        )
        signature = self.contract.signatures.get()
        self.assertEqual((signature.party, signature.ip_address), ("participant", "198.51.100.7"))
        self.assertNotContains(self.client.get(url), "Sign the agreement")

    def test_only_parties_see_it(self):
        stranger = MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT)
        self.client.force_login(stranger.user)
        self.assertEqual(self.client.get(f"/contracts/{self.contract.pk}/").status_code, 403)
        self.assertNotContains(self.client.get("/contracts/"), f"/contracts/{self.contract.pk}/")

    def test_verify_page_recomputes_the_hash(self):
        self.login_as("buddy")
        self.assertContains(
            self.client.get(f"/contracts/{self.contract.pk}/verify/"), "its fingerprint matches"
        )

    def test_in_person_on_the_coordinators_tablet(self):
        self.login_as("coordinator")
        self.client.post(
            f"/coordinator/contracts/{self.contract.pk}/sign-in-person/",
            {"typed_name": "Pat Participant", "agreed": "on", "read_to_end": "on"},
        )
        signature = self.contract.signatures.get()
        self.assertEqual(
            (signature.party, signature.mode, signature.attested_by),
            ("participant", "in_person", self.coordinator),
        )

    def test_template_editor_shows_readability_and_saves_a_version(self):
        self.login_as("coordinator")
        template = services.templates_ensure(self.scheme)["match"]
        page = self.client.get(f"/coordinator/contract-templates/{template.pk}/")
        self.assertContains(page, "Reading ease")
        self.client.post(
            f"/coordinator/contract-templates/{template.pk}/",
            {
                "clauses": "Meeting\nWe meet {{ frequency }}.\n\nStopping\nYou can stop at any time.",
                "easy_read": "",
            },
        )
        self.assertEqual(template.current.number, 2)
        self.assertEqual(len(template.current.clauses), 2)

    def test_people_withdraw_consent_from_their_own_page(self):
        consent_give(membership=self.participant_membership, kind=ConsentKind.PHOTOS, by=None)
        self.login_as("participant")
        self.assertContains(self.client.get("/consents/"), "Withdraw")
        self.client.post("/consents/photos/withdraw/")
        self.assertFalse(
            self.participant_membership.consents.filter(withdrawn_at__isnull=True).exists()
        )


class SensitiveNotesTest(PersonaTestCase):
    def test_recorded_only_with_consent_and_hidden_after_withdrawal(self):
        ParticipantEnrolment.objects.create(membership=self.participant_membership, eligible=True)
        url = f"/coordinator/people/{self.participant_membership.pk}/"
        self.login_as("coordinator")
        self.assertContains(self.client.get(url), "No consent to hold sensitive information")
        self.client.post(
            url + "sensitive-notes/", {"sensitive_notes": "Diagnosed 2019"}, follow=True
        )
        self.assertEqual(ParticipantEnrolment.objects.get().sensitive_notes, "")
        consent_give(
            membership=self.participant_membership,
            kind=ConsentKind.SPECIAL_CATEGORY,
            by=None,
            how="paper",
        )
        self.client.post(url + "sensitive-notes/", {"sensitive_notes": "Diagnosed 2019"})
        self.assertContains(self.client.get(url), "Diagnosed 2019")
        consent_withdraw(
            membership=self.participant_membership, kind=ConsentKind.SPECIAL_CATEGORY, by=None
        )
        page = self.client.get(url)
        self.assertNotContains(page, "Diagnosed 2019")
        self.assertContains(page, "flagged for deletion")
