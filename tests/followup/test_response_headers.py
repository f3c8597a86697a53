"""Pages with patient or complaint data are never stored by a browser or a
proxy (Cache-Control: no-store), and every response forbids the camera,
microphone, location and the like (Permissions-Policy)."""

import pytest
from django.urls import reverse

from complaints import services
from complaints.models import Category, Complaint
from followup.middleware import PERMISSIONS_POLICY
from tests.factories import DepartmentFactory, FollowUpCallFactory

NO_STORE = ("no-store", "no-cache")


def cache_headers(response) -> tuple[str | None, str | None]:
    return response.get("Cache-Control"), response.get("Pragma")


@pytest.fixture
def ward(nurse, head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse, head_nurse)
    return department


@pytest.fixture
def call(ward):
    return FollowUpCallFactory(discharge__department=ward, discharge__patient__name="<script>张伟</script>")


@pytest.fixture
def complaint(officer, ward):
    return services.complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description="<img src=x onerror=alert(1)> the nurse did not explain the medicines.",
        complainant_name="王女士",
        departments=[ward],
        owner=officer,
    )


@pytest.mark.parametrize(
    "url_name",
    [
        "calls:worklist",
        "calls:discharge_list",
        "calls:dashboard",
        "calls:dashboard_export_csv",
        "calls:dashboard_export_xlsx",
    ],
)
def test_calls_pages_and_exports_are_never_stored(client_for, head_nurse, call, url_name):
    response = client_for(head_nurse).get(reverse(url_name))
    assert response.status_code == 200
    assert cache_headers(response) == NO_STORE


def test_a_call_page_is_never_stored(client_for, nurse, call):
    response = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk]))
    assert response.status_code == 200
    assert cache_headers(response) == NO_STORE


def test_the_exports_are_attachments_and_never_stored(client_for, head_nurse, call):
    client = client_for(head_nurse)
    for url_name in ("calls:dashboard_export_csv", "calls:dashboard_export_xlsx"):
        response = client.get(reverse(url_name))
        assert response["Content-Disposition"].startswith("attachment;")
        assert cache_headers(response) == NO_STORE


@pytest.mark.parametrize("page", ["list", "detail", "report_csv"])
def test_complaint_pages_are_never_stored(client_for, officer, complaint, page):
    url = reverse("complaints:detail", args=[complaint.pk]) if page == "detail" else reverse(f"complaints:{page}")
    response = client_for(officer).get(url)
    assert response.status_code == 200
    assert cache_headers(response) == NO_STORE


def test_a_view_asking_for_caching_is_overruled(client_for, nurse, call):
    """keepalive says never_cache (max-age=0...): the rule replaces it with no-store."""
    response = client_for(nurse).get(reverse("keepalive"))
    assert response.status_code == 204
    assert cache_headers(response) == NO_STORE


@pytest.mark.django_db
def test_refusals_redirects_and_errors_are_never_stored_either(client, nurse):
    assert cache_headers(client.get(reverse("calls:worklist"))) == NO_STORE  # redirect to log-in
    assert cache_headers(client.get(reverse("login"))) == NO_STORE
    client.force_login(nurse)
    assert cache_headers(client.get("/calls/999999/")) == NO_STORE


@pytest.mark.django_db
def test_static_files_and_the_favicon_stay_cacheable(client, settings):
    settings.WHITENOISE_USE_FINDERS = settings.WHITENOISE_AUTOREFRESH = True  # no collectstatic in tests
    favicon = client.get(reverse("favicon"))
    assert favicon.status_code == 301
    assert "no-store" not in favicon.get("Cache-Control", "")
    static = client.get("/static/js/session-timeout.js")
    assert static.status_code == 200
    assert "no-store" not in static.get("Cache-Control", "")
    assert static["Permissions-Policy"] == PERMISSIONS_POLICY


@pytest.mark.django_db
def test_every_response_forbids_camera_microphone_location_payment_and_usb(client, nurse):
    client.force_login(nurse)
    for url in (reverse("login"), reverse("calls:worklist"), "/healthz", "/no-such-page/"):
        policy = client.get(url)["Permissions-Policy"]
        features = dict(item.split("=") for item in policy.split(", "))
        assert {k: features[k] for k in ("camera", "microphone", "geolocation", "payment", "usb")} == {
            "camera": "()",
            "microphone": "()",
            "geolocation": "()",
            "payment": "()",
            "usb": "()",
        }
