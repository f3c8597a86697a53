import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from calls.models import ClinicalAlert, FollowUpCall
from calls.services.call_work import alert_resolve
from tests.calls.call_work_helpers import NOW, make_call, ward_of
from tests.pagination import Pager, pager

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
URL = reverse("calls:alerts")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def alert_on(department, *, due_in_hours=24, name="Patient"):
    call = make_call(department=department, status=FollowUpCall.Status.COMPLETED, patient__name=name)
    return ClinicalAlert.objects.create(
        call=call, raised_at=NOW, due_at=NOW + dt.timedelta(hours=due_in_hours), reason="Chest pain: yes"
    )


def test_head_nurse_sees_open_alerts_of_her_wards_with_overdue_highlighted(client_for, head_nurse):
    ward = ward_of(head_nurse)
    alert_on(ward, due_in_hours=5, name="Due soon")
    alert_on(ward, due_in_hours=-2, name="Overdue")
    alert_on(ward_of(code="ONCO"), name="Other ward")

    response = client_for(head_nurse).get(URL)

    rows = [(a.call.discharge.patient.name, a.is_overdue) for a in response.context["page"].object_list]
    assert rows == [("Overdue", True), ("Due soon", False)]
    assert response.content.decode().count("alert-overdue") == 1


def test_alert_leaves_the_list_only_once_an_action_is_recorded(client_for, head_nurse):
    alert = alert_on(ward_of(head_nurse))
    client = client_for(head_nurse)
    url = reverse("calls:alert_resolve", args=[alert.pk])

    refused = client.post(url, {f"alert{alert.pk}-action": "doctor_informed", f"alert{alert.pk}-note": ""})
    assert refused.status_code == 400
    assert len(client.get(URL).context["page"].object_list) == 1

    done = client.post(url, {f"alert{alert.pk}-action": "doctor_informed", f"alert{alert.pk}-note": "Dr Zhang called"})

    assert done.status_code == 302
    alert.refresh_from_db()
    assert (alert.action, alert.action_note, alert.resolved_by) == ("doctor_informed", "Dr Zhang called", head_nurse)
    assert list(client.get(URL).context["page"].object_list) == []


def test_resolving_twice_is_refused(head_nurse):
    alert = alert_on(ward_of(head_nurse))
    alert_resolve(alert=alert, by=head_nurse, action="clinic_visit", note="Advised a visit tomorrow")

    with pytest.raises(ValidationError):
        alert_resolve(alert=alert, by=head_nurse, action="emergency", note="again")


def two_pages_of_alerts(head_nurse, on_ward: int):
    """`on_ward` alerts on the head nurse's ward (25 a page) and one on her other ward."""
    ward = ward_of(head_nurse)
    for n in range(on_ward):
        alert_on(ward, name=f"Card {n}")
    alert_on(ward_of(head_nurse, code="ONCO"), name="Onco")
    return ward


def test_next_page_of_alerts_keeps_the_department_filter(client_for, head_nurse):
    ward = two_pages_of_alerts(head_nurse, 26)
    client = client_for(head_nurse)

    first = client.get(URL, {"department": ward.pk})
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": f"?department={ward.pk}&page=2"})

    second = client.get(URL + pager(first).links["Next"])
    assert pager(second) == Pager(current="Page 2 of 2", links={"Previous": f"?department={ward.pk}&page=1"})
    assert [a.call.discharge.department for a in second.context["page"].object_list] == [ward]


def test_resolving_on_a_filtered_second_page_keeps_the_head_nurse_on_that_page(client_for, head_nurse):
    ward = two_pages_of_alerts(head_nurse, 27)
    client = client_for(head_nurse)
    query = f"?department={ward.pk}&page=2"
    on_page_two = client.get(URL + query).context["page"].object_list[0]
    resolve = reverse("calls:alert_resolve", args=[on_page_two.pk]) + query
    fields = {f"alert{on_page_two.pk}-action": "doctor_informed"}

    refused = client.post(resolve, {**fields, f"alert{on_page_two.pk}-note": ""})

    assert refused.status_code == 400
    assert pager(refused) == Pager(current="Page 2 of 2", links={"Previous": f"{URL}?department={ward.pk}&page=1"})
    assert f'action="{URL}"' in refused.content.decode()  # the filter form goes back to the list
    assert f'action="{resolve.replace("&", "&amp;")}"' in refused.content.decode()

    done = client.post(resolve, {**fields, f"alert{on_page_two.pk}-note": "Dr Zhang called"})

    assert (done.status_code, done["Location"]) == (302, URL + query)
    assert ClinicalAlert.objects.get(pk=on_page_two.pk).resolved_by == head_nurse


@pytest.mark.parametrize("rows", [1, 3])
def test_alert_list_queries_do_not_grow_with_rows(rows, client_for, head_nurse, django_assert_num_queries):
    ward = ward_of(head_nurse)
    for n in range(rows):
        alert_on(ward, name=f"P{n}")
    client = client_for(head_nurse)

    # includes the audit-trail insert of the page view
    with django_assert_num_queries(10):
        client.get(URL)


def test_nurse_is_refused_the_alert_list(client_for, nurse):
    assert client_for(nurse).get(URL).status_code == 403


def test_alert_of_another_ward_is_not_found(client_for, head_nurse):
    ward_of(head_nurse)
    alert = alert_on(ward_of(code="ONCO"))
    response = client_for(head_nurse).post(reverse("calls:alert_resolve", args=[alert.pk]), {})
    assert response.status_code == 404
