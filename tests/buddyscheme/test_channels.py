"""The HTTP SMS adapter, against a provider stand-in on this machine's loopback."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from buddyscheme.channels import ChannelError, TwilioSMSBackend
from buddyscheme.models import Notification, Role

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Authorization"], parse_qs(body.decode())))
            status = 200 if "fail" not in self.path else 503
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"status": "queued"}).encode())

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()


def notification():
    member = MembershipFactory(role=Role.COORDINATOR)
    member.user.profile.phone = "07700 900456"
    member.user.profile.save()
    return Notification.objects.create(
        scheme=member.scheme,
        channel="sms",
        recipient=member.user,
        template="all_clear",
        dedupe_key="x",
    )


def test_the_provider_gets_the_number_the_words_and_credentials(provider, settings):
    base, received = provider
    settings.SMS_ACCOUNT_ID, settings.SMS_AUTH_TOKEN, settings.SMS_FROM = (
        "AC123",
        "secret",
        "+447700900000",
    )
    settings.SMS_API_URL = base + "/"
    TwilioSMSBackend().send(notification(), "All clear, ref 7.")
    path, authorization, form = received[0]
    assert path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert authorization.startswith("Basic ")
    assert form == {
        "To": ["+447700900456"],
        "From": ["+447700900000"],
        "Body": ["All clear, ref 7."],
    }


def test_a_provider_error_becomes_a_channel_error_for_the_outbox_to_retry(provider, settings):
    base, _ = provider
    settings.SMS_API_URL = base + "/fail"
    with pytest.raises(ChannelError):
        TwilioSMSBackend().send(notification(), "hello")


def test_the_file_backend_appends_one_json_line_a_text(settings, tmp_path):
    from buddyscheme.channels import FileSMSBackend

    settings.SMS_FILE_PATH = str(tmp_path / "texts.jsonl")
    sms = notification()
    FileSMSBackend().send(sms, "Riverside: all clear")
    FileSMSBackend().send(sms, "Riverside: a second\nline")
    lines = (tmp_path / "texts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"notification": sms.pk, "to": "+447700900456", "text": "Riverside: all clear"},
        {"notification": sms.pk, "to": "+447700900456", "text": "Riverside: a second\nline"},
    ]


def test_the_file_backend_that_cannot_write_is_a_channel_error(settings, tmp_path):
    from buddyscheme.channels import FileSMSBackend

    settings.SMS_FILE_PATH = str(tmp_path / "no-such-folder" / "texts.jsonl")
    with pytest.raises(ChannelError, match="sms: FileNotFoundError"):
        FileSMSBackend().send(notification(), "Riverside: all clear")
