import uuid

from crispy_forms.helper import FormHelper
from django import forms

from buddyscheme.forms import FreeTextarea
from buddyscheme.models import Membership

from .models import MESSAGE_MAX_LENGTH
from .selectors import InboxFilter


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Your message",
        max_length=MESSAGE_MAX_LENGTH,
        widget=FreeTextarea(attrs={"rows": 4}),
        error_messages={"required": "Write your message first."},
    )
    # A one-off key for this form: pressing Send twice records the message once.
    form_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=36)

    def __init__(self, *args, label="Your message", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label
        if not self.is_bound:
            self.initial["form_key"] = str(uuid.uuid4())
        self.helper = FormHelper()
        self.helper.form_tag = False


class RelayForm(MessageForm):
    to = forms.ModelChoiceField(
        queryset=Membership.objects.none(),
        label="Send to",
        empty_label=None,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, label="Message to send (edit it if needed)", **kwargs)
        self.fields["to"].queryset = Membership.objects.filter(
            pk__in=[target.pk for target in targets]
        ).select_related("user__profile")
        self.fields["to"].label_from_instance = lambda person: (
            f"{person.user.display_name} ({person.get_role_display().lower()})"
        )
        self.order_fields(["to", "text", "form_key"])


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(choices=InboxFilter.CHOICES, required=False, label="Show")


class MessagingSettingsForm(forms.Form):
    direct_messages = forms.BooleanField(
        required=False,
        label="Buddies and participants may message each other directly",
        help_text="Only within an active match. Coordinators can read these conversations. "
        "When this is off, messages between them go through a coordinator.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
