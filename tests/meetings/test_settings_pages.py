"""Lone-working settings pages: venues with their risk assessments, the on-call rota, the safety
timings. Each: the happy path, invalid input kept as typed, another scheme's 404."""

from datetime import UTC, date, datetime, timedelta

import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buddyscheme.models import Role
from meetings.forms import MeetingForm
from meetings.models import LoneWorkingSettings, OnCallShift, Venue

from ..base import PersonaTestCase, assert_audited
from ..factories import MembershipFactory, book_meeting, cleared_buddy, venue

# Wednesday 2 December 2026, 10:00 in London (GMT): the rota's week is Monday 30 November.
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def venue_post(**changes):
    data = {
        "name": "Room 1",
        "kind": "in_house",
        "area": "Camberwell",
        "address": "1 Example Road",
        "room": "First floor",
        "key_holder": "",
        "risk_rating": "low",
        "risk_notes": "Alarm by the door.",
        "risk_review_due": "2027-06-01",
    }
    return {**data, **changes}


@time_machine.travel(WEDNESDAY, tick=False)
class VenueSettingsTest(PersonaTestCase):
    def test_add_a_room_with_its_key_holder_chosen_from_this_schemes_staff(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/settings/venues/new/")
        key_holders = list(page.context["form"].fields["key_holder"].queryset)
        self.assertEqual(key_holders, [self.coordinator])  # not scheme B's, not the buddy
        response = self.client.post(
            "/coordinator/settings/venues/new/", venue_post(key_holder=self.coordinator.pk)
        )
        self.assertRedirects(response, "/coordinator/settings/venues/")
        room = Venue.objects.get(scheme=self.scheme)
        self.assertEqual(
            (room.key_holder, room.risk_review_due), (self.coordinator, date(2027, 6, 1))
        )
        assert_audited(verb="venue_create", obj=room, actor=self.coordinator, scheme=self.scheme)
        self.assertEqual(messages_of(response), ["“Room 1” is saved."])

    def test_a_key_holder_from_another_scheme_or_for_a_cafe_is_refused_as_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/venues/new/",
            venue_post(name="Room 9", key_holder=self.other_coordinator.pk),
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Choose one of this scheme&#x27;s coordinators")
        self.assertContains(response, 'value="Room 9"')
        self.assertContains(response, "Alarm by the door.")
        response = self.client.post(
            "/coordinator/settings/venues/new/",
            venue_post(kind="community", key_holder=self.coordinator.pk),
        )
        self.assertContains(response, "Only a room in our building has a key holder.")
        self.assertFalse(Venue.objects.exists())

    def test_a_review_date_already_past_is_saved_with_a_warning(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/venues/new/",
            venue_post(kind="community", room="", risk_review_due="2026-11-30"),
        )
        self.assertRedirects(response, "/coordinator/settings/venues/")
        self.assertTrue(Venue.objects.filter(risk_review_due=date(2026, 11, 30)).exists())
        [warning] = messages_of(response)
        self.assertIn("review date (30 November 2026) has passed", warning)
        self.assertIn("nobody can book this venue", warning)
        self.assertContains(self.client.get("/coordinator/settings/venues/"), "Review overdue")
        self.assertContains(
            self.client.get("/coordinator/settings/"), "1 risk assessment is past its review date"
        )

    def test_missing_answers_come_back_with_errors_and_what_was_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/venues/new/",
            venue_post(name="", kind="castle", risk_review_due="31/31/2027"),
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["form"].errors), {"name", "kind", "risk_review_due"})
        self.assertContains(response, "1 Example Road")

    def test_retiring_a_venue_takes_it_out_of_booking_and_warns_of_meetings_there(self):
        buddy = cleared_buddy(self.scheme)
        cafe = venue(self.scheme)
        book_meeting(buddy, WEDNESDAY + timedelta(days=1), place=cafe)
        self.login_as("coordinator")
        response = self.client.post(
            f"/coordinator/settings/venues/{cafe.pk}/",
            venue_post(name=cafe.name, kind="community", room="", is_active=""),
        )
        self.assertRedirects(response, "/coordinator/settings/venues/")
        cafe.refresh_from_db()
        self.assertFalse(cafe.is_active)
        self.assertIn("1 meeting is still booked there", messages_of(response)[-1])
        assert_audited(verb="venue_update", obj=cafe, actor=self.coordinator, scheme=self.scheme)
        self.assertNotIn(cafe, MeetingForm(scheme=self.scheme).fields["venue"].queryset)

    def test_another_schemes_coordinator_gets_404_and_never_sees_the_venue(self):
        cafe = venue(self.scheme, name="Corner café")
        self.login_as("other_coordinator")
        url = f"/coordinator/settings/venues/{cafe.pk}/"
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url, venue_post(name="Taken")).status_code, 404)
        self.assertNotContains(self.client.get("/coordinator/settings/venues/"), "Corner café")
        cafe.refresh_from_db()
        self.assertEqual(cafe.name, "Corner café")


def shift_post(responder, start_day="2026-12-02", start="17:30", end_day="2026-12-03", end="09:00"):
    return {
        "responder": responder.pk,
        "start_day": start_day,
        "start_time": start,
        "end_day": end_day,
        "end_time": end,
    }


@time_machine.travel(WEDNESDAY, tick=False)
class RotaPagesTest(PersonaTestCase):
    def test_add_a_shift_choosing_the_responder_by_name(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/settings/on-call/new/?day=2026-12-02")
        field = page.context["form"]["responder"]
        self.assertIn(f"{self.coordinator.display_name} (coordinator)", str(field))
        self.assertIn(f"{self.buddy.display_name} (buddy)", str(field))
        # By membership, not name: the factories' random first names can coincide ("Eric").
        offered = {str(value) for value, _label in field.field.choices if value != ""}
        self.assertIn(str(self.buddy_membership.pk), offered)
        self.assertNotIn(str(self.participant_membership.pk), offered)
        self.assertNotIn(str(self.other_coordinator_membership.pk), offered)
        response = self.client.post(
            "/coordinator/settings/on-call/new/", shift_post(self.buddy_membership)
        )
        self.assertRedirects(response, "/coordinator/settings/on-call/?day=2026-11-30")
        shift = OnCallShift.objects.get(scheme=self.scheme)
        self.assertEqual(
            (shift.responder, shift.starts_at, shift.ends_at),
            (
                self.buddy_membership,
                datetime(2026, 12, 2, 17, 30, tzinfo=UTC),
                datetime(2026, 12, 3, 9, 0, tzinfo=UTC),
            ),
        )
        assert_audited(
            verb="on_call_shift_create", obj=shift, actor=self.coordinator, scheme=self.scheme
        )
        week = self.client.get("/coordinator/settings/on-call/")
        self.assertContains(week, f"{self.buddy.display_name}</span>")

    def test_someone_from_another_scheme_or_a_participant_cannot_be_put_on_call(self):
        self.login_as("coordinator")
        for stranger in (self.other_coordinator_membership, self.participant_membership):
            response = self.client.post(
                "/coordinator/settings/on-call/new/", shift_post(stranger, start="18:15")
            )
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, "Choose someone who is active in this scheme.")
            self.assertContains(response, 'value="18:15"')
        response = self.client.post(
            "/coordinator/settings/on-call/new/",
            shift_post(self.coordinator_membership, end_day="2026-12-02", end="17:00"),
        )
        self.assertContains(response, "The shift must end after it starts.")
        self.assertFalse(OnCallShift.objects.exists())

    def test_a_time_that_happens_twice_is_asked_about(self):
        self.login_as("coordinator")
        data = shift_post(
            self.coordinator_membership,
            start_day="2026-10-24",
            start="20:00",
            end_day="2026-10-25",
            end="01:30",
        )
        response = self.client.post("/coordinator/settings/on-call/new/", data)
        self.assertContains(response, "happens twice because the clocks go back")
        self.assertContains(response, 'name="end_which"')
        response = self.client.post(
            "/coordinator/settings/on-call/new/", {**data, "end_which": "second"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(
            OnCallShift.objects.get().ends_at, datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
        )

    def test_any_week_parameter_shows_a_page(self):
        self.login_as("coordinator")
        for query in ("", "?day=2026-12-09", "?day=nonsense", "?day=9999-12-31", "?day=0001-01-01"):
            response = self.client.get(f"/coordinator/settings/on-call/{query}")
            self.assertEqual(response.status_code, 200, query)
        self.assertEqual(response.context["week"].monday, date(2026, 11, 30))
        response = self.client.get("/coordinator/settings/on-call/?day=2026-12-09")
        self.assertEqual(response.context["week"].monday, date(2026, 12, 7))
        self.assertEqual(
            self.client.get("/coordinator/settings/on-call/new/?day=99999").status_code, 200
        )

    def test_the_week_reads_a_fixed_number_of_queries_however_many_shifts(self):
        self.login_as("coordinator")

        def queries():
            with CaptureQueriesContext(connection) as captured:
                self.assertEqual(self.client.get("/coordinator/settings/on-call/").status_code, 200)
            return len(captured)

        monday = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
        OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.coordinator_membership,
            starts_at=monday,
            ends_at=monday + timedelta(hours=4),
        )
        few = queries()
        for day in range(1, 7):
            OnCallShift.objects.create(
                scheme=self.scheme,
                responder=MembershipFactory(scheme=self.scheme, role=Role.BUDDY),
                starts_at=monday + timedelta(days=day),
                ends_at=monday + timedelta(days=day, hours=4),
            )
        self.assertEqual(queries(), few)

    def test_a_shift_a_booked_meeting_depends_on_cannot_be_removed_or_cut_short(self):
        buddy = cleared_buddy(self.scheme)
        evening = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
        shift = OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.coordinator_membership,
            starts_at=evening - timedelta(hours=1),
            ends_at=evening + timedelta(hours=5),
        )
        book_meeting(buddy, evening, now=WEDNESDAY)
        self.login_as("coordinator")
        response = self.client.post(f"/coordinator/settings/on-call/{shift.pk}/delete/")
        self.assertRedirects(response, f"/coordinator/settings/on-call/{shift.pk}/")
        self.assertIn(
            "1 booked meeting (18:00 on Thursday 3 December) would have nobody on call",
            messages_of(response)[0],
        )
        self.assertTrue(OnCallShift.objects.filter(pk=shift.pk).exists())
        response = self.client.post(
            f"/coordinator/settings/on-call/{shift.pk}/",
            shift_post(
                self.coordinator_membership,
                start_day="2026-12-03",
                start="17:00",
                end_day="2026-12-03",
                end="20:00",
            ),
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "would have nobody on call")
        self.assertContains(response, 'value="20:00"')
        shift.refresh_from_db()
        self.assertEqual(shift.ends_at, evening + timedelta(hours=5))  # rolled back
        # With another shift covering it, this one can go.
        OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.buddy_membership,
            starts_at=evening - timedelta(hours=2),
            ends_at=evening + timedelta(hours=6),
        )
        response = self.client.post(f"/coordinator/settings/on-call/{shift.pk}/delete/")
        self.assertRedirects(response, "/coordinator/settings/on-call/?day=2026-11-30")
        self.assertFalse(OnCallShift.objects.filter(pk=shift.pk).exists())
        assert_audited(
            verb="on_call_shift_delete", obj=shift, actor=self.coordinator, scheme=self.scheme
        )

    def test_a_past_shift_stays_as_a_record(self):
        past = OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.coordinator_membership,
            starts_at=WEDNESDAY - timedelta(days=2),
            ends_at=WEDNESDAY - timedelta(days=1),
        )
        self.login_as("coordinator")
        self.assertContains(
            self.client.get(f"/coordinator/settings/on-call/{past.pk}/"), "A past shift"
        )
        response = self.client.post(f"/coordinator/settings/on-call/{past.pk}/delete/")
        self.assertIn("This shift is over", messages_of(response)[0])
        self.assertTrue(OnCallShift.objects.filter(pk=past.pk).exists())

    def test_another_schemes_coordinator_gets_404(self):
        shift = OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.coordinator_membership,
            starts_at=WEDNESDAY + timedelta(days=1),
            ends_at=WEDNESDAY + timedelta(days=2),
        )
        self.login_as("other_coordinator")
        for url in (
            f"/coordinator/settings/on-call/{shift.pk}/",
            f"/coordinator/settings/on-call/{shift.pk}/delete/",
        ):
            self.assertEqual(
                self.client.post(url, shift_post(self.other_coordinator_membership)).status_code,
                404,
            )
        self.assertTrue(
            OnCallShift.objects.filter(pk=shift.pk, responder=self.coordinator_membership).exists()
        )
        self.assertNotContains(
            self.client.get("/coordinator/settings/on-call/"), self.coordinator.display_name
        )


class SafetyTimingsTest(PersonaTestCase):
    def test_a_coordinator_changes_the_safety_timings(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/safety/",
            {
                "grace_minutes": "15",
                "high_risk_grace_minutes": "5",
                "escalation_minutes": "5",
                "reminder_before_minutes": "60",
                "check_in_opens_minutes": "30",
                "max_extension_minutes": "60",
                "location_retention_days": "3",
            },
        )
        self.assertRedirects(response, "/coordinator/settings/")
        config = LoneWorkingSettings.objects.get(scheme=self.scheme)
        self.assertEqual((config.grace_minutes, config.max_extension_minutes), (15, 60))
        self.assertFalse(config.check_out_pin_required)
        assert_audited(
            verb="lone_working_update", obj=config, actor=self.coordinator, scheme=self.scheme
        )
        # The rota's rule follows: 60 minutes' extension, 15 of grace, two 5-minute steps.
        self.assertEqual(
            self.client.get("/coordinator/settings/on-call/").context["tail_minutes"], 85
        )

    def test_timings_that_make_no_sense_are_refused_and_kept_as_typed(self):
        self.login_as("coordinator")
        response = self.client.post(
            "/coordinator/settings/safety/",
            {
                "grace_minutes": "5",
                "high_risk_grace_minutes": "20",
                "escalation_minutes": "0",
                "reminder_before_minutes": "30",
                "check_in_opens_minutes": "30",
                "max_extension_minutes": "9999",
                "location_retention_days": "7",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            set(response.context["form"].errors),
            {"high_risk_grace_minutes", "escalation_minutes", "max_extension_minutes"},
        )
        self.assertContains(response, 'value="9999"')
        self.assertFalse(LoneWorkingSettings.objects.filter(scheme=self.scheme).exists())

    def test_each_coordinator_sees_their_own_schemes_timings(self):
        LoneWorkingSettings.objects.create(scheme=self.scheme, grace_minutes=25)
        self.login_as("other_coordinator")
        form = self.client.get("/coordinator/settings/safety/").context["form"]
        self.assertEqual(form["grace_minutes"].value(), 10)


@time_machine.travel(WEDNESDAY, tick=False)
class OfficeHoursKeepCoverTest(PersonaTestCase):
    """Office hours are the core's page; meetings refuses a change that strands a booking."""

    def test_shorter_hours_that_strand_a_booked_meeting_are_refused(self):
        buddy = cleared_buddy(self.scheme)
        # 13:00-14:00 on Thursday: answered until 16:30, inside office hours (09:00-17:00).
        book_meeting(buddy, datetime(2026, 12, 3, 13, 0, tzinfo=UTC), now=WEDNESDAY)
        self.login_as("coordinator")
        shorter = {
            "working_days": ["0", "1", "2", "3", "4"],
            "working_hours_start": "09:00",
            "working_hours_end": "16:00",
        }
        response = self.client.post("/coordinator/settings/office-hours/", shorter)
        self.assertEqual(response.status_code, 200)
        self.assertContains(
            response,
            "1 booked meeting (13:00 on Thursday 3 December) would be outside office hours "
            "with nobody on call.",
        )
        self.assertContains(response, 'value="16:00"')
        self.scheme.refresh_from_db()
        self.assertEqual(self.scheme.working_hours_end.hour, 17)
        # Someone on call for it: then the office may close earlier.
        OnCallShift.objects.create(
            scheme=self.scheme,
            responder=self.coordinator_membership,
            starts_at=datetime(2026, 12, 3, 12, 0, tzinfo=UTC),
            ends_at=datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        )
        response = self.client.post("/coordinator/settings/office-hours/", shorter)
        self.assertRedirects(response, "/coordinator/settings/")
        self.scheme.refresh_from_db()
        self.assertEqual(self.scheme.working_hours_end.hour, 16)
