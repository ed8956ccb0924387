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

    def test_a_name_that_says_one_kind_over_contents_of_another_is_refused(self):
        """Text (or HTML) called .pdf, a PDF called .jpg, a PNG called .jpg: each is what its
        bytes say, and the name says otherwise, so it is refused, saying both."""
        cases = [
            ("policy.pdf", b"<html><script>alert(1)</script></html>\n", DOCUMENT_KINDS, "PDF"),
            ("receipt.jpg", PDF_BYTES, RECEIPT_KINDS, "JPEG photo"),
            ("receipt.JPEG", PNG_BYTES, RECEIPT_KINDS, "JPEG photo"),
            ("photo.png", JPEG_BYTES, RECEIPT_KINDS, "PNG image"),
            ("notes.txt", PDF_BYTES, DOCUMENT_KINDS, "plain text"),
        ]
        for name, content, kinds, claimed in cases:
            with self.subTest(name), self.assertRaises(ValidationError) as refused:
                sniff(SimpleUploadedFile(name, content), kinds)
            self.assertEqual(refused.exception.code, "name_mismatch")
            self.assertIn(f"name says it is a {claimed}", refused.exception.messages[0])

    def test_a_name_without_a_known_ending_is_judged_by_its_contents_alone(self):
        self.assertEqual(sniff(SimpleUploadedFile("scan", PDF_BYTES)), PDF)
        self.assertEqual(sniff(SimpleUploadedFile("IMG_0042.JPG", JPEG_BYTES)), JPEG)


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


@override_settings(UPLOAD_MAX_BYTES=64 * 1024)
class UploadStopsAtTheLimitTest(SimpleTestCase):
    """The size limit is applied while the file arrives, not after it is all stored."""

    def _parse(self, size):
        from django.core.handlers.wsgi import WSGIRequest
        from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart

        upload = SimpleUploadedFile("receipt.pdf", PDF_BYTES + b"0" * (size - len(PDF_BYTES)))
        body = encode_multipart(BOUNDARY, {"receipt": upload})
        request = WSGIRequest(
            {
                "REQUEST_METHOD": "POST",
                "CONTENT_TYPE": MULTIPART_CONTENT,
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": FakePayload(body),
            }
        )
        return request.FILES["receipt"]

    def test_a_file_past_the_limit_keeps_no_content_and_is_refused_with_its_size(self):
        received = self._parse(3 * 64 * 1024)
        self.assertEqual(received.size, 3 * 64 * 1024)
        self.assertEqual(received.read(), b"", "nothing of it was kept")
        with self.assertRaises(ValidationError) as refused:
            sniff(received, RECEIPT_KINDS)
        self.assertEqual(refused.exception.code, "too_big")

    def test_a_file_under_the_limit_arrives_whole(self):
        received = self._parse(32 * 1024)
        self.assertEqual(len(received.read()), 32 * 1024)
        self.assertEqual(sniff(received, RECEIPT_KINDS), PDF)

    def test_form_fields_and_memory_limits_are_set(self):
        self.assertEqual(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 2_621_440)
        self.assertEqual(settings.FILE_UPLOAD_MAX_MEMORY_SIZE, 2_621_440)
        self.assertEqual(
            settings.FILE_UPLOAD_HANDLERS[0], "volunteering.uploads.SizeLimitUploadHandler"
        )
