"""Questionnaire services: the shipped defaults, the builder (drafts and published versions),
sending at a match's start, review and end, and answering by a signed, single-use link or with
a coordinator."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role, Scheme
from buddyscheme.notifications import notification_enqueue
from buddyscheme.selectors import (
    PersonSection,
    SettingsSection,
    person_record_sections,
    settings_sections,
)
from matching.models import Match
from matching.signals import match_activated, match_ended, match_review_due

from .forms import StartWithPersonForm
from .models import (
    AUTOMATIC_OCCASIONS,
    Answer,
    Audience,
    Invitation,
    Occasion,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    new_nonce,
)
from .questionnaire_defaults import DEFAULTS, QUOTE_CONSENT, YES
from .suppression import shown

LINK_SALT = "evaluation.questionnaire-link"
LINK_VALID_DAYS = 28

# --- The shipped defaults ---------------------------------------------------------------------


def defaults_ensure(scheme: Scheme, now=None) -> dict[str, Questionnaire]:
    """The scheme's three shipped questionnaires, each with a published version 1: made on
    first use, left alone after (a coordinator may have changed them)."""
    existing = {q.key: q for q in Questionnaire.objects.filter(scheme=scheme).exclude(key="")}
    if len(existing) == len(DEFAULTS):
        return existing
    now = now or timezone.now()
    for key, spec in DEFAULTS.items():
        if key in existing:
            continue
        try:
            with transaction.atomic():
                questionnaire = Questionnaire.objects.create(
                    scheme=scheme,
                    key=key,
                    name=spec["name"],
                    purpose=spec["purpose"],
                    audience=spec["audience"],
                    send_at=spec["send_at"],
                    created_at=now,
                )
                version = QuestionnaireVersion.objects.create(
                    questionnaire=questionnaire, number=1, published_at=now, created_at=now
                )
                Question.objects.bulk_create(
                    Question(version=version, position=position, **question)
                    for position, question in enumerate(spec["questions"], start=1)
                )
        except IntegrityError:  # made at the same moment by another request
            questionnaire = Questionnaire.objects.get(scheme=scheme, key=key)
        existing[key] = questionnaire
    return existing


# --- The builder ------------------------------------------------------------------------------


@transaction.atomic
def questionnaire_create(*, scheme: Scheme, name: str, purpose: str, audience: str, by):
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the questionnaire a name.")
    questionnaire = Questionnaire.objects.create(
        scheme=scheme, name=name[:100], purpose=purpose, audience=audience
    )
    QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=1)
    audit_record(actor=by, verb="questionnaire_create", obj=questionnaire, scheme=scheme)
    return questionnaire


def latest_published(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return questionnaire.versions.filter(published_at__isnull=False).order_by("-number").first()


def draft_of(questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    return questionnaire.versions.filter(published_at__isnull=True).first()


@transaction.atomic
def draft_start(*, questionnaire: Questionnaire, by) -> QuestionnaireVersion:
    """The version being edited: the open draft, or a new one copied from the latest published
    version (which stays as it is, with its answers)."""
    Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    draft = draft_of(questionnaire)
    if draft is not None:
        return draft
    published = latest_published(questionnaire)
    number = (published.number if published else 0) + 1
    draft = QuestionnaireVersion.objects.create(questionnaire=questionnaire, number=number)
    if published is not None:
        Question.objects.bulk_create(
            Question(
                version=draft,
                position=question.position,
                text=question.text,
                kind=question.kind,
                required=question.required,
                help_text=question.help_text,
                choices=question.choices,
                low_label=question.low_label,
                high_label=question.high_label,
                code=question.code,
            )
            for question in published.questions.all()
        )
    audit_record(actor=by, verb="questionnaire_draft", obj=draft, scheme=questionnaire.scheme_id)
    return draft


def _editable(version: QuestionnaireVersion) -> None:
    if not version.is_draft:
        raise DomainError(
            "This version has been published and may have answers: start a new draft to change it."
        )


def _clean_question(kind: str, text: str, choices: list[str]) -> tuple[str, list[str]]:
    text = (text or "").strip()
    if not text:
        raise DomainError("Write the question.")
    if kind not in QuestionKind.values:
        raise DomainError("Choose what kind of answer the question takes.")
    choices = [choice.strip() for choice in choices if choice.strip()]
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(choices) < 2:
            raise DomainError("Give at least two choices, one on each line.")
        if len(set(choices)) != len(choices):
            raise DomainError("Each choice must be different.")
    else:
        choices = []
    return text, choices


@transaction.atomic
def question_add(
    *,
    version: QuestionnaireVersion,
    text: str,
    kind: str,
    required: bool = True,
    help_text: str = "",
    choices: list[str] = (),  # type: ignore[assignment]
    low_label: str = "",
    high_label: str = "",
    by,
) -> Question:
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    _editable(version)
    text, clean_choices = _clean_question(kind, text, list(choices))
    last = version.questions.order_by("-position").values_list("position", flat=True).first()
    question = Question.objects.create(
        version=version,
        position=(last or 0) + 1,
        text=text,
        kind=kind,
        required=required,
        help_text=help_text.strip(),
        choices=clean_choices,
        low_label=low_label.strip(),
        high_label=high_label.strip(),
    )
    audit_record(
        actor=by, verb="question_add", obj=question, scheme=version.questionnaire.scheme_id
    )
    return question


@transaction.atomic
def question_update(
    *,
    question: Question,
    text: str,
    kind: str,
    required: bool,
    help_text: str = "",
    choices: list[str] = (),  # type: ignore[assignment]
    low_label: str = "",
    high_label: str = "",
    by,
) -> Question:
    question = (
        Question.objects.select_for_update()
        .select_related("version__questionnaire")
        .get(pk=question.pk)
    )
    _editable(question.version)
    if question.code and kind != question.kind:
        # The outcomes read these answers as numbers (ONS4) or as a yes/no (quotes).
        raise DomainError("This question's kind of answer is fixed: the outcomes depend on it.")
    question.text, question.choices = _clean_question(kind, text, list(choices))
    question.kind, question.required = kind, required
    question.help_text = help_text.strip()
    question.low_label, question.high_label = low_label.strip(), high_label.strip()
    question.save()
    audit_record(
        actor=by,
        verb="question_update",
        obj=question,
        scheme=question.version.questionnaire.scheme_id,
    )
    return question


@transaction.atomic
def question_delete(*, question: Question, by) -> None:
    question = (
        Question.objects.select_for_update()
        .select_related("version__questionnaire")
        .get(pk=question.pk)
    )
    _editable(question.version)
    if question.code:
        raise DomainError("This question feeds the outcomes and cannot be removed.")
    version = question.version
    audit_record(
        actor=by, verb="question_delete", obj=question, scheme=version.questionnaire.scheme_id
    )
    question.delete()
    # Close the gap so positions stay 1, 2, 3…
    for position, later in enumerate(version.questions.order_by("position"), start=1):
        if later.position != position:
            Question.objects.filter(pk=later.pk).update(position=position)


@transaction.atomic
def version_publish(*, version: QuestionnaireVersion, by, now=None) -> QuestionnaireVersion:
    version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
    _editable(version)
    if not version.questions.exists():
        raise DomainError("Add at least one question before publishing.")
    version.published_at = now or timezone.now()
    version.save(update_fields=["published_at"])
    audit_record(
        actor=by, verb="questionnaire_publish", obj=version, scheme=version.questionnaire.scheme_id
    )
    return version


@transaction.atomic
def schedule_set(*, questionnaire: Questionnaire, occasions: list[str], by) -> Questionnaire:
    """Which of the match's occasions this questionnaire is sent at automatically."""
    unknown = set(occasions) - set(AUTOMATIC_OCCASIONS)
    if unknown:
        raise DomainError("Choose among start, review and end.")
    questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
    questionnaire.send_at = ",".join(o for o in AUTOMATIC_OCCASIONS if o in occasions)
    questionnaire.save(update_fields=["send_at"])
    audit_record(
        actor=by, verb="questionnaire_schedule", obj=questionnaire, scheme=questionnaire.scheme_id
    )
    return questionnaire


# --- Sending ----------------------------------------------------------------------------------


def invitation_create(
    *,
    person: Membership,
    questionnaire: Questionnaire,
    occasion: str,
    match: Match | None = None,
    send: bool = True,
    by=None,
    now=None,
) -> Invitation | None:
    """Ask `person` to answer the questionnaire's latest published version. Once per match,
    occasion and questionnaire: a repeat returns the invitation already made. `send=False` for
    one filled in with a coordinator there and then. None when nothing is published."""
    now = now or timezone.now()
    version = latest_published(questionnaire)
    if version is None:
        return None
    if match is not None and occasion != Occasion.OTHER:
        existing = Invitation.objects.filter(
            person=person, match=match, occasion=occasion, questionnaire=questionnaire
        ).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                person=person,
                questionnaire=questionnaire,
                version=version,
                match=match,
                occasion=occasion,
                created_at=now,
                sent_at=now if send else None,
                expires_at=now + timedelta(days=LINK_VALID_DAYS),
            )
    except IntegrityError:  # the same signal at the same moment: the other one sent it
        return Invitation.objects.get(
            person=person, match=match, occasion=occasion, questionnaire=questionnaire
        )
    if send:
        notification_enqueue(
            scheme=questionnaire.scheme,
            recipient=person.user,
            template="questionnaire_invitation",
            # The link is built when the message is sent, never stored in the outbox.
            dedupe_key=f"questionnaire:{invitation.pk}:{invitation.nonce}",
            context={"questionnaire_invitation_id": invitation.pk},
            now=now,
        )
    audit_record(
        actor=by, verb="questionnaire_invite", obj=invitation, scheme=questionnaire.scheme_id
    )
    return invitation


def invitations_for_occasion(*, match: Match, occasion: str, by=None, now=None):
    """Everything the scheme sends at this occasion of the match, each once."""
    defaults_ensure(match.scheme, now)
    sent = []
    for questionnaire in Questionnaire.objects.filter(scheme_id=match.scheme_id):
        if occasion not in questionnaire.send_occasions:
            continue
        person = (
            match.participant if questionnaire.audience == Audience.PARTICIPANT else match.buddy
        )
        invitation = invitation_create(
            person=person,
            questionnaire=questionnaire,
            occasion=occasion,
            match=match,
            by=by,
            now=now,
        )
        if invitation is not None:
            sent.append(invitation)
    return sent


@receiver(match_activated)
def _ask_at_the_start(sender, match, by=None, now=None, **kwargs):
    invitations_for_occasion(match=match, occasion=Occasion.START, by=by, now=now)


@receiver(match_review_due)
def _ask_at_the_review(sender, match, now=None, **kwargs):
    invitations_for_occasion(match=match, occasion=Occasion.REVIEW, now=now)


@receiver(match_ended)
def _ask_at_the_end(sender, match, by=None, now=None, **kwargs):
    invitations_for_occasion(match=match, occasion=Occasion.END, by=by, now=now)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, by, now=None) -> Invitation:
    """A new link (the old one stops working) with a new expiry, sent again."""
    now = now or timezone.now()
    invitation = (
        Invitation.objects.select_for_update().select_related("questionnaire").get(pk=invitation.pk)
    )
    if invitation.completed_at:
        raise DomainError("These answers have already been sent.")
    invitation.nonce = new_nonce()
    invitation.sent_at, invitation.expires_at = now, now + timedelta(days=LINK_VALID_DAYS)
    invitation.save(update_fields=["nonce", "sent_at", "expires_at"])
    notification_enqueue(
        scheme=invitation.questionnaire.scheme,
        recipient=invitation.person.user,
        template="questionnaire_invitation",
        dedupe_key=f"questionnaire:{invitation.pk}:{invitation.nonce}",
        context={"questionnaire_invitation_id": invitation.pk},
        now=now,
    )
    audit_record(
        actor=by,
        verb="questionnaire_resend",
        obj=invitation,
        scheme=invitation.questionnaire.scheme_id,
    )
    return invitation


# --- The link ---------------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """The signed part of the link: the row's id and nonce, nothing personal."""
    return signing.dumps([invitation.pk, invitation.nonce], salt=LINK_SALT)


class LinkUnusable(DomainError):
    """`reason`: tampered (not our signature, or an older link), used, expired."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def invitation_for_token(token: str, now=None) -> Invitation:
    try:
        pk, nonce = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkUnusable("tampered") from None
    invitation = (
        Invitation.objects.select_related("questionnaire__scheme", "version").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if invitation is None or invitation.nonce != nonce:
        raise LinkUnusable("tampered")
    if invitation.completed_at:
        raise LinkUnusable("used")
    if invitation.expires_at <= (now or timezone.now()):
        raise LinkUnusable("expired")
    return invitation


# --- Answering --------------------------------------------------------------------------------


def questions_of(invitation: Invitation) -> list[Question]:
    return list(invitation.version.questions.all())


def answers_of(invitation: Invitation) -> dict[int, object]:
    """{question id: value} saved so far."""
    return dict(
        Answer.objects.filter(response__invitation=invitation).values_list("question_id", "value")
    )


def clean_value(question: Question, raw) -> object:
    """The stored form of an answer, or DomainError in plain words. None: not answered."""
    if question.kind == QuestionKind.MULTIPLE:
        values = [value for value in (raw or []) if value]
        if any(value not in question.options for value in values):
            raise DomainError("Please choose from the list.")
        return values or None
    raw = raw.strip() if isinstance(raw, str) else raw
    if raw in (None, ""):
        return None
    if question.kind == QuestionKind.SCALE:
        try:
            number = int(raw)
        except (TypeError, ValueError):
            raise DomainError("Please choose a number from 0 to 10.") from None
        if not 0 <= number <= 10:
            raise DomainError("Please choose a number from 0 to 10.")
        return number
    if question.kind in (QuestionKind.SINGLE, QuestionKind.LIKERT):
        if raw not in question.options:
            raise DomainError("Please choose from the list.")
        return raw
    return str(raw)[:4000]


def _locked_open(invitation: Invitation, now) -> Invitation:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.completed_at:
        raise LinkUnusable("used")
    return invitation


@transaction.atomic
def answers_save(*, invitation: Invitation, answers: dict[int, object], by=None, now=None):
    """Save what has been answered so far ({question id: raw value}); anything the person left
    empty is cleared. Refused once the answers have been sent."""
    now = now or timezone.now()
    invitation = _locked_open(invitation, now)
    questions = {question.pk: question for question in questions_of(invitation)}
    cleaned = {}
    for question_id, raw in answers.items():
        question = questions.get(question_id)
        if question is None:
            raise DomainError("That question is not part of this questionnaire.")
        cleaned[question_id] = clean_value(question, raw)
    response, _ = Response.objects.get_or_create(
        invitation=invitation, defaults={"version_id": invitation.version_id, "started_at": now}
    )
    for question_id, value in cleaned.items():
        if value is None:
            Answer.objects.filter(response=response, question_id=question_id).delete()
        else:
            Answer.objects.update_or_create(
                response=response,
                question_id=question_id,
                defaults={"value": value, "answered_at": now},
            )
    return response


def missing_required(invitation: Invitation) -> list[Question]:
    answered = answers_of(invitation)
    return [q for q in questions_of(invitation) if q.required and q.pk not in answered]


@transaction.atomic
def response_complete(*, invitation: Invitation, by=None, now=None) -> Response:
    """Send the answers. Once: a second submit (a double tap, the link used again) is refused.
    `by`: the coordinator who filled it in with the person, or None for the person alone."""
    now = now or timezone.now()
    invitation = _locked_open(invitation, now)
    missing = missing_required(invitation)
    if missing:
        raise DomainError(
            "Please answer every question marked as needed before sending: "
            + "; ".join(f"“{question.text}”" for question in missing[:3])
            + ("…" if len(missing) > 3 else "")
        )
    response, _ = Response.objects.get_or_create(
        invitation=invitation, defaults={"version_id": invitation.version_id, "started_at": now}
    )
    consent = (
        Answer.objects.filter(response=response, question__code=QUOTE_CONSENT)
        .values_list("value", flat=True)
        .first()
    )
    response.completed_at = now
    response.completed_with = by
    response.quote_consent = consent == YES
    response.save(update_fields=["completed_at", "completed_with", "quote_consent"])
    invitation.completed_at = now
    invitation.save(update_fields=["completed_at"])
    audit_record(
        actor=by,
        verb="questionnaire_complete",
        obj=response,
        scheme=Questionnaire.objects.values_list("scheme_id", flat=True).get(
            pk=invitation.questionnaire_id
        ),
    )
    return response


def start_with_coordinator(
    *, person: Membership, questionnaire: Questionnaire, occasion: str, by, now=None
) -> Invitation:
    """An invitation to fill in now, on the coordinator's screen, with the person there. At a
    start, review or end it belongs to the person's latest match (and is that occasion's)."""
    if questionnaire.scheme_id != person.scheme_id:
        raise DomainError("That questionnaire is not this scheme's.")
    expected = Role.PARTICIPANT if questionnaire.audience == Audience.PARTICIPANT else Role.BUDDY
    if person.role != expected:
        raise DomainError(
            f"This questionnaire is for {questionnaire.get_audience_display().lower()}."
        )
    if occasion not in Occasion.values:
        raise DomainError("Choose when this is being asked.")
    match = None
    if occasion != Occasion.OTHER:
        side = "participant" if person.role == Role.PARTICIPANT else "buddy"
        match = (
            Match.objects.filter(**{side: person}, activated_at__isnull=False)
            .order_by("-activated_at", "-pk")
            .first()
        )
        if match is None:
            raise DomainError("This person has no match yet: choose “Other” for when it is asked.")
    invitation = invitation_create(
        person=person,
        questionnaire=questionnaire,
        occasion=occasion,
        match=match,
        send=False,
        by=by,
        now=now,
    )
    if invitation is None:
        raise DomainError("This questionnaire has no published version yet.")
    if invitation.completed_at:
        raise DomainError("This person has already answered it for that occasion.")
    return invitation


# --- Reads for the pages ----------------------------------------------------------------------


def questionnaires_for_scheme(scheme: Scheme) -> list[Questionnaire]:
    """Every questionnaire with its versions and answer counts (in two queries); the counts as
    shown, small numbers suppressed."""
    questionnaires: list[Questionnaire] = list(
        Questionnaire.objects.filter(scheme=scheme)
        .annotate(
            asked=Count("invitations"),
            answered=Count("invitations", filter=Q(invitations__completed_at__isnull=False)),
        )
        .prefetch_related(
            Prefetch("versions", queryset=QuestionnaireVersion.objects.order_by("-number"))
        )
        .order_by("name", "pk")
    )
    for questionnaire in questionnaires:
        questionnaire.asked_shown = shown(questionnaire.asked, short=True)  # type: ignore[attr-defined]
        questionnaire.answered_shown = shown(questionnaire.answered, short=True)  # type: ignore[attr-defined]
    return questionnaires


def invitations_for_person(person: Membership) -> list[Invitation]:
    return list(
        Invitation.objects.filter(person=person)
        .select_related("questionnaire", "version", "response__completed_with")
        .order_by("-created_at", "-pk")
    )


@receiver(person_record_sections)
def _questionnaires_on_the_person_page(sender, member: Membership, now=None, **kwargs):
    """What the person was asked and answered, and a way to fill one in with them (2 queries)."""
    if member.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    audience = Audience.PARTICIPANT if member.role == Role.PARTICIPANT else Audience.BUDDY
    choices = list(
        Questionnaire.objects.filter(
            scheme_id=member.scheme_id, audience=audience, versions__published_at__isnull=False
        ).distinct()
    )
    return [
        PersonSection(
            title="Questionnaires",
            template="evaluation/questionnaires/_person_section.html",
            order=60,
            context={
                "member": member,
                "now": now or timezone.now(),
                "invitations": invitations_for_person(member),
                "start_form": StartWithPersonForm(questionnaires=choices) if choices else None,
            },
        )
    ]


@receiver(settings_sections)
def _questionnaires_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    count = Questionnaire.objects.filter(scheme=scheme).count()
    return [
        SettingsSection(
            position=95,
            title="Questionnaires",
            url_name="evaluation:questionnaires",
            summary=f"{count} questionnaire{'' if count == 1 else 's'}: what is asked at a "
            "match's start, review and end",
        )
    ]


@receiver(post_save, sender=Scheme)
def _defaults_for_a_new_scheme(sender, instance: Scheme, created: bool, raw=False, **kwargs):
    if created and not raw:
        defaults_ensure(instance)
