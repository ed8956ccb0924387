"""Writes for the buddy pack and expense claims: each in one transaction, each audited."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from buddyscheme.audit import audit_record
from buddyscheme.errors import DomainError
from buddyscheme.models import Membership, Role, Scheme

from .models import ClaimState, DocumentRead, ExpenseClaim, PackDocument
from .uploads import DOCUMENT_KINDS, RECEIPT_KINDS, sniff

REASON_LENGTH = 300


def _upload_name(kind_extension: str) -> str:
    return f"upload.{kind_extension}"


# --- The buddy pack ---------------------------------------------------------------------------


def pack_document_add(
    *, scheme: Scheme, title: str, category: str, required: bool, upload: File, by, now=None
) -> PackDocument:
    kind = sniff(upload, DOCUMENT_KINDS)
    with transaction.atomic():
        document = PackDocument(
            scheme=scheme,
            title=title.strip(),
            category=category,
            required=required,
            content_type=kind.content_type,
            size=upload.size or 0,
            uploaded_by=by,
            uploaded_at=now or timezone.now(),
        )
        document.file.save(_upload_name(kind.extension), upload, save=False)
        document.save()
        audit_record(actor=by, verb="pack_document_add", obj=document, scheme=scheme)
    return document


def pack_document_replace(*, document: PackDocument, upload: File, by, now=None) -> PackDocument:
    """A new version: the file is replaced and every buddy is asked to read it again."""
    kind = sniff(upload, DOCUMENT_KINDS)
    old_name = document.file.name or ""
    with transaction.atomic():
        locked = PackDocument.objects.select_for_update().get(pk=document.pk)
        if locked.withdrawn_at is not None:
            raise DomainError("This document was withdrawn; add it again as a new one.")
        locked.file.save(_upload_name(kind.extension), upload, save=False)
        locked.content_type = kind.content_type
        locked.size = upload.size or 0
        locked.version += 1
        locked.uploaded_by = by
        locked.uploaded_at = now or timezone.now()
        locked.save(
            update_fields=["file", "content_type", "size", "version", "uploaded_by", "uploaded_at"]
        )
        audit_record(actor=by, verb="pack_document_replace", obj=locked, scheme=locked.scheme_id)
        storage = locked.file.storage
        # The old version's file goes once the new one is safely recorded.
        if old_name:
            transaction.on_commit(lambda: storage.delete(old_name))
    return locked


def pack_document_change(
    *, document: PackDocument, title: str, category: str, required: bool, by
) -> PackDocument:
    with transaction.atomic():
        document.title = title.strip()
        document.category = category
        document.required = required
        document.save(update_fields=["title", "category", "required"])
        audit_record(actor=by, verb="pack_document_change", obj=document, scheme=document.scheme_id)
    return document


def pack_document_withdraw(*, document: PackDocument, by, now=None) -> PackDocument:
    """Take a document out of the pack (buddies no longer see it); its reads are kept."""
    with transaction.atomic():
        updated = PackDocument.objects.filter(pk=document.pk, withdrawn_at__isnull=True).update(
            withdrawn_at=now or timezone.now()
        )
        if updated:
            audit_record(
                actor=by, verb="pack_document_withdraw", obj=document, scheme=document.scheme_id
            )
    document.refresh_from_db()
    return document


def pack_document_mark_read(
    *, document: PackDocument, buddy: Membership, version: int, now=None
) -> DocumentRead:
    """The buddy read `version` (the one they were shown). Twice is recorded once; a version
    that has since been replaced is refused, so they read the new one."""
    if buddy.role != Role.BUDDY or buddy.scheme_id != document.scheme_id:
        raise DomainError("Only the scheme's buddies mark the pack as read.")
    if document.withdrawn_at is not None:
        raise DomainError("This document is no longer part of the pack.")
    if version != document.version:
        raise DomainError("This document has a newer version. Read the new one, then mark it.")
    existing = DocumentRead.objects.filter(document=document, buddy=buddy, version=version).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return DocumentRead.objects.create(
                document=document, buddy=buddy, version=version, read_at=now or timezone.now()
            )
    except IntegrityError:
        # Two taps at once: the other one recorded it.
        return DocumentRead.objects.get(document=document, buddy=buddy, version=version)


# --- Expense claims -------------------------------------------------------------------------


def expense_claim_submit(
    *,
    buddy: Membership,
    spent_on: date,
    amount: Decimal,
    category: str,
    description: str,
    meeting_id: int | None = None,
    receipt: File | None = None,
    submit_key: uuid.UUID | None = None,
    now=None,
) -> ExpenseClaim:
    """A new claim, waiting for a decision. The same `submit_key` twice is one claim."""
    if buddy.role != Role.BUDDY:
        raise DomainError("Expenses are claimed by buddies.")
    if submit_key is not None:
        earlier = ExpenseClaim.objects.filter(buddy=buddy, submit_key=submit_key).first()
        if earlier is not None:
            return earlier
    now = now or timezone.now()
    if spent_on > timezone.localdate(now, buddy.scheme.zone):
        raise DomainError("The date is in the future: claim once the money is spent.")
    if amount <= 0:
        raise DomainError("Enter an amount above £0.00.")
    kind = sniff(receipt, RECEIPT_KINDS) if receipt else None
    try:
        return _claim_create(
            buddy=buddy,
            spent_on=spent_on,
            amount=amount,
            category=category,
            description=description,
            meeting_id=meeting_id,
            receipt=receipt,
            kind=kind,
            submit_key=submit_key,
            now=now,
        )
    except IntegrityError:
        if submit_key is None:
            raise
        # The other tap, at the same moment, made it.
        return ExpenseClaim.objects.get(buddy=buddy, submit_key=submit_key)


def _claim_create(
    *,
    buddy,
    spent_on,
    amount,
    category,
    description,
    meeting_id,
    receipt,
    kind,
    submit_key,
    now,
) -> ExpenseClaim:
    with transaction.atomic():
        claim = ExpenseClaim(
            scheme_id=buddy.scheme_id,
            buddy=buddy,
            spent_on=spent_on,
            amount=amount,
            category=category,
            description=description.strip(),
            meeting_id=meeting_id,
            submitted_at=now,
            submit_key=submit_key,
        )
        if receipt and kind:
            claim.receipt.save(_upload_name(kind.extension), receipt, save=False)
            claim.receipt_content_type = kind.content_type
        claim.save()
        audit_record(
            actor=buddy.user, verb="expense_claim_submit", obj=claim, scheme=buddy.scheme_id
        )
    return claim


def _decide(claim: ExpenseClaim, *, state: str, by, reason: str = "", now=None) -> ExpenseClaim:
    """Only a claim still waiting is decided: a second click, or a colleague deciding at the
    same moment, changes nothing (a conditional UPDATE)."""
    with transaction.atomic():
        updated = ExpenseClaim.objects.filter(pk=claim.pk, state=ClaimState.SUBMITTED).update(
            state=state, decided_by=by, decided_at=now or timezone.now(), refusal_reason=reason
        )
        if not updated:
            raise DomainError("This claim has already been decided.")
        audit_record(actor=by, verb=f"expense_claim_{state}", obj=claim, scheme=claim.scheme_id)
    claim.refresh_from_db()
    return claim


def expense_claim_approve(*, claim: ExpenseClaim, by, now=None) -> ExpenseClaim:
    return _decide(claim, state=ClaimState.APPROVED, by=by, now=now)


def expense_claim_refuse(*, claim: ExpenseClaim, reason: str, by, now=None) -> ExpenseClaim:
    reason = (reason or "").strip()[:REASON_LENGTH]
    if not reason:
        raise DomainError("Say why it is refused: the buddy reads the reason.")
    return _decide(claim, state=ClaimState.REFUSED, by=by, reason=reason, now=now)


def expense_claim_paid(*, claim: ExpenseClaim, paid_on: date, by) -> ExpenseClaim:
    with transaction.atomic():
        updated = ExpenseClaim.objects.filter(pk=claim.pk, state=ClaimState.APPROVED).update(
            state=ClaimState.PAID, paid_on=paid_on
        )
        if not updated:
            raise DomainError("Only an approved claim can be marked paid.")
        audit_record(actor=by, verb="expense_claim_paid", obj=claim, scheme=claim.scheme_id)
    claim.refresh_from_db()
    return claim
