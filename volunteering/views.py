"""Pages for the buddy pack, hours and expenses, and the buddy's own page. Thin: authorise
through volunteering/access.py, call one service or selector, render or redirect."""

import os
import uuid
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import get_scheme_for_coordinator, reauthenticated, role_required
from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.forms import posted_id
from buddyscheme.models import Role
from buddyscheme.selectors import names_of, participants_of

from . import selectors, services
from .access import (
    get_claim_for_coordinator,
    get_claim_for_user,
    get_pack_document_for_coordinator,
    get_pack_document_for_user,
)
from .export import claims_csv
from .forms import (
    ClaimFilterForm,
    ExpenseClaimForm,
    PackDocumentForm,
    PackDocumentReplaceForm,
    PaidForm,
    RefuseForm,
)
from .uploads import PDF


def _private_file(field_file, content_type: str, download_name: str) -> FileResponse:
    """A stored upload, sent to someone already authorised. Shown in the browser (a PDF or a
    photo opens on a phone) and never sniffed into another type. Text and images are also
    sandboxed, so nothing in them can act as our pages; a PDF is not, because browsers' PDF
    viewers refuse to open under such a policy (its contents were checked as a PDF)."""
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=content_type)
    extension = os.path.splitext(field_file.name)[1]
    response["Content-Disposition"] = f'inline; filename="{download_name}{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    if content_type != PDF.content_type:
        response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    else:
        # What csp_override({}) does: no site policy either (its object-src 'none' can stop
        # the browser's PDF viewer too).
        response._csp_config = {}  # type: ignore[attr-defined]
    response["Cache-Control"] = "private, no-store"
    return response


# --- The buddy's own page -------------------------------------------------------------------


@require_GET
@role_required(Role.BUDDY)
def buddy_me(request):
    return render(
        request,
        "volunteering/buddy_me.html",
        {"page": selectors.buddy_page(request.membership), "months": selectors.MONTHS},
    )


# --- The buddy pack -------------------------------------------------------------------------


@require_GET
@role_required(Role.BUDDY)
def pack(request):
    return render(
        request,
        "volunteering/pack.html",
        {"documents": selectors.pack_for_buddy(request.membership)},
    )


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def pack_document(request, pk):
    document = get_pack_document_for_user(request, pk)
    is_read = (
        request.membership.role == Role.BUDDY
        and document.reads.filter(buddy=request.membership, version=document.version).exists()
    )
    return render(
        request, "volunteering/pack_document.html", {"document": document, "is_read": is_read}
    )


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def pack_document_file(request, pk):
    document = get_pack_document_for_user(request, pk)
    name = slugify(document.title) or "document"
    return _private_file(document.file, document.content_type, f"{name}-v{document.version}")


@require_POST
@role_required(Role.BUDDY)
def pack_document_read(request, pk):
    document = get_pack_document_for_user(request, pk)
    try:
        services.pack_document_mark_read(
            document=document,
            buddy=request.membership,
            version=posted_id(request.POST.get("version")),
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("volunteering:pack_document", pk=document.pk)
    messages.success(request, f"Thank you: “{document.title}” is marked as read.")
    return redirect("volunteering:pack")


# --- The pack, for coordinators ---------------------------------------------------------------


def _coordinator_pack_page(request, scheme, form=None, status=200):
    return render(
        request,
        "volunteering/coordinator_pack.html",
        {
            "documents": selectors.pack_documents(scheme),
            "form": form or PackDocumentForm(),
            "replace_form": PackDocumentReplaceForm(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def coordinator_pack(request):
    scheme = get_scheme_for_coordinator(request)
    if request.method == "GET":
        return _coordinator_pack_page(request, scheme)
    form = PackDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.pack_document_add(
                scheme=scheme,
                title=form.cleaned_data["title"],
                category=form.cleaned_data["category"],
                required=form.cleaned_data["required"],
                upload=form.cleaned_data["file"],
                by=request.user,
            )
        except (DomainError, ValidationError) as error:
            form.add_error(
                "file", error.messages if isinstance(error, ValidationError) else str(error)
            )
        else:
            messages.success(request, f"“{document.title}” is now in the buddy pack.")
            return redirect("volunteering:coordinator_pack")
    return _coordinator_pack_page(request, scheme, form)


@require_POST
@role_required(Role.COORDINATOR)
def coordinator_pack_replace(request, pk):
    document = get_pack_document_for_coordinator(request, pk)
    form = PackDocumentReplaceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.pack_document_replace(
                document=document, upload=form.cleaned_data["file"], by=request.user
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"“{document.title}” is now version {document.version}; "
                "buddies are asked to read it again.",
            )
    else:
        messages.error(request, " ".join(form.errors.get("file", ["Choose the new file."])))
    return redirect("volunteering:coordinator_pack")


@require_POST
@role_required(Role.COORDINATOR)
def coordinator_pack_withdraw(request, pk):
    document = get_pack_document_for_coordinator(request, pk)
    services.pack_document_withdraw(document=document, by=request.user)
    messages.success(request, f"“{document.title}” is no longer in the buddy pack.")
    return redirect("volunteering:coordinator_pack")


@require_GET
@role_required(Role.COORDINATOR)
def coordinator_pack_unread(request):
    scheme = get_scheme_for_coordinator(request)
    return render(
        request,
        "volunteering/coordinator_unread.html",
        {"unread": selectors.required_unread(scheme)},
    )


# --- Hours ----------------------------------------------------------------------------------


def _year(request, today: date) -> int:
    year = posted_id(request.GET.get("year"))
    return year if 2000 <= year <= today.year + 1 else today.year


@require_GET
@role_required(Role.COORDINATOR)
def coordinator_hours(request):
    scheme = get_scheme_for_coordinator(request)
    today = timezone.localdate(timezone.now(), scheme.zone)
    year = _year(request, today)
    rows = selectors.hours_for_scheme(scheme, year)
    totals = [sum(row.hours.months[month] for row in rows) for month in range(12)]
    return render(
        request,
        "volunteering/coordinator_hours.html",
        {
            "rows": rows,
            "year": year,
            "years": range(today.year - 3, today.year + 1),
            "months": selectors.MONTHS,
            "totals": totals,
            "total": sum(totals),
        },
    )


# --- Expenses, the buddy's side ---------------------------------------------------------------


@require_GET
@role_required(Role.BUDDY)
def my_expenses(request):
    return render(
        request,
        "volunteering/my_expenses.html",
        {"claims": selectors.claims_for_buddy(request.membership)},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY)
def expense_new(request):
    buddy = request.membership
    now = timezone.now()
    meetings = selectors.recent_meetings_for_claims(buddy, now)
    today = timezone.localdate(now, buddy.scheme.zone)
    form = ExpenseClaimForm(
        request.POST or None,
        request.FILES or None,
        initial={"spent_on": today, "submit_key": uuid.uuid4()},
        meetings=meetings,
        zone=buddy.scheme.zone,
        today=today,
        names=names_of(participants_of(buddy)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.expense_claim_submit(
                buddy=buddy,
                spent_on=form.cleaned_data["spent_on"],
                amount=form.cleaned_data["amount"],
                category=form.cleaned_data["category"],
                description=form.cleaned_data["description"],
                meeting_id=form.cleaned_data["meeting"],
                receipt=form.cleaned_data["receipt"],
                submit_key=form.cleaned_data["submit_key"],
                now=now,
            )
        except (DomainError, ValidationError) as error:
            form.add_error(
                None, error.messages if isinstance(error, ValidationError) else str(error)
            )
        else:
            messages.success(request, "Your claim is sent. You will see here when it is decided.")
            return redirect("volunteering:my_expenses")
    return render(request, "volunteering/expense_new.html", {"form": form})


@require_GET
@role_required(Role.BUDDY, Role.COORDINATOR)
def expense_receipt(request, pk):
    claim = get_claim_for_user(request, pk)
    if not claim.receipt:
        raise Http404
    return _private_file(claim.receipt, claim.receipt_content_type, f"receipt-{claim.pk}")


# --- Expenses, the coordinator's side ---------------------------------------------------------


def _filtered_claims(request, scheme):
    form = ClaimFilterForm(request.GET or None)
    month, state = None, ""
    if form.is_valid():
        month, state = form.cleaned_data["month"], form.cleaned_data["state"]
    return form, selectors.claims_for_scheme(scheme, month=month, state=state)


@require_GET
@role_required(Role.COORDINATOR)
def coordinator_expenses(request):
    scheme = get_scheme_for_coordinator(request)
    form, claims = _filtered_claims(request, scheme)
    return render(
        request,
        "volunteering/coordinator_expenses.html",
        {
            "form": form,
            "claims": claims,
            "total": selectors.claims_total(claims),
            "query": request.GET.urlencode(),
        },
    )


@require_GET
@role_required(Role.COORDINATOR)
@reauthenticated
def coordinator_expenses_csv(request):
    scheme = get_scheme_for_coordinator(request)
    _, claims = _filtered_claims(request, scheme)
    audit_record(actor=request.user, verb="expenses_csv_download", obj=scheme, scheme=scheme)
    response = HttpResponse(
        claims_csv(claims.select_related("meeting"), scheme.zone),
        content_type="text/csv; charset=utf-8",
    )
    stamp = timezone.localdate(timezone.now(), scheme.zone).isoformat()
    response["Content-Disposition"] = f'attachment; filename="expenses-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _claim_page(request, claim, refuse_form=None, paid_form=None, status=200):
    return render(
        request,
        "volunteering/coordinator_claim.html",
        {
            "claim": claim,
            "refuse_form": refuse_form or RefuseForm(),
            "paid_form": paid_form
            or PaidForm(initial={"paid_on": timezone.localdate(timezone.now(), claim.scheme.zone)}),
        },
        status=status,
    )


@require_GET
@role_required(Role.COORDINATOR)
def coordinator_claim(request, pk):
    return _claim_page(request, get_claim_for_coordinator(request, pk))


@require_POST
@role_required(Role.COORDINATOR)
def coordinator_claim_approve(request, pk):
    claim = get_claim_for_coordinator(request, pk)
    try:
        services.expense_claim_approve(claim=claim, by=request.user)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Claim approved.")
    return redirect("volunteering:coordinator_claim", pk=claim.pk)


@require_POST
@role_required(Role.COORDINATOR)
def coordinator_claim_refuse(request, pk):
    claim = get_claim_for_coordinator(request, pk)
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            services.expense_claim_refuse(
                claim=claim, reason=form.cleaned_data["reason"], by=request.user
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Claim refused; the buddy sees your reason.")
        return redirect("volunteering:coordinator_claim", pk=claim.pk)
    return _claim_page(request, claim, refuse_form=form)


@require_POST
@role_required(Role.COORDINATOR)
def coordinator_claim_paid(request, pk):
    claim = get_claim_for_coordinator(request, pk)
    form = PaidForm(request.POST)
    if form.is_valid():
        try:
            services.expense_claim_paid(
                claim=claim, paid_on=form.cleaned_data["paid_on"], by=request.user
            )
        except DomainError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Marked as paid.")
        return redirect("volunteering:coordinator_claim", pk=claim.pk)
    return _claim_page(request, claim, paid_form=form)
