"""A call carries its stay's department (FollowUpCall.department, issue 20):
the head nurse's worklist finds her wards' calls by it. It must stay her
stay's department however the stay is moved: in the admin, by registering
the stay again (a form or a feed), by an import; and the migration that
added it filled it for the calls already there."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from calls.services.discharge_import import discharges_import
from calls.services.discharges import discharge_register
from followup import access
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call
from tests.factories import DepartmentFactory, UserFactory
from tests.migration_steps import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db

WORKLIST = reverse("calls:worklist")


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wards():
    """Cardiology and oncology, each with its head nurse; a cardiology stay with an open call."""
    cardiology, oncology = (
        DepartmentFactory(code="CARD", name="Cardiology"),
        DepartmentFactory(code="ONC", name="Oncology"),
    )
    heads = {}
    for ward in (cardiology, oncology):
        heads[ward.code] = UserFactory(username=f"head-{ward.code}", roles=[Role.HEAD_NURSE])
        ward.staff.add(heads[ward.code])
    call = make_call(department=cardiology, due=TODAY, patient__name="王芳", patient__mrn="ZY77")
    return cardiology, oncology, heads, call


def on_worklist(client, head, call) -> bool:
    """Whether the call is a row of the head nurse's worklist (its link)."""
    client.force_login(head)
    html = client.get(WORKLIST + "?tab=all").content.decode()
    return f'href="{reverse("calls:call_detail", args=[call.pk])}"' in html


@pytest.mark.usefixtures("frozen")
def test_calls_carry_their_stays_department(wards, client):
    cardiology, _oncology, heads, call = wards

    assert call.department == cardiology
    assert (on_worklist(client, heads["CARD"], call), on_worklist(client, heads["ONC"], call)) == (True, False)


@pytest.mark.usefixtures("frozen")
def test_a_stay_moved_in_the_admin_takes_its_calls_to_the_new_ward(wards, client, admin_user):
    _cardiology, oncology, heads, call = wards
    client.force_login(admin_user)
    url = reverse("admin:calls_discharge_change", args=[call.discharge_id])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}

    assert client.post(url, {**data, "department": oncology.pk}).status_code == 302

    call.refresh_from_db()
    assert call.department == oncology
    assert (on_worklist(client, heads["CARD"], call), on_worklist(client, heads["ONC"], call)) == (False, True)
    assert not access.visible_calls(heads["CARD"]).filter(pk=call.pk).exists()


@pytest.mark.usefixtures("frozen")
def test_a_stay_registered_again_under_another_ward_takes_its_calls_along(wards, client):
    _cardiology, oncology, heads, call = wards
    stay = call.discharge

    discharge_register(
        mrn=stay.patient.mrn,
        patient_data={"name": stay.patient.name},
        admitted_on=stay.admitted_on,
        discharge_data={"department": oncology, "discharged_on": stay.discharged_on},
        by=None,
    )

    call.refresh_from_db()
    assert call.department == oncology
    assert (on_worklist(client, heads["CARD"], call), on_worklist(client, heads["ONC"], call)) == (False, True)


@pytest.mark.usefixtures("frozen")
def test_an_import_that_moves_a_stay_moves_its_calls(wards, client):
    _cardiology, oncology, heads, call = wards
    stay = call.discharge
    row = {
        "mrn": stay.patient.mrn,
        "name": stay.patient.name,
        "phone": stay.patient.phone or "13812345678",
        "department_code": oncology.code,
        "admitted_on": stay.admitted_on.isoformat(),
        "discharged_on": stay.discharged_on.isoformat(),
        "diagnosis": stay.diagnosis,
    }

    report = discharges_import(rows=[(2, row)], by=None, dry_run=False)

    assert report.errors == []
    call.refresh_from_db()
    assert call.department == oncology
    assert (on_worklist(client, heads["CARD"], call), on_worklist(client, heads["ONC"], call)) == (False, True)


BEFORE = [("calls", "0023_call_channel_database_default")]
AFTER = [("calls", "0025_call_department")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_calls_their_stays_department():
    old = migrate(BEFORE)
    Department, Patient, Discharge, Call = (
        old.get_model("calls", name) for name in ("Department", "Patient", "Discharge", "FollowUpCall")
    )
    wards = [Department.objects.create(code=code, name=code) for code in ("CARD", "ONC")]
    day = dt.date(2026, 11, 16)
    for n, ward in enumerate([*wards, wards[0]]):
        patient = Patient.objects.create(mrn=f"ZY{n}", name=f"Patient {n}")
        stay = Discharge.objects.create(
            patient=patient, department=ward, admitted_on=day - dt.timedelta(days=5), discharged_on=day
        )
        Call.objects.create(discharge=stay, due_date=day, earliest_on=day, latest_on=day)
    try:
        new = migrate(AFTER)
        calls = new.get_model("calls", "FollowUpCall").objects.order_by("pk")
        assert [(c.department_id, c.discharge.department_id) for c in calls] == [
            (wards[0].pk, wards[0].pk),
            (wards[1].pk, wards[1].pk),
            (wards[0].pk, wards[0].pk),
        ]
    finally:
        migrate_to_latest()
