"""A buddy's phone for the fault tests: cookies, the Today page's forms, and a press that is
repeated (same form, same idempotency key) until the app says it counted."""

import html
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request

FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
PRESS_AGAIN = "We could not save that — please press again"


class Phone:
    def __init__(self, base: str, session_key: str | None = None):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        if session_key:
            self.set_cookie("sessionid", session_key)
        # Every answer to a press: (action, HTTP status or the connection error, told to
        # press again?)
        self.told: list[tuple[str, object, bool]] = []

    def set_cookie(self, name, value):
        host = urllib.parse.urlsplit(self.base).hostname
        self.jar.set_cookie(
            http.cookiejar.Cookie(
                0, name, value, None, False, host, False, False, "/", True, False,
                None, False, None, None, {},
            )
        )  # fmt: skip

    def request(self, path, data=None, timeout=20):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, response.read().decode(), response.url
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.url
        except (urllib.error.URLError, OSError) as error:
            return type(error).__name__, "", ""

    def forms(self, page: str) -> dict[str, dict]:
        """The page's POST forms by action path, with their hidden fields."""
        return {
            html.unescape(action): {
                name: html.unescape(value) for name, value in HIDDEN.findall(inner)
            }
            for action, inner in FORM.findall(page)
        }

    def today(self, deadline: float) -> str:
        while True:
            status, page, _ = self.request("/today/")
            if status == 200:
                return page
            if time.monotonic() > deadline:
                raise AssertionError(f"Today did not load: {status}")
            time.sleep(0.5)

    def press(self, action_path: str, fields: dict, label: str, deadline: float):
        """POST until the app answers with a page that is not "press again"; returns it."""
        while True:
            status, page, url = self.request(action_path, fields)
            again = PRESS_AGAIN in page
            self.told.append((label, status, again))
            if status == 200 and not again:
                return page, url
            if time.monotonic() > deadline:
                raise AssertionError(f"{label}: never counted, last answer {status}")
            time.sleep(0.5)
