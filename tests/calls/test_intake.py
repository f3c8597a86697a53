"""One intake core: the nurse's form, a file, an HL7 message and a FHIR bundle
are checked by the same rules in the same words (calls.services.intake),
with a per-source policy only where sources really differ."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.imports import ImportFileError, read_discharge_file
from calls.models import Discharge, Patient
from calls.services.discharge_import import discharges_import
from calls.services.intake import POLICIES, DischargeIntake, intake_check
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive, inbound_message_process
from tests.calls.test_discharge_form import post_data
from tests.factories import DepartmentFactory, RuleStepFactory
from tests.interop.conftest import adt

pytestmark = pytest.mark.django_db

HEADER = "mrn,name,department_code,admitted_on,discharged_on,diagnosis,phone,family_phone"
NO_CONTACT = "Enter the patient's phone or a family member's phone, or both."


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def ward(nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse)
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    WardMapping.objects.create(kind=Kind.HL7, sender="", code="3A", department=department)
    return department


def intake(ward, **patient):
    return DischargeIntake(
        mrn=" ZY1 ",
        admitted_on=dt.date(2026, 11, 10),
        patient_data={"name": " 张伟 ", "phone": "138 1234 5678", **patient},
        discharge_data={
            "department": ward,
            "discharged_on": dt.date(2026, 11, 16),
            "diagnosis": "冠心病",
            "icd10": "i25.1",
        },
    )


def test_the_core_normalises_what_every_source_gives(ward):
    checked = intake_check(intake(ward), policy=POLICIES[Discharge.Source.MANUAL])
    assert checked.errors == {}
    assert (checked.intake.mrn, checked.intake.patient_data["name"], checked.intake.patient_data["phone"]) == (
        "ZY1",
        "张伟",
        "+8613812345678",
    )
    assert checked.intake.discharge_data["icd10"] == "I25.1"


@pytest.mark.parametrize("source", [Discharge.Source.MANUAL, Discharge.Source.IMPORT])
def test_a_person_must_give_a_number_to_call(ward, source):
    checked = intake_check(intake(ward, phone=""), policy=POLICIES[source])
    assert checked.errors == {"phone": [NO_CONTACT]}


@pytest.mark.parametrize("source", [Discharge.Source.HL7, Discharge.Source.FHIR])
def test_a_hospital_system_without_a_number_is_kept_with_a_warning(ward, source):
    checked = intake_check(intake(ward, phone=""), policy=POLICIES[source])
    assert checked.errors == {}
    assert checked.warnings == [
        "No phone number for the patient or the family in this record: the ward must add one to call."
    ]


def test_the_form_and_the_file_refuse_the_same_row_in_the_same_words(client_for, nurse, ward):
    response = client_for(nurse).post(reverse("calls:discharge_new"), post_data(ward, phone="", family_phone=""))
    form_message = response.context["form"].errors["phone"]

    content = f"{HEADER}\nZY9,李娜,CARD,2026-11-10,2026-11-16,冠心病,,\n".encode()
    report = discharges_import(rows=read_discharge_file(name="w.csv", content=content), by=None, dry_run=True)

    assert form_message == [NO_CONTACT]
    assert report.errors == [(2, f"phone: {NO_CONTACT}")]
    assert not Patient.objects.filter(mrn="ZY9").exists()


@pytest.mark.parametrize("hostile", ["张\x00伟", "张\x1b[31m伟", "x" * 101])
def test_a_hostile_name_is_refused_by_every_person_facing_source(client_for, nurse, ward, hostile):
    response = client_for(nurse).post(reverse("calls:discharge_new"), post_data(ward, name=hostile))
    assert response.status_code in (200, 400)
    content = f"{HEADER}\nZY9,{hostile},CARD,2026-11-10,2026-11-16,冠心病,13812345678,\n".encode()
    if "\x00" in hostile:  # not text at all: the whole file is refused before any row is read
        with pytest.raises(ImportFileError):
            read_discharge_file(name="w.csv", content=content)
    else:
        report = discharges_import(rows=read_discharge_file(name="w.csv", content=content), by=None, dry_run=False)
        assert not report.applied
        assert [line for line, _message in report.errors] == [2]
    assert Patient.objects.count() == 0


def test_an_hl7_discharge_without_a_number_is_registered_with_the_cores_warning(ward):
    receipt = hl7_message_receive(raw=adt(phone="").encode())
    inbound_message_process(message_id=receipt.message.pk)
    message = InboundMessage.objects.get(pk=receipt.message.pk)
    assert message.status == InboundMessage.Status.PROCESSED
    assert "No phone number for the patient or the family in this record" in message.warnings
    assert Discharge.objects.get().patient.phone == ""


@pytest.mark.parametrize("birth", ["17260517", "19030517"])
def test_an_hl7_birth_date_that_cannot_be_right_is_left_out_with_a_warning(ward, birth):
    receipt = hl7_message_receive(raw=adt(birth=birth).encode())
    inbound_message_process(message_id=receipt.message.pk)
    message = InboundMessage.objects.get(pk=receipt.message.pk)
    assert message.status == InboundMessage.Status.PROCESSED
    assert f"{birth[:4]}-05-17" in message.warnings
    assert "left out" in message.warnings
    assert Discharge.objects.get().patient.birth_date is None
