"""The responder page: everyone an alert reached (and the scheme's coordinators) can see who,
where and since when, call the buddy, and acknowledge or resolve it from their phone. The link
in the message is signed, expiring and names one alert and one person; it is never enough on
its own to see the address."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing

from buddyscheme.models import Role
from meetings import services
from meetings.access import read_responder_link, responder_link_token
from meetings.models import Alert, AlertRecipient

from ..factories import MembershipFactory, SchemeFactory, enrol_totp, venue
from .net import MONDAY_10AM, checked_in, minutes

pytestmark = pytest.mark.django_db

ADDRESS = "Flat 3, 12 Mare Street"


@pytest.fixture
def responders(people, scheme):
    """An on-call buddy who is not a coordinator, and a coordinator nobody alerted."""
    on_call_buddy = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, is_on_call=True, user__email="night@example.org"
    )
    enrol_totp(people["coordinator"].user)
    people["buddy"].user.profile.phone = "07700 900456"
    people["buddy"].user.profile.save()
    return {**people, "on_call_buddy": on_call_buddy}


@pytest.fixture
def help_alert(responders, scheme):
    meeting = checked_in(responders, place=venue(scheme, name="Corner café", address=ADDRESS))
    alert = services.meeting_help(
        meeting=meeting, key="help-1", by=None, now=MONDAY_10AM + minutes(20)
    )
    assert AlertRecipient.objects.filter(
        alert=alert, person=responders["on_call_buddy"].user
    ).exists()
    return alert


def link(alert, person):
    return f"/r/{responder_link_token(alert.pk, person.pk)}"


def at(moment):
    traveller = time_machine.travel(moment, tick=False)
    traveller.start()
    return traveller


class TestTheLink:
    def test_carries_only_the_alert_and_the_person(self, help_alert, responders):
        person = responders["on_call_buddy"].user
        token = responder_link_token(help_alert.pk, person.pk)
        assert read_responder_link(token) == (help_alert.pk, person.pk)
        assert signing.b62_encode(help_alert.pk) in token and "@" not in token
        assert len(token) <= 30

    def test_asks_for_the_login_first_and_then_opens_the_page(self, client, help_alert, responders):
        url = link(help_alert, responders["on_call_buddy"].user)
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"
        assert ADDRESS not in client.get(url, follow=True).content.decode()
        client.force_login(responders["on_call_buddy"].user)
        response = client.get(url)
        assert response["Location"] == f"/alerts/{help_alert.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert "Mare Street" in page and 'href="tel:07700900456"' in page

    def test_an_expired_link_gets_a_clear_page(self, client, help_alert, responders):
        url = link(help_alert, responders["on_call_buddy"].user)
        client.force_login(responders["on_call_buddy"].user)
        traveller = at(MONDAY_10AM + timedelta(days=10))
        try:
            response = client.get(url)
        finally:
            traveller.stop()
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()

    def test_a_broken_or_altered_link_gets_a_clear_page(self, client, help_alert, responders):
        token = responder_link_token(help_alert.pk, responders["on_call_buddy"].user.pk)
        value, timestamp, signature = token.split(".")
        forged = f"{signing.b62_encode(help_alert.pk)}-{signing.b62_encode(1)}"
        for broken in (token[:-3], "not-a-link", f"{forged}.{timestamp}.{signature}"):
            response = client.get(f"/r/{broken}")
            assert response.status_code == 404
            assert "This link does not work" in response.content.decode()

    def test_someone_else_signed_in_is_told_it_is_not_theirs(self, client, help_alert, responders):
        client.force_login(responders["coordinator"].user)
        response = client.get(link(help_alert, responders["on_call_buddy"].user))
        assert response.status_code == 403
        page = response.content.decode()
        assert "This link was sent to someone else" in page and ADDRESS not in page


class TestWhoMaySeeThePage:
    def status(self, client, user, url):
        client.force_login(user)
        return client.get(url).status_code

    def test_those_it_reached_and_the_coordinators(self, client, help_alert, responders, scheme):
        url = f"/alerts/{help_alert.pk}/"
        assert self.status(client, responders["on_call_buddy"].user, url) == 200
        assert self.status(client, responders["on_call"].user, url) == 200
        assert self.status(client, responders["coordinator"].user, url) == 200  # not reached

    def test_anyone_else_gets_404(self, client, help_alert, responders, scheme):
        not_sent = MembershipFactory(scheme=scheme, role=Role.BUDDY, is_on_call=True)
        participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
        stranger = MembershipFactory(scheme=SchemeFactory(), role=Role.COORDINATOR)
        enrol_totp(stranger.user)
        for user in (
            not_sent.user,
            participant.user,
            stranger.user,
            responders["buddy"].user,  # the buddy it is about
        ):
            client.force_login(user)
            for method, action in (("get", ""), ("post", "acknowledge/"), ("post", "resolve/")):
                response = getattr(client, method)(f"/alerts/{help_alert.pk}/{action}")
                assert response.status_code == 404, (user.email, action)
        help_alert.refresh_from_db()
        assert help_alert.acknowledged_at is None

    def test_a_responder_sees_only_alerts_they_were_sent(self, client, help_alert, responders):
        earlier = Alert.objects.create(
            meeting=help_alert.meeting, level=0, reason="missed_check_in", due_at=MONDAY_10AM
        )
        assert (
            self.status(client, responders["on_call_buddy"].user, f"/alerts/{earlier.pk}/") == 404
        )

    def test_a_responder_who_has_left_the_scheme_gets_404(self, client, help_alert, responders):
        membership = responders["on_call_buddy"]
        membership.is_active = False
        membership.save()
        assert self.status(client, membership.user, f"/alerts/{help_alert.pk}/") == 404


class TestActing:
    def test_acknowledge_then_resolve_choosing_an_outcome(self, client, help_alert, responders):
        person = responders["on_call_buddy"].user
        client.force_login(person)
        page = client.get(f"/alerts/{help_alert.pk}/").content.decode()
        assert "Acknowledge" in page and "checked" not in page  # no outcome chosen for them
        response = client.post(f"/alerts/{help_alert.pk}/acknowledge/", follow=True)
        assert "escalation has stopped" in response.content.decode()
        help_alert.refresh_from_db()
        assert help_alert.acknowledged_by == person
        response = client.post(
            f"/alerts/{help_alert.pk}/resolve/",
            {"outcome": "safe", "notes": "Spoke to AB"},
            follow=True,
        )
        assert "Resolved: safe." in response.content.decode()
        help_alert.refresh_from_db()
        assert (help_alert.outcome, help_alert.resolved_by, help_alert.notes) == (
            "safe",
            person,
            "Spoke to AB",
        )

    def test_acknowledging_an_overdue_alert_stops_escalation(self, client, responders):
        meeting = checked_in(responders)
        services.sweep(now=MONDAY_10AM + minutes(80))  # level 2 reaches the coordinators
        level_two = meeting.alerts.get(level=2)
        client.force_login(responders["coordinator"].user)
        client.post(f"/alerts/{level_two.pk}/acknowledge/")
        meeting.refresh_from_db()
        assert meeting.next_alert_at is None
        services.sweep(now=MONDAY_10AM + minutes(120))
        assert sorted(meeting.alerts.values_list("level", flat=True)) == [1, 2]

    def test_resolve_without_an_outcome_keeps_the_notes_and_says_why(
        self, client, help_alert, responders
    ):
        client.force_login(responders["on_call_buddy"].user)
        response = client.post(f"/alerts/{help_alert.pk}/resolve/", {"notes": "Called AB twice"})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Choose what happened: safe, incident or false alarm." in page
        assert "Called AB twice</textarea>" in page
        help_alert.refresh_from_db()
        assert help_alert.resolved_at is None

    def test_the_page_shows_the_meetings_history(self, client, help_alert, responders):
        services.sweep(now=MONDAY_10AM + minutes(71))  # the overdue prompt, level 1
        client.force_login(responders["on_call_buddy"].user)
        page = client.get(f"/alerts/{help_alert.pk}/").content.decode()
        history = page[page.index("What has happened") :]
        assert history.index("Arrived") < history.index("Help requested")
        assert "Level 1 alert: Overdue check-out" in history
        assert "Who this alert reached" in page and "night@example.org" not in history


def test_resolving_on_the_board_without_an_outcome_shows_the_form_again(client, responders):
    meeting = checked_in(responders)
    services.sweep(now=MONDAY_10AM + minutes(71))
    alert = meeting.alerts.get()
    traveller = at(MONDAY_10AM + minutes(72))
    try:
        client.force_login(responders["coordinator"].user)
        board = client.get("/coordinator/board/").content.decode()
        assert f'id="resolve-{alert.pk}"' in board and "checked" not in board
        response = client.post(f"/coordinator/alerts/{alert.pk}/resolve/", {"notes": "AB rang"})
    finally:
        traveller.stop()
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose what happened" in page and "AB rang</textarea>" in page
    alert.refresh_from_db()
    assert alert.resolved_at is None
