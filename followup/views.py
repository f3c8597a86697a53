from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import health
from .roles import home_url_for
from .sessions import inactive_message


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the home page of their role."""
    url = home_url_for(request.user)
    if url is None:
        return render(request, "followup/no_role.html", status=403)
    return redirect(url)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    problems = [p for p in (health.check_database(), health.check_broker()) if p]
    if problems:
        return JsonResponse({"status": "unavailable", "problems": problems}, status=503)
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin)."""
    return redirect(static("img/favicon.svg"), permanent=True)


@never_cache
@require_GET
def keepalive(request: HttpRequest) -> HttpResponse:
    """Touch the session (saved on every request) so inactivity expiry restarts."""
    return HttpResponse(status=204)


class LoginView(auth_views.LoginView):
    """Django's log-in page, saying why she is on it when the page she was on
    sent her here after inactivity (``?reason=inactive``)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.GET.get("reason") == "inactive":
            context["logged_out_reason"] = inactive_message(self.get_redirect_url())
        return context
