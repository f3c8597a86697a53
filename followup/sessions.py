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
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
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
            # What a form posted is lost either way: after log-in, go back to the page, or home.
            return redirect_to_login(request.get_full_path() if request.method == "GET" else reverse("home"), login_url)
        return self.get_response(request)
