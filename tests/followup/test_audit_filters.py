"""Reading the trail: the head nurse's access page filters by who, action and
days; the admin finds a patient's rows by id or MRN. Hostile input is
reported, never a server error."""

import datetime as dt
import re
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from followup.audit import audit_change
from followup.models import AuditEvent
from followup.roles import Role
from tests.factories import DepartmentFactory, FollowUpCallFactory, UserFactory
from tests.pagination import pager

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def ward(nurse, head_nurse):
    department = DepartmentFactory(code="CARD")
    department.staff.add(nurse, head_nurse)
    return department


@pytest.fixture
def call(ward, nurse):
    return FollowUpCallFactory(discharge__department=ward, assigned_to=nurse)


@pytest.fixture
def events(call, nurse):
    """Four rows about the patient, by two people, on three evenings."""
    patient_id = call.discharge.patient_id
    colleague = UserFactory(username="erin", roles=[Role.NURSE])
    rows = {}
    for key, moment, actor, action in (
        ("nurse_view", at(2026, 11, 9, 23, 30), nurse, "view"),
        ("nurse_change", at(2026, 11, 10, 23, 59), nurse, "change"),
        ("colleague_view", at(2026, 11, 11, 0, 1), colleague, "view"),
        ("feed", at(2026, 11, 11, 9, 0), "hl7:HIS/HOSP", "change"),
    ):
        with time_machine.travel(moment, tick=False):
            rows[key] = audit_change(
                actor=actor, action=action, object_type="call", object_id=call.pk, patient_id=patient_id
            )
    rows["colleague"] = colleague
    return rows


def shown(response) -> list[int]:
    return [event.pk for event in response.context["page"].object_list]


def access_page(client, call, **params):
    return client.get(reverse("calls:patient_access", args=[call.discharge.patient_id]), params)


def test_without_filters_the_whole_trail_shows_newest_first(client_for, head_nurse, call, events):
    response = access_page(client_for(head_nurse), call)

    assert response.status_code == 200
    assert shown(response) == [events[k].pk for k in ("feed", "colleague_view", "nurse_change", "nurse_view")]


def test_the_trail_filters_by_who(client_for, head_nurse, nurse, call, events):
    response = access_page(client_for(head_nurse), call, actor=nurse.pk)

    assert shown(response) == [events["nurse_change"].pk, events["nurse_view"].pk]


def test_the_who_list_names_only_people_in_this_patients_trail(client_for, head_nurse, nurse, call, events):
    UserFactory(username="zed", roles=[Role.NURSE])  # never looked

    html = access_page(client_for(head_nurse), call).content.decode()

    select = html[html.index('<select name="actor"') : html.index("</select>", html.index('<select name="actor"'))]
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", select)
    assert labels == ["Everyone", *sorted([str(nurse), str(events["colleague"])])]


def test_the_trail_filters_by_action(client_for, head_nurse, call, events):
    response = access_page(client_for(head_nurse), call, action="change")

    assert shown(response) == [events["feed"].pk, events["nurse_change"].pk]


def test_the_trail_filters_by_whole_days_in_the_hospitals_time_zone(client_for, head_nurse, call, events):
    response = access_page(client_for(head_nurse), call, since="2026-11-10", until="2026-11-10")

    assert shown(response) == [events["nurse_change"].pk]


def test_filters_combine(client_for, head_nurse, nurse, call, events):
    response = access_page(client_for(head_nurse), call, actor=nurse.pk, action="view", since="2026-11-09")

    assert shown(response) == [events["nurse_view"].pk]


def test_the_pager_keeps_the_filters(client_for, head_nurse, nurse, call):
    patient_id = call.discharge.patient_id
    AuditEvent.objects.bulk_create(
        [AuditEvent(actor=nurse, action="view", object_type="call", object_id=str(call.pk), patient_id=patient_id)] * 60
    )

    response = access_page(client_for(head_nurse), call, action="view")

    assert pager(response).links == {"Next": "?action=view&page=2"}


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"actor": "99999999999999999999999"}, "Select a valid choice."),
        ({"actor": "-1"}, "Select a valid choice."),
        ({"action": "delete"}, "Select a valid choice. delete is not one of the available choices."),
        ({"since": "2026-13-45"}, "Enter a valid date."),
        ({"since": "99999-01-01"}, "Enter a valid date."),
        ({"until": "0001-01-01"}, "Enter a date on or after 1 January 1900."),
        ({"since": "2026-11-11", "until": "2026-11-10"}, "The start date must be on or before the end date."),
        ({"page": "99999999999999999999", "since": "x" * 5000}, "Enter a valid date."),
    ],
)
def test_hostile_filters_are_reported_and_the_rest_still_applies(client_for, head_nurse, call, events, params, error):
    response = access_page(client_for(head_nurse), call, **{"action": "change", **params})

    assert response.status_code == 200
    assert error in response.content.decode()
    if "action" not in params:
        assert shown(response) == [events["feed"].pk, events["nurse_change"].pk]


def test_the_access_page_is_refused_to_a_nurse(client_for, nurse, call):
    assert access_page(client_for(nurse), call).status_code == 403


def test_another_departments_head_nurse_cannot_read_the_trail(client_for, call, events):
    stranger = UserFactory(username="heidi", roles=[Role.HEAD_NURSE])
    DepartmentFactory(code="ONCO").staff.add(stranger)

    assert access_page(client_for(stranger), call).status_code == 404


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


def listed(response) -> list[int]:
    return sorted(event.pk for event in response.context["cl"].result_list)


def trail_rows(events, *keys) -> list[int]:
    return sorted(events[k].pk for k in keys)


ALL_ABOUT_THE_PATIENT = ("nurse_view", "nurse_change", "colleague_view", "feed")


def test_the_admin_finds_a_patients_rows_by_mrn(admin_client, call, events):
    response = admin_client.get(reverse("admin:followup_auditevent_changelist"), {"q": call.discharge.patient.mrn})

    assert listed(response) == trail_rows(events, *ALL_ABOUT_THE_PATIENT)


def test_the_admin_finds_a_patients_rows_by_id(admin_client, call, events):
    url = reverse("admin:followup_auditevent_changelist")

    by_search = admin_client.get(url, {"q": str(call.discharge.patient_id)})
    by_field = admin_client.get(url, {"patient_id": str(call.discharge.patient_id)})

    # The search box also matches the id inside addresses and object ids; the field is exact.
    assert set(trail_rows(events, *ALL_ABOUT_THE_PATIENT)) <= set(listed(by_search))
    assert listed(by_field) == trail_rows(events, *ALL_ABOUT_THE_PATIENT)


def test_the_admin_filters_by_source_and_action(admin_client, call, events):
    url = reverse("admin:followup_auditevent_changelist")

    assert listed(admin_client.get(url, {"source__exact": "feed"})) == trail_rows(events, "feed")
    assert listed(admin_client.get(url, {"action__exact": "view", "object_type__exact": "call"})) == trail_rows(
        events, "nurse_view", "colleague_view"
    )


@pytest.mark.parametrize("term", ["99999999999999999999999", "-1", "١٢", "' OR 1=1 --", "x" * 2000])
def test_hostile_admin_searches_find_nothing_and_do_not_fail(admin_client, call, events, term):
    response = admin_client.get(reverse("admin:followup_auditevent_changelist"), {"q": term})

    assert response.status_code == 200
    assert listed(response) == []


@pytest.mark.parametrize("params", [{"actor": "\x00"}, {"action": "view\x00"}, {"until": "\x00"}])
def test_a_nul_in_a_filter_answers_the_readable_bad_request_page(client_for, head_nurse, call, events, params):
    # NUL anywhere in a request is refused before any view runs (followup middleware).
    response = access_page(client_for(head_nurse), call, **params)

    assert response.status_code == 400


def test_a_nul_in_the_admin_search_is_refused_not_a_server_error(admin_client, call, events):
    response = admin_client.get(reverse("admin:followup_auditevent_changelist"), {"q": "ZY\x00"})

    assert response.status_code == 400


@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", "1.5"])
def test_a_hostile_patient_id_in_the_admin_address_is_not_a_server_error(admin_client, call, events, value):
    response = admin_client.get(reverse("admin:followup_auditevent_changelist"), {"patient_id": value})

    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert listed(response) == []


def test_the_admin_audit_list_is_refused_to_a_head_nurse(client_for, head_nurse):
    head_nurse.is_staff = True
    head_nurse.save()

    assert client_for(head_nurse).get(reverse("admin:followup_auditevent_changelist")).status_code == 403
