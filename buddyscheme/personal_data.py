"""The one inventory of personal data: for every model of every app, which fields name or reach
a person (identifiers), which hold free text, which hold files, and which are not personal.

Erasure (`buddyscheme.erasure`) and retention (`buddyscheme.retention`) both read this table;
`tests/buddyscheme/test_personal_data.py` fails when a text, JSON or file field of any model is
in none of the lists, so a new field cannot be forgotten.

Models are named by label, not imported: the core may not import the apps above it (see the
import-linter layers), and a label is resolved at run time like INSTALLED_APPS.

`links` are lookups from a row to the person it is about: a path ending at a User, a
Membership or a Match (a row in a match of the erased person is about them too, whoever wrote
it). `scheme` is the lookup to the row's scheme: the sweep removes a surname only in the schemes
the person had a role in, and a first name only in rows around them (`links` and `near`, theirs
and their match partners') in those schemes, so another Sam keeps his notes.
`on_erase`:
- SCRUB: the row stays (counts, dates and durations are statistics) with its identifiers and
  free text emptied and its files deleted;
- DELETE: the row goes (it is nothing but personal data, with no statistic in it);
- USER: the account itself, anonymised by `erasure._user_anonymise`.
`hold` names what a coordinator may keep under a recorded legal hold instead.
`scrub_where` limits which rows of a linked model are emptied (only free-text answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

SCRUB = "scrub"
DELETE = "delete"
USER = "user"
KEEP = "keep"

# Things a scheme may have to keep (a legal claim, safeguarding, accounts for the tax year):
# the coordinator ticks them and gives a reason; everything else goes.
HOLD_AGREEMENTS = "agreements"
HOLD_SAFEGUARDING = "safeguarding"
HOLD_EXPENSES = "expenses"
HOLD_LABELS = {
    HOLD_AGREEMENTS: "Signed agreements (the signed text and signatures)",
    HOLD_SAFEGUARDING: "Safeguarding concerns and what was done about them",
    HOLD_EXPENSES: "Expense claims and receipts (accounts)",
}


@dataclass(frozen=True)
class Personal:
    label: str  # what a coordinator reads in the dry run
    identifiers: tuple[str, ...] = ()
    free_text: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    not_personal: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    scheme: str = ""
    on_erase: str = KEEP
    hold: str = ""
    scrub_where: dict = field(default_factory=dict)
    # Lookups to a person a row is written around though it is not theirs (feedback on a group
    # session they attended): only erasure's first-name sweep reads them (`identifiers_sweep`).
    near: tuple[str, ...] = ()

    @property
    def personal_fields(self) -> tuple[str, ...]:
        return self.identifiers + self.free_text + self.files


P = Personal
INVENTORY: dict[str, Personal] = {
    # Django and allauth.
    "admin.LogEntry": P(
        "Admin change history",
        free_text=("object_repr", "change_message"),
        not_personal=("object_id",),
    ),
    "auth.Permission": P("Permissions", not_personal=("name", "codename")),
    "auth.Group": P("Groups of permissions", not_personal=("name",)),
    "contenttypes.ContentType": P("Kinds of record", not_personal=("app_label", "model")),
    # Encoded, and ended for the person by `erasure._sessions_end` (their login ends).
    "sessions.Session": P("Logins", identifiers=("session_data",), not_personal=("session_key",)),
    "account.EmailAddress": P(
        "Email addresses for login", identifiers=("email",), links=("user",), on_erase=DELETE
    ),
    "account.EmailConfirmation": P(
        "Email confirmations",
        not_personal=("key",),
        links=("email_address__user",),
        on_erase=DELETE,
    ),
    "mfa.Authenticator": P(
        "Two-step login keys",
        identifiers=("data",),
        not_personal=("type",),
        links=("user",),
        on_erase=DELETE,
    ),
    # The core.
    "buddyscheme.User": P(
        "Account (name and email)",
        identifiers=("email", "first_name", "last_name"),
        not_personal=("password",),
        on_erase=USER,
    ),
    "buddyscheme.Scheme": P(
        "Scheme settings",
        not_personal=(
            "name",
            "slug",
            "sender_name",
            "time_zone",
            "emergency_phone",
            "working_days",
            "sensitive_words",
        ),
    ),
    "buddyscheme.Membership": P("Roles", not_personal=("role",), links=("user",), scheme="scheme"),
    "buddyscheme.Profile": P(
        "Profile and contact details",
        identifiers=(
            "preferred_name",
            "pronouns",
            "phone",
            "emergency_contact_name",
            "emergency_contact_phone",
            "emergency_contact_relationship",
        ),
        free_text=("contact_notes",),
        not_personal=("preferred_contact",),
        links=("user",),
        on_erase=SCRUB,
    ),
    "buddyscheme.Invitation": P(
        "Invitations",
        identifiers=("email",),
        not_personal=("role", "token"),
        links=("accepted_by",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    # Ids only by design (see models/audit.py); the browser string is no name.
    "buddyscheme.AuditEvent": P("Access log", not_personal=("verb", "user_agent")),
    "buddyscheme.ConsentRecord": P(
        "Consent answers",
        free_text=("detail",),
        not_personal=("kind", "wording_version", "given_how"),
        links=("membership",),
        scheme="membership__scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.InterviewQuestion": P("Interview questions", not_personal=("text",)),
    "buddyscheme.Interview": P(
        "Interviews",
        free_text=("outcome_reason",),
        not_personal=("mode", "outcome"),
        links=("applicant",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.InterviewAnswer": P(
        "Interview notes",
        free_text=("notes",),
        not_personal=("question",),
        links=("interview__applicant",),
        scheme="interview__scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.CaseNote": P(
        "Case notes",
        free_text=("text",),
        links=("membership",),
        scheme="membership__scheme",
        on_erase=DELETE,
    ),
    "buddyscheme.Notification": P(
        "Messages sent or waiting (outbox)",
        identifiers=("to_email",),
        free_text=("context", "last_error"),
        not_personal=("channel", "template", "dedupe_key", "status"),
        links=("recipient",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.Heartbeat": P("Worker heartbeats", not_personal=("name",)),
    "buddyscheme.BuddyVetting": P(
        "Volunteer checks",
        not_personal=("stage", "recruitment_source"),
        links=("membership",),
        scheme="membership__scheme",
    ),
    "buddyscheme.VettingStep": P(
        "Volunteer check evidence",
        free_text=("evidence",),
        not_personal=("from_stage", "to_stage"),
        links=("vetting__membership",),
        scheme="vetting__membership__scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.DBSCheck": P(
        "DBS checks",
        identifiers=("certificate_number",),
        not_personal=("level",),
        links=("membership",),
        scheme="membership__scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.TrainingModule": P("Training modules", not_personal=("name", "description")),
    "buddyscheme.TrainingCompletion": P("Training done", links=("membership",)),
    "buddyscheme.EligibilityQuestion": P("Eligibility questions", not_personal=("text",)),
    "buddyscheme.ParticipantEnrolment": P(
        "Enrolment and sensitive notes",
        identifiers=("referral_detail",),
        free_text=("eligibility_answers", "sensitive_notes"),
        not_personal=("status", "referral_source"),
        links=("membership",),
        scheme="membership__scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.Referral": P(
        "Referrals",
        identifiers=(
            "referrer_name",
            "referrer_organisation",
            "referrer_role",
            "referrer_email",
            "referrer_phone",
            "person_name",
            "person_email",
            "person_phone",
        ),
        free_text=("needs", "other_help", "eligibility_answers", "risks", "signposting"),
        not_personal=("source", "preferred_contact", "urgency", "status", "decline_reason"),
        links=("membership",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.Concern": P(
        "Safeguarding concerns",
        free_text=("text", "outcome_notes"),
        not_personal=("kind", "source", "status", "outcome"),
        links=("about", "raised_by"),
        scheme="scheme",
        on_erase=SCRUB,
        hold=HOLD_SAFEGUARDING,
    ),
    "buddyscheme.ConcernAction": P(
        "Actions on concerns",
        free_text=("text", "agency_reference"),
        not_personal=("kind", "agency"),
        links=("concern__about", "concern__raised_by"),
        scheme="concern__scheme",
        on_erase=SCRUB,
        hold=HOLD_SAFEGUARDING,
    ),
    "buddyscheme.Supervision": P(
        "Supervision notes",
        free_text=("notes", "buddy_comment"),
        not_personal=("mode", "state"),
        links=("buddy",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.SupportContact": P(
        "Support contacts",
        free_text=("notes",),
        not_personal=("mode",),
        links=("buddy",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "buddyscheme.DiaryEntry": P(
        "Diary",
        free_text=("text",),
        links=("buddy", "shared_with"),
        scheme="buddy__scheme",
        on_erase=DELETE,
    ),
    "buddyscheme.SupportSettings": P("Support settings"),
    # Erasure's own records: counts and a reason (the sweep removes a name typed into it).
    "buddyscheme.ErasureRequest": P(
        "Erasure requests",
        free_text=("legal_hold_reason",),
        not_personal=("source", "status", "held", "removed_counts"),
        scheme="scheme",
        near=("person",),
    ),
    "buddyscheme.RetentionReview": P(
        "Retention reviews", not_personal=("match_ids", "counts", "status")
    ),
    # Matching.
    "matching.MenuCategory": P("Menu categories", not_personal=("name",)),
    "matching.MenuItem": P("Menu items", not_personal=("name", "description")),
    "matching.MatchingSettings": P("Matching settings"),
    "matching.MatchProfile": P(
        "Matching profile",
        identifiers=("postcode_district",),
        free_text=("languages", "interests", "about"),
        # Choices, kept for the figures (a funder's breakdown): no one is found by them alone.
        not_personal=(
            "gender",
            "age_band",
            "travel_range",
            "wants_buddy_gender",
            "wants_age_bands",
        ),
        links=("membership",),
        scheme="membership__scheme",
        on_erase=SCRUB,
    ),
    "matching.PairBlock": P(
        "Pairs kept apart",
        free_text=("reason",),
        not_personal=("kind",),
        links=("buddy", "participant"),
        scheme="buddy__scheme",
        on_erase=SCRUB,
    ),
    "matching.MatchingRound": P("Matching rounds"),
    "matching.RoundLeftOut": P(
        "Left out of a round", not_personal=("reason",), links=("participant",)
    ),
    "matching.Match": P(
        "Matches (kept for counts and durations)",
        free_text=("reasons", "end_reason", "decline_reason"),
        not_personal=("state", "ending_type", "declined_by", "talk_requested_by"),
        links=("id",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "matching.MatchEvent": P(
        "Match history",
        free_text=("note",),
        not_personal=("from_state", "to_state"),
        links=("match",),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "matching.RematchRequest": P(
        "Requests for a new buddy",
        free_text=("reason", "handled_note"),
        links=("match", "requested_by"),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "matching.StopRequest": P(
        "Requests to stop", not_personal=("reason",), links=("participant", "match")
    ),
    "matching.ContactAttempt": P(
        "Contact attempts",
        not_personal=("who", "how", "outcome"),
        links=("match",),
    ),
    "matching.Ending": P(
        "Endings",
        free_text=("notes", "goals_note"),
        not_personal=("ending_type", "breach_by"),
        links=("match",),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "matching.BreachRecord": P(
        "Breaches of the agreement",
        free_text=("what_happened", "consequences"),
        links=("person", "match"),
        scheme="scheme",
        on_erase=SCRUB,
        hold=HOLD_SAFEGUARDING,
    ),
    "matching.FriendshipDisclosure": P(
        "Friendships disclosed",
        free_text=("note",),
        links=("match", "by"),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "matching.SuggestionOffer": P("Buddy suggestions", links=("participant",)),
    "matching.SuggestionOption": P(
        "Suggested buddies",
        free_text=("reasons",),
        links=("offer__participant", "buddy"),
        scheme="buddy__scheme",
        on_erase=SCRUB,
    ),
    "matching.SpeedEvent": P("Meet-the-buddies events", not_personal=("name",)),
    "matching.SpeedMeeting": P("Meet-the-buddies chats", links=("buddy", "participant")),
    "matching.SpeedPreference": P("Meet-the-buddies choices", links=("ranker", "ranked")),
    "matching.Goal": P(
        "Goals",
        free_text=("text", "how_we_know"),
        links=("match",),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "matching.MatchReview": P(
        "Reviews",
        free_text=("notes",),
        not_personal=("held_with", "outcome"),
        links=("match",),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "matching.GoalProgress": P(
        "Progress on goals",
        free_text=("note",),
        links=("goal__match",),
        scheme="goal__match__scheme",
        on_erase=SCRUB,
    ),
    "matching.ReviewReminder": P("Review reminders", links=("match",)),
    # Agreements: frozen by a database trigger; deleted on erasure unless held.
    "contracts.ContractTemplate": P("Agreement templates", not_personal=("kind", "title")),
    "contracts.TemplateVersion": P(
        "Agreement template versions", not_personal=("clauses", "easy_read")
    ),
    "contracts.Contract": P(
        "Agreements",
        identifiers=("text",),
        not_personal=("kind", "title", "sha256", "state"),
        links=("match", "volunteer", "attendee"),
        scheme="scheme",
        on_erase=DELETE,
        hold=HOLD_AGREEMENTS,
    ),
    "contracts.Signature": P(
        "Signatures",
        identifiers=("typed_name", "name_exception"),
        not_personal=("party", "user_agent", "mode"),
        links=("contract__match", "contract__volunteer", "contract__attendee", "membership"),
        on_erase=DELETE,
        hold=HOLD_AGREEMENTS,
    ),
    "contracts.ContractSettings": P("Agreement settings"),
    # Meetings and lone working.
    "meetings.LoneWorkingSettings": P("Lone-working settings"),
    "meetings.Venue": P(
        "Places (a home visit's address)",
        identifiers=("address", "room"),
        free_text=("risk_notes",),
        not_personal=("name", "kind", "area", "risk_rating"),
        links=("meetings__match",),
        scheme="scheme",
        on_erase=SCRUB,
        scrub_where={"kind": "home_visit"},
    ),
    "meetings.OnCallShift": P("On-call shifts", links=("responder",)),
    "meetings.Meeting": P(
        "Meetings (kept for counts and durations)",
        not_personal=("purpose", "state"),
        links=("match", "buddy"),
    ),
    "meetings.RearrangeRequest": P("Requests to rearrange", links=("meeting__match",)),
    "meetings.SafetyEvent": P(
        "Check-ins and check-outs",
        not_personal=("kind", "idempotency_key"),
        links=("meeting__match",),
    ),
    "meetings.Alert": P(
        "Lone-working alerts",
        free_text=("notes",),
        not_personal=("reason", "outcome"),
        links=("meeting__match", "meeting__buddy"),
        scheme="meeting__scheme",
        on_erase=SCRUB,
    ),
    "meetings.AlertRecipient": P("Who an alert reached", not_personal=("channel",)),
    "meetings.AlertLocation": P(
        "Locations shared in an alert", links=("alert__meeting__buddy",), on_erase=DELETE
    ),
    "meetings.BuddySafety": P(
        "Safety codes",
        identifiers=("check_out_pin", "duress_pin"),
        links=("membership",),
        on_erase=DELETE,
    ),
    "meetings.CalendarFeed": P(
        "Calendar feed", not_personal=("token",), links=("membership",), on_erase=DELETE
    ),
    "meetings.Debrief": P(
        "Debriefs",
        free_text=("what_happened", "concerns", "feedback", "follow_up_note"),
        not_personal=("state", "worried_about", "given_by", "follow_up"),
        links=("meeting__match", "meeting__buddy"),
        scheme="meeting__scheme",
        on_erase=SCRUB,
    ),
    "meetings.DebriefItem": P(
        "Debrief points",
        free_text=("text",),
        not_personal=("kind", "who"),
        links=("match", "debrief__meeting__buddy"),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "meetings.BoundaryQuestion": P("Boundary questions", not_personal=("text",)),
    "meetings.BoundaryAnswer": P("Boundary answers", not_personal=("question_text",)),
    "meetings.PatternDismissal": P(
        "Patterns looked at",
        free_text=("note",),
        not_personal=("kind",),
        links=("match",),
        scheme="match__scheme",
        on_erase=SCRUB,
    ),
    "meetings.TrainingSession": P("Training sessions"),
    "meetings.TrainingInvitation": P(
        "Training invitations", not_personal=("answer",), links=("invitee",)
    ),
    # Messages.
    "messaging.Conversation": P("Conversations", not_personal=("kind",), links=("member", "other")),
    "messaging.Message": P(
        "Messages",
        free_text=("text",),
        not_personal=("side", "form_key"),
        links=("conversation__member", "conversation__other", "sender"),
        scheme="conversation__scheme",
        on_erase=SCRUB,
    ),
    "messaging.NetworkMember": P("Peer network", links=("membership",), on_erase=DELETE),
    "messaging.MessagingSettings": P("Messaging settings"),
    # Volunteering.
    "volunteering.PackDocument": P(
        "Volunteer pack", not_personal=("title", "category", "file", "content_type")
    ),
    "volunteering.DocumentRead": P("Volunteer pack read", links=("buddy",)),
    "volunteering.ExpenseClaim": P(
        "Expense claims",
        free_text=("description", "refusal_reason"),
        files=("receipt",),
        not_personal=("category", "receipt_content_type", "state"),
        links=("buddy",),
        scheme="scheme",
        on_erase=SCRUB,
        hold=HOLD_EXPENSES,
    ),
    # Recruitment.
    "recruitment.FrontDoor": P(
        "Public front door",
        not_personal=(
            "public_title",
            "offer",
            "who_for",
            "how_to_volunteer",
            "how_to_be_referred",
            "complaints_contact",
        ),
    ),
    "recruitment.Application": P(
        "Volunteer application",
        identifiers=("first_name", "last_name", "email", "phone"),
        free_text=("motivation", "experience", "skills_languages", "availability"),
        not_personal=("heard_from",),
        links=("membership",),
        scheme="scheme",
        on_erase=SCRUB,
    ),
    "recruitment.Reference": P(
        "References",
        identifiers=("referee_name", "referee_email", "relationship"),
        free_text=(
            "known_for",
            "how_known",
            "suitability_comments",
            "reliability",
            "concerns",
            "decision_note",
        ),
        not_personal=("nonce", "suitable", "decision"),
        links=("membership", "application__membership"),
        scheme="application__scheme",
        on_erase=SCRUB,
    ),
    # Groups.
    "groups.PeerGroup": P(
        "Peer groups",
        not_personal=(
            "name",
            "neutral_name",
            "kind",
            "schedule",
            "schedule_text",
            "purpose",
            "signage_text",
            "complaints_contact",
        ),
    ),
    "groups.GroupQuestion": P("Group questions", not_personal=("text",)),
    "groups.GroupMember": P(
        "Group membership",
        free_text=("eligibility",),
        links=("membership",),
        scheme="group__scheme",
        on_erase=SCRUB,
    ),
    "groups.GroupSession": P(
        "Group sessions", not_personal=("state", "tasks_done", "feedback_token")
    ),
    "groups.SessionFacilitator": P("Group facilitators", links=("membership",)),
    "groups.Attendance": P("Group attendance (kept for counts)", links=("member__membership",)),
    "groups.Exclusion": P(
        "Exclusions from a group",
        free_text=("reason", "review_note"),
        links=("member__membership",),
        scheme="member__group__scheme",
        on_erase=SCRUB,
        hold=HOLD_SAFEGUARDING,
    ),
    # Anonymous by design (a token, no person); the sweep still removes a name typed in.
    "groups.SessionFeedback": P(
        "Anonymous group feedback",
        free_text=("comments",),
        scheme="session__group__scheme",
        near=("session__attendances__member__membership",),
    ),
    "groups.GroupDebrief": P(
        "Facilitators' group notes",
        free_text=("went_well", "did_not_go_well", "to_pick_up", "reply"),
        scheme="session__group__scheme",
        near=("session__attendances__member__membership",),
    ),
    "groups.GroupComplaint": P(
        "Group complaints",
        free_text=("summary",),
        not_personal=("outcome",),
        scheme="group__scheme",
        near=("group__members__membership",),
    ),
    # Signposting.
    "signposting.DirectoryEntry": P(
        "Directory of services",
        not_personal=("name", "kind", "offers", "area", "contact", "eligibility"),
    ),
    "signposting.NextStepsPlan": P(
        "Next-steps plans", not_personal=("state",), links=("participant", "match")
    ),
    "signposting.PlanAction": P(
        "Next steps",
        free_text=("what",),
        not_personal=("who",),
        links=("plan__participant", "plan__match"),
        scheme="plan__scheme",
        on_erase=SCRUB,
    ),
    # Evaluation: answers stay (anonymous statistics) except free text.
    "evaluation.Questionnaire": P(
        "Questionnaires", not_personal=("name", "purpose", "audience", "key", "send_at")
    ),
    "evaluation.QuestionnaireVersion": P("Questionnaire versions"),
    "evaluation.Question": P(
        "Questions",
        not_personal=("text", "kind", "help_text", "choices", "low_label", "high_label", "code"),
    ),
    "evaluation.Invitation": P(
        "Questionnaire invitations", not_personal=("occasion", "nonce"), links=("person", "match")
    ),
    "evaluation.Response": P("Questionnaire responses", links=("invitation__person",)),
    "evaluation.Answer": P(
        "Free-text answers (scores and choices stay, anonymous)",
        free_text=("value",),
        links=("response__invitation__person", "response__invitation__match"),
        scheme="response__invitation__questionnaire__scheme",
        on_erase=SCRUB,
        scrub_where={"question__kind": "text"},
    ),
    "evaluation.FunderReport": P("Funder reports", free_text=("text",), scheme="scheme"),
}
