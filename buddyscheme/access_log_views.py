"""The coordinator's access log page: who looked at or changed what, filtered and paged."""

from datetime import date

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import access_log
from .access import get_scheme_for_coordinator, role_required
from .forms import PAGE_LIMIT, FilterColumnsMixin
from .models import Role

EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class AccessLogFilterForm(FilterColumnsMixin, forms.Form):
    """The log's filters, from the query string: anything else is explained, not a 500."""

    columns = {
        "person": "col-12 col-md-6 col-xl-3",
        "verb": "col-12 col-md-6 col-xl-3",
        "starts_on": "col-6 col-md-4 col-xl-2",
        "ends_on": "col-6 col-md-4 col-xl-2",
    }

    person = PersonChoiceField(
        queryset=None,
        required=False,
        empty_label="Anyone",
        label="Person",
        help_text="Who did it, or whose record it was.",
        error_messages={"invalid_choice": "Choose one of the people in the list."},
    )
    verb = forms.ChoiceField(
        required=False,
        label="What was done",
        error_messages={"invalid_choice": "Choose one of the actions in the list."},
    )
    starts_on = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=PAGE_LIMIT, widget=forms.HiddenInput
    )

    def __init__(self, data, *, scheme):
        super().__init__(data)
        self.fields["person"].queryset = access_log.people_in(scheme)
        self.fields["verb"].choices = [("", "Anything")] + [
            (verb, access_log.verb_label(verb)) for verb in access_log.verbs_in(scheme)
        ]

    def _in_range(self, name):
        value = self.cleaned_data.get(name)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(
                f"Give a date between {EARLIEST:%Y} and {LATEST:%Y}.", code="out_of_range"
            )
        return value

    def clean_starts_on(self):
        return self._in_range("starts_on")

    def clean_ends_on(self):
        return self._in_range("ends_on")

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", "The end date is before the start date.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters; a field with an error filters nothing (its message says why)."""
        cleaned = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {
            "person": cleaned.get("person"),
            "verb": cleaned.get("verb") or "",
            "starts_on": cleaned.get("starts_on"),
            "ends_on": cleaned.get("ends_on"),
        }


@require_GET
@role_required(Role.COORDINATOR)
def access_log_page(request):
    scheme = get_scheme_for_coordinator(request)
    form = AccessLogFilterForm(request.GET, scheme=scheme)
    form.is_valid()  # an invalid filter shows its error and filters nothing
    filters = form.filters()
    rows = access_log.log_rows(scheme, **filters)
    page = Paginator(rows, access_log.PER_PAGE).get_page(form.cleaned_data.get("page"))
    return render(
        request,
        "buddyscheme/access_log.html",
        {
            "form": form,
            "page": page,
            "lines": access_log.describe(list(page.object_list)),
            "filtered": any(value not in ("", None) for value in filters.values()),
            "zone": scheme.zone,
        },
    )
