"""Upload checking: the type comes from the contents, never the name; a size limit; kept
outside the web root."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import SimpleTestCase, override_settings

from volunteering.uploads import DOCUMENT_KINDS, JPEG, PDF, PNG, RECEIPT_KINDS, TEXT, sniff

from .helpers import EXE_BYTES, JPEG_BYTES, PDF_BYTES, PNG_BYTES, pdf, renamed_exe, text


class SniffTest(SimpleTestCase):
    def test_a_real_pdf_is_accepted(self):
        self.assertEqual(sniff(pdf()), PDF)

    def test_images_and_utf8_text_are_accepted(self):
        self.assertEqual(sniff(SimpleUploadedFile("a.png", PNG_BYTES)), PNG)
        self.assertEqual(sniff(SimpleUploadedFile("a.jpg", JPEG_BYTES)), JPEG)
        self.assertEqual(sniff(text(body="Café rules — be kind.\n")), TEXT)

    def test_a_renamed_executable_is_refused_with_a_clear_message(self):
        with self.assertRaises(ValidationError) as refused:
            sniff(renamed_exe("confidentiality.pdf"))
        self.assertEqual(refused.exception.code, "refused_type")
        self.assertIn("Windows program, whatever its name says", refused.exception.messages[0])

    def test_an_elf_program_named_txt_is_refused(self):
        with self.assertRaises(ValidationError):
            sniff(SimpleUploadedFile("notes.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 50))

    def test_the_browser_content_type_is_not_believed(self):
        fake = SimpleUploadedFile("photo.jpg", EXE_BYTES, content_type="image/jpeg")
        with self.assertRaises(ValidationError):
            sniff(fake, RECEIPT_KINDS)

    def test_text_that_is_not_utf8_is_refused(self):
        latin1 = SimpleUploadedFile("policy.txt", "Café".encode("latin-1"))
        with self.assertRaises(ValidationError) as refused:
            sniff(latin1)
        self.assertEqual(refused.exception.code, "unknown_type")

    def test_binary_junk_is_refused(self):
        with self.assertRaises(ValidationError):
            sniff(SimpleUploadedFile("a.txt", b"\x00\x01\x02\x03binary"))

    def test_a_receipt_may_not_be_text(self):
        self.assertNotIn(TEXT, RECEIPT_KINDS)
        self.assertIn(TEXT, DOCUMENT_KINDS)
        with self.assertRaises(ValidationError):
            sniff(text(), RECEIPT_KINDS)

    @override_settings(UPLOAD_MAX_BYTES=1024)
    def test_an_oversize_file_is_refused(self):
        big = SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * 2000)
        with self.assertRaises(ValidationError) as refused:
            sniff(big)
        self.assertEqual(refused.exception.code, "too_big")
        self.assertIn("the limit is", refused.exception.messages[0])

    def test_the_default_limit_is_ten_megabytes(self):
        self.assertEqual(settings.UPLOAD_MAX_BYTES, 10 * 1024 * 1024)

    def test_empty_files_are_refused(self):
        with self.assertRaises(ValidationError):
            sniff(SimpleUploadedFile("a.pdf", b""))


class WhereFilesLiveTest(SimpleTestCase):
    def test_private_files_are_outside_the_web_root(self):
        private = Path(settings.PRIVATE_FILES_ROOT).resolve()
        for served in (settings.MEDIA_ROOT, settings.STATIC_ROOT, *settings.STATICFILES_DIRS):
            served = Path(served).resolve()
            self.assertFalse(private.is_relative_to(served), served)

    def test_private_storage_has_no_public_address(self):
        from volunteering.uploads import private_storage

        with self.assertRaises(ValueError):
            private_storage.url("pack/1/x.pdf")
