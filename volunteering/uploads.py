"""Files people upload (the buddy pack, receipt photos): what they really are, how big, where
they are kept.

The type is read from the first bytes of the file, never from its name or from the
content type the browser sends: both are whatever the sender chose, so a program renamed
`policy.pdf` would pass them. Only the few kinds the scheme needs are let in.
"""

import os
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
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
    for signature, kind in SIGNATURES:
        if head.startswith(signature) and kind in allowed:
            return kind
    if TEXT in allowed and _is_utf8_text(uploaded):
        return TEXT
    raise ValidationError(
        f"This file is not a {_spoken(allowed)} (its contents were checked, not its name). "
        "Save it as one of those and try again.",
        code="unknown_type",
    )


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
