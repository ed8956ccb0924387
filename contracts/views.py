"""Reading and signing agreements, PDFs and hash checks, the template editor, consents."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from buddyscheme.access import (
    get_member_for_coordinator,
    reauthenticated_if_coordinator,
    role_required,
)
from buddyscheme.audit import audit_record
from buddyscheme.consent import CONSENT_EXPLAINED, consent_give, consent_withdraw, consents_for
from buddyscheme.errors import DomainError
from buddyscheme.models import ConsentKind, Role
from matching.access import get_match_for_user

from . import services
from .access import get_contract_for_user, get_template_for_user
from .forms import ConsentForm, SignForm, SpecificsForm, TemplateForm, WitnessedSignForm
from .models import Contract, ContractState, SigningMode, text_hash
from .pdf import clauses_of, contract_pdf


def _client_ip(request):
    return request.META.get("REMOTE_ADDR")


@require_GET
@role_required(Role.BUDDY, Role.PARTICIPANT, Role.COORDINATOR)
def contract_list(request):
    me = request.membership
    if me.role == Role.COORDINATOR:
        contracts = Contract.objects.filter(scheme=me.scheme).select_related(
            "match", "volunteer__user"
        )[:200]
    else:
        contracts = (
            Contract.objects.filter(match__participant=me)
            | Contract.objects.filter(match__buddy=me)
            | Contract.objects.filter(volunteer=me)
            | Contract.objects.filter(attendee=me)
        ).exclude(state=ContractState.SUPERSEDED)
    return render(request, "contracts/list.html", {"contracts": contracts})


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT, Role.COORDINATOR)
def contract_detail(request, pk):
    """Read to the end, tick, type your name."""
    contract = get_contract_for_user(request, pk)
    party = services.party_of(contract, request.membership)
    signed_parties = set(contract.signatures.values_list("party", flat=True))
    can_sign = (
        contract.state == ContractState.AWAITING
        and party in contract.parties
        and party not in signed_parties
    )
    form = SignForm(request.POST or None)
    if request.method == "POST" and can_sign and form.is_valid():
        try:
            services.contract_sign(
                contract=contract,
                membership=request.membership,
                ip_address=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                **form.cleaned_data,
            )
        except services.NameMismatch as error:
            form.add_error("typed_name", str(error))
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Thank you: you have signed the agreement.")
            return redirect("contracts:detail", pk=contract.pk)
    return render(
        request,
        "contracts/detail.html",
        {
            "contract": contract,
            "form": form,
            "can_sign": can_sign,
            "signatures": contract.signatures.select_related("membership__user", "attested_by"),
            "easy_read": services.easy_read_for(contract),
            "clauses": clauses_of(contract.text),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def sign_in_person(request, pk):
    """The participant signs on the coordinator's tablet without logging in; the coordinator witnesses."""
    contract = get_contract_for_user(request, pk)
    if not (contract.match_id or contract.attendee_id):
        raise Http404
    form = WitnessedSignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_sign(
                contract=contract,
                membership=contract.match.participant if contract.match_id else contract.attendee,
                ip_address=_client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                mode=SigningMode.IN_PERSON,
                attested_by=request.user,
                **form.cleaned_data,
            )
        except services.NameMismatch as error:
            form.add_error(
                "typed_name",
                f"The name typed does not match the name we have ({error.recorded_name}). "
                "Check who is signing. To accept it, say why in the last box; it is kept with "
                "the signature.",
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Signed in person and witnessed by you.")
            return redirect("contracts:detail", pk=contract.pk)
    return render(request, "contracts/sign_in_person.html", {"contract": contract, "form": form})


@require_GET
@role_required(Role.BUDDY, Role.PARTICIPANT, Role.COORDINATOR)
@reauthenticated_if_coordinator
def contract_pdf_view(request, pk):
    contract = get_contract_for_user(request, pk)
    pdf = contract_pdf(contract, discreet=services.settings_for(contract.scheme).discreet_pdf)
    audit_record(
        actor=request.user, verb="agreement_pdf_download", obj=contract, scheme=contract.scheme_id
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-{contract.pk}.pdf"'
    return response


@require_GET
@role_required(Role.BUDDY, Role.PARTICIPANT, Role.COORDINATOR)
def contract_verify(request, pk):
    contract = get_contract_for_user(request, pk)
    recomputed = text_hash(contract.text)
    return render(
        request,
        "contracts/verify.html",
        {"contract": contract, "recomputed": recomputed, "matches": recomputed == contract.sha256},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def contract_new(request, match_pk):
    match = get_match_for_user(request, match_pk)
    form = SpecificsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_generate(
                match=match, by=request.user, specifics=form.cleaned_data
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Agreement made. Everyone can now read and sign it.")
            return redirect("contracts:detail", pk=contract.pk)
    return render(request, "contracts/new.html", {"match": match, "form": form})


@require_GET
@role_required(Role.COORDINATOR)
def template_list(request):
    templates = services.templates_ensure(request.membership.scheme)
    return render(request, "contracts/templates.html", {"templates": templates.values()})


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def template_edit(request, pk):
    template = get_template_for_user(request, pk)
    current = template.current
    form = TemplateForm(
        request.POST or None,
        initial={"clauses": TemplateForm.to_text(current.clauses), "easy_read": current.easy_read},
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = services.template_revise(
                template=template,
                clauses=form.parsed_clauses(),
                easy_read=form.cleaned_data["easy_read"],
                by=request.user,
                requires_reconsent=form.cleaned_data["requires_reconsent"],
            )
        except DomainError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Saved as version {version.number}.")
            return redirect("contracts:template", pk=template.pk)
    text = form.data.get("clauses") if form.is_bound else form.initial["clauses"]
    return render(
        request,
        "contracts/template_edit.html",
        {
            "template": template,
            "form": form,
            "readability": services.readability(TemplateForm.clauses_from_text(text or "")),
            "placeholders": services.KNOWN_PLACEHOLDERS,
            "versions": template.versions.select_related("created_by"),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT)
def my_consents(request):
    """Everyone can see what they agreed to and change their mind at any time, here. Giving
    takes one tap; withdrawing first says what changes (`consent_withdraw_confirm`)."""
    me = request.membership
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in ConsentKind.values:
            raise Http404
        if request.POST.get("action") != "give":
            return redirect("contracts:consent_withdraw", kind=kind)
        consent_give(membership=me, kind=kind, by=request.user)
        messages.success(request, "Thank you. You can change your mind at any time.")
        return redirect("contracts:consents")
    given = consents_for(me)
    return render(
        request,
        "contracts/consents.html",
        {
            "rows": [
                (kind, CONSENT_EXPLAINED[ConsentKind(kind)], given.get(kind))
                for kind in ConsentKind.values
            ]
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.BUDDY, Role.PARTICIPANT)
def consent_withdraw_confirm(request, kind):
    """What changes if you withdraw this, then a confirmation."""
    if kind not in ConsentKind.values:
        raise Http404
    me = request.membership
    record = consents_for(me).get(kind)
    if request.method == "POST":
        if record is not None:
            consent_withdraw(membership=me, kind=kind, by=request.user)
            messages.success(request, "Done: you have withdrawn this. It takes effect now.")
        return redirect("contracts:consents")
    return render(
        request,
        "contracts/consent_withdraw.html",
        {"kind": kind, "explained": CONSENT_EXPLAINED[ConsentKind(kind)], "record": record},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.COORDINATOR)
def person_consents(request, pk):
    """A coordinator records consent given on paper or verbally, and withdrawals."""
    member = get_member_for_coordinator(request, pk)
    form = ConsentForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "withdraw":
            kind = request.POST.get("kind", "")
            if kind not in ConsentKind.values:
                raise Http404
            consent_withdraw(membership=member, kind=kind, by=request.user)
            messages.success(request, "Withdrawn.")
            return redirect("contracts:person_consents", pk=member.pk)
        if form.is_valid():
            consent_give(
                membership=member,
                kind=form.cleaned_data["kind"],
                how=form.cleaned_data["given_how"],
                detail=form.cleaned_data["detail"],
                by=request.user,
            )
            messages.success(request, "Consent recorded.")
            return redirect("contracts:person_consents", pk=member.pk)
    if member.role == Role.PARTICIPANT:
        audit_record(
            actor=request.user,
            verb="participant_consents_view",
            obj=member,
            scheme=member.scheme_id,
        )
    return render(
        request,
        "contracts/person_consents.html",
        {"member": member, "form": form, "records": member.consents.select_related("recorded_by")},
    )


@require_POST
@role_required(Role.COORDINATOR)
def volunteer_agreement_new(request, pk):
    buddy = get_member_for_coordinator(request, pk, role=Role.BUDDY)
    contract = services.volunteer_agreement_generate(buddy=buddy, by=request.user)
    return redirect("contracts:detail", pk=contract.pk)
