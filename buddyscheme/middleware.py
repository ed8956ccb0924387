import time

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, logout
from django.contrib.auth import get_user as django_get_user
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import DatabaseError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from .access import memberships_for_user, page_the_form_was_on
from .access_cache import access_load, access_store
from .audit import RequestMeta, request_meta_reset, request_meta_set
from .sessions import SESSION_REFRESHED_KEY

SESSION_MEMBERSHIP_KEY = "current_membership_id"
SESSION_STARTED_KEY = "session_started_at"


class OutageTolerantSessionMiddleware(SessionMiddleware):
    """Django's session middleware, except when the database drops after the page's work is done.

    Sessions are saved when they change, and at most once a minute for the idle timeout
    (IdleSessionRefreshMiddleware). If PostgreSQL goes away between the
    view committing (a check-in recorded) and the session being saved, Django reports the
    session as "interrupted" with a 400, and the buddy is told their check-in went wrong when it
    did not. Here the page the view made is kept, without refreshing the session (it still has
    its earlier expiry). A session that really was deleted meanwhile (logged out in another tab)
    still gets Django's 400.
    """

    def process_response(self, request, response):
        try:
            return super().process_response(request, response)
        except SessionInterrupted:
            try:
                still_there = request.session.exists(request.session.session_key)
            except DatabaseError:
                still_there = True  # the database is down: nothing says it was deleted
            if still_there:
                return response
            raise


def session_refresh_due(session, now: float) -> bool:
    """True when the session's idle expiry should be pushed on: more than
    SESSION_IDLE_REFRESH_SECONDS since it last was (or never, or a clock that went back)."""
    refreshed = session.get(SESSION_REFRESHED_KEY)
    if not isinstance(refreshed, int | float):
        return True
    return not 0 <= now - refreshed <= settings.SESSION_IDLE_REFRESH_SECONDS


class IdleSessionRefreshMiddleware:
    """The 30-minute idle timeout, without writing the session on every request.

    A session's expiry (the database row's expire_date and the cache entry's lifetime) is set
    SESSION_COOKIE_AGE ahead each time the session is saved. Saving it on every request
    (SESSION_SAVE_EVERY_REQUEST) costs a database write per page; here it is saved only when
    it changed or more than a minute has passed since the last refresh, so someone active
    stays signed in and someone idle is signed out between 29 and 30 minutes after their last
    request. Runs after the view: a view that logged out leaves an empty session alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # No cookie, no session to keep alive: nothing is read for an anonymous visitor.
        if session is None or session.session_key is None:
            return response
        now = time.time()
        # Reading it loads the session; one that expired, or was never there, is then empty
        # and is not brought back to life with nothing in it but a timestamp.
        if session_refresh_due(session, now) and not session.is_empty():
            session[SESSION_REFRESHED_KEY] = now
        return response


def session_started(request, **kwargs):
    """user_logged_in: the absolute timeout counts from now, and the idle expiry was just set
    by the login's own save, so the next requests need not write the session again."""
    session = getattr(request, "session", None)
    if session is None:
        return
    now = time.time()
    session[SESSION_STARTED_KEY] = now
    session[SESSION_REFRESHED_KEY] = now


def access_cached_at_login(request, user, **kwargs):
    """user_logged_in: the user and their memberships go into the cache now, so the first
    page after login already finds them there (see access_cache.py)."""
    if getattr(user, "pk", None) is not None:
        access_store(user, memberships_for_user(user))


class AbsoluteSessionTimeoutMiddleware:
    """Log out 12 hours after login however active the session is (idle timeout is the cookie age)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            started = request.session.get(SESSION_STARTED_KEY)
            now = time.time()
            if started is None:
                request.session[SESSION_STARTED_KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                logout(request)
                if request.method != "POST":
                    return redirect(reverse("account_login") + "?expired=1")
                # A form sent as the session ends goes on, signed out: a safety button works
                # by its token, and anything else meets the login with where it came from.
        return self.get_response(request)


def _user_for(request):
    """Django's auth.get_user, with the user and their memberships from the cache when there.

    A cached user passes the same check of the session as Django's (the hash of the password
    stored in the session at login must still match); anything else (no entry, a hash that
    does not match, which Django then checks against the fallback secrets or flushes) goes
    the ordinary way, and what it loads is cached for the next request.
    """
    session = request.session
    user_id = session.get(SESSION_KEY)
    backend_path = session.get(BACKEND_SESSION_KEY)
    if user_id is not None and backend_path in settings.AUTHENTICATION_BACKENDS:
        cached = access_load(user_id)
        if cached is not None:
            user, memberships = cached
            session_hash = session.get(HASH_SESSION_KEY)
            if (
                str(user.pk) == str(user_id)
                and session_hash
                and constant_time_compare(session_hash, user.get_session_auth_hash())
            ):
                request.cached_memberships = memberships
                return user
    user = django_get_user(request)
    if user.is_authenticated:
        memberships = list(memberships_for_user(user))
        access_store(user, memberships)  # as loaded, before anything else touches them
        request.cached_memberships = memberships
    return user


class CachedAuthenticationMiddleware(AuthenticationMiddleware):
    """request.user as Django sets it, loaded through _user_for (the cache first)."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user_for(request))


def _current_membership(request):
    if not request.user.is_authenticated:
        request.all_memberships = []
        return None
    memberships = getattr(request, "cached_memberships", None)
    if memberships is None:
        memberships = list(memberships_for_user(request.user))
    request.all_memberships = memberships
    chosen = request.session.get(SESSION_MEMBERSHIP_KEY)
    for membership in memberships:
        if membership.pk == chosen:
            return membership
    # No choice yet: coordinators land on their dashboard, then buddies, then participants;
    # among several schemes, the one they joined first.
    rank = {"coordinator": 0, "buddy": 1, "participant": 2}
    return min(memberships, key=lambda m: (rank.get(m.role, 9), m.joined_at, m.pk), default=None)


class CurrentMembershipMiddleware:
    """request.membership: the (scheme, role) the user is acting in, chosen from the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = _current_membership(request)
        # Times on every page are the scheme's local time (stored in UTC).
        if request.membership is not None:
            timezone.activate(request.membership.scheme.zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class NoStoreForLoggedInMiddleware:
    """Pages for a logged-in person may hold personal data: never let a shared device cache them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, no_cache=True, private=True, max_age=0)
        return response


PAGE_METHODS = ("GET", "HEAD", "POST")


class PageMethodsMiddleware:
    """405 for any method but GET, HEAD and POST. These are server-rendered pages and forms:
    no view here takes PUT, PATCH, DELETE or OPTIONS, and third-party views (the admin,
    allauth) would otherwise treat them as a GET or a POST."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in PAGE_METHODS:
            return HttpResponseNotAllowed(PAGE_METHODS)
        return self.get_response(request)


class FriendlyWrongMethodMiddleware:
    """A GET on an address that only takes POST (a button's: from a bookmark, the browser's
    history, a reload) gets a page that says so and leads back, not an empty 405.

    Last in the list, so the page is rendered inside the session, the user, the membership,
    messages and CSRF like any other page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            isinstance(response, HttpResponseNotAllowed)
            and request.method in ("GET", "HEAD")
            and not response.content
        ):
            page = render(request, "405.html", {"back": page_the_form_was_on(request)}, status=405)
            page["Allow"] = response["Allow"]
            return page
        return response


class AuditRequestMetaMiddleware:
    """The request's IP address and browser, for the audit rows its services write.

    Set in a context variable (see buddyscheme/audit.py for why) and reset afterwards, so
    nothing carries over to the next request served by the same thread.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = request_meta_set(RequestMeta.from_request(request))
        try:
            return self.get_response(request)
        finally:
            request_meta_reset(token)


def _has_nul(query) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in query.lists()
    )


class RefuseNulBytesMiddleware:
    """A NUL byte in any form or query value is refused once, here, with a 400 page.

    Nobody types one: it comes from scanners and broken clients. PostgreSQL refuses NUL in
    text ("A string literal cannot contain NUL"), so a search or a saved note carrying one would
    be a 500 there and stored as-is on SQLite. Uploaded files are not looked at (a PDF has NULs).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return render(request, "400.html", status=400)
        return self.get_response(request)
