"""The reflective diary (issue 16, seed 000 "keep reflective diaries?"): private to the buddy
by default; each entry can be shared with their support person, and only with them. A
coordinator never sees an entry not shared with them: not on a page, not in the admin, not in a
message.

tests/buddyscheme/test_support_matrix.py proves the same for every URL, persona by persona."""

import pytest
from django.contrib import admin
from django.test import Client

from buddyscheme.errors import DomainError
from buddyscheme.models import AuditEvent, DiaryEntry, Notification, Role
from buddyscheme.support import diary_delete, diary_share, diary_unshare, diary_write
from buddyscheme.vetting import buddy_support_person_set
from matching.models import Match

from ..factories import MembershipFactory, SchemeFactory, enrol_totp

pytestmark = pytest.mark.django_db

PRIVATE = "I felt out of my depth when the talk turned to money."


@pytest.fixture
def people():
    scheme = SchemeFactory(sender_name="Appointments")

    def coordinator(email, name):
        member = MembershipFactory(
            scheme=scheme, role=Role.COORDINATOR, user__email=email, user__first_name=name
        )
        enrol_totp(member.user)
        return member

    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY, user__email="sam@example.org")
    participant = MembershipFactory(
        scheme=scheme, role=Role.PARTICIPANT, user__first_name="Grace", user__last_name="Obi"
    )
    Match.objects.create(scheme=scheme, buddy=buddy, participant=participant, state="active")
    return {
        "scheme": scheme,
        "buddy": buddy,
        "support": coordinator("sunita@example.org", "Sunita"),
        "other": coordinator("omar@example.org", "Omar"),
    }


def client_for(member):
    client = Client()
    client.force_login(member.user)
    return client


def test_an_entry_is_private_until_shared_with_the_support_person_only(people):
    buddy, support, other = people["buddy"], people["support"], people["other"]
    entry = diary_write(buddy=buddy, text=PRIVATE)
    with pytest.raises(DomainError, match="do not have a named support person"):
        diary_share(entry=entry, buddy=buddy)
    buddy_support_person_set(buddy=buddy, support_person=support, by=None)
    url = f"/diary/{entry.pk}/"
    assert client_for(support).get(url).status_code == 404
    assert (
        PRIVATE.encode()
        not in client_for(support).get(f"/coordinator/people/{buddy.pk}/support/").content
    )

    diary_share(entry=entry, buddy=buddy)
    assert PRIVATE.encode() in client_for(support).get(url).content
    assert (
        PRIVATE[:20].encode()
        in client_for(support).get(f"/coordinator/people/{buddy.pk}/support/").content
    )
    # Another coordinator of the same scheme: still nothing.
    assert client_for(other).get(url).status_code == 404
    assert (
        PRIVATE[:20].encode()
        not in client_for(other).get(f"/coordinator/people/{buddy.pk}/support/").content
    )
    # The support person is told by an email that says nothing of what was written.
    [message] = Notification.objects.filter(template="diary_shared")
    assert (message.recipient, message.channel) == (support.user, "email")
    assert "money" not in str(message.context)

    diary_unshare(entry=entry, buddy=buddy)
    assert client_for(support).get(url).status_code == 404


def test_a_new_support_person_does_not_inherit_what_was_shared_with_the_last(people):
    buddy, support, other = people["buddy"], people["support"], people["other"]
    buddy_support_person_set(buddy=buddy, support_person=support, by=None)
    entry = diary_share(entry=diary_write(buddy=buddy, text=PRIVATE), buddy=buddy)
    buddy_support_person_set(buddy=buddy, support_person=other, by=None)
    assert client_for(other).get(f"/diary/{entry.pk}/").status_code == 404
    assert client_for(support).get(f"/diary/{entry.pk}/").status_code == 200


def test_only_the_writer_shares_or_deletes_and_the_audit_keeps_no_words(people):
    buddy = people["buddy"]
    entry = diary_write(buddy=buddy, text=PRIVATE)
    stranger = MembershipFactory(scheme=people["scheme"], role=Role.BUDDY)
    with pytest.raises(DomainError):
        diary_delete(entry=entry, buddy=stranger)
    for action in ("share", "unshare", "delete"):
        assert client_for(stranger).post(f"/diary/{entry.pk}/{action}/").status_code == 404
    diary_delete(entry=entry, buddy=buddy)
    assert not DiaryEntry.objects.exists()
    assert list(AuditEvent.objects.values_list("verb", flat=True).order_by("pk")) == [
        "diary_write",
        "diary_delete",
    ]


def test_the_buddy_writes_from_the_phone_and_a_name_is_caught_first(people):
    buddy = client_for(people["buddy"])
    assert buddy.post("/diary/new/", {}).status_code == 200  # asks for the words
    page = buddy.post("/diary/new/", {"text": "Grace's sister was there too."})
    assert "“Grace” (a name" in page.content.decode() and not DiaryEntry.objects.exists()
    response = buddy.post("/diary/new/", {"text": "G.'s sister was there too."})
    entry = DiaryEntry.objects.get()
    assert response["Location"] == f"/diary/{entry.pk}/"
    assert entry.shared_with is None
    assert b"Private: only you can read it." in buddy.get(response["Location"]).content
    assert b"G.&#x27;s sister" in buddy.get("/diary/").content


def test_no_admin_page_shows_a_diary():
    assert DiaryEntry not in admin.site._registry
