"""Response headers and request checks that apply to every page.

``SecurityHeadersMiddleware`` (just after Django's SecurityMiddleware, so it
sees every response, WhiteNoise's static files included):

- ``Permissions-Policy`` on every response: the desk never uses the camera,
  microphone, location, payment or USB, so no page (nor anything injected
  into one) may ask for them.
- ``Cache-Control: no-store`` and ``Pragma: no-cache`` on every response
  Django renders, whoever asks: pages, fragments, exports, redirects and
  error pages alike. Patient and complaint data must not stay in a shared
  ward computer's browser cache or in a proxy, and deciding page by page which
  response shows such data is how one gets missed, so the rule is the other
  way round: nothing is cacheable except the static files (served by
  WhiteNoise under STATIC_URL, fingerprinted and cached for long) and the few
  views in ``CACHEABLE_VIEWS`` that show nothing about anyone. A view's own
  Cache-Control is replaced, not merged.

``RejectNulMiddleware`` answers 400 with the readable error page
(followup.errors.bad_request) when the path, the query string, a form field
or a header holds a NUL character: no database stores one (PostgreSQL
refuses it with an error), and no person types one.
"""

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "bluetooth",
        "hid",
        "midi",
        "display-capture",
        "screen-wake-lock",
        "xr-spatial-tracking",
    )
)
# URL names whose responses may be cached: they show nothing about anyone.
CACHEABLE_VIEWS = {"favicon"}


def _static_prefix() -> str:
    url = settings.STATIC_URL or ""
    return url if url.startswith("/") else "/" + url


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = _static_prefix()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response["Permissions-Policy"] = PERMISSIONS_POLICY
        if not self._cacheable(request):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response

    def _cacheable(self, request: HttpRequest) -> bool:
        if request.path_info.startswith(self.static_prefix):
            return True
        match = getattr(request, "resolver_match", None)
        return match is not None and match.view_name in CACHEABLE_VIEWS


class NulCharacterInRequest(SuspiciousOperation):
    """A NUL character in the path, the query string, a form field or a header."""


def _has_nul(values) -> bool:
    return any("\x00" in value for value in values if isinstance(value, str))


def request_has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or "\x00" in request.META.get("QUERY_STRING", ""):
        return True
    if _has_nul(request.headers.values()):
        return True
    if _has_nul(key for key in request.GET) or _has_nul(v for _, values in request.GET.lists() for v in values):
        return True
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        # Reading POST here parses the body once, as CsrfViewMiddleware would.
        post = request.POST
        if _has_nul(key for key in post) or _has_nul(v for _, values in post.lists() for v in values):
            return True
    return False


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request_has_nul(request):
            raise NulCharacterInRequest("NUL character in the request")
        return self.get_response(request)
