"""Walk every URL of the app with every role and fail on any page a role
reaches that it should not: the role's pages answer, everyone else's are
refused, and objects of another department are not found (404) for nurses
and head nurses. A new URL with an unknown argument makes this test fail
until it says which object the argument names."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from calls.models import ClinicalAlert, DeathRecord, FollowUpCall, SpotCheck
from calls.self_report_tokens import new_token
from calls.services.cancellation import patient_mark_deceased
from complaints import services as complaint_services
from complaints.models import Category, Complaint
from followup.models import AuditEvent
from followup.roles import Role
from followup.services import notify
from tests.factories import (
    DepartmentFactory,
    FollowUpCallFactory,
    ScriptVersionFactory,
    UserFactory,
)
from tests.pagination import Pager, pager

ROLE_OF = {
    "nurse": Role.NURSE,
    "head_nurse": Role.HEAD_NURSE,
    "officer": Role.COMPLAINT_OFFICER,
    "admin_user": Role.ADMIN,
    "no_role_user": None,
}
# Pages open to anyone logged in, whatever the role.
ANY_USER = {"home", "keepalive", "logout", "password_change", "password_change_done"}
SKIPPED_NAMESPACES = {"admin"}  # walked by test_access_walk_admin


def url_patterns(patterns=None, prefix="", namespace=None):
    for p in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns not in SKIPPED_NAMESPACES:
                yield from url_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield (f"{namespace}:{p.name}" if namespace else p.name), p


@pytest.fixture
def world(nurse, head_nurse, officer, admin_user, no_role_user):
    """Our nurses work in cardiology; every object below belongs to oncology."""
    cardiology = DepartmentFactory(code="CARD")
    cardiology.staff.add(nurse, head_nurse)
    oncology = DepartmentFactory(code="ONCO")
    oncology_nurse = UserFactory(username="olga", roles=[Role.NURSE])
    oncology.staff.add(oncology_nurse)
    call = FollowUpCallFactory(discharge__department=oncology, assigned_to=oncology_nurse)
    done = FollowUpCallFactory(
        discharge__department=oncology, status=FollowUpCall.Status.COMPLETED, completed_at=timezone.now()
    )
    alert = ClinicalAlert.objects.create(
        call=done, raised_at=timezone.now(), due_at=timezone.now() + dt.timedelta(hours=24), reason="chest pain"
    )
    complaint = complaint_services.complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description="Nobody explained the bill.",
        complainant_name="Ms Wu",
        departments=[oncology],
        owner=officer,
    )
    evidence = complaint_services.complaint_add_evidence(
        complaint=complaint, by=officer, upload=SimpleUploadedFile("note.txt", b"call notes", "text/plain")
    )
    promise = complaint_services.promise_add(
        complaint=complaint, by=officer, what="Call back", owner=officer, due_on=timezone.localdate()
    )
    spot_check = SpotCheck.objects.create(call=done, week=timezone.localdate(), sampled_at=timezone.now())
    died = FollowUpCallFactory(discharge__department=oncology, assigned_to=oncology_nurse)
    patient_mark_deceased(patient=died.discharge.patient, died_on=None, actor=oncology_nurse, call=died)
    [notice] = notify(users=[oncology_nurse], link=f"/calls/{call.pk}/", text="A call for Olga")
    objects = {
        ("calls", "pk"): call.pk,
        ("calls:spot_check_detail", "pk"): spot_check.pk,
        ("calls:patient_access", "pk"): call.discharge.patient_id,
        ("calls:patient_detail", "pk"): call.discharge.patient_id,
        ("calls:alert_resolve", "pk"): alert.pk,
        ("calls:death_reverse", "pk"): DeathRecord.objects.get().pk,
        ("complaints:notification_open", "pk"): notice.pk,
        ("calls", "version_id"): ScriptVersionFactory().pk,
        ("complaints", "pk"): complaint.pk,
        ("complaints", "event_pk"): evidence.pk,
        ("complaints", "promise_pk"): promise.pk,
        ("complaints", "action"): "note",
        # The patient's questionnaire and the SMS gateway: a token or key, never an id.
        ("self_report", "token"): new_token(),
        ("self_report", "key"): "not-the-key",
    }
    # Objects no department owns: every allowed role may open them.
    unscoped = {"calls:script_preview"}
    return objects, unscoped


def kwargs_for(name: str, pattern: URLPattern, objects: dict) -> dict:
    kwargs = {}
    for key in pattern.pattern.converters:
        namespace = name.split(":")[0]
        value = objects.get((name, key), objects.get((namespace, key)))
        assert value is not None, f"{name}: say which object <{key}> names in test_access_walk.world"
        kwargs[key] = value
    return kwargs


def expected_refusal(user_fixture: str, view, name: str, has_object: bool, unscoped: set) -> bool:
    """True when this role must not reach the page."""
    if not getattr(view, "login_required", True) or name in ANY_USER:
        return False
    allowed = getattr(view, "allowed_roles", None)
    assert allowed is not None, f"{name} has no role check (followup.roles.role_required)"
    role = ROLE_OF[user_fixture]
    if role not in allowed:
        return True
    # Allowed role, object of oncology: nurses and head nurses of cardiology must not see it.
    return has_object and name not in unscoped and role in (Role.NURSE, Role.HEAD_NURSE)


@pytest.mark.parametrize("user_fixture", list(ROLE_OF))
def test_no_role_reaches_a_page_or_object_outside_its_role_and_departments(request, client, world, user_fixture):
    objects, unscoped = world
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    leaks = []
    for name, pattern in url_patterns():
        kwargs = kwargs_for(name, pattern, objects)
        url = reverse(name, kwargs=kwargs)
        refused = expected_refusal(user_fixture, pattern.callback, name, bool(kwargs), unscoped)
        if not refused:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            if response.status_code not in (403, 404, 405):
                leaks.append(f"{method.upper()} {url} ({name}) answered {response.status_code} to {user_fixture}")
    assert leaks == []


@pytest.mark.django_db
def test_anonymous_visitors_reach_only_the_public_pages(client, world):
    objects, _ = world
    public = {"healthz", "favicon", "login", "set_language", "interop:fhir_bundle", "interop:fhir_metadata"}
    # Reachable, and each answers 404 (or 405) to anyone without the link's token or the gateway's key.
    public |= {"self_report:open", "self_report:form", "self_report:sms_receipts", "self_report:sms_replies"}
    reached = []
    for name, pattern in url_patterns():
        url = reverse(name, kwargs=kwargs_for(name, pattern, objects))
        response = client.get(url)
        if getattr(pattern.callback, "answers_json", False):
            # A script's endpoint (followup.sessions.answers_json) refuses with 401, not the log-in page.
            if (response.status_code, response.json()["error"]) != (401, "logged_out"):
                reached.append(name)
        elif response.status_code != 302 or not response["Location"].startswith(reverse("login")):
            reached.append(name)
    assert sorted(reached) == sorted(public)


def test_each_role_opens_its_own_pages(client, world, nurse, head_nurse, officer):
    """The other half of the walk: the pages a role should reach do answer."""
    objects, _ = world
    for user, names in [
        (nurse, ["calls:worklist", "calls:discharge_list", "complaints:list"]),
        (head_nurse, ["calls:dashboard", "calls:alerts", "complaints:report"]),
        (officer, ["complaints:list", "complaints:report", "complaints:detail"]),
    ]:
        client.force_login(user)
        for name in names:
            kwargs = {"pk": objects[("complaints", "pk")]} if name == "complaints:detail" else {}
            assert client.get(reverse(name, kwargs=kwargs)).status_code == 200, (user.username, name)


def test_head_nurse_sees_who_opened_a_patients_calls(client, world, nurse, head_nurse):
    from calls.models import Department

    call = FollowUpCallFactory(discharge__department=Department.objects.get(code="CARD"), assigned_to=nurse)
    client.force_login(nurse)
    client.get(reverse("calls:call_detail", args=[call.pk]), REMOTE_ADDR="10.0.0.7")
    client.force_login(head_nurse)
    html = client.get(reverse("calls:patient_access", args=[call.discharge.patient_id])).content.decode()
    assert html.count("10.0.0.7") == 1
    assert f"/calls/{call.pk}/" in html
    assert str(nurse) in html


def test_access_log_pages_by_50(client, nurse, head_nurse):
    cardiology = DepartmentFactory(code="CARD")
    cardiology.staff.add(nurse, head_nurse)
    call = FollowUpCallFactory(discharge__department=cardiology, assigned_to=nurse)
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor=nurse, action="view", object_type="call", object_id=str(call.pk)) for _ in range(60)]
    )
    client.force_login(head_nurse)
    url = reverse("calls:patient_access", args=[call.discharge.patient_id])

    first = client.get(url)
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": "?page=2"})

    second = client.get(url + pager(first).links["Next"])
    assert pager(second) == Pager(current="Page 2 of 2", links={"Previous": "?page=1"})


def test_head_nurse_of_another_department_cannot_see_the_access_log(client, world, head_nurse):
    objects, _ = world
    oncology_patient = FollowUpCall.objects.get(pk=objects[("calls", "pk")]).discharge.patient_id
    client.force_login(head_nurse)
    assert client.get(reverse("calls:patient_access", args=[oncology_patient])).status_code == 404
