"""Files and settings shared by the volunteering tests."""

import shutil
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

# The smallest real files of each kind (their first bytes are what is checked).
PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 60 + b"This program cannot be run"


def pdf(name="policy.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def text(name="policy.txt", body="Keep what you hear to yourself.\n"):
    return SimpleUploadedFile(name, body.encode(), content_type="text/plain")


def renamed_exe(name="policy.pdf"):
    return SimpleUploadedFile(name, EXE_BYTES, content_type="application/pdf")


def jpeg(name="receipt.jpg"):
    return SimpleUploadedFile(name, JPEG_BYTES, content_type="image/jpeg")


class PrivateFilesMixin:
    """Uploads go to a temporary folder, removed after each test."""

    def setUp(self):
        super().setUp()
        folder = tempfile.mkdtemp(prefix="private-files-")
        self.addCleanup(shutil.rmtree, folder, ignore_errors=True)
        self.private_root = folder
        overrider = override_settings(PRIVATE_FILES_ROOT=folder)
        overrider.enable()
        self.addCleanup(overrider.disable)
