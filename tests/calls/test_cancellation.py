import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from calls.models import Discharge, FollowUpCall
from calls.services.cancellation import patient_mark_deceased
from calls.services.discharges import discharge_register
from tests.factories import DischargeFactory, FollowUpCallFactory, PatientFactory

pytestmark = pytest.mark.django_db

Status, Reason = FollowUpCall.Status, FollowUpCall.CancelReason


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def calls_of(discharge, *statuses):
    calls = []
    for status in statuses:
        call = FollowUpCallFactory(discharge=discharge, status=status)
        calls.append(call)
    return calls


def states(calls):
    return [tuple(FollowUpCall.objects.filter(pk=c.pk).values_list("status", "cancel_reason").get()) for c in calls]


def test_marking_a_patient_deceased_cancels_every_open_call_and_keeps_the_finished_ones():
    patient = PatientFactory()
    first = DischargeFactory(patient=patient, admitted_on=dt.date(2026, 10, 1), discharged_on=dt.date(2026, 10, 8))
    second = DischargeFactory(patient=patient, admitted_on=dt.date(2026, 11, 1), discharged_on=dt.date(2026, 11, 8))
    calls = [
        *calls_of(first, Status.COMPLETED, Status.SCHEDULED),
        *calls_of(second, Status.IN_PROGRESS, Status.UNREACHABLE, Status.MISSED),
    ]
    other = calls_of(DischargeFactory(), Status.SCHEDULED)
    assert patient_mark_deceased(patient=patient, died_on=dt.date(2026, 11, 20), actor="hl7:HIS") == 2
    assert states(calls) == [
        ("completed", ""),
        ("cancelled", "deceased"),
        ("cancelled", "deceased"),
        ("unreachable", ""),
        ("missed", ""),
    ]
    assert states(other) == [("scheduled", "")]
    patient.refresh_from_db()
    assert patient.deceased_on == dt.date(2026, 11, 20)


def test_marking_deceased_twice_cancels_nothing_more():
    discharge = DischargeFactory()
    calls_of(discharge, Status.SCHEDULED)
    assert patient_mark_deceased(patient=discharge.patient, died_on=dt.date(2026, 11, 20), actor="hl7:HIS") == 1
    assert patient_mark_deceased(patient=discharge.patient, died_on=dt.date(2026, 11, 20), actor="hl7:HIS") == 0


def test_a_readmission_cancels_the_open_calls_of_the_earlier_stay_only():
    earlier = DischargeFactory(admitted_on=dt.date(2026, 11, 1), discharged_on=dt.date(2026, 11, 8))
    calls = calls_of(earlier, Status.COMPLETED, Status.SCHEDULED, Status.IN_PROGRESS)
    readmission = discharge_register(
        mrn=earlier.patient.mrn,
        patient_data={"name": earlier.patient.name},
        admitted_on=dt.date(2026, 11, 15),
        discharge_data={
            "department": earlier.department,
            "discharged_on": dt.date(2026, 11, 20),
            "diagnosis": "Unstable angina",
        },
        by=None,
    )
    assert states(calls) == [("completed", ""), ("cancelled", "readmitted"), ("cancelled", "readmitted")]
    assert Discharge.objects.filter(patient=earlier.patient).count() == 2
    assert readmission.patient == earlier.patient


def test_registering_the_same_stay_again_cancels_nothing():
    stay = DischargeFactory(admitted_on=dt.date(2026, 11, 1), discharged_on=dt.date(2026, 11, 8))
    calls = calls_of(stay, Status.SCHEDULED)
    discharge_register(
        mrn=stay.patient.mrn,
        patient_data={},
        admitted_on=stay.admitted_on,
        discharge_data={"department": stay.department, "discharged_on": stay.discharged_on, "diagnosis": "CHD"},
        by=None,
    )
    assert states(calls) == [("scheduled", "")]
    assert Discharge.objects.get(pk=stay.pk).diagnosis == "CHD"


@pytest.mark.parametrize(
    ("admitted_on", "discharged_on", "message"),
    [
        (dt.date(2026, 11, 10), dt.date(2026, 11, 9), "The discharge date is before the admission date."),
        (dt.date(2026, 11, 20), dt.date(2026, 11, 24), "The discharge date is in the future."),
    ],
)
def test_register_refuses_impossible_dates_and_changes_nothing(admitted_on, discharged_on, message):
    department = DischargeFactory().department
    with pytest.raises(ValidationError) as excinfo:
        discharge_register(
            mrn="ZY999",
            patient_data={"name": "王芳"},
            admitted_on=admitted_on,
            discharge_data={"department": department, "discharged_on": discharged_on, "diagnosis": "CHD"},
            by=None,
        )
    assert excinfo.value.messages == [message]
    assert Discharge.objects.filter(patient__mrn="ZY999").count() == 0
