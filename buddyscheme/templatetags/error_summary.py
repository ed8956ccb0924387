"""The error summary's links (templates/bootstrap5/errors.html) go to the field itself."""

from django import template
from django.forms.widgets import ChoiceWidget

register = template.Library()


@register.filter
def field_anchor(bound_field) -> str:
    """The id of the element to focus: a field's input, or the first of its radio buttons or
    boxes (their group has no id of its own)."""
    widget = bound_field.field.widget
    if isinstance(widget, ChoiceWidget) and widget.input_type in ("radio", "checkbox"):
        return f"{bound_field.auto_id}_0"
    return bound_field.auto_id


@register.filter
def focuses_a_field(form) -> bool:
    """True when the form puts the focus on a field itself (the initials-only guard sends it to
    the text to correct); the summary then leaves the focus there."""
    return any(bound_field.field.widget.attrs.get("autofocus") for bound_field in form)
