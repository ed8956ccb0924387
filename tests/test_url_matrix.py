"""Every URL pattern × every persona, with the status each must get.

A new URL pattern that is not listed here fails `test_every_url_is_in_the_matrix`: whoever
adds a view also decides, here, who may see it.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLResolver, get_resolver
from django.utils import timezone

from buddyscheme.models import (
    AuditEvent,
    BuddyVetting,
    Concern,
    ConcernKind,
    ConcernSource,
    DiaryEntry,
    EligibilityQuestion,
    ErasureRequest,
    Heartbeat,
    Interview,
    InterviewQuestion,
    Referral,
    ReferralSource,
    RetentionReview,
    Role,
    Supervision,
    SupervisionMode,
    SupportSettings,
    TrainingModule,
)
from buddyscheme.services import heartbeat_record, invitation_create
from contracts.services import templates_ensure
from evaluation import questionnaires as questionnaire_services
from evaluation.report_models import FunderReport
from matching.models import Goal, Match, MenuItem, RematchRequest, SpeedMeeting, SuggestionOffer
from meetings.access import responder_link_token
from meetings.models import (
    Alert,
    AlertRecipient,
    CalendarFeed,
    Debrief,
    Meeting,
    OnCallShift,
    TrainingInvitation,
    TrainingSession,
)
from messaging.services import message_to_coordinators, network_join
from recruitment.services import application_submit, reference_token, references_request
from volunteering.services import expense_claim_submit, pack_document_add

from .base import PERSONAS, PersonaTestCase
from .factories import MembershipFactory, group_rows, scheme_a_rows, venue
from .recruitment.helpers import application_arguments, publish_front_door

A, C, B, P, O = PERSONAS  # noqa: E741  (anonymous, coordinator, buddy, participant, other coordinator)


def every(status):
    return dict.fromkeys(PERSONAS, status)


def logged_in(status, anonymous=302):
    return {**every(status), A: anonymous}


def for_role(allowed, ok=200, also_other_coordinator=False):
    expected = {A: 302, C: 403, B: 403, P: 403, O: 403}
    for persona in allowed:
        expected[persona] = ok
    return expected


COORDINATOR_PAGE = {A: 302, C: 200, B: 403, P: 403, O: 200}
PERSON_FORM = {A: 302, C: 200, B: 403, P: 403, O: 404}
# One of scheme A's objects: its coordinator's page; scheme B's coordinator must not learn it exists.
OBJECT_PAGE = {A: 302, C: 200, B: 403, P: 403, O: 404}
OBJECT_ACTION = {A: 302, C: 302, B: 403, P: 403, O: 404}
# Exports and report downloads: a coordinator (of either scheme) is first sent to re-enter
# their password (tests/buddyscheme/test_reauthentication.py); other roles are refused.
REAUTHENTICATE_FIRST = {A: 302, C: 302, B: 403, P: 403, O: 302}

# route pattern -> (method, kwargs name or None, expected status per persona)
MATRIX = {
    "": ("get", None, {A: 200, C: 302, B: 302, P: 302, O: 302}),
    "healthz": ("get", None, every(200)),
    # The phone app's manifest and service worker: no personal data, the same for everyone.
    "manifest.webmanifest": ("get", None, every(200)),
    "sw.js": ("get", None, every(200)),
    "switch/": ("get", None, logged_in(200)),
    "profile/": ("get", None, logged_in(200)),
    "me/": ("get", None, for_role([P])),
    # A buddy's day; for a coordinator, their own lone-working meetings (groups they facilitate).
    "today/": ("get", None, {A: 302, C: 200, B: 200, P: 403, O: 200}),
    # The help banner: a buddy's, or a coordinator's own (staff facilitating a group are watched).
    "today/help-status/": ("get", None, {A: 302, C: 200, B: 200, P: 403, O: 200}),
    "me/meetings/": ("get", None, {A: 302, C: 200, B: 200, P: 403, O: 200}),
    "coordinator/": ("get", None, COORDINATOR_PAGE),
    # Messages through the scheme: buddies and participants write to the coordinators; buddies
    # of the network to each other ("network_buddy" joined, as did the buddy persona); the
    # participant may not write to that buddy (not found), nor join the network.
    "messages/": ("get", None, for_role([B, P])),
    "messages/coordinators/": ("get", None, for_role([B, P])),
    "messages/with/<int:pk>/": ("get", "network_buddy", {A: 302, C: 403, B: 200, P: 404, O: 403}),
    "network/": ("get", None, for_role([B])),
    "network/join/": ("post", None, for_role([B], ok=302)),
    "network/leave/": ("post", None, for_role([B], ok=302)),
    "coordinator/messages/": ("get", None, COORDINATOR_PAGE),
    "coordinator/messages/<int:pk>/": ("get", "messaging/conversation", OBJECT_PAGE),
    # A first message to someone with no conversation yet (the participant persona).
    "coordinator/messages/new/<int:pk>/": ("get", "participant", OBJECT_PAGE),
    "coordinator/messages/relay/<int:pk>/": ("get", "messaging/message", OBJECT_PAGE),
    "coordinator/settings/messages/": ("get", None, COORDINATOR_PAGE),
    # The evidence pack: each coordinator builds their own scheme's (POST: it is audited).
    "coordinator/evidence/": ("get", None, COORDINATOR_PAGE),
    "coordinator/evidence/download/": ("post", None, REAUTHENTICATE_FIRST),
    "coordinator/people/": ("get", None, COORDINATOR_PAGE),
    "coordinator/invitations/": ("get", None, COORDINATOR_PAGE),
    # The access log: each coordinator sees their own scheme's rows (tests/buddyscheme/
    # test_access_log.py checks the other scheme's never appear).
    "coordinator/access-log/": ("get", None, COORDINATOR_PAGE),
    # Erasure: the dry run is the coordinator's page; erasing asks for the password again
    # first (a redirect to reauthenticate, the same for the other scheme's coordinator, who
    # learns nothing from it). Keeping, posted empty, shows the form's error (400).
    "coordinator/people/<int:pk>/erase/": ("get", "participant", OBJECT_PAGE),
    "coordinator/people/<int:pk>/erase/confirm/": (
        "post",
        "participant",
        {A: 302, C: 302, B: 403, P: 403, O: 302},
    ),
    "coordinator/erasure-requests/<int:pk>/keep/": (
        "post",
        "buddyscheme/erasurerequest",
        {A: 302, C: 400, B: 403, P: 403, O: 404},
    ),
    "coordinator/retention/": ("get", None, COORDINATOR_PAGE),
    "coordinator/retention/<int:pk>/confirm/": (
        "post",
        "buddyscheme/retentionreview",
        {A: 302, C: 302, B: 403, P: 403, O: 302},
    ),
    # POST; the other scheme's coordinator must not learn the invitation exists.
    "coordinator/invitations/<int:pk>/withdraw/": (
        "post",
        "invitation",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    "invite/<str:token>/": ("get", "token", every(200)),
    "coordinator/people/<int:pk>/": ("get", "buddy", {A: 302, C: 200, B: 403, P: 403, O: 404}),
    # One URL per form on the person page, POST only. Posted empty, a form comes back with its
    # errors (200); the sensitive notes need consent first, so they redirect with a message.
    "coordinator/people/<int:pk>/stage/": ("post", "buddy", PERSON_FORM),
    "coordinator/people/<int:pk>/dbs/": ("post", "buddy", PERSON_FORM),
    "coordinator/people/<int:pk>/training/": ("post", "buddy", PERSON_FORM),
    "coordinator/people/<int:pk>/enrolment/": ("post", "participant", PERSON_FORM),
    "coordinator/people/<int:pk>/sensitive-notes/": (
        "post",
        "participant",
        {**PERSON_FORM, C: 302},
    ),
    # Everything held about a person (subject access): POST, after the password again, so
    # without a recent re-authentication both coordinators are sent to type it (the other
    # scheme's then gets 404: tests/evaluation/test_subject_access.py).
    "coordinator/people/<int:pk>/subject-access/": (
        "post",
        "participant",
        {A: 302, C: 302, B: 403, P: 403, O: 302},
    ),
    # A case note: posted empty, the page comes back with the error.
    "coordinator/people/<int:pk>/notes/": ("post", "participant", PERSON_FORM),
    # POST (nobody chosen: every coordinator is alerted).
    "coordinator/people/<int:pk>/support-person/": (
        "post",
        "buddy",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    # Matching: the coordinator's workspace, and each person's own menu, matches and choices.
    "coordinator/matching/": ("get", None, COORDINATOR_PAGE),
    "coordinator/matching/participants/<int:pk>/": (
        "get",
        "participant",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/matching/people/<int:pk>/menu/": (
        "get",
        "participant",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/matching/matches/": ("get", None, COORDINATOR_PAGE),
    # Re-match requests (issue 18): the list, a request, and its two answers (posted empty:
    # the page again with the form's errors).
    "coordinator/matching/rematch-requests/": ("get", None, COORDINATOR_PAGE),
    "coordinator/matching/rematch-requests/<int:pk>/": (
        "get",
        "matching/rematchrequest",
        OBJECT_PAGE,
    ),
    "coordinator/matching/rematch-requests/<int:pk>/handled/": (
        "post",
        "matching/rematchrequest",
        PERSON_FORM,
    ),
    "coordinator/matching/rematch-requests/<int:pk>/new-match/": (
        "post",
        "matching/rematchrequest",
        PERSON_FORM,
    ),
    # Pattern flags (issue 18): dismissing one from the match page; when matches are flagged.
    "coordinator/matches/<int:pk>/flags/<str:kind>/dismiss/": (
        "get",
        "pattern_dismiss",
        OBJECT_PAGE,
    ),
    "coordinator/settings/patterns/": ("get", None, COORDINATOR_PAGE),
    "coordinator/matching/matches/<int:pk>/support-person/": (
        "post",
        "matching/match",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    # Past rounds and speed-buddying events (each scheme sees its own).
    "coordinator/matching/history/": ("get", None, COORDINATOR_PAGE),
    "coordinator/matching/rounds/new/": ("get", None, COORDINATOR_PAGE),
    "coordinator/matching/rounds/<int:pk>/": (
        "get",
        "matching/matchinground",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/matching/events/<int:pk>/": (
        "get",
        "matching/speedevent",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    # A coordinator's reminder to whoever has not answered (POST, once a day), and an answer
    # taken by phone (posted empty: the match page again, with the form's errors).
    "coordinator/matching/matches/<int:pk>/nudge/": (
        "post",
        "matching/match",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    "coordinator/matching/matches/<int:pk>/answer/": (
        "post",
        "matching/match",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "matches/<int:pk>/": ("get", "matching/match", {A: 302, C: 200, B: 200, P: 200, O: 404}),
    # Goals, the planned length, reviews and progress at the end: the coordinator's pages (the
    # buddy and the participant read goals on the match page and their home page).
    "coordinator/matching/matches/<int:pk>/goals/": ("get", "matching/match", OBJECT_PAGE),
    "coordinator/matching/matches/<int:pk>/goals/<int:goal_pk>/remove/": (
        "post",
        "goal_remove",
        OBJECT_ACTION,
    ),
    "coordinator/matching/matches/<int:pk>/plan/": ("post", "matching/match", OBJECT_ACTION),
    "coordinator/matching/matches/<int:pk>/review/": ("get", "matching/match", OBJECT_PAGE),
    "coordinator/matching/matches/<int:pk>/progress-at-end/": (
        "get",
        "matching/match",
        OBJECT_PAGE,
    ),
    # The two people in a proposal answer it: No asks for an optional reason on its own page.
    "matches/<int:pk>/decline/": ("get", "matching/match", for_role([B, P])),
    "matches/<int:pk>/talk/": ("post", "matching/match", for_role([B, P], ok=302)),
    "matches/<int:pk>/accept/": ("post", "matching/match", for_role([B, P], ok=302)),
    "menu/": ("get", None, for_role([B, P])),
    "matches/": ("get", None, for_role([B, P])),
    "choose/<int:pk>/": ("get", "offer", for_role([P])),
    "events/<int:pk>/rank/": ("get", "matching/speedevent", for_role([B, P])),
    # "I want to stop": a confirmation page for the participant or the buddy, then a POST.
    "me/stop/": ("get", None, for_role([B, P])),
    # The ending flow (an active match of scheme A): the type, its questions, and attempts to
    # reach someone (posted empty: the step again, with the form's errors). "We have become
    # friends" is the two people's own page.
    "coordinator/matching/matches/<int:pk>/end/": ("get", "active_match", OBJECT_PAGE),
    "coordinator/matching/matches/<int:pk>/end/<str:ending_type>/": (
        "get",
        "ending_step",
        OBJECT_PAGE,
    ),
    "coordinator/matching/matches/<int:pk>/attempts/": ("post", "active_match", OBJECT_PAGE),
    "matches/<int:pk>/friends/": ("get", "matching/match", for_role([B, P])),
    # Asking to move a meeting of one's own match: the participant's confirmation page.
    "me/meetings/<int:pk>/rearrange/": (
        "get",
        "participant_meeting",
        for_role([P]),
    ),
    # Meetings and lone working.
    "meetings/new/": ("get", None, {A: 302, C: 200, B: 200, P: 403, O: 200}),
    # The buddy's own meeting; a coordinator presses help only on their own (a group they
    # facilitate), not on a buddy's (403), and another scheme's does not exist for them.
    "meetings/<int:pk>/help/": (
        "get",
        "meetings/meeting",
        {A: 302, C: 403, B: 200, P: 403, O: 404},
    ),
    # The buddy's own planned meeting; coordinators change meetings on their own pages.
    "meetings/<int:pk>/change/": ("get", "meetings/meeting", for_role([B])),
    "meetings/<int:pk>/cancel/": ("post", "meetings/meeting", for_role([B], ok=302)),
    # No key and no help request open: the buddy is told; nothing is recorded.
    "meetings/<int:pk>/safe/": (
        "post",
        "meetings/meeting",
        {A: 302, C: 403, B: 302, P: 403, O: 404},
    ),
    # POST without an idempotency key: the buddy is told to reload; nothing is recorded.
    # Anonymous: with no safety token, the login (a token's own checks: test_safety_token.py).
    "meetings/<int:pk>/<str:action>/": (
        "post",
        "check_in",
        {A: 302, C: 404, B: 302, P: 403, O: 404},
    ),
    # Debriefs. The buddy persona's meeting is checked out, its debrief not sent: the form.
    "meetings/<int:pk>/debrief/": ("get", "debrief_meeting", for_role([B])),
    # POST empty: a draft may be empty, so it is saved and the form shown again.
    "meetings/<int:pk>/debrief/draft/": ("post", "debrief_meeting", for_role([B], ok=302)),
    # POST empty: not sent, the form comes back saying what is needed.
    "meetings/<int:pk>/debrief/send/": ("post", "debrief_meeting", for_role([B])),
    "debriefs/": ("get", None, for_role([B])),
    "coordinator/meetings/<int:pk>/debrief/": (
        "get",
        "debrief_meeting",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/debriefs/": ("get", None, COORDINATOR_PAGE),
    "coordinator/debriefs/<int:pk>/": (
        "get",
        "sent_debrief",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    # POST empty: the page again with the form's error.
    "coordinator/debriefs/<int:pk>/feedback/": (
        "post",
        "sent_debrief",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/debriefs/<int:pk>/follow-up/": (
        "post",
        "sent_debrief",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    # A buddy's own PINs and location sharing. Empty PINs: the page comes back with errors.
    "safety/": ("get", None, for_role([B])),
    "safety/pins/": ("post", None, for_role([B])),
    "safety/location/": ("post", None, for_role([B], ok=302)),
    # The SMS provider's webhook: without its signature, refused for everyone.
    "sms/replies/": ("post", None, every(403)),
    "calendar/<str:token>.ics": ("get", "feed", every(200)),
    "calendar/address/": ("post", None, for_role([B], ok=302)),
    "calendar/reset/": ("post", None, for_role([B], ok=302)),
    "coordinator/meetings/": ("get", None, COORDINATOR_PAGE),
    "coordinator/meetings/<int:pk>/": (
        "get",
        "meetings/meeting",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/board/": ("get", None, COORDINATOR_PAGE),
    "coordinator/board/live/": ("get", None, COORDINATOR_PAGE),
    # The paged lists behind the board's counts (?show=now by default), scoped to the scheme.
    "coordinator/board/list/": ("get", None, COORDINATOR_PAGE),
    "coordinator/alerts/<int:pk>/acknowledge/": (
        "post",
        "meetings/alert",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    # POST without an outcome: the board again, with the form and a clear error.
    "coordinator/alerts/<int:pk>/resolve/": (
        "post",
        "meetings/alert",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    # The responder page: the buddy persona is on call and was sent this alert (about another
    # buddy's meeting); coordinators of the scheme see it too; anyone else 404.
    "alerts/<int:pk>/": ("get", "responder_alert", {A: 302, C: 200, B: 200, P: 404, O: 404}),
    "alerts/<int:pk>/acknowledge/": (
        "post",
        "responder_alert",
        {A: 302, C: 302, B: 302, P: 404, O: 404},
    ),
    # POST without an outcome: the page again, with the form and a clear error.
    "alerts/<int:pk>/resolve/": (
        "post",
        "responder_alert",
        {A: 302, C: 200, B: 200, P: 404, O: 404},
    ),
    # The link in the buddy persona's message: login first, then only for them.
    "r/<str:token>": ("get", "responder_link", {A: 302, C: 403, B: 302, P: 403, O: 403}),
    # Contracts and consent: a participant sees only their own agreements.
    "contracts/": ("get", None, logged_in(200)),
    "contracts/<int:pk>/": ("get", "contracts/contract", {A: 302, C: 200, B: 200, P: 200, O: 404}),
    # A coordinator taking an agreement away re-enters the password first (so the other
    # scheme's coordinator, asked the same, learns nothing); parties take their own copy.
    "contracts/<int:pk>/pdf/": (
        "get",
        "contracts/contract",
        {A: 302, C: 302, B: 200, P: 200, O: 302},
    ),
    "contracts/<int:pk>/verify/": (
        "get",
        "contracts/contract",
        {A: 302, C: 200, B: 200, P: 200, O: 404},
    ),
    "consents/": ("get", None, for_role([B, P])),
    # What changes if you withdraw (nothing given yet: "nothing to withdraw"), then a POST.
    "consents/<str:kind>/withdraw/": ("get", "consent_kind", for_role([B, P])),
    "coordinator/contracts/<int:pk>/sign-in-person/": (
        "get",
        "contracts/contract",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/matches/<int:match_pk>/contract/": (
        "get",
        "match_pk",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/people/<int:pk>/volunteer-agreement/": (
        "post",
        "buddy",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    "coordinator/people/<int:pk>/consents/": (
        "get",
        "participant",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    "coordinator/contract-templates/": ("get", None, COORDINATOR_PAGE),
    "coordinator/contract-templates/<int:pk>/": (
        "get",
        "template",
        {A: 302, C: 200, B: 403, P: 403, O: 404},
    ),
    # Support (issue 16). The buddy's own page, one-to-ones, concerns and diary: theirs alone.
    "support/": ("get", None, for_role([B])),
    "support/one-to-ones/<int:pk>/": ("get", "buddyscheme/supervision", for_role([B])),
    # POST empty: the page again, asking for the comment.
    "support/one-to-ones/<int:pk>/comment/": ("post", "buddyscheme/supervision", for_role([B])),
    "concerns/new/<str:kind>/": ("get", "concern_kind", for_role([B])),
    "concerns/<int:pk>/": ("get", "buddyscheme/concern", for_role([B])),
    "diary/": ("get", None, for_role([B])),
    "diary/new/": ("get", None, for_role([B])),
    # A private entry: not even its existence is confirmed to a coordinator (the buddy's own
    # support person here). tests/buddyscheme/test_support_matrix.py has the shared one.
    "diary/<int:pk>/": ("get", "buddyscheme/diaryentry", {A: 302, C: 404, B: 200, P: 403, O: 404}),
    "diary/<int:pk>/share/": ("post", "buddyscheme/diaryentry", for_role([B], ok=302)),
    "diary/<int:pk>/unshare/": ("post", "buddyscheme/diaryentry", for_role([B], ok=302)),
    "diary/<int:pk>/delete/": ("post", "buddyscheme/diaryentry", for_role([B], ok=302)),
    # Volunteering (issue 16): the buddy pack, hours, expenses and the buddy's own page.
    "me/buddy/": ("get", None, for_role([B])),
    "pack/": ("get", None, for_role([B])),
    "pack/<int:pk>/": (
        "get",
        "volunteering/packdocument",
        {A: 302, C: 200, B: 200, P: 403, O: 404},
    ),
    # The file itself: the scheme's buddies and coordinators only, never another scheme's.
    "pack/<int:pk>/file/": (
        "get",
        "volunteering/packdocument",
        {A: 302, C: 200, B: 200, P: 403, O: 404},
    ),
    "pack/<int:pk>/read/": ("post", "volunteering/packdocument", for_role([B], ok=302)),
    "expenses/": ("get", None, for_role([B])),
    "expenses/new/": ("get", None, for_role([B])),
    "expenses/<int:pk>/receipt/": (
        "get",
        "volunteering/expenseclaim",
        {A: 302, C: 200, B: 200, P: 403, O: 404},
    ),
    "coordinator/pack/": ("get", None, COORDINATOR_PAGE),
    "coordinator/pack/unread/": ("get", None, COORDINATOR_PAGE),
    # POST with no file: a message, back to the pack.
    "coordinator/pack/<int:pk>/replace/": ("post", "volunteering/packdocument", OBJECT_ACTION),
    "coordinator/pack/<int:pk>/withdraw/": ("post", "pack_to_withdraw", OBJECT_ACTION),
    "coordinator/hours/": ("get", None, COORDINATOR_PAGE),
    "coordinator/expenses/": ("get", None, COORDINATOR_PAGE),
    "coordinator/expenses/export.csv": ("get", None, REAUTHENTICATE_FIRST),
    "coordinator/expenses/<int:pk>/": ("get", "volunteering/expenseclaim", OBJECT_PAGE),
    "coordinator/expenses/<int:pk>/approve/": ("post", "volunteering/expenseclaim", OBJECT_ACTION),
    # POST empty: the claim page again with the form's errors.
    "coordinator/expenses/<int:pk>/refuse/": ("post", "volunteering/expenseclaim", PERSON_FORM),
    "coordinator/expenses/<int:pk>/paid/": ("post", "volunteering/expenseclaim", PERSON_FORM),
    # Referrals (issue 15): the public form works for everyone, signed in or not; the list and
    # the assessment are the coordinator's. Posted empty, the assessment saves (nothing is
    # required until enrolment); enrolment and decline come back with their errors.
    "s/<slug:slug>/refer/": ("get", "referral_form", every(200)),
    "s/<slug:slug>/refer/thanks/": ("get", "referral_thanks", every(200)),
    "coordinator/referrals/": ("get", None, COORDINATOR_PAGE),
    "coordinator/referrals/<int:pk>/": ("get", "buddyscheme/referral", OBJECT_PAGE),
    "coordinator/referrals/<int:pk>/assess/": ("post", "buddyscheme/referral", OBJECT_ACTION),
    "coordinator/referrals/<int:pk>/enrol/": ("post", "buddyscheme/referral", PERSON_FORM),
    "coordinator/referrals/<int:pk>/decline/": ("post", "buddyscheme/referral", PERSON_FORM),
    "coordinator/concerns/": ("get", None, COORDINATOR_PAGE),
    "coordinator/concerns/<int:pk>/": ("get", "buddyscheme/concern", PERSON_FORM),
    "coordinator/concerns/<int:pk>/take/": (
        "post",
        "buddyscheme/concern",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    # POST empty: the concern page again, with the form's errors.
    "coordinator/concerns/<int:pk>/note/": ("post", "buddyscheme/concern", PERSON_FORM),
    "coordinator/concerns/<int:pk>/referral/": ("post", "buddyscheme/concern", PERSON_FORM),
    "coordinator/concerns/<int:pk>/close/": ("post", "buddyscheme/concern", PERSON_FORM),
    "coordinator/people/<int:pk>/support/": ("get", "buddy", PERSON_FORM),
    "coordinator/people/<int:pk>/contact/": ("post", "buddy", PERSON_FORM),
    "coordinator/people/<int:pk>/one-to-ones/new/": ("get", "buddy", PERSON_FORM),
    "coordinator/one-to-ones/<int:pk>/": ("get", "buddyscheme/supervision", PERSON_FORM),
    # It began yesterday: held (no notes yet); then notes posted empty come back with the error;
    # sharing no notes, or cancelling one held, is refused with a message.
    "coordinator/one-to-ones/<int:pk>/held/": (
        "post",
        "buddyscheme/supervision",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    "coordinator/one-to-ones/<int:pk>/notes/": ("post", "buddyscheme/supervision", PERSON_FORM),
    "coordinator/one-to-ones/<int:pk>/share/": (
        "post",
        "buddyscheme/supervision",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    "coordinator/one-to-ones/<int:pk>/cancel/": (
        "post",
        "buddyscheme/supervision",
        {A: 302, C: 302, B: 403, P: 403, O: 404},
    ),
    # Settings: the hub and a page per subject, each scoped to the coordinator's own scheme.
    # Empty posts come back with the form's errors (200); the other scheme's objects are 404.
    "coordinator/settings/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/scheme/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/office-hours/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/training/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/training/<int:pk>/": ("get", "buddyscheme/trainingmodule", OBJECT_PAGE),
    # Someone has completed the module, so it is kept (a message says why).
    "coordinator/settings/training/<int:pk>/delete/": (
        "post",
        "buddyscheme/trainingmodule",
        OBJECT_ACTION,
    ),
    "coordinator/settings/eligibility/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/eligibility/<int:pk>/": (
        "get",
        "buddyscheme/eligibilityquestion",
        OBJECT_PAGE,
    ),
    "coordinator/settings/menu/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/menu/categories/": ("post", None, {**COORDINATOR_PAGE, C: 200}),
    "coordinator/settings/menu/categories/<int:pk>/": (
        "get",
        "matching/menucategory",
        OBJECT_PAGE,
    ),
    "coordinator/settings/menu/items/<int:pk>/": ("get", "menu_item", OBJECT_PAGE),
    "coordinator/settings/venues/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/venues/new/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/venues/<int:pk>/": ("get", "meetings/venue", OBJECT_PAGE),
    "coordinator/settings/on-call/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/on-call/new/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/on-call/<int:pk>/": ("get", "meetings/oncallshift", OBJECT_PAGE),
    "coordinator/settings/safety/": ("get", None, COORDINATOR_PAGE),
    # Recruitment and selection (issue 15): the pipeline, interviews, training sessions.
    "coordinator/pipeline/": ("get", None, COORDINATOR_PAGE),
    "coordinator/people/<int:pk>/recruitment-source/": ("post", "buddy", OBJECT_ACTION),
    "coordinator/people/<int:pk>/interview/new/": ("get", "buddy", PERSON_FORM),
    "coordinator/interviews/<int:pk>/": ("get", "buddyscheme/interview", OBJECT_PAGE),
    "coordinator/interviews/<int:pk>/notes/": ("post", "buddyscheme/interview", OBJECT_ACTION),
    # Nothing chosen: the form comes back with its error.
    "coordinator/interviews/<int:pk>/outcome/": ("post", "buddyscheme/interview", PERSON_FORM),
    "coordinator/interviews/<int:pk>/cancel/": ("post", "buddyscheme/interview", OBJECT_ACTION),
    "coordinator/settings/interview-questions/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/interview-questions/suggested/": (
        "post",
        None,
        {**COORDINATOR_PAGE, C: 302, O: 302},
    ),
    "coordinator/settings/interview-questions/<int:pk>/": (
        "get",
        "buddyscheme/interviewquestion",
        OBJECT_PAGE,
    ),
    "coordinator/settings/training-sessions/": ("get", None, COORDINATOR_PAGE),
    "coordinator/settings/training-sessions/<int:pk>/": (
        "get",
        "meetings/trainingsession",
        OBJECT_PAGE,
    ),
    # Nobody ticked: the page comes back with the form's error.
    "coordinator/settings/training-sessions/<int:pk>/invite/": (
        "post",
        "meetings/trainingsession",
        PERSON_FORM,
    ),
    "coordinator/settings/training-sessions/<int:pk>/attendance/": (
        "post",
        "meetings/trainingsession",
        OBJECT_ACTION,
    ),
    "training/": ("get", None, for_role([B])),
    "training/invitations/<int:pk>/answer/": (
        "post",
        "meetings/traininginvitation",
        for_role([B], ok=302),
    ),
    "coordinator/settings/public-page/": ("get", None, COORDINATOR_PAGE),
    # Recruitment (issue 15). The scheme's public pages and a referee's link: no login, the
    # same for everyone (an unpublished page is a 404: tests/recruitment).
    "s/<slug:slug>/": ("get", "front_door_slug", every(200)),
    "s/<slug:slug>/volunteer/": ("get", "front_door_slug", every(200)),
    "s/<slug:slug>/volunteer/thanks/": ("get", "front_door_slug", every(200)),
    "reference/<str:token>/": ("get", "reference_token", every(200)),
    "reference/thanks/": ("get", None, every(200)),
    # The applicant's references: asked for, reminded (then "already reminded today"), decided
    # (an empty decision is refused with a message): each back to the person page.
    "coordinator/people/<int:pk>/references/request/": ("post", "applicant", OBJECT_ACTION),
    "coordinator/references/<int:pk>/remind/": ("post", "recruitment/reference", OBJECT_ACTION),
    "coordinator/references/<int:pk>/decision/": (
        "post",
        "recruitment/reference",
        OBJECT_ACTION,
    ),
    # Groups: the coordinator's pages, the facilitator's session page (the buddy persona
    # facilitates scheme A's session), and the public anonymous feedback form.
    # The charts' stylesheet: the same for everyone, nothing personal.
    "evaluation/charts.css": ("get", None, every(200)),
    # Funder reports: the scheme's coordinators only; each view and download is audited.
    "coordinator/reports/funder/": ("get", None, COORDINATOR_PAGE),
    "coordinator/reports/funder/<int:pk>/": ("get", "evaluation/funderreport", OBJECT_PAGE),
    "coordinator/reports/funder/<int:pk>/text/": ("post", "evaluation/funderreport", OBJECT_ACTION),
    "coordinator/reports/funder/<int:pk>/pdf/": (
        "get",
        "evaluation/funderreport",
        REAUTHENTICATE_FIRST,
    ),
    "coordinator/reports/funder/<int:pk>/<slug:table>.<str:extension>": (
        "get",
        "funder_table",
        REAUTHENTICATE_FIRST,
    ),
    # Signposting: the directory and next-steps plans are the coordinators'; a participant sees
    # their own finished plan (the participant persona's), nobody else does.
    "coordinator/signposting/": ("get", None, COORDINATOR_PAGE),
    "coordinator/signposting/new/": ("get", None, COORDINATOR_PAGE),
    "coordinator/signposting/<int:pk>/edit/": ("get", "signposting/directoryentry", OBJECT_PAGE),
    "coordinator/signposting/<int:pk>/checked/": (
        "post",
        "signposting/directoryentry",
        OBJECT_ACTION,
    ),
    "coordinator/signposting/<int:pk>/retire/": ("post", "entry_to_retire", OBJECT_ACTION),
    "coordinator/plans/": ("get", None, COORDINATOR_PAGE),
    "coordinator/matches/<int:pk>/next-steps/": ("post", "ended_match", OBJECT_ACTION),
    "coordinator/plans/<int:pk>/": ("get", "signposting/nextstepsplan", OBJECT_PAGE),
    # Posted empty, the step's form comes back with its errors.
    "coordinator/plans/<int:pk>/steps/": ("post", "signposting/nextstepsplan", PERSON_FORM),
    "coordinator/plans/<int:pk>/reminders/": ("post", "signposting/nextstepsplan", OBJECT_ACTION),
    "coordinator/plans/<int:pk>/finish/": ("post", "signposting/nextstepsplan", OBJECT_ACTION),
    "coordinator/plans/<int:pk>/pdf/": ("get", "signposting/nextstepsplan", REAUTHENTICATE_FIRST),
    "coordinator/plan-steps/<int:pk>/remove/": ("post", "signposting/planaction", OBJECT_ACTION),
    "me/next-steps/<int:pk>/": ("get", "signposting/nextstepsplan", for_role([P])),
    "me/next-steps/<int:pk>/pdf/": ("get", "signposting/nextstepsplan", for_role([P])),
    "me/next-steps/<int:pk>/reminders/": (
        "post",
        "signposting/nextstepsplan",
        for_role([P], ok=302),
    ),
    "coordinator/groups/": ("get", None, COORDINATOR_PAGE),
    "coordinator/groups/new/": ("get", None, COORDINATOR_PAGE),
    "coordinator/groups/questions/": ("get", None, COORDINATOR_PAGE),
    "coordinator/groups/<int:pk>/": ("get", "groups/peergroup", OBJECT_PAGE),
    "coordinator/groups/<int:pk>/edit/": ("get", "groups/peergroup", OBJECT_PAGE),
    "coordinator/groups/<int:pk>/sessions/new/": ("post", "groups/peergroup", OBJECT_ACTION),
    "coordinator/groups/<int:pk>/members/new/": ("get", "groups/peergroup", OBJECT_PAGE),
    "coordinator/groups/<int:pk>/complaints/new/": ("get", "groups/peergroup", OBJECT_PAGE),
    "coordinator/group-complaints/<int:pk>/close/": (
        "post",
        "groups/groupcomplaint",
        OBJECT_ACTION,
    ),
    "coordinator/group-members/<int:pk>/reconsent/": (
        "post",
        "groups/groupmember",
        OBJECT_ACTION,
    ),
    "coordinator/group-members/<int:pk>/refer/": ("post", "groups/groupmember", OBJECT_ACTION),
    "coordinator/group-exclusions/<int:pk>/": ("get", "groups/exclusion", OBJECT_PAGE),
    "coordinator/group-sessions/<int:pk>/": ("get", "groups/groupsession", OBJECT_PAGE),
    "coordinator/group-debriefs/<int:pk>/reply/": ("post", "groups/groupdebrief", OBJECT_ACTION),
    "groups/sessions/": ("get", None, {A: 302, C: 200, B: 200, P: 403, O: 200}),
    "groups/sessions/<int:pk>/": (
        "get",
        "groups/groupsession",
        {A: 302, C: 200, B: 200, P: 403, O: 404},
    ),
    "groups/sessions/<int:pk>/feedback-code/": (
        "get",
        "groups/groupsession",
        {A: 302, C: 200, B: 200, P: 403, O: 404},
    ),
    "groups/sessions/<int:pk>/debrief/": (
        "get",
        "groups/groupsession",
        {A: 302, C: 200, B: 200, P: 403, O: 404},
    ),
    "groups/sessions/<int:pk>/<str:action>/": (
        "post",
        "group_action",
        {A: 302, C: 302, B: 302, P: 403, O: 404},
    ),
    "s/<slug:slug>/feedback/<str:token>/": ("get", "feedback_link", every(200)),
    # Questionnaires: the coordinator's builder (each scheme its own), filling one in with a
    # person, the outcomes; and the link a person answers on, without a password.
    "coordinator/questionnaires/": ("get", None, COORDINATOR_PAGE),
    "coordinator/questionnaires/new/": ("get", None, COORDINATOR_PAGE),
    "coordinator/questionnaires/<int:pk>/": ("get", "evaluation/questionnaire", OBJECT_PAGE),
    "coordinator/questionnaires/<int:pk>/draft/": (
        "post",
        "evaluation/questionnaire",
        OBJECT_ACTION,
    ),
    "coordinator/questionnaires/<int:pk>/publish/": (
        "post",
        "evaluation/questionnaire",
        OBJECT_ACTION,
    ),
    "coordinator/questionnaires/<int:pk>/schedule/": (
        "post",
        "evaluation/questionnaire",
        OBJECT_ACTION,
    ),
    "coordinator/questionnaires/<int:pk>/questions/new/": (
        "get",
        "questionnaire_with_draft",
        OBJECT_PAGE,
    ),
    "coordinator/questionnaire-questions/<int:pk>/edit/": (
        "get",
        "evaluation/question",
        OBJECT_PAGE,
    ),
    "coordinator/questionnaire-questions/<int:pk>/delete/": (
        "post",
        "question_to_remove",
        OBJECT_ACTION,
    ),
    # Posted empty: back to the person page with a message.
    "coordinator/people/<int:pk>/questionnaires/start/": ("post", "participant", OBJECT_ACTION),
    "coordinator/questionnaire-invitations/<int:pk>/fill/": (
        "get",
        "evaluation/invitation",
        OBJECT_PAGE,
    ),
    "coordinator/questionnaire-invitations/<int:pk>/resend/": (
        "post",
        "evaluation/invitation",
        OBJECT_ACTION,
    ),
    "coordinator/outcomes/": ("get", None, COORDINATOR_PAGE),
    "q/saved/": ("get", None, every(200)),
    "q/thanks/": ("get", None, every(200)),
    "q/<str:token>/": ("get", "questionnaire_token", every(200)),
    # Deleted by the coordinator: objects of their own, which no other row needs.
    "coordinator/settings/interview-questions/<int:pk>/delete/": (
        "post",
        "interview_question_to_delete",
        OBJECT_ACTION,
    ),
    "coordinator/settings/eligibility/<int:pk>/delete/": (
        "post",
        "question_to_delete",
        OBJECT_ACTION,
    ),
    "coordinator/settings/on-call/<int:pk>/delete/": ("post", "shift_to_delete", OBJECT_ACTION),
    # allauth: pages for visitors redirect logged-in people home, and the reverse.
    "accounts/login/": ("get", None, logged_in(302, anonymous=200)),
    "accounts/logout/": ("get", None, logged_in(200)),
    "accounts/inactive/": ("get", None, every(200)),
    "accounts/signup/": ("get", None, logged_in(302, anonymous=200)),  # closed: says so
    "accounts/reauthenticate/": ("get", None, logged_in(200)),
    # Re-authentication by an emailed code is switched off (settings): password or TOTP only.
    "accounts/reauthenticate/code/": ("get", None, logged_in(403)),
    "accounts/reauthenticate/code/confirm/": ("get", None, logged_in(403)),
    "accounts/email/": ("get", None, logged_in(200)),
    "accounts/confirm-email/": ("get", None, every(200)),
    "accounts/password/change/": ("get", None, logged_in(200)),
    "accounts/password/set/": ("get", None, logged_in(302)),
    "accounts/password/reset/": ("get", None, every(200)),
    "accounts/login/code/confirm/": ("get", None, every(302)),
    "accounts/^confirm-email/(?P<key>[-:\\w]+)/$": ("get", "confirm_key", every(200)),
    "accounts/password/reset/key/done/": ("get", None, every(200)),
    "accounts/^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$": (
        "get",
        "reset_key",
        every(200),  # an invalid key: allauth's "bad token" page
    ),
    "accounts/password/reset/done/": ("get", None, every(200)),
    "accounts/2fa/": ("get", None, logged_in(200)),
    "accounts/2fa/authenticate/": ("get", None, every(302)),
    # Only people with an authenticator can re-authenticate with it.
    "accounts/2fa/reauthenticate/": ("get", None, {A: 302, C: 200, B: 302, P: 302, O: 200}),
    # Changing sign-in security asks for the password again first (a redirect to reauthenticate).
    "accounts/2fa/totp/activate/": ("get", None, every(302)),
    "accounts/2fa/totp/deactivate/": ("get", None, {A: 302, C: 302, B: 404, P: 404, O: 302}),
    "accounts/2fa/recovery-codes/": ("get", None, {A: 302, C: 404, B: 404, P: 404, O: 404}),
    "accounts/2fa/recovery-codes/generate/": ("get", None, every(302)),
    "accounts/2fa/recovery-codes/download/": (
        "get",
        None,
        {A: 302, C: 404, B: 404, P: 404, O: 404},
    ),
    # Admin pages outside the model admins.
    "admin/": ("get", None, {A: 302, C: 200, B: 302, P: 302, O: 200}),
    "admin/login/": ("get", None, {A: 302, C: 302, B: 403, P: 403, O: 302}),
    "admin/logout/": ("post", None, logged_in(302)),
    "admin/password_change/": ("get", None, {A: 302, C: 200, B: 302, P: 302, O: 200}),
    "admin/password_change/done/": ("get", None, {A: 302, C: 200, B: 302, P: 302, O: 200}),
    "admin/autocomplete/": ("get", None, {A: 302, C: 403, B: 302, P: 302, O: 403}),
    "admin/jsi18n/": ("get", None, {A: 302, C: 200, B: 302, P: 302, O: 200}),
    "admin/r/<path:content_type_id>/<path:object_id>/": (
        "get",
        "view_on_site",
        {A: 302, C: 404, B: 302, P: 302, O: 404},
    ),
    "admin/(?P<url>.*)$": ("get", "catch_all", {A: 302, C: 404, B: 302, P: 302, O: 404}),
}

# Model admins: scheme-scoped ones are a coordinator's own scheme's rows; the rest are
# for the installation's superusers only. model -> (scoped, coordinator may add, may delete)
MODEL_ADMINS = {
    "buddyscheme/scheme": (True, False, False),
    "buddyscheme/membership": (True, False, False),
    "buddyscheme/invitation": (True, True, False),
    "buddyscheme/profile": (True, False, False),
    "buddyscheme/buddyvetting": (True, False, False),
    "buddyscheme/dbscheck": (True, True, False),
    "buddyscheme/trainingmodule": (True, True, True),
    "buddyscheme/trainingcompletion": (True, True, False),
    "buddyscheme/eligibilityquestion": (True, True, True),
    "buddyscheme/participantenrolment": (True, False, False),
    "buddyscheme/auditevent": (True, False, False),
    "buddyscheme/erasurerequest": (True, False, False),
    "buddyscheme/retentionreview": (True, False, False),
    "buddyscheme/supportsettings": (True, True, False),
    "matching/menucategory": (True, True, True),
    "matching/matchingsettings": (True, False, False),
    "matching/match": (True, False, False),
    "matching/matchinground": (True, False, False),
    "matching/pairblock": (True, False, True),
    "matching/speedevent": (True, True, False),
    "meetings/venue": (True, True, False),
    "meetings/loneworkingsettings": (True, False, False),
    "meetings/oncallshift": (True, True, True),
    "meetings/meeting": (True, False, False),
    "meetings/boundaryquestion": (True, True, False),
    "meetings/alert": (True, False, False),
    "contracts/contract": (True, False, False),
    "contracts/contractsettings": (True, False, False),
    "buddyscheme/user": (False, False, False),
    "buddyscheme/heartbeat": (False, False, False),
    "auth/group": (False, False, False),
    "account/emailaddress": (False, False, False),
    "mfa/authenticator": (False, False, False),
}
NOT_STAFF = {A: 302, B: 302, P: 302}
for model, (scoped, can_add, can_delete) in MODEL_ADMINS.items():
    base = f"admin/{model}/"
    if scoped:
        # The other scheme's coordinator gets the admin's "does not exist" redirect, never the row.
        obj_page = {**NOT_STAFF, C: 200, O: 302}
        MATRIX[base] = ("get", None, {**NOT_STAFF, C: 200, O: 200})
        MATRIX[base + "add/"] = (
            "get",
            None,
            {**NOT_STAFF, C: 200 if can_add else 403, O: 200 if can_add else 403},
        )
        MATRIX[base + "<path:object_id>/change/"] = ("get", model, obj_page)
        MATRIX[base + "<path:object_id>/history/"] = ("get", model, obj_page)
        MATRIX[base + "<path:object_id>/delete/"] = (
            "get",
            model,
            {**NOT_STAFF, C: 200 if can_delete else 403, O: 302 if can_delete else 403},
        )
    else:
        for suffix in (
            "",
            "add/",
            "<path:object_id>/change/",
            "<path:object_id>/history/",
            "<path:object_id>/delete/",
        ):
            MATRIX[base + suffix] = ("get", model, {**NOT_STAFF, C: 403, O: 403})
    MATRIX[base + "<path:object_id>/"] = ("get", model, {**NOT_STAFF, C: 302, O: 302})
MATRIX["admin/buddyscheme/user/<id>/password/"] = (
    "get",
    "user_password",
    {**NOT_STAFF, C: 403, O: 403},
)
MATRIX["admin/^(?P<app_label>auth|account|mfa|buddyscheme|matching|contracts|meetings)/$"] = (
    "get",
    "app_label",
    {**NOT_STAFF, C: 200, O: 200},
)


def all_views():
    """{route: view function} for every URL pattern."""

    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    return dict(walk(get_resolver()))


def all_routes():
    return list(all_views())


OUR_APPS = ("buddyscheme.", "matching.", "contracts.", "meetings.", "messaging.", "evaluation.")
OUR_APPS = (
    "buddyscheme.",
    "matching.",
    "contracts.",
    "meetings.",
    "volunteering.",
    "evaluation.",
)
OUR_APPS = ("buddyscheme.", "matching.", "contracts.", "meetings.", "recruitment.", "evaluation.")
OUR_APPS = ("buddyscheme.", "matching.", "contracts.", "meetings.", "groups.", "evaluation.")
OUR_APPS = (*OUR_APPS, "signposting.")


def declared_methods(view):
    """The methods a view's require_http_methods/require_GET/require_POST lets through, found
    in the decorator's closure; None when the view declares none."""
    while view is not None:
        names = getattr(getattr(view, "__code__", None), "co_freevars", ())
        if "request_method_list" in names:
            return list(view.__closure__[names.index("request_method_list")].cell_contents)
        view = getattr(view, "__wrapped__", None)
    return None


class MatrixCase(PersonaTestCase):
    """The objects each row's URL needs, and the URL itself."""

    def _objects(self):
        invitation = invitation_create(
            scheme=self.scheme,
            email="newcomer@example.org",
            role=Role.BUDDY,
            invited_by=self.coordinator,
        )
        # A second one, because the withdraw row uses up the first.
        kept_open = invitation_create(
            scheme=self.scheme,
            email="another@example.org",
            role=Role.PARTICIPANT,
            invited_by=self.coordinator,
        )
        heartbeat_record("celery")
        heartbeat_record("sweep")
        rows = scheme_a_rows(self.scheme, self.buddy_membership, self.participant_membership)
        # Another buddy asked for help; the buddy persona, on call, was sent the alert.
        start = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
        responder_alert = Alert.objects.create(
            meeting=Meeting.objects.create(
                scheme=self.scheme,
                buddy=MembershipFactory(scheme=self.scheme, role=Role.BUDDY),
                venue=venue(self.scheme, name="Corner café"),
                purpose="Coffee",
                planned_start=start,
                planned_end=start + timedelta(hours=1),
                expected_end=start + timedelta(hours=1),
            ),
            level=3,
            reason="help",
            due_at=datetime(2026, 12, 1, 11, 5, tzinfo=UTC),
        )
        AlertRecipient.objects.create(alert=responder_alert, person=self.buddy, channel="sms")
        participant_meeting = Meeting.objects.create(
            scheme=self.scheme,
            match_id=rows["matching/match"],
            buddy=self.buddy_membership,
            venue=venue(self.scheme, name="Library"),
            purpose="Coffee",
            planned_start=start,
            planned_end=start + timedelta(hours=1),
            expected_end=start + timedelta(hours=1),
        )
        finished = []
        for day in (2, 3):
            start = datetime(2026, 12, day, 10, 0, tzinfo=UTC)
            finished.append(
                Meeting.objects.create(
                    scheme=self.scheme,
                    buddy=self.buddy_membership,
                    venue=venue(self.scheme, name=f"Library {day}"),
                    purpose="Coffee",
                    planned_start=start,
                    planned_end=start + timedelta(hours=1),
                    expected_end=start + timedelta(hours=1),
                    state="checked_out",
                    checked_in_at=start,
                    checked_out_at=start + timedelta(hours=1),
                )
            )
        Debrief.objects.create(meeting=finished[0], opened_at=finished[0].checked_out_at)
        sent_debrief = Debrief.objects.create(
            meeting=finished[1],
            opened_at=finished[1].checked_out_at,
            state="sent",
            sent_at=finished[1].checked_out_at,
            how_it_went=4,
            what_happened="Coffee.",
        )
        SpeedMeeting.objects.create(
            event_id=rows["matching/speedevent"],
            buddy=self.buddy_membership,
            participant=self.participant_membership,
        )
        # Support: the coordinator persona is the buddy's named support person.
        BuddyVetting.objects.filter(membership=self.buddy_membership).update(
            support_person=self.coordinator_membership
        )
        # Messages: a buddy in an active match wrote to the coordinators (their message can be
        # relayed); another buddy is in the network with the buddy persona.
        relay_buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        Match.objects.create(
            scheme=self.scheme,
            buddy=relay_buddy,
            participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
            state="active",
        )
        to_relay = message_to_coordinators(member=relay_buddy, text="Running late.")
        network_buddy = MembershipFactory(scheme=self.scheme, role=Role.BUDDY)
        network_join(buddy=network_buddy)
        network_join(buddy=self.buddy_membership)
        publish_front_door(self.scheme)
        application = application_submit(scheme=self.scheme, **application_arguments())
        asked = references_request(membership=application.membership, by=self.coordinator)
        now = timezone.now()
        groups = group_rows(self.scheme, self.buddy_membership, self.participant_membership)
        return {
            **rows,
            "messaging/conversation": to_relay.conversation_id,
            "messaging/message": to_relay.pk,
            "network_buddy": network_buddy.pk,
            "applicant": application.membership_id,
            "recruitment/reference": asked[0].pk,
            "reference_token": reference_token(asked[1]),
            **groups,
            "evaluation/funderreport": FunderReport.objects.create(
                scheme=self.scheme, starts_on=date(2026, 1, 1), ends_on=date(2026, 6, 30)
            ).pk,
            "buddyscheme/scheme": self.scheme.pk,
            "buddyscheme/membership": self.buddy_membership.pk,
            "buddyscheme/invitation": invitation.pk,
            "buddyscheme/profile": self.buddy.profile.pk,
            "buddyscheme/user": self.buddy.pk,
            "buddyscheme/heartbeat": Heartbeat.objects.get(name="celery").pk,
            "buddyscheme/auditevent": AuditEvent.objects.get(
                verb="invitation_create", object_id=invitation.pk
            ).pk,
            "buddyscheme/erasurerequest": ErasureRequest.objects.create(
                scheme=self.scheme, person=self.participant, source="consent_withdrawn"
            ).pk,
            "buddyscheme/retentionreview": RetentionReview.objects.create(
                scheme=self.scheme, match_ids=[]
            ).pk,
            "auth/group": Group.objects.create(name="Volunteers").pk,
            "account/emailaddress": EmailAddress.objects.get(user=self.buddy).pk,
            "mfa/authenticator": Authenticator.objects.filter(user=self.coordinator).first().pk,
            "invitation": invitation,
            "open_invitation": kept_open,
            "buddy": self.buddy_membership.pk,
            "template": templates_ensure(self.scheme)["match"].pk,
            "feed": CalendarFeed.objects.create(membership=self.buddy_membership).token,
            "participant": self.participant_membership.pk,
            "active_match": Match.objects.create(
                scheme=self.scheme,
                buddy=self.buddy_membership,
                participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
                state="active",
            ).pk,
            "offer": SuggestionOffer.objects.create(participant=self.participant_membership).pk,
            "responder_alert": responder_alert.pk,
            "participant_meeting": participant_meeting.pk,
            "responder_link": responder_link_token(responder_alert.pk, self.buddy.pk),
            "buddyscheme/supportsettings": SupportSettings.objects.create(scheme=self.scheme).pk,
            "buddyscheme/concern": Concern.objects.create(
                scheme=self.scheme,
                raised_by=self.buddy_membership,
                kind=ConcernKind.SOMEONE,
                text="G. seemed frightened of a neighbour.",
                source=ConcernSource.TODAY,
            ).pk,
            "buddyscheme/referral": Referral.objects.create(
                scheme=self.scheme,
                membership=self.participant_membership,
                source=ReferralSource.CLINIC,
                person_name="Pat Example",
                person_phone="07700 900123",
                consent_to_contact=True,
                referrer_name="Sam Nurse",
                referrer_organisation="Clinic",
                referrer_email="sam@clinic.example",
            ).pk,
            "buddyscheme/supervision": Supervision.objects.create(
                scheme=self.scheme,
                buddy=self.buddy_membership,
                support_person=self.coordinator_membership,
                mode=SupervisionMode.PHONE,
                starts_at=now - timedelta(days=1),
                ends_at=now - timedelta(days=1) + timedelta(hours=1),
            ).pk,
            "buddyscheme/diaryentry": DiaryEntry.objects.create(
                buddy=self.buddy_membership, text="Private thoughts"
            ).pk,
            "goal": Goal.objects.create(match_id=rows["matching/match"], text="Cook a meal").pk,
            "matching/rematchrequest": RematchRequest.objects.create(
                match_id=rows["matching/match"],
                requested_by=self.participant_membership,
                reason="Too far",
            ).pk,
            "debrief_meeting": finished[0].pk,
            "sent_debrief": sent_debrief.pk,
            "menu_item": MenuItem.objects.create(
                category_id=rows["matching/menucategory"], name="Shopping"
            ).pk,
            "question_to_delete": EligibilityQuestion.objects.create(
                scheme=self.scheme, text="Lives nearby?"
            ).pk,
            **self._selection_objects(now),
            **self._signposting_objects(),
            "volunteering/packdocument": pack_document_add(
                scheme=self.scheme,
                title="Confidentiality",
                category="confidentiality",
                required=True,
                upload=SimpleUploadedFile("policy.txt", b"Keep it to yourself."),
                by=self.coordinator,
            ).pk,
            "pack_to_withdraw": pack_document_add(
                scheme=self.scheme,
                title="Old leaflet",
                category="other",
                required=False,
                upload=SimpleUploadedFile("leaflet.txt", b"Old."),
                by=self.coordinator,
            ).pk,
            "volunteering/expenseclaim": expense_claim_submit(
                buddy=self.buddy_membership,
                spent_on=timezone.localdate(),
                amount=Decimal("4.50"),
                category="travel",
                description="Bus fares",
                receipt=SimpleUploadedFile("r.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20),
            ).pk,
            **self._questionnaire_objects(),
            "shift_to_delete": OnCallShift.objects.create(
                scheme=self.scheme,
                responder=self.coordinator_membership,
                starts_at=start + timedelta(days=7),
                ends_at=start + timedelta(days=8),
            ).pk,
        }

    def _questionnaire_objects(self):
        """A published questionnaire, one with a draft (two questions), and two invitations for
        the participant persona: one to fill in or resend, one whose link is opened."""
        defaults = questionnaire_services.defaults_ensure(self.scheme)
        drafted = questionnaire_services.questionnaire_create(
            scheme=self.scheme, name="Groups", purpose="other", audience="participant", by=None
        )
        draft = questionnaire_services.draft_of(drafted)
        kept, removed = (
            questionnaire_services.question_add(version=draft, text=text, kind="text", by=None)
            for text in ("Anything else?", "And more?")
        )
        invitations = [
            questionnaire_services.invitation_create(
                person=self.participant_membership,
                questionnaire=defaults["ons4"],
                occasion="other",
            )
            for _ in range(2)
        ]
        return {
            "evaluation/questionnaire": defaults["exit"].pk,
            "questionnaire_with_draft": drafted.pk,
            "evaluation/question": kept.pk,
            "question_to_remove": removed.pk,
            "evaluation/invitation": invitations[0].pk,
            "questionnaire_token": questionnaire_services.invitation_token(invitations[1]),
        }

    def _signposting_objects(self):
        """A directory entry (and one to retire); the participant persona's finished plan after
        an ended match with the buddy persona; another ended match with no plan yet."""
        from signposting import services as signposting

        values = {
            "kind": "money",
            "offers": "Benefits advice",
            "area": "Lambeth",
            "contact": "0800 144 8848",
        }
        entry = signposting.directory_entry_add(
            scheme=self.scheme, by=self.coordinator, values={"name": "Citizens Advice", **values}
        )
        to_retire = signposting.directory_entry_add(
            scheme=self.scheme, by=self.coordinator, values={"name": "Old helpline", **values}
        )
        now = timezone.now()
        ended = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_membership,
            participant=self.participant_membership,
            state="ended",
            ended_at=now,
        )
        plan = signposting.plan_for_match_ensure(match=ended, by=self.coordinator)
        action = signposting.plan_action_add(
            plan=plan,
            by=self.coordinator,
            due_on=timezone.localdate() + timedelta(days=7),
            what="Go to the Tuesday group",
            entry=entry,
        )
        signposting.plan_action_add(
            plan=plan,
            by=self.coordinator,
            due_on=timezone.localdate() + timedelta(days=14),
            what="Ring about the benefits check",
        )
        signposting.plan_finish(plan=plan, by=self.coordinator)
        return {
            "signposting/directoryentry": entry.pk,
            "entry_to_retire": to_retire.pk,
            "signposting/nextstepsplan": plan.pk,
            "signposting/planaction": action.pk,
            "ended_match": Match.objects.create(
                scheme=self.scheme,
                buddy=MembershipFactory(scheme=self.scheme, role=Role.BUDDY),
                participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
                state="ended",
                ended_at=now,
            ).pk,
        }

    def _selection_objects(self, now):
        """An interview with the buddy persona (an applicant), the scheme's questions, and a
        training session the buddy persona is invited to."""
        session = TrainingSession.objects.create(
            scheme=self.scheme,
            module=TrainingModule.objects.create(scheme=self.scheme, name="Induction"),
            venue=venue(self.scheme, name="Training room"),
            starts_at=now + timedelta(days=7),
            ends_at=now + timedelta(days=7, hours=3),
        )
        return {
            "buddyscheme/interview": Interview.objects.create(
                scheme=self.scheme,
                applicant=self.buddy_membership,
                interviewer=self.coordinator_membership,
                mode="phone",
                starts_at=now - timedelta(hours=2),
                ends_at=now - timedelta(hours=1),
            ).pk,
            "buddyscheme/interviewquestion": InterviewQuestion.objects.create(
                scheme=self.scheme, text="Why now?"
            ).pk,
            "interview_question_to_delete": InterviewQuestion.objects.create(
                scheme=self.scheme, text="Why us?"
            ).pk,
            "meetings/trainingsession": session.pk,
            "meetings/traininginvitation": TrainingInvitation.objects.create(
                session=session, invitee=self.buddy_membership
            ).pk,
        }

    def _url(self, route, kwargs_name, objects):
        invitation = objects["invitation"]
        if kwargs_name == "invitation":
            return f"/coordinator/invitations/{invitation.pk}/withdraw/"
        if kwargs_name == "token":
            return f"/invite/{objects['open_invitation'].token}/"
        if kwargs_name == "confirm_key":
            return "/accounts/confirm-email/not-a-real-key/"
        if kwargs_name == "reset_key":
            return "/accounts/password/reset/key/1-set-password/"
        if kwargs_name == "view_on_site":
            return "/admin/r/999999/1/"
        if kwargs_name == "catch_all":
            return "/admin/no-such-page/"
        if (
            kwargs_name in ("buddy", "participant", "offer")
            or route.count("<int:pk>")
            and kwargs_name in objects
        ):
            return "/" + route.replace("<int:pk>", str(objects[kwargs_name]))
        if kwargs_name == "goal_remove":
            return (
                f"/coordinator/matching/matches/{objects['matching/match']}"
                f"/goals/{objects['goal']}/remove/"
            )
        if kwargs_name == "ending_step":
            return f"/coordinator/matching/matches/{objects['active_match']}/end/disengaged/"
        if kwargs_name == "consent_kind":
            return "/consents/photos/withdraw/"
        if kwargs_name == "match_pk":
            return f"/coordinator/matches/{objects['matching/match']}/contract/"
        if kwargs_name == "front_door_slug":
            return "/" + route.replace("<slug:slug>", self.scheme.slug)
        if kwargs_name == "reference_token":
            return f"/reference/{objects['reference_token']}/"
        if kwargs_name == "concern_kind":
            return "/concerns/new/someone/"
        if kwargs_name == "referral_form":
            return f"/s/{self.scheme.slug}/refer/"
        if kwargs_name == "referral_thanks":
            return f"/s/{self.scheme.slug}/refer/thanks/"
        if kwargs_name == "pattern_dismiss":
            return f"/coordinator/matches/{objects['matching/match']}/flags/no_meeting/dismiss/"
        if kwargs_name == "group_action":
            return f"/groups/sessions/{objects['groups/groupsession']}/tasks/"
        if kwargs_name == "questionnaire_token":
            return f"/q/{objects['questionnaire_token']}/"
        if kwargs_name == "feedback_link":
            return objects["feedback_link"]
        if kwargs_name == "check_in":
            return f"/meetings/{objects['meetings/meeting']}/check-in/"
        if kwargs_name == "responder_link":
            return f"/r/{objects['responder_link']}"
        if kwargs_name == "funder_table":
            return f"/coordinator/reports/funder/{objects['evaluation/funderreport']}/endings.xlsx"
        if kwargs_name == "feed":
            return f"/calendar/{objects['feed']}.ics"
        if kwargs_name == "user_password":
            return f"/admin/buddyscheme/user/{objects['buddyscheme/user']}/password/"
        if kwargs_name == "app_label":
            return "/admin/buddyscheme/"
        path = "/" + route
        if kwargs_name in objects:
            path = path.replace("<path:object_id>", str(objects[kwargs_name]))
        return path


class UrlMatrixTest(MatrixCase):
    def test_every_url_is_in_the_matrix(self):
        missing = [route for route in all_routes() if route not in MATRIX]
        stale = [route for route in MATRIX if route not in all_routes()]
        self.assertEqual(
            missing, [], "add these URL patterns to MATRIX with their status per persona"
        )
        self.assertEqual(stale, [], "these MATRIX rows name no URL pattern any more")

    def test_each_persona_gets_the_expected_status(self):
        objects = self._objects()
        mismatches = []
        for route, (method, kwargs_name, expected) in MATRIX.items():
            url = self._url(route, kwargs_name, objects)
            for persona in PERSONAS:
                self.login_as(persona)
                response = getattr(self.client, method)(url)
                if response.status_code != expected[persona]:
                    mismatches.append(
                        f"{method.upper()} {url} as {persona}: {response.status_code}, "
                        f"expected {expected[persona]}"
                    )
        self.assertEqual(mismatches, [], "\n" + "\n".join(mismatches))

    def test_anonymous_redirects_go_to_the_login_page(self):
        for url in ("/profile/", "/coordinator/", "/today/", "/me/", "/admin/"):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302, url)
            self.assertIn(
                "/accounts/login/",
                response["Location"]
                if url != "/admin/"
                else self.client.get(response["Location"])["Location"],
            )


class WrongMethodTest(MatrixCase):
    """Every URL refuses a method it does not take with 405: GET on a POST-only action, DELETE
    on a page. Checked as the first persona the page lets in, so access checks cannot hide it."""

    def test_every_url_refuses_the_wrong_method(self):
        objects = self._objects()
        views = all_views()
        wrong = []
        for route, (method, kwargs_name, expected) in MATRIX.items():
            url = self._url(route, kwargs_name, objects)
            wrong_method = "get" if method == "post" else "delete"
            if views[route].__module__.startswith(OUR_APPS) and not route.startswith("admin/"):
                # Our own views say which methods they take; a page that takes only GET must
                # refuse a POST too.
                allowed_methods = declared_methods(views[route])
                if allowed_methods is None:
                    wrong.append(f"{route}: the view declares no methods (require_GET/POST)")
                    continue
                if "POST" not in allowed_methods:
                    wrong_method = "post"
            # Someone the page lets in: a 200 first, then a logged-in person's 302 (a redirect
            # for anonymous people is the login page, not the view).
            allowed = [p for p in PERSONAS if expected[p] == 200] or [
                p for p in PERSONAS[1:] if expected[p] == 302
            ]
            allowed = allowed or [A]
            self.login_as(allowed[0])
            status = getattr(self.client, wrong_method)(url).status_code
            if status != 405:
                wrong.append(f"{wrong_method.upper()} {url} as {allowed[0]}: {status}")
        self.assertEqual(wrong, [], "\n" + "\n".join(wrong))
