from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from . import views

admin.site.site_header = admin.site.site_title = _("Follow-up desk administration")
admin.site.index_title = _("Configuration")

# Oversized or malformed requests (SuspiciousOperation) get a page people can read.
handler400 = "followup.errors.bad_request"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/keepalive/", views.keepalive, name="keepalive"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("calls/", include("calls.urls")),
    path("complaints/", include("complaints.urls")),
    path("interop/", include("interop.urls")),
    path("admin/", admin.site.urls),
    # The patient's self-report questionnaire and the SMS gateway's callbacks (no log-in).
    path("", include("calls.urls_self_report")),
]
