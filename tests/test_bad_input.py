"""Bad input never gives a 500 (issue 21, "Bad input").

The forms, filters and JSON endpoints fuzzed here are found, not listed: every GET page of the
URL × role matrix (tests/test_url_matrix.py) is opened as the first persona it lets in, and each
<form> on it (its method, action and field names) is sent values from hypothesis as that same
persona. A filter is a GET form; a JSON endpoint is a page that answers application/json. So a
form added to any page is fuzzed without anyone listing it here.

Each example runs in a savepoint that is rolled back, so the objects stay as the matrix made
them. An example fails on a 500 (the test client re-raises the view's exception, with its
traceback) and, when the page refused the input (a 400, or the form again saying what was
wrong), on any row written: nothing is saved half-way.
"""

import os
import re
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .base import PERSONAS
from .test_url_matrix import MATRIX, MatrixCase

# BAD_INPUT_EXAMPLES: more examples for a longer hunt by hand; CI keeps the bounded default.
BOUNDED = settings(
    max_examples=int(os.environ.get("BAD_INPUT_EXAMPLES", "15")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Inputs people (and scanners) really send: each found a 500 somewhere once, or would have.
NASTY_VALUES = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "1000000000",
    "9" * 30,
    "1e309",
    "NaN",
    "-0",
    "3.5",
    "²",
    "１２",
    "\x00",
    "SW9\x00",
    "a\x00b",
    "\u202eexe.fdp",
    "\u2066hidden\u2069",
    "e" + "\u0301" * 60,
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "31/12/2026",
    "25:61",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%s%n",
    "../../etc/passwd",
    "x" * 5000,
    "\ud7ff\ue000\uffff",
]

value = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)

# Pages whose forms end the persona's session or switch it: fuzzing them tests nothing more.
SKIPPED_ACTIONS = ("/accounts/logout/", "/admin/logout/", "/switch/")
# Django's admin and allauth are the libraries' own (fuzzed by their authors); ours are the rest.
LIBRARY_PREFIXES = ("/admin/", "/accounts/")

FILE_BYTES = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"MZ\x90", b""]).flatmap(
        lambda head: st.binary(max_size=200).map(lambda tail: head + tail)
    ),
)


@dataclass
class FoundForm:
    method: str
    action: str
    persona: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def key(self):
        route = _route(self.action)
        return (self.method, route, tuple(sorted(self.fields)), tuple(self.files))


class _FormParser(HTMLParser):
    def __init__(self, page_url):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[FoundForm] = []
        self._current: FoundForm | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.page_url
            self._current = FoundForm(
                method=(attrs.get("method") or "get").lower(),
                action=urlsplit(action).path or self.page_url,
                persona="",
            )
            self.forms.append(self._current)
            return
        if self._current is None or tag not in ("input", "select", "textarea", "button"):
            return
        name = attrs.get("name")
        if not name or name == "csrfmiddlewaretoken":
            return
        if tag == "input" and attrs.get("type") == "file":
            self._current.files.append(name)
            return
        self._current.fields.setdefault(name, [])
        if attrs.get("value") is not None:
            self._current.fields[name].append(attrs["value"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _route(path):
    try:
        return resolve(path).route
    except Resolver404:
        return path


def _first_persona_let_in(expected):
    return next((persona for persona in PERSONAS if expected[persona] == 200), None)


@st.composite
def form_values(draw, found: FoundForm, other_scheme_ids):
    """Each field: left out, its own value, an id from the other scheme, or something nasty."""
    data = {}
    for name, own_values in found.fields.items():
        choice = draw(
            st.one_of(
                st.none(),
                st.sampled_from(own_values or [""]),
                st.sampled_from(other_scheme_ids),
                value,
                st.lists(value, min_size=2, max_size=3),
            )
        )
        if choice is not None:
            data[name] = choice
    for name in found.files:
        if draw(st.booleans()):
            extension = draw(st.sampled_from(["pdf", "png", "jpg", "exe", "txt", ""]))
            data[name] = SimpleUploadedFile(f"upload.{extension}", draw(FILE_BYTES))
    return data


WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# Tables a refused form may still write: the session (the idle refresh), and the access log's
# row for a participant's record shown again with the error (a view is logged, by design).
ALLOWED_WRITES = ("django_session",)
VIEW_LOGGED = re.compile(r'INSERT INTO "buddyscheme_auditevent".*\'participant_\w+_view\'', re.S)
# "I need help" records every press, whatever else comes with it: never a refusal.
ALWAYS_RECORDED = re.compile(r"/help/$")


# What a page shows when it said no: a field's error, a form's error, an error message.
REFUSAL_MARKS = (b"is-invalid", b"errorlist", b"alert-danger", b'role="alert"')


def _refused(response) -> bool:
    """The input was refused: a 400, or the page again (200) saying what was wrong."""
    if response.status_code == 400:
        return True
    return response.status_code == 200 and any(mark in response.content for mark in REFUSAL_MARKS)


class BadInputTest(MatrixCase):
    def _pages(self, objects):
        """(url, persona, response) for every GET page of the matrix someone may see."""
        for route, (method, kwargs_name, expected) in MATRIX.items():
            persona = _first_persona_let_in(expected)
            if method != "get" or persona is None:
                continue
            url = self._url(route, kwargs_name, objects)
            if url.startswith(LIBRARY_PREFIXES) or "<" in url:
                continue
            self.login_as(persona)
            response = self.client.get(url)
            yield url, persona, response

    def _found(self, objects):
        forms: dict[tuple, FoundForm] = {}
        json_urls = []
        for url, persona, response in self._pages(objects):
            content_type = response.get("Content-Type", "")
            if content_type.startswith("application/json"):
                json_urls.append((url, persona))
            if not content_type.startswith("text/html") or response.status_code != 200:
                continue
            parser = _FormParser(url)
            parser.feed(response.content.decode())
            for found in parser.forms:
                found.persona = persona
                if found.action.startswith(SKIPPED_ACTIONS + LIBRARY_PREFIXES):
                    continue
                # A button with no fields (an export, "take this concern") has nothing to
                # fuzz: the URL matrix presses it.
                if found.fields or found.files:
                    forms.setdefault(found.key, found)
        return list(forms.values()), json_urls

    def _other_scheme_ids(self):
        from buddyscheme.models import Membership

        ids = [
            str(pk)
            for pk in Membership.objects.filter(scheme=self.other_scheme).values_list(
                "pk", flat=True
            )
        ]
        return ids or ["999999"]

    def _send(self, method, url, data):
        """One request in a savepoint rolled back afterwards; the writes it made, if refused."""
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                if method == "post":
                    response = self.client.post(url, data)
                else:
                    response = self.client.get(url, data)
            transaction.set_rollback(True)
        writes = [
            query["sql"][:160]
            for query in queries.captured_queries
            if WRITES.match(query["sql"])
            and not any(t in query["sql"] for t in ALLOWED_WRITES)
            and not VIEW_LOGGED.match(query["sql"])
        ]
        return response, writes

    def _fuzz(self, found, other_ids):
        self.login_as(found.persona)

        @BOUNDED
        @given(data=form_values(found, other_ids))
        def send(data):
            response, writes = self._send(found.method, found.action, data)
            assert response.status_code != 500, (found.method, found.action, data)
            if (
                found.method == "post"
                and _refused(response)
                and not ALWAYS_RECORDED.search(found.action)
            ):
                assert writes == [], (found.action, data, writes)

        send()

    def _fuzz_json(self, url, persona):
        self.login_as(persona)

        @BOUNDED
        @given(params=st.dictionaries(st.sampled_from(["format", "q", "since", "x"]), value))
        def send(params):
            response, _ = self._send("get", url, params)
            assert response.status_code != 500, (url, params)

        send()

    def _fuzz_everything(self, methods=("get", "post")):
        objects = self._objects()
        forms, json_urls = self._found(objects)
        forms = [found for found in forms if found.method in methods]
        assert json_urls, "no JSON endpoint found (healthz answers JSON)"
        other_ids = self._other_scheme_ids()
        failures = []
        progress = os.environ.get("BAD_INPUT_PROGRESS")
        for found in forms:
            started = time.monotonic()
            if progress:
                print(found.method, found.action, sorted(found.fields), file=sys.stderr)
            try:
                self._fuzz(found, other_ids)
            except Exception as error:  # noqa: BLE001 - every form's failure, not the first
                failures.append(f"{found.method.upper()} {found.action}: {error!r}"[:2000])
            if progress:
                print(f"  {time.monotonic() - started:.1f}s", failures[-1:], file=sys.stderr)
        for url, persona in json_urls:
            try:
                self._fuzz_json(url, persona)
            except Exception as error:  # noqa: BLE001
                failures.append(f"GET {url}: {error!r}"[:2000])
        assert failures == [], f"{len(failures)} of {len(forms) + len(json_urls)}:\n" + "\n".join(
            failures
        )

    def test_every_form_filter_and_json_endpoint_survives_bad_input(self):
        """One test, so the pages are crawled once (it is the slow part)."""
        self._fuzz_everything()

    def test_known_bad_inputs_are_explained_not_500(self):
        objects = self._objects()
        self.login_as("coordinator")
        participant = f"/coordinator/matching/participants/{objects['participant']}/"
        for method, url, data in (
            ("get", "/coordinator/matching/", {"min_days": "1000000000"}),
            ("get", "/coordinator/matching/", {"district": "SW\x009"}),
            ("post", participant, {"action": "propose", "buddy": "abc"}),
        ):
            response, writes = self._send(method, url, data)
            # A filter explains itself (200) or is refused (400); an id that is not a number
            # finds nobody (404), as any id not theirs would.
            assert response.status_code in (200, 302, 400, 404), (url, data, response.status_code)
            assert writes == [], writes


@pytest.mark.postgres
class FiltersOnPostgresTest(BadInputTest):
    """The filters and JSON endpoints again on PostgreSQL, which refuses what SQLite stores (a
    NUL byte in text, an integer past 64 bits)."""

    def test_every_form_filter_and_json_endpoint_survives_bad_input(self):
        self._fuzz_everything(methods=("get",))
