"""Hostile input in the main forms: HTML and script, SQL fragments, very long
text, control characters, odd Unicode. Whatever is typed, the page answers
without a server error, shows the text escaped, and an invalid submission
changes nothing (property-based, with hypothesis)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.models import CallAttempt, Patient
from complaints.models import Category, Complaint
from tests.factories import DepartmentFactory, FollowUpCallFactory, RuleStepFactory

pytestmark = pytest.mark.django_db

KNOWN_HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE calls_patient; --",
    "Robert'); DELETE FROM followup_user WHERE ('1'='1",
    "{{ request.user.password }}{% debug %}",
    "x" * 5000,
    "\x00\x07\x1b[31m",
    "\u202egnp.exe",
    "患者张伟\U0001f600𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "%s%n%x",
    "\ufffe\uffff",
]
HOSTILE = st.one_of(st.sampled_from(KNOWN_HOSTILE), st.text(min_size=1, max_size=400))
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def ward(nurse, head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse, head_nurse)
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    return department


def assert_shown_escaped(page: str, value: str) -> None:
    """Markup typed by a user never reaches the page as markup. A short value
    such as "<" or "</" is in every HTML page whatever the user typed, so the
    raw-text check applies to values of eight characters or more (every
    known hostile sample is longer)."""
    if "<" in value and len(value) >= 8:
        assert value not in page
    assert "<script>alert" not in page
    assert "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")


def discharge_data(ward, **changes):
    data = {
        "mrn": "ZY777",
        "name": "张伟",
        "sex": "M",
        "birth_date": "1958-03-02",
        "phone": "138 1234 5678",
        "family_name": "",
        "family_relation": "",
        "family_phone": "",
        "address": "",
        "education": "",
        "communication_notes": "",
        "preferred_call_time": "",
        "department": ward.pk,
        "admitted_on": "2026-11-10",
        "discharged_on": "2026-11-16",
        "diagnosis": "冠心病",
        "icd10": "",
        "attending_doctor": "",
        "responsible_nurse": "",
        "nursing_level": "",
        "condition_at_discharge": "",
        "open_problems": "",
        "told_about_followup": "on",
    }
    data.update(changes)
    return data


@FUZZ
@given(
    field=st.sampled_from(
        [
            "mrn",
            "name",
            "phone",
            "diagnosis",
            "attending_doctor",
            "open_problems",
            "communication_notes",
            "admitted_on",
            "icd10",
        ]
    ),
    value=HOSTILE,
)
def test_discharge_form_survives_hostile_text(client_for, nurse, ward, field, value):
    client = client_for(nurse)
    patients_before = list(Patient.objects.order_by("pk").values_list("pk", "mrn", "name", "phone"))
    response = client.post(reverse("calls:discharge_new"), discharge_data(ward, **{field: value}))
    assert response.status_code == (400 if "\x00" in value else response.status_code)
    assert response.status_code in (200, 302, 400)
    if response.status_code == 400:  # a NUL character: the readable error page, nothing saved
        assert list(Patient.objects.order_by("pk").values_list("pk", "mrn", "name", "phone")) == patients_before
        assert "invisible control character (NUL)" in response.content.decode()
    elif response.status_code == 200:  # refused: the form says why and nothing changed
        assert list(Patient.objects.order_by("pk").values_list("pk", "mrn", "name", "phone")) == patients_before
        assert_shown_escaped(response.content.decode(), value)
    else:
        listing = client.get(reverse("calls:discharge_list"), {"q": value[:50]})
        assert listing.status_code == 200
        assert_shown_escaped(listing.content.decode(), value)


@FUZZ
@given(
    field=st.sampled_from(["complainant_name", "description", "complainant_phone", "staff_involved", "received_at"]),
    value=HOSTILE,
)
def test_complaint_form_survives_hostile_text(client_for, officer, ward, field, value):
    client = client_for(officer)
    before = Complaint.objects.count()
    data = {
        "channel": Complaint.Channel.HOTLINE,
        "received_at": "2026-11-23 08:30",
        "complainant_name": "王女士",
        "complainant_phone": "",
        "complainant_relation": "",
        "patient_mrn": "",
        "category": Category.objects.get(code="attitude").pk,
        "severity": "general",
        "validity": "undetermined",
        "departments": [ward.pk],
        "staff_involved": "",
        "description": "Nobody explained the bill.",
        "settled_on_the_spot": "",
    }
    data[field] = value
    response = client.post(reverse("complaints:create"), data)
    assert response.status_code == (400 if "\x00" in value else response.status_code)
    assert response.status_code in (200, 302, 400)
    if response.status_code == 400:  # a NUL character: the readable error page, nothing saved
        assert Complaint.objects.count() == before
        assert "invisible control character (NUL)" in response.content.decode()
    elif response.status_code == 200:
        assert Complaint.objects.count() == before
        assert_shown_escaped(response.content.decode(), value)
    else:
        detail = client.get(response["Location"])
        assert detail.status_code == 200
        assert_shown_escaped(detail.content.decode(), value)


@FUZZ
@given(value=HOSTILE)
def test_attempt_note_is_stored_as_typed_and_shown_escaped(client_for, nurse, ward, value):
    call = FollowUpCallFactory(discharge__department=ward, assigned_to=nurse)
    client = client_for(nurse)
    response = client.post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-result": "no_answer", "attempt-note": value, "attempt-expected_version": call.version},
    )
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert list(CallAttempt.objects.filter(call=call).values_list("note", flat=True)) == [value.strip()]
    else:  # refused (e.g. a NUL character): nothing recorded
        assert CallAttempt.objects.filter(call=call).count() == 0
    page = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert_shown_escaped(page, value)


@FUZZ
@given(value=HOSTILE)
def test_list_filters_and_links_never_fail_on_odd_query_strings(client_for, head_nurse, ward, value):
    client = client_for(head_nurse)
    for name, params in [
        ("calls:worklist", {"department": value, "due_from": value, "status": value, "page": value}),
        ("calls:discharge_list", {"q": value, "discharged_from": value, "page": value}),
        ("complaints:list", {"q": value, "status": value, "page": value}),
        ("complaints:create", {"call": value}),
        ("calls:dashboard", {"start": value, "department": value}),
    ]:
        response = client.get(reverse(name), params)
        assert response.status_code in (200, 400, 404), (name, response.status_code)
        if response.status_code == 400:  # the readable bad-request page echoes nothing of the request
            continue
        assert_shown_escaped(response.content.decode(), value)


@FUZZ
@given(
    field=st.sampled_from(
        [
            "mrn",
            "name",
            "diagnosis",
            "attending_doctor",
            "open_problems",
            "family_name",
            "family_relation",
            "icd10",
            "nursing_level",
            "sex",
        ]
    ),
    value=HOSTILE,
)
def test_import_of_hostile_rows_reports_or_stores_them_never_fails(client_for, nurse, ward, field, value):
    from calls.services.discharge_import import discharges_import

    row = {
        "mrn": "ZY900",
        "name": "李娟",
        "sex": "F",
        "birth_date": "1970-01-02",
        "phone": "13812345678",
        "family_name": "",
        "family_relation": "",
        "family_phone": "",
        "department_code": "CARD",
        "admitted_on": "2026-11-10",
        "discharged_on": "2026-11-16",
        "diagnosis": "冠心病",
        "icd10": "",
        "attending_doctor": "",
        "responsible_nurse": "",
        "nursing_level": "",
        "open_problems": "",
    }
    row[field] = value
    before = list(Patient.objects.order_by("pk").values_list("pk", "mrn", "name"))
    report = discharges_import(rows=[(2, row)], by=nurse, dry_run=False)
    if report.errors:
        assert report.applied is False
        assert list(Patient.objects.order_by("pk").values_list("pk", "mrn", "name")) == before
        assert all(line == 2 and message for line, message in report.errors)
    else:
        assert report.applied is True
        page = client_for(nurse).get(reverse("calls:discharge_list")).content.decode()
        assert_shown_escaped(page, value)
