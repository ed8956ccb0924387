from datetime import timedelta

from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from buddyscheme.dashboard import dashboard_forget
from buddyscheme.middleware import SESSION_MEMBERSHIP_KEY
from buddyscheme.models import Invitation, Membership, Role
from buddyscheme.services import invitation_create

from ..base import PersonaTestCase
from ..factories import MembershipFactory, SchemeFactory, UserFactory


class HomeTest(PersonaTestCase):
    def test_each_role_lands_on_its_own_home(self):
        expected = {
            "coordinator": "/coordinator/",
            "buddy": "/today/",
            "participant": "/me/",
            "other_coordinator": "/coordinator/",
        }
        for persona, url in expected.items():
            self.login_as(persona)
            self.assertRedirects(self.client.get("/"), url, fetch_redirect_response=False)

    def test_visitors_see_a_welcome_with_a_login_button(self):
        response = self.client.get("/")
        self.assertContains(response, "Log in")
        self.assertNotContains(response, "Dashboard")

    def test_someone_without_an_active_role_is_told_what_to_do(self):
        Membership.objects.filter(user=self.buddy).update(is_active=False)
        self.login_as("buddy")
        self.assertContains(self.client.get("/"), "not part of a scheme")

    def test_navigation_follows_the_role(self):
        self.login_as("buddy")
        page = self.client.get("/today/").content.decode()
        self.assertIn('href="/today/"', page)
        self.assertNotIn('href="/coordinator/"', page)
        self.login_as("coordinator")
        page = self.client.get("/coordinator/").content.decode()
        self.assertIn('href="/coordinator/invitations/"', page)
        self.assertNotIn('href="/today/"', page)


class SwitchMembershipTest(PersonaTestCase):
    def test_a_coordinator_who_is_also_a_buddy_can_switch(self):
        buddy_role = MembershipFactory(
            user=self.coordinator, scheme=self.other_scheme, role=Role.BUDDY
        )
        self.login_as("coordinator")
        self.assertContains(self.client.get("/switch/"), "Buddy in Scheme B")
        response = self.client.post("/switch/", {"membership": buddy_role.pk})
        self.assertRedirects(response, "/today/", fetch_redirect_response=False)
        self.assertEqual(self.client.session[SESSION_MEMBERSHIP_KEY], buddy_role.pk)
        # The buddy page now works and the coordinator pages refuse (acting as buddy).
        self.assertEqual(self.client.get("/today/").status_code, 200)
        self.assertEqual(self.client.get("/coordinator/").status_code, 403)

    def test_without_a_choice_the_first_scheme_joined_comes_first(self):
        later = SchemeFactory(name="AAA alphabetically first")
        MembershipFactory(user=self.coordinator, scheme=later, role=Role.COORDINATOR)
        self.login_as("coordinator")
        self.assertEqual(self.client.get("/coordinator/").context["scheme"], self.scheme)

    def test_cannot_switch_into_someone_elses_membership(self):
        self.login_as("buddy")
        response = self.client.post("/switch/", {"membership": self.coordinator_membership.pk})
        self.assertEqual(response.status_code, 404)
        self.assertEqual(
            self.client.post("/switch/", {"membership": "not a number"}).status_code, 404
        )


class CoordinatorDashboardTest(PersonaTestCase):
    def test_counts_only_this_schemes_people(self):
        MembershipFactory.create_batch(3, scheme=self.scheme, role=Role.BUDDY)
        MembershipFactory.create_batch(5, scheme=self.other_scheme, role=Role.BUDDY)
        self.login_as("coordinator")
        counts = self.client.get("/coordinator/").context["counts"]
        self.assertEqual(counts["buddies"], 4)
        self.assertEqual(counts["participants"], 1)
        self.assertEqual(counts["coordinators"], 1)

    def _queries(self, url):
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return len(queries)

    def test_dashboard_and_people_list_queries_stay_flat_as_the_scheme_grows(self):
        self.login_as("coordinator")
        small = {
            url: self._queries(url)
            for url in ("/coordinator/", "/coordinator/people/", "/coordinator/invitations/")
        }
        MembershipFactory.create_batch(30, scheme=self.scheme, role=Role.PARTICIPANT)
        for number in range(10):
            invitation_create(
                scheme=self.scheme,
                email=f"x{number}@example.org",
                role=Role.BUDDY,
                invited_by=self.coordinator,
            )
        large = {url: self._queries(url) for url in small}
        self.assertEqual(small, large)
        # Exactly, for the dashboard (the user and memberships come from the cache, as the
        # session does: buddyscheme/access_cache.py): TOTP enrolled?, the safety
        # net's heartbeat, the people counts (one aggregate), open invitations, proposals
        # awaiting an answer (one count), meetings missed this month (one count), participants
        # asking to stop (one count), debriefs missing after 48 hours, debriefs to follow up
        # (their crossed boundaries come in one more query when there are any), DBS lapses,
        # their buddies, training lapses, concerns nobody has taken, the support settings,
        # one-to-ones overdue, contact overdue, erasure requests waiting, a retention report
        # waiting (one query each), the buddy pack's required documents (with any,
        # two more: buddies in service and their reads), expense claims waiting (one count),
        # new referrals (one count), unread messages (one count), overdue match reviews (one
        # query; a count as well when there are any), running matches to look for patterns in
        # (none here; with any, nine more: meetings/patterns.py), ended matches needing a
        # next-steps plan and signposting entries not checked for a year (a list and a count
        # each), the endings to handle (stop requests, friendships told, buddies owed a
        # one-to-one: three); then evaluation's nine: proposals awaiting an answer, agreements
        # awaiting signatures and open alerts (a count each), the waiting list (its longest
        # waiting, and its length), matches by state, meetings and contact hours this month,
        # this month's alerts, and endings by type. The session comes from the cache and is not
        # written (its idle expiry is refreshed at most once a minute). Evaluation's figures
        # are then kept in the cache for a minute (forgotten when what they count is saved, as
        # the members added above were), as is the list of matches to look at (its one query
        # here). The whole rendered body is then kept for DASHBOARD_SECONDS (buddyscheme/
        # dashboard.py): the next request runs only TOTP enrolled? and the heartbeat; worked
        # out again with the figures still kept, six queries fewer than the first.
        self.assertEqual(small["/coordinator/"], 40)
        self.assertEqual(large["/coordinator/"], 40)
        self.assertEqual(self._queries("/coordinator/"), 2)
        dashboard_forget(self.scheme.pk)
        self.assertEqual(self._queries("/coordinator/"), 34)

    def test_people_list_filters_by_role_and_hides_other_schemes(self):
        stranger = MembershipFactory(scheme=self.other_scheme, role=Role.BUDDY)
        self.login_as("coordinator")
        response = self.client.get("/coordinator/people/?role=buddy")
        self.assertContains(response, self.buddy.email)
        self.assertNotContains(response, self.participant.email)
        self.assertNotContains(response, stranger.user.email)
        # An unknown role is explained, and filters nothing.
        response = self.client.get("/coordinator/people/?role=admin")
        self.assertContains(response, "Choose one of the roles in the list.")
        self.assertContains(response, self.participant.email)


class InvitationViewsTest(PersonaTestCase):
    def test_coordinator_invites_someone(self):
        self.reauthenticate("coordinator")  # sending an invitation asks for the password
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/coordinator/invitations/",
                {"email": "helper@example.org", "role": "buddy", "is_on_call": "on"},
            )
        self.assertRedirects(response, "/coordinator/invitations/")
        invitation = Invitation.objects.get(email="helper@example.org")
        self.assertEqual(
            (invitation.scheme, invitation.role, invitation.is_on_call),
            (self.scheme, "buddy", True),
        )
        self.assertEqual(len(mail.outbox), 1)

    def test_bad_input_is_explained_and_kept(self):
        self.reauthenticate("coordinator")  # sending an invitation asks for the password
        response = self.client.post(
            "/coordinator/invitations/", {"email": "not-an-email", "role": "buddy"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Enter a valid email address")
        self.assertContains(response, 'value="not-an-email"')
        self.assertFalse(Invitation.objects.exists())

    def test_inviting_an_existing_member_to_the_same_role_is_refused_kindly(self):
        self.reauthenticate("coordinator")  # sending an invitation asks for the password
        response = self.client.post(
            "/coordinator/invitations/", {"email": self.buddy.email, "role": "buddy"}
        )
        self.assertContains(response, "already has that role")
        self.assertContains(response, f'value="{self.buddy.email}"')

    def test_other_scheme_cannot_withdraw(self):
        invitation = invitation_create(
            scheme=self.scheme, email="x@example.org", role=Role.BUDDY, invited_by=self.coordinator
        )
        self.login_as("other_coordinator")
        self.assertEqual(
            self.client.post(f"/coordinator/invitations/{invitation.pk}/withdraw/").status_code, 404
        )
        invitation.refresh_from_db()
        self.assertEqual(invitation.status, "open")
        self.assertEqual(
            self.client.get(f"/coordinator/invitations/{invitation.pk}/withdraw/").status_code, 405
        )

    def test_other_schemes_invitations_are_not_listed(self):
        invitation_create(
            scheme=self.scheme,
            email="mine@example.org",
            role=Role.BUDDY,
            invited_by=self.coordinator,
        )
        self.login_as("other_coordinator")
        self.assertNotContains(self.client.get("/coordinator/invitations/"), "mine@example.org")


class AcceptInvitationTest(PersonaTestCase):
    def setUp(self):
        self.invitation = invitation_create(
            scheme=self.scheme,
            email="newbuddy@example.org",
            role=Role.BUDDY,
            invited_by=self.coordinator,
        )
        self.url = f"/invite/{self.invitation.token}/"

    def test_set_a_password_and_arrive_logged_in(self):
        response = self.client.get(self.url)
        self.assertContains(response, "newbuddy@example.org")
        response = self.client.post(
            self.url,
            {
                "preferred_name": "Jo",
                "password1": "tea and toast on tuesday",
                "password2": "tea and toast on tuesday",
            },
        )
        self.assertRedirects(response, "/", fetch_redirect_response=False)
        self.assertRedirects(self.client.get("/"), "/today/")

    def test_mismatched_passwords_keep_the_name_and_explain(self):
        response = self.client.post(
            self.url,
            {
                "preferred_name": "Jo",
                "password1": "tea and toast on tuesday",
                "password2": "tea and toast",
            },
        )
        self.assertContains(response, "The two passwords are different")
        self.assertContains(response, 'value="Jo"')
        self.invitation.refresh_from_db()
        self.assertEqual(self.invitation.status, "open")

    def test_weak_password_is_refused_with_a_reason(self):
        response = self.client.post(self.url, {"password1": "12345678", "password2": "12345678"})
        self.assertContains(response, "too short")

    def test_used_expired_and_unknown_links_get_a_clear_page(self):
        self.client.post(
            self.url,
            {"password1": "tea and toast on tuesday", "password2": "tea and toast on tuesday"},
        )
        self.client.logout()
        response = self.client.get(self.url)
        self.assertContains(response, "already been used", status_code=410)

        expired = invitation_create(
            scheme=self.scheme,
            email="late@example.org",
            role=Role.BUDDY,
            invited_by=self.coordinator,
        )
        Invitation.objects.filter(pk=expired.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        self.assertContains(
            self.client.get(f"/invite/{expired.token}/"), "expired", status_code=410
        )
        self.assertContains(self.client.get("/invite/nonsense/"), "not valid", status_code=404)

    def test_a_logged_in_person_adds_the_role(self):
        existing = UserFactory(email="twohats@example.org")
        MembershipFactory(user=existing, scheme=self.other_scheme, role=Role.PARTICIPANT)
        invitation = invitation_create(
            scheme=self.scheme,
            email="twohats@example.org",
            role=Role.BUDDY,
            invited_by=self.coordinator,
        )
        self.client.force_login(existing)
        self.assertContains(self.client.get(f"/invite/{invitation.token}/"), "Add this role")
        self.client.post(f"/invite/{invitation.token}/")
        self.assertEqual(existing.memberships.count(), 2)


class ProfileTest(PersonaTestCase):
    def test_buddies_give_an_emergency_contact_participants_are_not_asked(self):
        self.login_as("buddy")
        self.assertContains(self.client.get("/profile/"), "emergency_contact_phone")
        self.login_as("participant")
        self.assertNotContains(self.client.get("/profile/"), "emergency_contact_phone")

    def test_saving_and_bad_phone_number(self):
        self.login_as("buddy")
        response = self.client.post(
            "/profile/",
            {
                "preferred_name": "Sammy",
                "pronouns": "they/them",
                "phone": "12",
                "preferred_contact": "sms",
            },
        )
        self.assertContains(response, "7 to 15 digits")
        self.assertContains(response, 'value="Sammy"')
        response = self.client.post(
            "/profile/",
            {
                "preferred_name": "Sammy",
                "pronouns": "they/them",
                "phone": "07700 900123",
                "preferred_contact": "sms",
                "emergency_contact_name": "Pat",
                "emergency_contact_phone": "07700 900999",
            },
        )
        self.assertRedirects(response, "/profile/")
        self.buddy.profile.refresh_from_db()
        self.assertEqual(self.buddy.profile.preferred_name, "Sammy")
        self.assertEqual(self.buddy.profile.emergency_contact_name, "Pat")


class CoordinatorMFATest(PersonaTestCase):
    def test_a_coordinator_without_an_authenticator_must_set_one_up_first(self):
        newcomer = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR).user
        self.client.force_login(newcomer)
        for url in (
            "/coordinator/",
            "/coordinator/people/",
            "/admin/",
            "/admin/buddyscheme/membership/",
        ):
            response = self.client.get(url)
            self.assertRedirects(
                response,
                "/accounts/2fa/totp/activate/",
                fetch_redirect_response=False,
                msg_prefix=url,
            )

    @override_settings(COORDINATOR_MFA_REQUIRED=False)
    def test_the_demo_may_relax_it(self):
        newcomer = MembershipFactory(scheme=self.scheme, role=Role.COORDINATOR).user
        self.client.force_login(newcomer)
        self.assertEqual(self.client.get("/coordinator/").status_code, 200)

    def test_buddies_are_not_forced(self):
        self.login_as("buddy")
        self.assertEqual(self.client.get("/today/").status_code, 200)


class AdminScopeTest(PersonaTestCase):
    def test_the_admin_uses_the_allauth_login(self):
        response = self.client.get("/admin/login/?next=/admin/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/accounts/login/"))
        # There is no admin login form to post a password to.
        response = self.client.post(
            "/admin/login/", {"username": self.coordinator.email, "password": "x"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_coordinators_see_only_their_schemes_rows(self):
        stranger = MembershipFactory(scheme=self.other_scheme, role=Role.BUDDY)
        self.login_as("coordinator")
        response = self.client.get("/admin/buddyscheme/membership/")
        self.assertContains(response, self.buddy.email)
        self.assertNotContains(response, stranger.user.email)
        response = self.client.get(f"/admin/buddyscheme/membership/{stranger.pk}/change/")
        self.assertEqual(response.status_code, 302)  # "does not exist" for another scheme's row
        response = self.client.get("/admin/buddyscheme/scheme/")
        self.assertContains(response, "Scheme A")
        self.assertNotContains(response, "Scheme B")

    def test_admin_invitation_goes_through_the_service(self):
        self.reauthenticate("coordinator")  # sending an invitation asks for the password
        form = self.client.get("/admin/buddyscheme/invitation/add/").context["adminform"].form
        self.assertEqual(list(form.fields["scheme"].queryset), [self.scheme])
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                "/admin/buddyscheme/invitation/add/",
                {"scheme": self.scheme.pk, "email": "viaadmin@example.org", "role": "participant"},
            )
        invitation = Invitation.objects.get(email="viaadmin@example.org")
        self.assertEqual(invitation.invited_by, self.coordinator)
        self.assertEqual(len(mail.outbox), 1)
        # A coordinator cannot invite into a scheme they do not run.
        self.client.post(
            "/admin/buddyscheme/invitation/add/",
            {"scheme": self.other_scheme.pk, "email": "sneaky@example.org", "role": "buddy"},
        )
        self.assertFalse(Invitation.objects.filter(email="sneaky@example.org").exists())


class ErrorPagesTest(PersonaTestCase):
    def test_not_found_is_friendly(self):
        self.login_as("buddy")
        response = self.client.get("/no/such/page/")
        self.assertContains(response, "We could not find that page", status_code=404)
        self.assertNotContains(response, "Traceback", status_code=404)

    def test_forbidden_is_friendly(self):
        self.login_as("buddy")
        self.assertContains(
            self.client.get("/coordinator/"), "not available to you", status_code=403
        )

    def test_server_error_page_renders_without_context(self):
        from django.test import RequestFactory
        from django.views.defaults import server_error

        response = server_error(RequestFactory().get("/"))
        self.assertEqual(response.status_code, 500)
        self.assertIn(b"Something went wrong on our side", response.content)


class PersonFormsTest(PersonaTestCase):
    """Each form on the person page posts to its own URL, which only takes POST."""

    def url(self, member, action=""):
        return f"/coordinator/people/{member.pk}/{action}"

    def test_each_form_posts_to_its_own_url(self):
        from buddyscheme.consent import consent_give
        from buddyscheme.models import ConsentKind, ParticipantEnrolment

        self.login_as("coordinator")
        buddy_page = self.client.get(self.url(self.buddy_membership)).content.decode()
        for action in ("stage/", "dbs/", "training/"):
            self.assertIn(f'action="{self.url(self.buddy_membership, action)}"', buddy_page)
        participant = self.participant_membership
        ParticipantEnrolment.objects.create(membership=participant, eligible=True)
        consent_give(membership=participant, kind=ConsentKind.SPECIAL_CATEGORY, by=None)
        page = self.client.get(self.url(participant))
        self.assertContains(page, f'action="{self.url(participant, "enrolment/")}"')
        self.assertContains(page, f'action="{self.url(participant, "sensitive-notes/")}"')
        self.assertContains(page, "Save enrolment")
        self.assertNotContains(page, 'name="action"')

    def test_the_form_urls_take_only_post_and_only_for_the_right_role(self):
        self.login_as("coordinator")
        buddy, participant = self.buddy_membership, self.participant_membership
        for member, action in (
            (buddy, "stage/"),
            (buddy, "dbs/"),
            (buddy, "training/"),
            (participant, "enrolment/"),
            (participant, "sensitive-notes/"),
        ):
            self.assertEqual(self.client.get(self.url(member, action)).status_code, 405, action)
            wrong = participant if member == buddy else buddy
            self.assertEqual(self.client.post(self.url(wrong, action)).status_code, 404, action)

    def test_reading_the_page_creates_nothing(self):
        from buddyscheme.models import AuditEvent, BuddyVetting

        self.login_as("coordinator")
        page = self.client.get(self.url(self.buddy_membership))
        self.assertContains(page, "Vetting: Applied")
        self.assertFalse(BuddyVetting.objects.filter(membership=self.buddy_membership).exists())
        self.assertFalse(AuditEvent.objects.exists())

    def test_bad_input_comes_back_with_what_was_typed(self):
        from buddyscheme.models import TrainingModule

        self.login_as("coordinator")
        response = self.client.post(
            self.url(self.buddy_membership, "stage/"),
            {"to_stage": "approved", "evidence": "Checked the passport"},
        )
        self.assertContains(response, "Select a valid choice")
        self.assertContains(response, "Checked the passport")
        module = TrainingModule.objects.create(scheme=self.scheme, name="Safeguarding")
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        response = self.client.post(
            self.url(self.buddy_membership, "training/"),
            {"module": module.pk, "completed_on": tomorrow},
        )
        self.assertContains(response, "cannot be completed in the future")
        self.assertContains(response, f'value="{tomorrow}"')

    def test_a_step_is_recorded_then_the_page_shows_it(self):
        self.login_as("coordinator")
        response = self.client.post(
            self.url(self.buddy_membership, "stage/"),
            {"to_stage": "references", "evidence": "Two references back"},
        )
        self.assertRedirects(
            response, self.url(self.buddy_membership), fetch_redirect_response=False
        )
        page = self.client.get(self.url(self.buddy_membership))
        self.assertContains(page, "Step recorded.")
        self.assertContains(page, "Two references back")

    def test_sensitive_notes_are_saved_by_the_service_and_audited(self):
        from buddyscheme.consent import consent_give
        from buddyscheme.models import ConsentKind, ParticipantEnrolment

        from ..base import assert_audited

        participant = self.participant_membership
        enrolment = ParticipantEnrolment.objects.create(membership=participant, eligible=True)
        consent_give(membership=participant, kind=ConsentKind.SPECIAL_CATEGORY, by=None)
        self.login_as("coordinator")
        response = self.client.post(
            self.url(participant, "sensitive-notes/"), {"sensitive_notes": "Diagnosed 2019"}
        )
        self.assertRedirects(response, self.url(participant))
        enrolment.refresh_from_db()
        self.assertEqual(enrolment.sensitive_notes, "Diagnosed 2019")
        assert_audited(
            verb="enrolment_sensitive_notes_save",
            obj=enrolment,
            actor=self.coordinator,
            scheme=self.scheme,
        )
