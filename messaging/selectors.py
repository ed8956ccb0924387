"""Reads for messaging: who may write to whom, inboxes with unread counts, the network."""

from dataclasses import dataclass

from django.db.models import Case, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.dispatch import receiver

from buddyscheme.models import Membership, Role
from buddyscheme.selectors import (
    DashboardSection,
    HomeCard,
    PersonSection,
    SettingsSection,
    dashboard_sections,
    home_cards,
    person_record_sections,
    settings_sections,
)
from matching.models import Match, MatchState

from .models import Conversation, ConversationKind, Message, MessagingSettings, NetworkMember, Side

# A coordinator may relay between the two people of a match once both have said yes.
RELAY_STATES = [MatchState.ACCEPTED, MatchState.INTRODUCED, MatchState.ACTIVE, MatchState.ENDING]


def messaging_settings_to_read(scheme) -> MessagingSettings:
    """The scheme's settings for a page to show, without writing: the defaults until saved."""
    return MessagingSettings.objects.filter(scheme=scheme).first() or MessagingSettings(
        scheme=scheme
    )


def direct_messages_allowed(scheme) -> bool:
    return MessagingSettings.objects.filter(scheme=scheme, direct_messages=True).exists()


def _active_match_between(buddy: Membership, participant: Membership) -> bool:
    return Match.objects.filter(
        buddy=buddy, participant=participant, state=MatchState.ACTIVE
    ).exists()


def in_network(membership: Membership) -> bool:
    return (
        membership.role == Role.BUDDY
        and membership.is_active
        and NetworkMember.objects.filter(membership=membership).exists()
    )


def may_message_directly(sender: Membership, recipient: Membership) -> str | None:
    """The kind of conversation `sender` may have with `recipient` without the coordinators
    in between (DIRECT or NETWORK), or None when they may not."""
    if sender.pk == recipient.pk or sender.scheme_id != recipient.scheme_id:
        return None
    if not (sender.is_active and recipient.is_active):
        return None
    roles = {sender.role, recipient.role}
    if roles == {Role.BUDDY, Role.PARTICIPANT}:
        buddy, participant = (
            (sender, recipient) if sender.role == Role.BUDDY else (recipient, sender)
        )
        if direct_messages_allowed(sender.scheme_id) and _active_match_between(buddy, participant):
            return ConversationKind.DIRECT
        return None
    if roles == {Role.BUDDY} and in_network(sender) and in_network(recipient):
        return ConversationKind.NETWORK
    return None


def conversation_with_coordinators(member: Membership) -> Conversation | None:
    return Conversation.objects.filter(kind=ConversationKind.COORDINATORS, member=member).first()


def conversation_between(first: Membership, second: Membership) -> Conversation | None:
    return (
        Conversation.objects.filter(Q(member=first, other=second) | Q(member=second, other=first))
        .exclude(kind=ConversationKind.COORDINATORS)
        .first()
    )


def messages_in(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related(
        "sender__user__profile", "read_by__user__profile", "relayed_from"
    )


# --- A buddy's or participant's conversations -----------------------------------------------------


@dataclass
class ConversationRow:
    conversation: Conversation | None  # None: with the coordinators, nothing sent yet
    title: str
    url_name: str
    url_arg: int | None
    unread: int


def _unread_for(member: Membership) -> Q:
    """Messages written to `member` not read yet, in any conversation they are part of."""
    return Q(messages__read_at__isnull=True) & (
        Q(member=member, messages__side=Side.OTHER) | Q(other=member, messages__side=Side.MEMBER)
    )


def conversations_for_member(member: Membership) -> list[ConversationRow]:
    """The conversations a buddy or participant can open, the coordinators' first, each with
    its unread count; direct and network ones only while they are allowed. Three queries."""
    allowed_direct = direct_messages_allowed(member.scheme_id)
    conversations = (
        Conversation.objects.filter(Q(member=member) | Q(other=member))
        .select_related("member__user__profile", "other__user__profile")
        .annotate(
            unread=Count("messages", filter=_unread_for(member)),
            active_match=Exists(
                Match.objects.filter(
                    buddy=OuterRef("member"), participant=OuterRef("other"), state=MatchState.ACTIVE
                )
            ),
            both_in_network=Exists(NetworkMember.objects.filter(membership=OuterRef("member")))
            & Exists(NetworkMember.objects.filter(membership=OuterRef("other"))),
        )
    )
    rows = []
    with_coordinators = None
    for conversation in conversations:
        if conversation.kind == ConversationKind.COORDINATORS:
            with_coordinators = conversation
            continue
        if conversation.kind == ConversationKind.DIRECT and not (
            allowed_direct and conversation.active_match
        ):
            continue
        if conversation.kind == ConversationKind.NETWORK and not conversation.both_in_network:
            continue
        person = conversation.other if conversation.member_id == member.pk else conversation.member
        if person is None:  # a direct or network conversation always has its other person
            continue
        rows.append(
            ConversationRow(
                conversation,
                person.user.display_name,
                "messaging:with",
                person.pk,
                conversation.unread,
            )
        )
    first = ConversationRow(
        with_coordinators,
        "Your coordinators",
        "messaging:coordinators",
        None,
        with_coordinators.unread if with_coordinators else 0,
    )
    return [first, *rows]


def direct_contacts_for(member: Membership) -> list[Membership]:
    """Whom a buddy or participant may message directly because of an active match (when the
    scheme allows it): for a buddy their participants, for a participant their buddy."""
    if not direct_messages_allowed(member.scheme_id):
        return []
    if member.role == Role.BUDDY:
        matches = Match.objects.filter(buddy=member, state=MatchState.ACTIVE).select_related(
            "participant__user__profile"
        )
        return [match.participant for match in matches if match.participant.is_active]
    if member.role == Role.PARTICIPANT:
        matches = Match.objects.filter(participant=member, state=MatchState.ACTIVE).select_related(
            "buddy__user__profile"
        )
        return [match.buddy for match in matches if match.buddy.is_active]
    return []


def unread_count_for_member(member: Membership) -> int:
    return sum(row.unread for row in conversations_for_member(member))


@receiver(home_cards)
def _messages_on_the_home_page(sender, membership, **kwargs) -> list[HomeCard]:
    if membership.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    return [HomeCard("messaging/_home_card.html", {"unread": unread_count_for_member(membership)})]


# --- The coordinators' inbox ----------------------------------------------------------------------


class InboxFilter:
    ALL = ""
    UNREAD = "unread"
    BUDDIES = "buddies"
    PARTICIPANTS = "participants"
    BETWEEN = "between"  # direct and network conversations, read only for coordinators

    CHOICES = [
        (ALL, "All conversations"),
        (UNREAD, "Unread"),
        (BUDDIES, "With buddies"),
        (PARTICIPANTS, "With participants"),
        (BETWEEN, "Between buddies and participants, and the buddy network"),
    ]


def _coordinators_unread() -> Q:
    return Q(
        messages__read_at__isnull=True,
        messages__side=Side.MEMBER,
        kind=ConversationKind.COORDINATORS,
    )


INBOX_LIMIT = 200


def inbox_for_coordinator(scheme, show: str = InboxFilter.ALL) -> list[Conversation]:
    """The scheme's conversations, unread first, then the latest; each with `unread` (messages
    the coordinators have not read). One query however many there are."""
    conversations = (
        Conversation.objects.filter(scheme=scheme, last_message_at__isnull=False)
        .select_related("member__user__profile", "other__user__profile")
        .annotate(unread=Count("messages", filter=_coordinators_unread()))
    )
    if show == InboxFilter.UNREAD:
        conversations = conversations.filter(unread__gt=0)
    elif show == InboxFilter.BUDDIES:
        conversations = conversations.filter(
            kind=ConversationKind.COORDINATORS, member__role=Role.BUDDY
        )
    elif show == InboxFilter.PARTICIPANTS:
        conversations = conversations.filter(
            kind=ConversationKind.COORDINATORS, member__role=Role.PARTICIPANT
        )
    elif show == InboxFilter.BETWEEN:
        conversations = conversations.exclude(kind=ConversationKind.COORDINATORS)
    ordered = conversations.order_by(
        Case(When(unread__gt=0, then=Value(0)), default=Value(1)), "-last_message_at", "-pk"
    )
    return list(ordered[:INBOX_LIMIT])


def unread_for_coordinators(scheme) -> int:
    """Messages from buddies and participants no coordinator has read yet. One query."""
    return Message.objects.filter(
        conversation__scheme=scheme,
        conversation__kind=ConversationKind.COORDINATORS,
        side=Side.MEMBER,
        read_at__isnull=True,
    ).count()


@receiver(dashboard_sections)
def _messages_on_the_dashboard(sender, scheme, **kwargs) -> list[DashboardSection]:
    return [
        DashboardSection(
            template="messaging/_dashboard.html",
            context={"unread": unread_for_coordinators(scheme)},
        )
    ]


def relay_targets_for_member(member: Membership) -> list[Membership]:
    """The other person of each of a buddy's or participant's agreed matches."""
    if member.role == Role.BUDDY:
        matches = Match.objects.filter(buddy=member, state__in=RELAY_STATES).select_related(
            "participant__user__profile"
        )
        return [match.participant for match in matches if match.participant.is_active]
    if member.role == Role.PARTICIPANT:
        matches = Match.objects.filter(participant=member, state__in=RELAY_STATES).select_related(
            "buddy__user__profile"
        )
        return [match.buddy for match in matches if match.buddy.is_active]
    return []


def relay_targets(message: Message) -> list[Membership]:
    """Where a coordinator may relay a buddy's or participant's message: the other person of
    each of their agreed matches. Never from a direct or network conversation, nor a
    coordinator's own message."""
    conversation = message.conversation
    if conversation.kind != ConversationKind.COORDINATORS or message.side != Side.MEMBER:
        return []
    return relay_targets_for_member(conversation.member)


@receiver(person_record_sections)
def _messages_on_the_person_page(sender, member, **kwargs) -> list[PersonSection]:
    """A link to the person's conversation with the coordinators (or to start one). One query."""
    if member.role not in (Role.BUDDY, Role.PARTICIPANT):
        return []
    conversation = (
        Conversation.objects.filter(kind=ConversationKind.COORDINATORS, member=member)
        .annotate(unread=Count("messages", filter=_coordinators_unread()))
        .first()
    )
    return [
        PersonSection(
            title="Messages",
            template="messaging/_person_messages.html",
            order=70,
            context={"member": member, "conversation": conversation},
        )
    ]


# --- The buddy network ------------------------------------------------------------------------


def network_buddies(buddy: Membership) -> list[Membership]:
    """The other buddies of the scheme in the network, with their matching profile (first
    name, interests and languages are shown; never a phone number or an email). Nobody when
    `buddy` has not joined."""
    if not in_network(buddy):
        return []
    people = (
        Membership.objects.filter(
            scheme=buddy.scheme_id,
            role=Role.BUDDY,
            is_active=True,
            network_member__isnull=False,
        )
        .exclude(pk=buddy.pk)
        .select_related("user__profile", "match_profile")
    )
    return sorted(people, key=lambda person: person.user.display_name.casefold())


# --- Settings -------------------------------------------------------------------------------------


@receiver(settings_sections)
def _messages_on_the_settings_hub(sender, scheme, **kwargs) -> list[SettingsSection]:
    config = messaging_settings_to_read(scheme)
    return [
        SettingsSection(
            position=90,
            title="Messages",
            url_name="messaging:settings",
            summary="Buddies and participants in an active match may message each other directly"
            if config.direct_messages
            else "Buddies and participants message each other only through the coordinators",
        )
    ]
