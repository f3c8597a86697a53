"""Error pages people can read, and debug pages that show no password.

``bad_request`` is the 400 handler (followup/urls.py ``handler400``). Django
calls it for every SuspiciousOperation: a form too large for
DATA_UPLOAD_MAX_MEMORY_SIZE or with too many fields, a NUL character
(followup.middleware.RejectNulMiddleware), a malformed cookie... Each gets a
page in the site's layout that says what went wrong and to go back. A body too
large answers 413 (Content Too Large), everything else 400.

``SafeReporterFilter`` (settings.DEFAULT_EXCEPTION_REPORTER_FILTER) hides, on
top of what Django hides (settings and environment variables whose name holds
KEY, SECRET, PASS, TOKEN...), the password inside any URL: DATABASE_URL,
CELERY_BROKER_URL, CELERY_RESULT_BACKEND and EMAIL_URL carry one in their
value, under a name Django does not recognise. It applies to settings, to the
request's META (runserver copies the environment there) and to the local
variables of the traceback.
"""

import re

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.csrf import requires_csrf_token

from .middleware import NulCharacterInRequest

# scheme://user:password@host -> the password is everything between the first
# ":" of the user part and the last "@" before the host.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^/\s]*)@", re.IGNORECASE)


def hide_url_passwords(value: str, substitute: str = SafeExceptionReporterFilter.cleansed_substitute) -> str:
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}{substitute}@", value)


class SafeReporterFilter(SafeExceptionReporterFilter):
    def cleanse_setting(self, key, value):
        cleansed = super().cleanse_setting(key, value)
        if type(cleansed) is str:
            return hide_url_passwords(cleansed, self.cleansed_substitute)
        return cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, hide_url_passwords(value, self.cleansed_substitute) if type(value) is str else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    status = 400
    if isinstance(exception, RequestDataTooBig):
        status = 413
        message = _(
            "What you sent was too large to save: a text was too long or a file too big. "
            "Go back, shorten the text or choose a smaller file, and try again."
        )
    elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        message = _("The form you sent had too many fields or files. Go back and send fewer at a time.")
    elif isinstance(exception, NulCharacterInRequest):
        message = _(
            "The address or the form held an invisible control character (NUL) that cannot be saved. "
            "Go back, retype the text instead of pasting it, and try again."
        )
    else:
        message = _("The request could not be understood. Go back and try again.")
    return render(request, "400.html", {"message": message}, status=status)


def bad_parameter(request: HttpRequest, message: str) -> HttpResponse:
    """A page's query parameter that is malformed or out of range (a report's
    quarter...): 400 with the reason in plain words, in the site's layout."""
    return render(request, "400.html", {"message": message}, status=400)
