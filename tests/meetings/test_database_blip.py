"""When the database does not answer for a moment, the phone is told the press did not count
and is offered the same press again, which the idempotency key makes safe (issue 13 item 6)."""

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client

from meetings import views
from meetings.models import MeetingState, SafetyEvent

from .net import MONDAY_10AM, checked_in, minutes

pytestmark = pytest.mark.django_db


def test_a_check_out_during_a_database_blip_is_offered_again_and_counts_once(people, monkeypatch):
    meeting = checked_in(people)
    real_service, done = views.ACTIONS["check-out"]
    calls = []

    def blip_once(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")
        return real_service(**kwargs)

    monkeypatch.setitem(views.ACTIONS, "check-out", (blip_once, done))
    phone = Client(raise_request_exception=False)
    with time_machine.travel(MONDAY_10AM + minutes(50), tick=False):
        phone.force_login(people["buddy"].user)
        url = f"/meetings/{meeting.pk}/check-out/"
        failed = phone.post(url, {"key": "out-key-1", "pin": "1357"})
        page = failed.content.decode()
        assert failed.status_code == 503 and failed["Retry-After"] == "5"
        assert "We could not save that — please press again" in page
        assert 'name="key" value="out-key-1"' in page and f'action="{url}"' in page
        assert "1357" not in page  # a PIN is never written back into a page
        again = phone.post(url, {"key": "out-key-1"})
        phone.post(url, {"key": "out-key-1"})  # and once more, on a poor signal
    assert again.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CHECKED_OUT
    assert SafetyEvent.objects.filter(meeting=meeting, kind="check_out").count() == 1


def test_other_errors_still_get_the_ordinary_500_page(people, monkeypatch):
    meeting = checked_in(people)

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setitem(views.ACTIONS, "check-out", (broken, ""))
    phone = Client(raise_request_exception=False)
    with time_machine.travel(MONDAY_10AM + minutes(50), tick=False):
        phone.force_login(people["buddy"].user)
        response = phone.post(f"/meetings/{meeting.pk}/check-out/", {"key": "k"})
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_the_page_presses_again_by_itself_a_few_times_then_leaves_it_to_the_buddy(
    people, monkeypatch
):
    meeting = checked_in(people)

    def blip(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setitem(views.ACTIONS, "check-out", (blip, ""))
    phone = Client(raise_request_exception=False)
    url = f"/meetings/{meeting.pk}/check-out/"
    with time_machine.travel(MONDAY_10AM + minutes(50), tick=False):
        phone.force_login(people["buddy"].user)
        first = phone.post(url, {"key": "k", "safety_token": "signed"}).content.decode()
        assert 'data-retry="1"' in first and 'data-most="6"' in first
        assert 'name="safety_token" value="signed"' in first  # no session needed to retry
        assert "js/press-again" in first
        fifth = phone.post(url, {"key": "k", "retry": "5"}).content.decode()
        assert 'data-retry="6"' in fifth  # the script stops here: 6 is not below 6
        for nonsense in ("-1", "x", "99999999999999999999"):
            page = phone.post(url, {"key": "k", "retry": nonsense}).content.decode()
            assert 'data-retry="1"' in page


def test_a_check_in_saved_just_before_the_database_drops_is_shown_as_saved(people, monkeypatch):
    """PostgreSQL stopping between the view's commit and the session's save (fault test 3 saw
    a 400 here): the check-in counted, so the buddy sees it counted."""
    from django.contrib.sessions.models import Session

    meeting = checked_in(people)

    def database_gone(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    phone = Client(raise_request_exception=False)
    with time_machine.travel(MONDAY_10AM + minutes(48), tick=False) as clock:
        phone.force_login(people["buddy"].user)
        # Two minutes on, the session's idle expiry is due a refresh: this request saves it.
        clock.shift(minutes(2))
        monkeypatch.setattr(Session, "save", database_gone)
        response = phone.post(f"/meetings/{meeting.pk}/check-out/", {"key": "out-key-2"})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CHECKED_OUT


def test_a_session_deleted_during_the_request_is_still_refused(people, monkeypatch):
    """The tolerance is for a database outage only: a session deleted meanwhile (logged out in
    another tab) gets Django's 400, as before."""
    from django.contrib.sessions.models import Session

    from buddyscheme.sessions import SessionStore

    meeting = checked_in(people)
    real_service, done = views.ACTIONS["check-out"]

    def logged_out_elsewhere(**kwargs):
        # As a logout in another tab does: the session leaves the database and the cache.
        for key in Session.objects.values_list("session_key", flat=True):
            SessionStore(key).delete()
        return real_service(**kwargs)

    monkeypatch.setitem(views.ACTIONS, "check-out", (logged_out_elsewhere, done))
    phone = Client(raise_request_exception=False)
    with time_machine.travel(MONDAY_10AM + minutes(48), tick=False) as clock:
        phone.force_login(people["buddy"].user)
        clock.shift(minutes(2))  # the idle refresh is due: this request saves the session
        response = phone.post(f"/meetings/{meeting.pk}/check-out/", {"key": "out-key-3"})
    assert response.status_code == 400
