"""A session's absolute lifetime, beside the inactivity expiry.

SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST logs a user out after a
spell of inactivity, but any request restarts that clock: a tab left open on
a page that polls (or whose "stay logged in" button is pressed) would keep a
session alive for ever, and a stolen session cookie with it. So the log-in
time is stored in the session when the user logs in, and
``SessionLifetimeMiddleware`` logs the user out (the session is flushed) once
SESSION_ABSOLUTE_SECONDS have passed since then, however busy the session has
been, and sends them to the log-in page with a message saying why.

A session without a log-in time (made before this existed) counts as expired:
it fails closed, at the price of one extra log-in.

Coming back after a log-in (issue 17): a form sent after the session ended
(inactivity, or the maximum length) reaches ``LoginRequiredMiddleware`` or
``SessionLifetimeMiddleware`` as a POST. Django would send the user to log in
with ``next`` set to the POST-only URL, which then answers a bare 405 to the
GET after the log-in. Here the log-in page says why she must log in again,
and ``next`` is the page that showed the form when the view names it
(``return_after_login``), else the home page. A script's request (``Accept:
application/json``, e.g. the call screen's autosave) gets 401 instead of the
log-in page.
"""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth import middleware as auth_middleware
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LOGGED_IN_AT = "followup_logged_in_at"


@receiver(user_logged_in)
def _remember_log_in_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[LOGGED_IN_AT] = int(time.time())


def session_expired(request: HttpRequest) -> bool:
    logged_in_at = request.session.get(LOGGED_IN_AT)
    if not isinstance(logged_in_at, int):
        return True
    return time.time() - logged_in_at >= settings.SESSION_ABSOLUTE_SECONDS


def lifetime_message() -> str:
    seconds = settings.SESSION_ABSOLUTE_SECONDS
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext(
            "Your session reached its maximum length of %(count)d hour; please log in again.",
            "Your session reached its maximum length of %(count)d hours; please log in again.",
            hours,
        ) % {"count": hours}
    minutes = max(1, seconds // 60)
    return ngettext(
        "Your session reached its maximum length of %(count)d minute; please log in again.",
        "Your session reached its maximum length of %(count)d minutes; please log in again.",
        minutes,
    ) % {"count": minutes}


def return_after_login(view_name: str | None = None, *, keeps_typing: bool = False) -> Callable:
    """View decorator: where a user comes back to after logging in again when
    her session ended before a request to this view arrived.

    ``view_name``: for a view that takes only POST, the page that shows its
    form (with the same URL arguments), which a GET reaches; None for a page.
    ``keeps_typing``: the page keeps what she typed as a draft (the call
    screen), so the log-in page can tell her it is not lost."""

    def decorate(view: Callable) -> Callable:
        view.after_login_view = view_name
        view.keeps_typing = keeps_typing
        return view

    return decorate


def answers_json(view: Callable) -> Callable:
    """View decorator: a script's endpoint (the call screen's autosave). Once
    the session has ended it answers 401 in JSON, never the log-in page nor a
    "you were logged out" message for it, even to a request that does not say
    it wants JSON."""
    view.answers_json = True
    return view


TYPING_SENT = "followup_typing_sent"


def typing_sent(request: HttpRequest, key: str) -> None:
    """A form holding what was typed on a page was accepted: the next page
    tells the browser to drop its copy of that typing (``key``, as the page
    named it; static/js/call-draft.js)."""
    sent = request.session.get(TYPING_SENT, [])
    request.session[TYPING_SENT] = [*sent[-9:], key]


def pop_typing_sent(request: HttpRequest) -> list[str]:
    session = getattr(request, "session", None)
    if session is None or TYPING_SENT not in session:
        return []
    value = session.pop(TYPING_SENT)
    return [key for key in value if isinstance(key, str)] if isinstance(value, list) else []


def _view_of(path: str):
    try:
        return resolve(path)
    except Resolver404:
        return None


def keeps_typing(path: str) -> bool:
    """Whether the page at ``path`` keeps what was typed on it (a draft)."""
    match = _view_of(path)
    return bool(match and getattr(match.func, "keeps_typing", False))


def after_login_path(request: HttpRequest) -> str:
    """Where to go after logging in again: the page itself for a GET; for a
    POST, the page its view names (return_after_login), else home."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    match = _view_of(request.path_info)
    view_name = getattr(match.func, "after_login_view", None) if match else None
    if view_name:
        return reverse(view_name, kwargs=match.kwargs)
    return reverse("home")


def inactivity_minutes() -> int:
    return max(1, settings.SESSION_COOKIE_AGE // 60)


def not_sent_message(path: str) -> str:
    """The log-in page's explanation for a form sent after the session ended."""
    minutes = inactivity_minutes()
    if keeps_typing(path):
        return ngettext(
            "You were logged out before this was sent (a session ends after %(count)d minute without activity). "
            "Nothing is lost: log in again and you will be back on the page with what you typed.",
            "You were logged out before this was sent (a session ends after %(count)d minutes without activity). "
            "Nothing is lost: log in again and you will be back on the page with what you typed.",
            minutes,
        ) % {"count": minutes}
    return ngettext(
        "You were logged out before this was sent (a session ends after %(count)d minute without activity), "
        "so it was not saved. Log in again to carry on.",
        "You were logged out before this was sent (a session ends after %(count)d minutes without activity), "
        "so it was not saved. Log in again to carry on.",
        minutes,
    ) % {"count": minutes}


def inactive_message(next_path: str) -> str:
    """The log-in page's explanation when the page itself sent her there on
    inactivity (static/js/session-timeout.js adds ?reason=inactive)."""
    minutes = inactivity_minutes()
    text = ngettext(
        "You were logged out after %(count)d minute without activity. Log in again to go back to the page you were on.",
        "You were logged out after %(count)d minutes without activity. "
        "Log in again to go back to the page you were on.",
        minutes,
    ) % {"count": minutes}
    if next_path and keeps_typing(next_path.split("?", 1)[0]):
        text = f"{text} {_('What you had typed there is kept and will be back in the form.')}"
    return text


def wants_json(request: HttpRequest, view_func=None) -> bool:
    """A script's request: it asks for JSON, or its view answers only JSON."""
    if "application/json" in request.headers.get("Accept", ""):
        return True
    if view_func is None:
        match = _view_of(request.path_info)
        view_func = match.func if match else None
    return bool(getattr(view_func, "answers_json", False))


def logged_out_json() -> JsonResponse:
    return JsonResponse({"error": "logged_out", "message": _("You are logged out. Log in again to save.")}, status=401)


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's, with the way back after log-in described in this module's
    docstring (a POST returns to its form's page with an explanation; a
    script's request gets 401)."""

    def handle_no_permission(self, request: HttpRequest, view_func) -> HttpResponse:
        if wants_json(request, view_func):
            return logged_out_json()
        if request.method in ("GET", "HEAD"):
            return super().handle_no_permission(request, view_func)
        target = after_login_path(request)
        messages.warning(request, not_sent_message(target))
        return redirect_to_login(target, reverse(settings.LOGIN_URL), self.get_redirect_field_name(view_func))


class SessionLifetimeMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and session_expired(request):
            logout(request)
            messages.info(request, lifetime_message())
            login_url = reverse(settings.LOGIN_URL)
            if request.headers.get("HX-Request") == "true" or request.path == reverse("keepalive"):
                # A fragment or the keep-alive ping: tell the page to go to the log-in page itself.
                response = HttpResponse(_("Logged out: the session reached its maximum length."), status=401)
                response["HX-Redirect"] = login_url
                return response
            if wants_json(request):
                return logged_out_json()
            # After log-in, back to the page (for a POST, the page of its form, or home).
            return redirect_to_login(after_login_path(request), login_url)
        return self.get_response(request)
