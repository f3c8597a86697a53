"""followup.bulk.update_rows and the ``__any`` lookup (followup.lookups),
which the set-based services use for thousands of rows at once: on SQLite
and on PostgreSQL (CI), with values as they come (NULL, JSON, quotes, NUL-free
hostile text)."""

import datetime as dt

import pytest

from calls.models import Discharge, Patient
from followup import bulk
from tests.factories import DepartmentFactory, DischargeFactory, PatientFactory

pytestmark = pytest.mark.django_db

HOSTILE = "O'Brien\"; DROP TABLE calls_patient; -- 张三 <script>"


def test_any_finds_the_rows_whose_value_is_in_the_list():
    department = DepartmentFactory()
    patients = [PatientFactory(mrn=f"ANY{n}") for n in range(3)] + [PatientFactory(mrn=HOSTILE)]
    stays = [DischargeFactory(patient=patient, department=department) for patient in patients]
    assert set(Patient.objects.filter(pk__any=[patients[0].pk, patients[2].pk])) == {patients[0], patients[2]}
    assert set(Patient.objects.filter(mrn__any=["ANY1", HOSTILE, "nobody"])) == {patients[1], patients[3]}
    assert set(Discharge.objects.filter(patient_id__any=[patients[1].pk])) == {stays[1]}
    assert set(Discharge.objects.filter(patient__mrn__any=[HOSTILE])) == {stays[3]}
    assert not Patient.objects.filter(pk__any=[]).exists()
    assert Patient.objects.exclude(pk__any=[]).count() == 4
    many = [*range(-20_000, 0), patients[0].pk]  # far beyond SQLite's and Django's placeholder habits
    assert list(Patient.objects.filter(pk__any=many)) == [patients[0]]


def test_update_rows_sets_each_row_its_own_values_and_leaves_the_rest(monkeypatch):
    monkeypatch.setattr(bulk, "UPDATE_ROWS", 2)  # several statements
    department = DepartmentFactory()
    stays = [DischargeFactory(department=department, risk_score=1) for _ in range(5)]
    untouched = stays.pop()
    rows = [
        {"id": stay.pk, "risk_score": None if n == 0 else 10 + n, "risk_tier": "high", "risk_detail": detail}
        for n, (stay, detail) in enumerate(
            zip(stays, [{}, {"note": HOSTILE}, {"components": [1, None]}, {"x": "引号\"'"}], strict=True)
        )
    ]
    bulk.update_rows(Discharge, rows, ["risk_score", "risk_tier", "risk_detail"])
    stored = {row["id"]: row for row in Discharge.objects.values("id", "risk_score", "risk_tier", "risk_detail")}
    for row in rows:
        assert stored[row["id"]] == row
    assert stored[untouched.pk]["risk_score"] == 1
    assert stored[untouched.pk]["risk_tier"] == untouched.risk_tier
    bulk.update_rows(Discharge, [], ["risk_score"])  # nothing to write: no statement, no error


@pytest.mark.parametrize("kind", [dict, bulk.JsonText])
def test_rows_sharing_one_json_value_all_get_it(kind):
    """insert_rows writes a JSON value many rows share (a risk detail) once
    per statement, or as the text a JsonText carries."""
    department = DepartmentFactory()
    patient = PatientFactory()
    shared = kind({"index": "LACE", "components": [{"letter": "L", "points": 5}], "note": HOSTILE})
    rows = [
        {
            "patient_id": patient.pk,
            "department_id": department.pk,
            "admitted_on": dt.date(2025, 1, 1) + dt.timedelta(days=day),
            "discharged_on": dt.date(2025, 1, 1) + dt.timedelta(days=day + 3),
            "risk_detail": shared if day % 2 else {"other": day},
        }
        for day in range(1, 201)  # past followup.bulk.COPY_FROM: the COPY path on PostgreSQL
    ]
    bulk.insert_rows(Discharge, rows)
    details = list(
        Discharge.objects.filter(patient=patient).order_by("admitted_on").values_list("risk_detail", flat=True)
    )
    assert details == [shared if day % 2 else {"other": day} for day in range(1, 201)]
