"""Issue 14 point 9: discretion and reading level on participants' pages.

Someone may be looking at the phone: the words that say what a person lives with appear only
after a tap (inside <details>), in small type, and never in a title, a heading or the tab.
"""

import re
from html.parser import HTMLParser

from buddyscheme.consent import consent_give
from buddyscheme.discretion import discreet_html, is_sensitive, masked
from buddyscheme.models import DEFAULT_SENSITIVE_WORDS, ConsentKind
from contracts import services as contract_services
from contracts.models import Contract
from matching.models import MatchProfile, MenuCategory, MenuItem, SuggestionOption

from ..base import PersonaTestCase
from ..factories import cleared_buddy
from ..test_url_matrix import MATRIX, MatrixCase, P

WORDS = [word.strip() for word in DEFAULT_SENSITIVE_WORDS.split(",")]
HEADINGS = {"title", "h1", "h2", "h3", "h4", "h5", "h6"}


class PageReader(HTMLParser):
    """The text of the title and headings, and the text a person sees without tapping
    anything (outside every closed <details>, but counting each <summary>)."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.headings: list[str] = []
        self.in_plain_sight: list[str] = []
        self.inside_details = 0
        self.inside_summary = 0
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag == "details":
            self.inside_details += 1
        if tag == "summary":
            self.inside_summary += 1
        if tag in HEADINGS:
            self.headings.append("")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        if tag == "details":
            self.inside_details -= 1
        if tag == "summary":
            self.inside_summary -= 1
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if self.skip:
            return
        if any(tag in HEADINGS for tag in self.stack):
            self.headings[-1] += data
        if not self.inside_details or self.inside_summary:
            self.in_plain_sight.append(data)


def read(html: str) -> PageReader:
    reader = PageReader()
    reader.feed(html)
    return reader


def sensitive_in(texts) -> list[str]:
    return [" ".join(text.split()) for text in texts if is_sensitive(text, WORDS)]


class MaskingTest(PersonaTestCase):
    def test_whole_words_any_case(self):
        assert masked("Living well after diagnosis", WORDS) == "Living well after …"
        assert masked("hiv and Medication routines", WORDS) == "… and … routines"
        assert masked("Sexual health clinic", WORDS) == "… clinic"
        assert not is_sensitive("Shiva's archive of diagnostics", WORDS)

    def test_the_full_text_is_a_tap_away_in_small_type(self):
        html = str(discreet_html("Living well after diagnosis", WORDS))
        reader = read(html)
        assert sensitive_in(reader.in_plain_sight) == []
        assert '<details class="discreet"><summary>show in full</summary>' in html
        assert '<span class="small">Living well after diagnosis</span>' in html
        assert str(discreet_html("Cooking <b>", WORDS)) == "Cooking &lt;b&gt;"

    def test_a_scheme_chooses_its_own_words(self):
        self.scheme.sensitive_words = "hepatitis, liver"
        self.scheme.save()
        assert self.scheme.sensitive_word_list == ["hepatitis", "liver"]


class EveryParticipantPageTest(MatrixCase):
    """Every page a participant can open, rendered with sensitive things to show: the menu
    item "Living well after diagnosis" in their wants and their buddy's offers, an agreement
    that names it, suggestions that explain it, and every consent given."""

    def _sensitive_objects(self):
        objects = self._objects()
        category = MenuCategory.objects.create(scheme=self.scheme, name="Peer experience")
        item = MenuItem.objects.create(category=category, name="Living well after diagnosis")
        profile, _ = MatchProfile.objects.get_or_create(membership=self.participant_membership)
        profile.items.add(item)
        buddy = cleared_buddy(self.scheme, items=[item])
        SuggestionOption.objects.create(
            offer_id=objects["offer"],
            buddy=buddy,
            position=1,
            score=10,
            reasons=[{"label": "Wants and offers: Living well after diagnosis", "points": 10}],
        )
        contract = Contract.objects.get(pk=objects["contracts/contract"])
        objects["contracts/contract"] = Contract.objects.create(
            scheme=self.scheme,
            kind="match",
            match=contract.match,
            version=contract.version,
            title="Buddy agreement",
            text="Buddy agreement\n\n1. What the buddy will help with\n"
            "The buddy will help with: Living well after diagnosis.\n",
        ).pk
        for kind in ConsentKind.values:
            consent_give(membership=self.participant_membership, kind=kind, by=None)
        return objects

    def test_no_sensitive_word_in_titles_headings_or_plain_sight(self):
        objects = self._sensitive_objects()
        self.login_as("participant")
        checked, problems = [], []
        for route, (method, kwargs_name, expected) in MATRIX.items():
            if method != "get" or expected[P] != 200:
                continue
            url = self._url(route, kwargs_name, objects)
            response = self.client.get(url)
            if not response["Content-Type"].startswith("text/html"):
                continue  # the PDF, the health check
            reader = read(response.content.decode())
            checked.append(url)
            for text in sensitive_in(reader.headings):
                problems.append(f"{url}: title or heading {text!r}")
            for text in sensitive_in(reader.in_plain_sight):
                problems.append(f"{url}: in plain sight {text!r}")
        self.assertEqual(problems, [], "\n".join(problems))
        # The pages that hold the sensitive things were among those read.
        for page in (
            "/me/",
            "/menu/",
            "/consents/",
            f"/contracts/{objects['contracts/contract']}/",
        ):
            self.assertIn(page, checked)
        self.assertIn(f"/choose/{objects['offer']}/", checked)

    def test_the_sensitive_things_are_there_after_a_tap(self):
        objects = self._sensitive_objects()
        self.login_as("participant")
        menu = self.client.get("/menu/").content.decode()
        self.assertIn("Peer experience: Living well after …", menu)
        self.assertRegex(
            menu,
            r"(?s)<details[^>]*>\s*<summary>Show the hidden words in full</summary>"
            r"\s*<ul class=\"small[^\"]*\">\s*<li>Peer experience: Living well after diagnosis",
        )
        agreement = self.client.get(f"/contracts/{objects['contracts/contract']}/")
        self.assertContains(agreement, '<span class="small">The buddy will help with: Living')
        consents = self.client.get("/consents/").content.decode()
        self.assertRegex(
            consents,
            r"(?s)<summary>What this covers</summary>\s*<p class=\"small[^\"]*\">Health, HIV status",
        )
        self.assertIn("Keeping private information", consents)


class ConsentWithdrawalTest(PersonaTestCase):
    def test_withdrawing_says_what_changes_and_asks_to_confirm(self):
        consent_give(membership=self.participant_membership, kind=ConsentKind.SMS, by=None)
        self.login_as("participant")
        page = self.client.get("/consents/")
        self.assertContains(page, 'href="/consents/sms/withdraw/"')
        confirm = self.client.get("/consents/sms/withdraw/")
        self.assertContains(confirm, "What changes")
        self.assertContains(confirm, "We stop sending you text messages at once")
        self.assertContains(confirm, "Yes, withdraw")
        self.assertContains(confirm, "No, keep it")
        live = self.participant_membership.consents.filter(withdrawn_at__isnull=True)
        self.assertTrue(live.exists())  # a GET only asks
        # The old one-tap withdrawal now leads to the question, and changes nothing.
        response = self.client.post("/consents/", {"kind": "sms", "action": "withdraw"})
        self.assertRedirects(response, "/consents/sms/withdraw/")
        self.assertTrue(live.exists())
        self.client.post("/consents/sms/withdraw/")
        self.assertFalse(live.exists())

    def test_nothing_to_withdraw_and_unknown_kinds(self):
        self.login_as("participant")
        self.assertContains(self.client.get("/consents/photos/withdraw/"), "nothing to withdraw")
        self.assertEqual(self.client.get("/consents/everything/withdraw/").status_code, 404)


class AgreementPageTest(PersonaTestCase):
    def setUp(self):
        from matching.models import Match, MatchState

        match = Match.objects.create(
            scheme=self.scheme,
            participant=self.participant_membership,
            buddy=self.buddy_membership,
            state=MatchState.ACCEPTED,
        )
        self.contract = contract_services.contract_generate(match=match, by=self.coordinator)

    def test_the_easy_read_version_comes_first_and_the_fingerprint_is_a_tap_away(self):
        self.login_as("participant")
        page = self.client.get(f"/contracts/{self.contract.pk}/").content.decode()
        easy, full = page.index("The agreement in short"), page.index("The full agreement")
        self.assertLess(easy, full)
        self.assertLess(page.index("You can stop at any time."), full)
        reader = read(page)
        plain = " ".join(reader.in_plain_sight)
        self.assertNotIn(self.contract.sha256, plain)
        self.assertIn("Check this agreement", plain)
        self.assertRegex(
            page,
            r"(?s)<details[^>]*>\s*<summary>Check this agreement</summary>.*"
            + re.escape(self.contract.sha256),
        )


class LeaveQuicklyTest(PersonaTestCase):
    def test_on_participant_pages_only(self):
        self.login_as("participant")
        page = self.client.get("/me/")
        self.assertContains(page, 'href="https://www.bbc.co.uk/weather"')
        self.assertContains(page, ">Leave quickly</a>")
        self.assertContains(page, "js/leave-quickly")
        for persona, url in (("buddy", "/today/"), ("coordinator", "/coordinator/")):
            self.login_as(persona)
            self.assertNotContains(self.client.get(url), "Leave quickly")
