"""One search box (issue 17, item 6): a name, a phone number in any format
(the patient's or the family contact's) or an inpatient number finds the
patient, in the nurse's wards only."""

import pytest
import time_machine
from django.urls import reverse

from calls.models import Patient
from calls.selectors.patients import patient_search
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, make_call, ward_of
from tests.factories import DischargeFactory, PatientFactory, UserFactory
from tests.pagination import Pager, pager

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

URL = reverse("calls:patient_search")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wards(nurse, head_nurse):
    return ward_of(nurse, head_nurse), ward_of(code="ONCO")


@pytest.fixture
def zhou(wards):
    ward, _other = wards
    return make_call(
        department=ward,
        patient__name="Zhou Min",
        patient__mrn="ZY20260001",
        patient__phone="+8613800138000",
        patient__family_phone="+8613900139000",
    ).discharge.patient


def found(client, text) -> list[str]:
    response = client.get(URL, {"q": text})
    assert response.status_code == 200
    return [p.name for p in response.context["page"].object_list]


@pytest.mark.parametrize(
    "typed",
    ["138 0013 8000", "+86 138-0013-8000", "13800138000", "0086 138 0013 8000", "(138) 0013.8000", "8000"],
)
def test_the_patients_phone_in_any_format_finds_her(client_for, nurse, zhou, typed):
    assert found(client_for(nurse), typed) == ["Zhou Min"]


@pytest.mark.parametrize("typed", ["139 0013 9000", "+86 139-0013-9000", "9000"])
def test_the_family_contacts_phone_finds_the_patient(client_for, nurse, zhou, typed):
    assert found(client_for(nurse), typed) == ["Zhou Min"]


@pytest.mark.parametrize("typed", ["ZY20260001", "zy20260001", " ZY2026 ", "Zhou", "zhou min", "Min"])
def test_the_mrn_or_part_of_the_name_finds_her(client_for, nurse, zhou, typed):
    assert found(client_for(nurse), typed) == ["Zhou Min"]


def test_the_mrn_of_a_record_merged_into_hers_finds_her(client_for, nurse, zhou):
    PatientFactory(mrn="OLD-77", name="Zhou Min", merged_into=zhou, archived=True)
    assert found(client_for(nurse), "OLD-77") == ["Zhou Min"]


def test_a_patient_of_another_ward_is_never_found(client_for, nurse, head_nurse, wards, zhou):
    _ward, other = wards
    make_call(
        department=other,
        patient__name="Zhou Hua",
        patient__mrn="ZY20269999",
        patient__phone="+8613700137000",
        patient__family_phone="+8613600136000",
    )
    for user in (nurse, head_nurse):
        client = client_for(user)
        for typed in ("Zhou Hua", "ZY20269999", "137 0013 7000", "136-0013-6000", "7000"):
            assert found(client, typed) == []
        assert found(client, "Zhou") == ["Zhou Min"]


def test_a_result_shows_her_latest_stay_in_the_wards_and_a_masked_phone(client_for, nurse, wards, zhou):
    _ward, other = wards
    DischargeFactory(patient=zhou, department=other, discharged_on=NOW.date(), admitted_on=NOW.date())

    response = client_for(nurse).get(URL, {"q": "Zhou"})

    [row] = response.context["page"].object_list
    assert (str(row.last_discharged_on), row.last_department, row.masked_phone) == (
        "2026-11-12",
        "Ward CARD",
        "••••••••••8000",
    )
    html = response.content.decode()
    assert f'href="{reverse("calls:patient_detail", args=[zhou.pk])}">Zhou Min</a>' in html
    assert "+8613800138000" not in html
    assert "1 patient matches “Zhou”" in html


def test_nothing_typed_lists_nobody_and_says_nothing_matched_only_after_a_search(client_for, nurse, zhou):
    client = client_for(nurse)
    assert list(client.get(URL).context["page"].object_list) == []
    empty = client.get(URL, {"q": "Nobody"}).content.decode()
    assert "No patient of your wards matches." in empty


@pytest.mark.parametrize("typed", ["%", "_", "*", "'; DROP TABLE calls_patient; --", "١٢٣٤"])
def test_wildcards_and_sql_find_nothing(client_for, nurse, zhou, typed):
    assert found(client_for(nurse), typed) == []
    assert Patient.objects.count() == 1


def test_markup_typed_is_shown_as_text(client_for, nurse, zhou):
    html = client_for(nurse).get(URL, {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "0 patients match “&lt;script&gt;alert(1)&lt;/script&gt;”" in html


def test_a_very_long_search_is_refused_with_a_message(client_for, nurse, zhou):
    response = client_for(nurse).get(URL, {"q": "Zhou" * 100})
    assert response.status_code == 400
    assert response.context["form"].errors == {"q": ["Ensure this value has at most 100 characters (it has 400)."]}
    assert list(response.context["page"].object_list) == []


@pytest.mark.parametrize("role_user", ["officer", "no_role_user", "admin_user"])
def test_other_roles_are_refused_the_search(client_for, request, role_user):
    assert client_for(request.getfixturevalue(role_user)).get(URL, {"q": "Zhou"}).status_code == 403


def test_the_worklist_and_the_discharge_list_hold_the_search_box(client_for, nurse, head_nurse, zhou):
    box = f'action="{URL}" aria-label="Find a patient"'
    for user in (nurse, head_nurse):
        client = client_for(user)
        for page in ("calls:worklist", "calls:discharge_list"):
            assert client.get(reverse(page)).content.decode().count(box) == 1


def test_results_page_by_25_and_keep_the_search(client_for, nurse, wards):
    ward, _other = wards
    for n in range(26):
        DischargeFactory(patient=PatientFactory(name=f"Li {n:02d}"), department=ward)
    client = client_for(nurse)

    first = client.get(URL, {"q": "Li"})
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": "?q=Li&page=2"})
    second = client.get(URL + pager(first).links["Next"])
    assert [p.name for p in second.context["page"].object_list] == ["Li 25"]


@pytest.mark.parametrize("count", [1, 3])
def test_search_queries_do_not_grow_with_results(client_for, nurse, wards, count, django_assert_num_queries):
    ward, _other = wards
    for n in range(count):
        DischargeFactory(patient=PatientFactory(name=f"Wang {n}"), department=ward)
    client = client_for(nurse)

    # session, user, roles, count, page, audit-trail insert, session save (4)
    with django_assert_num_queries(9):
        response = client.get(URL, {"q": "Wang"})

    assert len(response.context["page"].object_list) == count


def test_a_nurse_finds_every_patient_of_her_ward_not_only_her_calls(nurse, wards):
    ward, _other = wards
    colleague = UserFactory(roles=[Role.NURSE])
    ward.staff.add(colleague)
    make_call(department=ward, nurse=colleague, patient__name="Colleague's patient")

    assert [p.name for p in patient_search(user=nurse, text="colleague")] == ["Colleague's patient"]
