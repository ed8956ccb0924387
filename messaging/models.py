"""Messages through the scheme: a member and the coordinators, a buddy and their matched
participant (when the scheme allows it), and buddies of the network with each other."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from buddyscheme.models import Membership, Scheme

# Long enough for a proper message, short enough to read on a phone and to stop pasted documents.
MESSAGE_MAX_LENGTH = 2000


class ConversationKind(models.TextChoices):
    COORDINATORS = "coordinators", "With the coordinators"
    DIRECT = "direct", "Buddy and participant"
    NETWORK = "network", "Buddy network"


class Side(models.TextChoices):
    """Which end of a conversation wrote a message. In a conversation with the coordinators
    the other side is every coordinator of the scheme, so any of them reads and replies."""

    MEMBER = "member", "Member"
    OTHER = "other", "Other side"


class Conversation(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(max_length=12, choices=ConversationKind.choices)
    # The buddy or participant; in a direct conversation the buddy, in a network conversation
    # the buddy with the smaller id (so a pair has one conversation whoever starts it).
    member = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="conversations")
    other = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # When each side was last told "You have a new message"; cleared when it reads, so a
    # stream of messages sends one notification per 15 minutes while they are unread.
    member_notified_at = models.DateTimeField(null=True, blank=True)
    other_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(kind="coordinators"),
                name="one_coordinator_conversation_per_member",
            ),
            models.UniqueConstraint(
                fields=["member", "other"],
                condition=Q(other__isnull=False),
                name="one_conversation_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(kind="coordinators", other__isnull=True)
                | (~Q(kind="coordinators") & Q(other__isnull=False)),
                name="conversation_other_matches_kind",
            ),
            models.CheckConstraint(
                condition=~Q(member=models.F("other")), name="conversation_two_people"
            ),
        ]
        indexes = [
            models.Index(fields=["scheme", "kind", "-last_message_at"], name="conversation_inbox"),
        ]

    def __str__(self):
        return f"Conversation {self.pk} ({self.get_kind_display()})"

    def side_of(self, membership) -> str | None:
        """The side `membership` writes on, or None when it is not part of this conversation."""
        if membership.pk == self.member_id:
            return Side.MEMBER
        if self.other_id is not None and membership.pk == self.other_id:
            return Side.OTHER
        if (
            self.kind == ConversationKind.COORDINATORS
            and membership.role == "coordinator"
            and membership.scheme_id == self.scheme_id
        ):
            return Side.OTHER
        return None


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    sender = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=6, choices=Side.choices)
    text = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    sent_at = models.DateTimeField(default=timezone.now)
    # Read by the side it was sent to (in a conversation with the coordinators: by any of them,
    # `read_by` says who).
    read_at = models.DateTimeField(null=True, blank=True)
    read_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A coordinator's relay: the message it forwards (the sender is the coordinator, `sent_at`
    # when it was relayed).
    relayed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="relays"
    )
    # The form's one-off key: a double-tapped Send is recorded once.
    form_key = models.CharField(max_length=36, blank=True)

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "form_key"],
                condition=~Q(form_key=""),
                name="message_sent_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["conversation", "side"],
                condition=Q(read_at__isnull=True),
                name="message_unread",
            ),
        ]

    def __str__(self):
        return f"Message {self.pk}"


class NetworkMember(models.Model):
    """A buddy who opted in to the buddy network. Deleting the row takes them out at once."""

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="network_member"
    )
    joined_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Network member {self.membership_id}"


class MessagingSettings(models.Model):
    scheme = models.OneToOneField(
        Scheme, on_delete=models.CASCADE, related_name="messaging_settings"
    )
    direct_messages = models.BooleanField(
        default=False,
        help_text="Buddies and participants in an active match may message each other "
        "directly. Coordinators can read these conversations.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "messaging settings"

    def __str__(self):
        return f"Messaging settings {self.scheme_id}"
