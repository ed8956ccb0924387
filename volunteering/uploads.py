"""Files people upload (the buddy pack, receipt photos): what they really are, how big, where
they are kept.

The type is read from the first bytes of the file, never from its name or from the
content type the browser sends: both are whatever the sender chose, so a program renamed
`policy.pdf` would pass them. Only the few kinds the scheme needs are let in.
"""

import io
import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.deconstruct import deconstructible


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str
    label: str


PDF = Kind("application/pdf", "pdf", "PDF")
PNG = Kind("image/png", "png", "PNG image")
JPEG = Kind("image/jpeg", "jpg", "JPEG photo")
TEXT = Kind("text/plain; charset=utf-8", "txt", "plain text")

# What each kind's file starts with (its "magic bytes").
SIGNATURES = [
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
]
# Programs and archives, named so the message can say what the file really is.
REFUSED_SIGNATURES = [
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\xcf\xfa\xed\xfe", "a program"),
    (b"\xca\xfe\xba\xbe", "a program"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "a zip archive (or an Office file)"),
]
SNIFF_BYTES = 2048

# What a file's name claims it is: a name ending in one of these must be that kind inside.
CLAIMED_BY_NAME = {"pdf": PDF, "png": PNG, "jpg": JPEG, "jpeg": JPEG, "txt": TEXT}

DOCUMENT_KINDS = (PDF, TEXT, PNG, JPEG)
RECEIPT_KINDS = (PDF, PNG, JPEG)


def _spoken(kinds) -> str:
    labels = [kind.label for kind in kinds]
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB"


def _is_utf8_text(uploaded) -> bool:
    """Plain text: decodes as UTF-8 and has no control characters other than whitespace."""
    uploaded.seek(0)
    data = uploaded.read()
    uploaded.seek(0)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(char) < 32 and char not in "\t\n\r\f" for char in text)


def sniff(uploaded, allowed=DOCUMENT_KINDS) -> Kind:
    """The kind `uploaded` really is, or a ValidationError saying plainly why it is refused."""
    limit = settings.UPLOAD_MAX_BYTES
    if uploaded.size > limit:
        raise ValidationError(
            f"This file is {_megabytes(uploaded.size)}; the limit is {_megabytes(limit)}. "
            "Make it smaller (for a photo, a lower resolution) and try again.",
            code="too_big",
        )
    if uploaded.size == 0:
        raise ValidationError("This file is empty.", code="empty")
    uploaded.seek(0)
    head = uploaded.read(SNIFF_BYTES)
    uploaded.seek(0)
    for signature, what in REFUSED_SIGNATURES:
        if head.startswith(signature):
            raise ValidationError(
                f"This file is {what}, whatever its name says, so it cannot be uploaded. "
                f"Upload a {_spoken(allowed)}.",
                code="refused_type",
            )
    found = next((kind for signature, kind in SIGNATURES if head.startswith(signature)), None)
    if found is None and TEXT in allowed and _is_utf8_text(uploaded):
        found = TEXT
    claimed = CLAIMED_BY_NAME.get(os.path.splitext(uploaded.name or "")[1].lower().lstrip("."))
    if found is not None and claimed is not None and found != claimed:
        # A page of text (or HTML) called "policy.pdf", a PDF called "receipt.jpg": someone
        # means one thing and sends another, so neither is guessed at.
        raise ValidationError(
            f"This file's name says it is a {claimed.label}, but it is a {found.label} inside "
            f"(its contents were checked, not its name). Save it as a real {claimed.label}, "
            "or rename it to what it is, and try again.",
            code="name_mismatch",
        )
    if found is not None and found in allowed:
        return found
    raise ValidationError(
        f"This file is not a {_spoken(allowed)} (its contents were checked, not its name). "
        "Save it as one of those and try again.",
        code="unknown_type",
    )


class _TooBig(InMemoryUploadedFile):
    """Stands in for a file that passed the size limit while it arrived: no content is kept,
    only its size, so the form refuses it with the usual message (`sniff`)."""

    def __init__(self, name, content_type, size, charset):
        super().__init__(io.BytesIO(b""), "file", name, content_type, size, charset)


class SizeLimitUploadHandler(FileUploadHandler):
    """First of `FILE_UPLOAD_HANDLERS`: a file larger than UPLOAD_MAX_BYTES stops being kept
    (in memory or on disk) as soon as it passes the limit, so a 2 GB upload does not fill the
    disk before it is refused; the form then says how big it was and what the limit is."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            return None  # the handlers after this one keep nothing more of it
        return raw_data

    def file_complete(self, file_size):
        if self.received > settings.UPLOAD_MAX_BYTES:
            return _TooBig(self.file_name, self.content_type, self.received, self.charset)
        return None  # the next handler (memory or a temporary file) has it


@deconstructible
class PrivateStorage(FileSystemStorage):
    """Files kept outside the web root (settings.PRIVATE_FILES_ROOT, under the var dir, not
    MEDIA_ROOT): nothing serves them but views that check who is asking.

    The location is read from the settings each time, so tests can point it at a temporary
    folder."""

    @property
    def base_location(self):
        return str(settings.PRIVATE_FILES_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no public address; a view serves them.")


private_storage = PrivateStorage()
