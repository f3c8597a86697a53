"""FHIR R4: the real Synthea bundles, Bundles and NDJSON exports written to
the R4 specification, the import_fhir command."""

import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command

from calls.models import Discharge, FollowUpCall, Patient
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import fhir_payload_receive
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db

ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
MR = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


def patient(pid="p1", mrn="ZY0001", **extra):
    return {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [
            {"system": "urn:oid:1.2.156.1", "value": "110101196005170021"},
            {"type": MR, "system": "urn:hosp:mrn", "value": mrn},
        ],
        "name": [{"use": "official", "family": "张", "given": ["三"]}],
        "gender": "female",
        "birthDate": "1960-05-17",
        "telecom": [
            {"system": "email", "value": "z@example.cn"},
            {"system": "phone", "value": "13812345678", "use": "mobile"},
        ],
        **extra,
    }


def encounter(
    eid="e1", pid="p1", start="2026-11-16T09:30:00+08:00", end="2026-11-20T10:30:00+08:00", klass="IMP", **extra
):
    return {
        "resourceType": "Encounter",
        "id": eid,
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
        "subject": {"reference": f"Patient/{pid}"},
        "participant": [{"type": [{"coding": [{"code": "ATND"}]}], "individual": {"reference": "Practitioner/d1"}}],
        "period": {"start": start, "end": end},
        "location": [{"location": {"reference": "Location/l1", "display": "3A"}}],
        **extra,
    }


def condition(
    eid="e1", codings=({"system": ICD10, "code": "I25.1", "display": "Chronic ischaemic heart disease"},), text="冠心病"
):
    return {
        "resourceType": "Condition",
        "id": f"c-{eid}",
        "encounter": {"reference": f"Encounter/{eid}"},
        "code": {"coding": list(codings), "text": text},
    }


PRACTITIONER = {"resourceType": "Practitioner", "id": "d1", "name": [{"family": "李", "given": ["四"]}]}


def bundle(*resources):
    return json.dumps(
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        },
        ensure_ascii=False,
    )


@pytest.fixture
def ward_3a(cardiology):
    surgery = DepartmentFactory(code="SURG", name="Surgery")
    WardMapping.objects.create(kind=Kind.FHIR, code="3A", department=surgery)
    return surgery


def test_bundle_creates_patient_discharge_and_this_weeks_call(cardiology, now):
    message, outcome = fhir_payload_receive(
        payload=bundle(patient(), encounter(), condition(), PRACTITIONER), sender="api"
    )

    assert (message.status, message.kind, message.event_type, message.error) == ("processed", "fhir", "Bundle", "")
    created = Patient.objects.get()
    assert (created.mrn, created.name, created.sex, created.birth_date, created.phone) == (
        "ZY0001",
        "张三",
        "F",
        dt.date(1960, 5, 17),
        "+8613812345678",
    )
    discharge = Discharge.objects.get()
    assert (discharge.admitted_on, discharge.discharged_on, discharge.department) == (
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 20),
        cardiology,
    )
    assert (discharge.diagnosis, discharge.icd10, discharge.attending_doctor) == ("冠心病", "I25.1", "李四")
    assert (discharge.source, discharge.source_reference) == ("fhir", "e1")
    assert [(d.pk, new) for d, new in outcome.discharges] == [(discharge.pk, True)]
    assert FollowUpCall.objects.get().due_date == dt.date(2026, 11, 23)


def test_location_mapping_wins_over_the_default(ward_3a, now):
    fhir_payload_receive(payload=bundle(patient(), encounter(), PRACTITIONER))

    assert Discharge.objects.get().department == ward_3a


def test_condition_without_icd10_gives_its_snomed_display(cardiology, now):
    snomed_only = condition(
        codings=({"system": SNOMED, "code": "53741008", "display": "Coronary arteriosclerosis"},), text=""
    )

    fhir_payload_receive(payload=bundle(patient(), encounter(), snomed_only, PRACTITIONER))

    discharge = Discharge.objects.get()
    assert (discharge.diagnosis, discharge.icd10) == ("Coronary arteriosclerosis", "")


def test_importing_the_same_bundle_again_updates_and_duplicates_nothing(cardiology, now):
    payload = bundle(patient(), encounter(), condition(), PRACTITIONER)
    fhir_payload_receive(payload=payload)

    _message, outcome = fhir_payload_receive(payload=payload)

    assert [new for _d, new in outcome.discharges] == [False]
    assert (Patient.objects.count(), Discharge.objects.count(), FollowUpCall.objects.count()) == (1, 1, 1)


def test_only_finished_inpatient_encounters_are_discharges(cardiology, now):
    resources = [
        patient(),
        PRACTITIONER,
        encounter("amb", klass="AMB"),
        encounter("open", start="2026-11-21T09:00:00+08:00", end=None),
    ]
    resources[3]["period"].pop("end")

    message, _outcome = fhir_payload_receive(payload=bundle(*resources))

    assert (message.status, message.warnings) == (
        "ignored",
        "No finished encounter of class IMP in the input: not an inpatient discharge.",
    )
    assert Discharge.objects.count() == 0


def test_a_bad_encounter_changes_nothing_and_says_why(cardiology, now):
    no_mrn = patient("p2", mrn="")
    no_mrn["identifier"] = no_mrn["identifier"][:1]
    resources = [
        patient(),
        PRACTITIONER,
        encounter(),
        no_mrn,
        encounter("e2", pid="p2"),
        encounter("e3", end="2026-11-99"),
    ]

    message, outcome = fhir_payload_receive(payload=bundle(*resources))

    assert message.status == "error"
    assert outcome.errors == [
        "Encounter/e2: Patient/p2 has no identifier of type MR (the MRN).",
        "Encounter/e3: period.end “2026-11-99” is not a FHIR date/time.",
    ]
    assert (Patient.objects.count(), Discharge.objects.count()) == (0, 0)


def test_no_ward_mapping_and_no_default_is_an_error(db, now):
    message, _outcome = fhir_payload_receive(payload=bundle(patient(), encounter(), PRACTITIONER))

    assert message.error == (
        "Encounter/e1: no ward mapping for its location or service provider (3A, Location/l1) "
        "and no default (*) mapping."
    )
    assert Discharge.objects.count() == 0


def test_input_that_is_not_json_is_stored_as_an_error(db):
    message, _outcome = fhir_payload_receive(payload="{not json")

    assert (message.status, message.error) == (
        "error",
        "Line 1 is not JSON: Expecting property name enclosed in double quotes",
    )
    assert InboundMessage.objects.count() == 1


def test_ndjson_bulk_export_folder(tmp_path, cardiology, now):
    (tmp_path / "Patient.ndjson").write_text(json.dumps(patient(), ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "Encounter.ndjson").write_text(
        json.dumps(encounter()) + "\n" + json.dumps(encounter("amb", klass="AMB")) + "\n", encoding="utf-8"
    )
    (tmp_path / "Condition.ndjson").write_text(json.dumps(condition(), ensure_ascii=False), encoding="utf-8")
    (tmp_path / "Practitioner.ndjson").write_text(json.dumps(PRACTITIONER, ensure_ascii=False), encoding="utf-8")

    call_command("import_fhir", str(tmp_path))

    discharge = Discharge.objects.get()
    assert (discharge.patient.mrn, discharge.icd10, discharge.attending_doctor, discharge.source_reference) == (
        "ZY0001",
        "I25.1",
        "李四",
        "e1",
    )
    assert InboundMessage.objects.get().event_type == "NDJSON"


def test_import_fhir_reports_errors_and_fails(tmp_path, db, now, capsys):
    path = tmp_path / "bundle.json"
    path.write_text(bundle(patient(), encounter(), PRACTITIONER), encoding="utf-8")

    with pytest.raises(CommandError) as raised:
        call_command("import_fhir", str(path))

    assert str(raised.value) == "1 input(s) had errors and changed nothing."
    assert Discharge.objects.count() == 0


# --- the real Synthea samples -----------------------------------------------------------------


def test_synthea_sample_bundles_import_with_the_default_ward(samples, cardiology, now, capsys):
    call_command("import_fhir", str(samples / "fhir"))

    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if not line.startswith("  ")] == [
        "1297089-bundle.json: Processed, 1 discharges created, 0 updated",
        "848493-bundle.json: Processed, 1 discharges created, 0 updated",
        "950687-bundle.json: Processed, 1 discharges created, 0 updated",
    ]
    rows = list(
        Discharge.objects.order_by("admitted_on").values_list(
            "source_reference",
            "admitted_on",
            "discharged_on",
            "diagnosis",
            "attending_doctor",
            "department__code",
            "source",
        )
    )
    assert rows == [
        (
            "2f659bee-eccd-3b81-3a56-e9ff3c131198",
            dt.date(1984, 12, 6),
            dt.date(1984, 12, 7),
            "Admission to surgical department",
            "Lesley194 Fisher429",
            "CARD",
            "fhir",
        ),
        (
            "9281a71a-874b-840a-a315-0338a82f01e0",
            dt.date(2004, 12, 31),
            dt.date(2005, 1, 1),
            "History of appendectomy",
            "Eleonora961 Langosh790",
            "CARD",
            "fhir",
        ),
        (
            "a5acc570-1573-29c2-06e6-776763b03094",
            dt.date(2015, 8, 24),
            dt.date(2015, 8, 25),
            "Admission to surgical department",
            "Amira620 Nienow652",
            "CARD",
            "fhir",
        ),
    ]


def test_synthea_deceased_patient_is_marked_on_the_hospital_date(samples, cardiology, now):
    fhir_payload_receive(payload=(samples / "fhir" / "1297089-bundle.json").read_text(encoding="utf-8"))

    deceased = Patient.objects.get()
    # deceasedDateTime 1992-04-29T18:50:04+02:00 (summer time) is 00:50 on 30 April in Shanghai.
    assert (deceased.mrn, deceased.name, deceased.deceased_on) == (
        "786eade9-5519-df1c-bd5a-736fa3a6ff5e",
        "Mariko625 Skiles927",
        dt.date(1992, 4, 30),
    )
    # 555-241-5161 read in the default region (CN), as every number without a country code.
    assert (deceased.sex, deceased.birth_date, deceased.phone) == ("F", dt.date(1949, 10, 18), "+865552415161")


def test_synthea_patients_that_are_alive_are_not_marked(samples, cardiology, now):
    fhir_payload_receive(payload=(samples / "fhir" / "950687-bundle.json").read_text(encoding="utf-8"))

    alive = Patient.objects.get()
    assert (alive.mrn, alive.name, alive.sex, alive.deceased_on) == (
        "e24b5332-cc7b-034d-a6b1-fdea0db5196c",
        "Clair921 Bednar518",
        "M",
        None,
    )


def test_encounter_ending_with_death_marks_the_patient_deceased(cardiology, now):
    died = encounter(
        hospitalization={
            "dischargeDisposition": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": "exp"}]
            }
        }
    )

    fhir_payload_receive(payload=bundle(patient(), died, PRACTITIONER))

    assert Patient.objects.get().deceased_on == dt.date(2026, 11, 20)
    assert FollowUpCall.objects.get().cancel_reason == "deceased"
