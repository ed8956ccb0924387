"""The link to answer a questionnaire, built when the message is sent: the outbox keeps only the
invitation's id, never a working link."""

from django import template
from django.urls import reverse

from ..models import Invitation
from ..questionnaires import invitation_token

register = template.Library()


@register.simple_tag
def questionnaire_invitation(invitation_id):
    return Invitation.objects.select_related("questionnaire__scheme").get(pk=invitation_id)


@register.filter
def answer_path(invitation: Invitation) -> str:
    return reverse("evaluation:answer", kwargs={"token": invitation_token(invitation)})
