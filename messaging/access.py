"""Who may open which conversation. Another scheme's conversation is not found (404); a
buddy or participant sees only their own, and a direct or network one only while allowed."""

from django.http import Http404

from buddyscheme.access import get_scheme_object_for_user
from buddyscheme.models import Membership, Role

from .models import Conversation, ConversationKind, Message
from .selectors import may_message_directly


def get_conversation_for_coordinator(request, pk: int) -> Conversation:
    return get_scheme_object_for_user(
        request,
        Conversation.objects.select_related(
            "scheme", "member__user__profile", "other__user__profile"
        ),
        pk,
        scheme_path="scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_message_for_coordinator(request, pk: int) -> Message:
    return get_scheme_object_for_user(
        request,
        Message.objects.select_related(
            "conversation__scheme", "conversation__member__user__profile", "sender__user__profile"
        ).filter(conversation__kind=ConversationKind.COORDINATORS),
        pk,
        scheme_path="conversation__scheme_id",
        roles=[Role.COORDINATOR],
    )


def get_member_to_message(request, pk: int) -> Membership:
    """Someone the requesting buddy or participant may write to directly: their matched buddy
    or participant (when the scheme allows it) or a buddy of the network (when both joined).
    Anyone else is not found: a participant never learns who else is in the scheme."""
    current = request.membership
    if current is None:
        raise Http404
    person = (
        Membership.objects.select_related("user__profile", "match_profile")
        .filter(pk=pk, scheme_id=current.scheme_id)
        .first()
    )
    if person is None or may_message_directly(current, person) is None:
        raise Http404
    return person
