"""Pages for supporting buddies: concerns, one-to-ones, the monthly contact, the diary.

Thin: each view authorises through one access helper, calls one service, and redirects or
shows the page again with the form as typed.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import concerns, support
from .access import (
    get_concern_for_coordinator,
    get_diary_entry_for_user,
    get_member_for_coordinator,
    get_own_concern,
    get_own_diary_entry,
    get_own_supervision,
    get_supervision_for_coordinator,
    role_required,
)
from .errors import DomainError
from .models import ConcernKind, ConcernStatus, Role, SupervisionState
from .selectors import names_of, participants_of
from .support_forms import (
    CONTACT_BACK,
    ConcernCloseForm,
    ConcernForm,
    ConcernNoteForm,
    ContactForm,
    DiaryForm,
    ReferralForm,
    SupervisionCommentForm,
    SupervisionNotesForm,
)

KIND_FOR_PATH = {"someone": ConcernKind.SOMEONE, "myself": ConcernKind.MYSELF}


def _names_for(buddy) -> list[str]:
    return names_of(participants_of(buddy))


# --- The buddy's side -----------------------------------------------------------------------


@require_GET
@role_required(Role.BUDDY)
def my_support(request):
    buddy = request.membership
    return render(
        request,
        "buddyscheme/support/my_support.html",
        {
            "support_person": support.own_support_person(buddy),
            "supervisions": support.supervisions_for_buddy(buddy).exclude(
                state=SupervisionState.CANCELLED
            ),
            "concerns": concerns.concerns_raised_by(buddy)[:10],
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY)
def concern_new(request, kind):
    if kind not in KIND_FOR_PATH:
        raise Http404
    kind = KIND_FOR_PATH[kind]
    buddy = request.membership
    supported = concerns.concern_subjects(buddy)
    # About themselves, a buddy may still name someone they support: the check looks for them.
    form = ConcernForm(
        request.POST if request.method == "POST" else None,
        kind=kind,
        subjects=supported if kind == ConcernKind.SOMEONE else [],
        names=names_of(supported),
    )
    if request.method == "POST" and form.is_valid():
        try:
            concern = concerns.concern_raise(
                buddy=buddy,
                kind=kind,
                text=form.cleaned_data["text"],
                about=form.cleaned_data.get("about"),
                one_to_one_wanted=form.cleaned_data["one_to_one_wanted"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Thank you for telling us. The team has been told now.")
            return redirect("my_concern", pk=concern.pk)
    return render(
        request,
        "buddyscheme/support/concern_new.html",
        {"form": form, "kind": kind, "emergency_phone": buddy.scheme.emergency_phone},
    )


@require_GET
@role_required(Role.BUDDY)
def my_concern(request, pk):
    concern = get_own_concern(request, pk)
    return render(
        request,
        "buddyscheme/support/my_concern.html",
        {"concern": concern, "emergency_phone": request.membership.scheme.emergency_phone},
    )


def _my_supervision_page(request, supervision, comment_form=None):
    return render(
        request,
        "buddyscheme/support/my_supervision.html",
        {
            "supervision": supervision,
            "comment_form": comment_form
            or SupervisionCommentForm(
                initial={"text": supervision.buddy_comment},
                names=_names_for(request.membership),
            ),
        },
    )


@require_GET
@role_required(Role.BUDDY)
def my_supervision(request, pk):
    return _my_supervision_page(request, get_own_supervision(request, pk))


@require_POST
@role_required(Role.BUDDY)
def my_supervision_comment(request, pk):
    supervision = get_own_supervision(request, pk)
    form = SupervisionCommentForm(request.POST, names=_names_for(request.membership))
    if form.is_valid():
        try:
            support.supervision_comment(
                supervision=supervision, buddy=request.membership, text=form.cleaned_data["text"]
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Your comment is saved. Your support person can read it.")
            return redirect("my_supervision", pk=supervision.pk)
    return _my_supervision_page(request, supervision, comment_form=form)


@require_GET
@role_required(Role.BUDDY)
def diary(request):
    buddy = request.membership
    return render(
        request,
        "buddyscheme/support/diary.html",
        {
            "entries": support.diary_for_buddy(buddy),
            "support_person": support.own_support_person(buddy),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY)
def diary_new(request):
    buddy = request.membership
    form = DiaryForm(request.POST if request.method == "POST" else None, names=_names_for(buddy))
    if request.method == "POST" and form.is_valid():
        try:
            entry = support.diary_write(buddy=buddy, text=form.cleaned_data["text"])
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Saved. Only you can read it.")
            return redirect("diary_entry", pk=entry.pk)
    return render(request, "buddyscheme/support/diary_new.html", {"form": form})


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def diary_entry(request, pk):
    entry = get_diary_entry_for_user(request, pk)
    is_writer = entry.buddy_id == request.membership.pk
    return render(
        request,
        "buddyscheme/support/diary_entry.html",
        {
            "entry": entry,
            "is_writer": is_writer,
            "support_person": support.own_support_person(entry.buddy) if is_writer else None,
        },
    )


@require_POST
@role_required(Role.BUDDY)
def diary_share(request, pk):
    entry = get_own_diary_entry(request, pk)
    try:
        entry = support.diary_share(entry=entry, buddy=request.membership)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Shared with {entry.shared_with.user.display_name}, and nobody else."
        )
    return redirect("diary_entry", pk=pk)


@require_POST
@role_required(Role.BUDDY)
def diary_unshare(request, pk):
    support.diary_unshare(entry=get_own_diary_entry(request, pk), buddy=request.membership)
    messages.success(request, "This entry is private again: only you can read it.")
    return redirect("diary_entry", pk=pk)


@require_POST
@role_required(Role.BUDDY)
def diary_delete(request, pk):
    support.diary_delete(entry=get_own_diary_entry(request, pk), buddy=request.membership)
    messages.success(request, "Entry deleted.")
    return redirect("diary")


# --- The coordinator's side: concerns --------------------------------------------------------


@require_GET
@role_required(Role.COORDINATOR)
def concern_list(request):
    return render(
        request,
        "buddyscheme/support/concern_list.html",
        concerns.concerns_for_scheme(request.membership.scheme),
    )


def _concern_page(request, concern, **bound_forms):
    names = _names_for(concern.raised_by)
    return render(
        request,
        "buddyscheme/support/concern.html",
        {
            "concern": concern,
            "log": concerns.concern_log(concern),
            "supervisions": concern.supervisions.select_related("support_person__user__profile"),
            "is_open": concern.status != ConcernStatus.CLOSED,
            "note_form": bound_forms.get("note_form") or ConcernNoteForm(names=names),
            "referral_form": bound_forms.get("referral_form") or ReferralForm(names=names),
            "close_form": bound_forms.get("close_form") or ConcernCloseForm(names=names),
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
def concern_detail(request, pk):
    return _concern_page(request, get_concern_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def concern_take(request, pk):
    concern = get_concern_for_coordinator(request, pk)
    try:
        concerns.concern_take(concern=concern, coordinator=request.membership)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "It is yours: log what you do, and close it with the outcome.")
    return redirect("concern", pk=concern.pk)


@require_POST
@role_required(Role.COORDINATOR)
def concern_note(request, pk):
    concern = get_concern_for_coordinator(request, pk)
    form = ConcernNoteForm(request.POST, names=_names_for(concern.raised_by))
    if form.is_valid():
        try:
            concerns.concern_note_add(
                concern=concern, text=form.cleaned_data["text"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Added to the log.")
            return redirect("concern", pk=concern.pk)
    return _concern_page(request, concern, note_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def concern_referral(request, pk):
    concern = get_concern_for_coordinator(request, pk)
    form = ReferralForm(request.POST, names=_names_for(concern.raised_by))
    if form.is_valid():
        try:
            concerns.concern_referral_record(
                concern=concern,
                agency=form.cleaned_data["agency"],
                reference=form.cleaned_data["reference"],
                text=form.cleaned_data["text"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Referral recorded.")
            return redirect("concern", pk=concern.pk)
    return _concern_page(request, concern, referral_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def concern_close(request, pk):
    concern = get_concern_for_coordinator(request, pk)
    form = ConcernCloseForm(request.POST, names=_names_for(concern.raised_by))
    if form.is_valid():
        try:
            concerns.concern_close(
                concern=concern,
                outcome=form.cleaned_data["outcome"],
                notes=form.cleaned_data["notes"],
                by=request.user,
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Concern closed.")
            return redirect("concern", pk=concern.pk)
    return _concern_page(request, concern, close_form=form)


# --- The coordinator's side: one buddy's support, one-to-ones ----------------------------------


def _buddy_support_page(request, buddy, contact_form=None):
    return render(
        request,
        "buddyscheme/support/buddy_support.html",
        {
            "member": buddy,
            "support_person": support.own_support_person(buddy),
            "supervisions": support.supervisions_for_buddy(buddy),
            "contacts": support.contacts_for_buddy(buddy),
            "concerns": concerns.concerns_raised_by(buddy),
            # Only what the buddy shared with the person looking: never anyone else's share.
            "shared_entries": support.diary_shared_with(request.membership, buddy),
            "contact_form": contact_form
            or ContactForm(initial={"back": "support"}, names=_names_for(buddy)),
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
def buddy_support(request, pk):
    return _buddy_support_page(request, get_member_for_coordinator(request, pk, role=Role.BUDDY))


@require_POST
@role_required(Role.COORDINATOR)
def buddy_contact(request, pk):
    buddy = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    form = ContactForm(request.POST, names=_names_for(buddy))
    if form.is_valid():
        support.contact_log(
            buddy=buddy,
            mode=form.cleaned_data["mode"],
            notes=form.cleaned_data["notes"],
            by=request.user,
        )
        messages.success(request, f"Contact with {buddy.user.display_name} logged.")
        back = CONTACT_BACK[form.cleaned_data["back"] or "support"]
        return redirect(back, pk=buddy.pk) if back == "buddy_support" else redirect(back)
    return _buddy_support_page(request, buddy, contact_form=form)


def _supervision_page(request, supervision, notes_form=None):
    held = supervision.state == SupervisionState.HELD
    return render(
        request,
        "buddyscheme/support/supervision.html",
        {
            "supervision": supervision,
            "notes_form": notes_form
            or SupervisionNotesForm(
                initial={"notes": supervision.notes},
                required=held,
                names=_names_for(supervision.buddy),
            ),
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
def supervision_detail(request, pk):
    return _supervision_page(request, get_supervision_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def supervision_held(request, pk):
    supervision = get_supervision_for_coordinator(request, pk)
    form = SupervisionNotesForm(request.POST, required=False, names=_names_for(supervision.buddy))
    if form.is_valid():
        try:
            support.supervision_hold(
                supervision=supervision, notes=form.cleaned_data["notes"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Recorded as held.")
            return redirect("supervision", pk=supervision.pk)
    return _supervision_page(request, supervision, notes_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def supervision_notes(request, pk):
    supervision = get_supervision_for_coordinator(request, pk)
    form = SupervisionNotesForm(request.POST, names=_names_for(supervision.buddy))
    if form.is_valid():
        try:
            support.supervision_notes_save(
                supervision=supervision, notes=form.cleaned_data["notes"], by=request.user
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Notes saved.")
            return redirect("supervision", pk=supervision.pk)
    return _supervision_page(request, supervision, notes_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def supervision_share(request, pk):
    supervision = get_supervision_for_coordinator(request, pk)
    try:
        support.supervision_notes_share(supervision=supervision, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Shared: the buddy can read the notes and comment on them.")
    return redirect("supervision", pk=supervision.pk)


@require_POST
@role_required(Role.COORDINATOR)
def supervision_cancel(request, pk):
    supervision = get_supervision_for_coordinator(request, pk)
    try:
        support.supervision_cancel(supervision=supervision, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "One-to-one cancelled.")
    return redirect("buddy_support", pk=supervision.buddy_id)
