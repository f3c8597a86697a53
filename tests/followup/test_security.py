import pytest
from django.urls import reverse

from followup.models import AuditEvent
from tests.factories import TEST_PASSWORD


def test_five_failed_log_ins_lock_the_account_even_for_the_right_password(client, nurse, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": nurse.username, "password": "not-my-password"})
    response = client.post(reverse("login"), {"username": nurse.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "Account locked for now" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_log_in_resets_the_failure_count(client, nurse, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("login"), {"username": nurse.username, "password": "not-my-password"})
    assert client.post(reverse("login"), {"username": nurse.username, "password": TEST_PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": nurse.username, "password": "not-my-password"})
    assert client.post(reverse("login"), {"username": nurse.username, "password": TEST_PASSWORD}).status_code == 302


def test_pages_carry_a_content_security_policy_without_inline_script(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy


def test_pages_have_no_inline_script_or_style(client_for, head_nurse):
    html = client_for(head_nurse).get(reverse("calls:worklist")).content.decode()
    assert "<script>" not in html
    assert html.count("<script src=") == html.count("<script")
    assert " style=" not in html


def test_session_expires_after_the_configured_inactivity(client_for, nurse, settings):
    client = client_for(nurse)
    html = client.get(reverse("calls:worklist")).content.decode()
    assert f'data-session-timeout="{settings.SESSION_COOKIE_AGE}"' in html
    assert 'id="session-warning"' in html
    response = client.get(reverse("keepalive"))
    assert response.status_code == 204
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE


@pytest.mark.django_db
def test_keepalive_needs_a_session(client):
    assert client.get(reverse("keepalive")).status_code == 302


def test_log_ins_and_failures_are_in_the_audit_trail(client, nurse):
    client.post(reverse("login"), {"username": nurse.username, "password": "wrong-one"}, REMOTE_ADDR="10.1.2.3")
    client.post(reverse("login"), {"username": nurse.username, "password": TEST_PASSWORD}, REMOTE_ADDR="10.1.2.3")
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_name", "ip_address"))
    assert events == [("login_failed", "alice", "10.1.2.3"), ("login", "alice", "10.1.2.3")]


def test_viewing_a_calls_page_is_recorded_with_who_and_where(client_for, nurse):
    client_for(nurse).get(reverse("calls:worklist"), REMOTE_ADDR="10.9.8.7")
    event = AuditEvent.objects.get(action="view")
    assert (event.actor, event.url_name, event.ip_address, event.status_code) == (
        nurse,
        "calls:worklist",
        "10.9.8.7",
        200,
    )


def test_refused_pages_are_not_recorded_as_views(client_for, officer):
    assert client_for(officer).get(reverse("calls:worklist")).status_code == 403
    assert AuditEvent.objects.filter(action="view").count() == 0


def test_audit_trail_is_searchable_but_read_only_in_the_admin(client_for, admin_user, nurse):
    client_for(nurse).get(reverse("calls:worklist"))
    client = client_for(admin_user)
    event = AuditEvent.objects.get(action="view")
    listing = client.get(reverse("admin:followup_auditevent_changelist"), {"q": "alice"})
    assert listing.status_code == 200
    assert "calls:worklist" in listing.content.decode()
    assert client.get(reverse("admin:followup_auditevent_delete", args=[event.pk])).status_code == 403
    client.post(reverse("admin:followup_auditevent_change", args=[event.pk]), {"actor_name": "mallory"})
    event.refresh_from_db()
    assert event.actor_name == "alice"


def test_the_notification_badge_is_not_an_audited_view(client_for, officer):
    client_for(officer).get(reverse("complaints:notification_badge"))
    assert AuditEvent.objects.filter(action="view").count() == 0


def test_opening_a_complaint_records_which_complaint(client_for, officer):
    from complaints.models import Category, Complaint
    from complaints.services import complaint_create

    complaint = complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description="Rude at the pharmacy window.",
        complainant_name="Ms Li",
        departments=[],
        owner=officer,
    )
    client_for(officer).get(reverse("complaints:detail", args=[complaint.pk]))
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id) == ("complaint", str(complaint.pk))


def test_no_template_marks_text_safe_or_turns_escaping_off():
    from pathlib import Path

    from django.conf import settings as django_settings

    offenders = [
        str(path.relative_to(django_settings.BASE_DIR))
        for path in Path(django_settings.BASE_DIR, "templates").rglob("*.html")
        if "|safe" in path.read_text(encoding="utf-8") or "autoescape off" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
