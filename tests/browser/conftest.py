"""Headless Chromium (Debian's, never a downloaded one) driven by Playwright, at phone size."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import sync_playwright

from ..factories import PASSWORD

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


# Module scope, not session: Playwright's sync API allows one running instance at a time, and
# tests/test_browser.py starts its own.
@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def open_phone(chromium, live_server, settings, transactional_db):
    """A factory of phone-sized pages on the live server (one per person)."""
    # The live server speaks plain HTTP; production cookies are HTTPS-only.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    contexts = []

    def open_page(size=None):
        context = chromium.new_context(base_url=live_server.url, **(size or PHONE))
        contexts.append(context)
        page = context.new_page()
        # Script errors, and anything the Content-Security-Policy blocked, count as problems too.
        page.problems = []
        page.on(
            "console",
            lambda message: (
                page.problems.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, email, totp_secret=None):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    if totp_secret:
        page.wait_for_url("**/2fa/authenticate/")
        if 30 - time.time() % 30 < 2:
            time.sleep(2)  # a code computed just before it rolls over could arrive stale
        code = format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30))
        page.fill("input[name=code]", code)
        page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def serious_accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations, plus script and CSP errors (empty is good)."""
    violations = Axe().run(page).response["violations"]
    return list(getattr(page, "problems", [])) + [
        f"{v['id']} ({v['impact']}): {v['help']} {v['helpUrl']} on {[node['target'] for node in v['nodes']][:3]}"
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def screenshot(page, name):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def _celery_background(django_db_setup, tmp_path_factory):
    """The module's worker and beat (tests/browser/background.py), stopped after its last test."""
    from .background import Background

    background = Background(tmp_path_factory.mktemp("background"))
    yield background
    background.stop()


@pytest.fixture
def worker_and_beat(_celery_background, live_server, transactional_db):
    """A real Celery worker and beat on the live server's database, and the test's broker and
    cache: started for the first test that asks (a test that moved the clock has them stopped
    after it, before the database is emptied; the next starts a fresh pair). The test's own
    process queues tasks on the broker instead of running them in-process."""
    from django.db import connection

    from buddyscheme.celery import app

    background = _celery_background
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        background.forget_sent()
        if not background.running:
            background.start(connection.settings_dict, live_server.url)
        yield background
    finally:
        app.conf.task_always_eager = eager
        if background.travelled:
            background.stop()
