"""The referee's link, built when the email is sent: the outbox keeps only the reference's id,
never a working link."""

from django import template
from django.urls import reverse

from ..models import Reference
from ..services import reference_token

register = template.Library()


@register.simple_tag
def reference_for(reference_id):
    """The reference an email is about, with its application and scheme (one query)."""
    return Reference.objects.select_related("application__scheme").get(pk=reference_id)


@register.filter
def reference_path(reference: Reference) -> str:
    return reverse("recruitment:reference", kwargs={"token": reference_token(reference)})
