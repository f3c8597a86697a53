"""The data a risk score needs arrives from every intake path (the form, the
HL7 and FHIR feeds), the score is stored with the stay, and emergency visits
are recorded as visits that score again the stays they precede."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from calls.models import Discharge, Patient, Visit
from calls.risk.lace import stored_component
from followup.models import AuditEvent
from interop.services import fhir_payload_receive, hl7_message_receive
from tests.calls.test_discharge_form import post_data

from .conftest import adt
from .test_fhir import ICD10, PRACTITIONER, bundle, condition, encounter, patient

pytestmark = pytest.mark.django_db

NEW = reverse("calls:discharge_new")


@pytest.fixture(autouse=True)
def _today(now):
    return now


@pytest.fixture
def ward(cardiology, nurse):
    cardiology.staff.add(nurse)
    return cardiology


def components(stay: Discharge) -> list[tuple]:
    kept = [stored_component(c) for c in stay.risk_detail["components"]]
    return [(c.letter, c.value, c.points, c.source) for c in kept]


def receive(text: str, capture):
    with capture(execute=True):
        return hl7_message_receive(raw=text.encode("utf-8"))


# --- the nurse's form --------------------------------------------------------------------------


def test_the_form_records_the_risk_data_and_the_stay_is_scored(client_for, nurse, ward):
    response = client_for(nurse).post(
        NEW,
        post_data(
            ward,
            admitted_on="2026-11-10",
            discharged_on="2026-11-16",
            icd10="I50.9",
            admission_type="emergency",
            secondary_icd10="j44.9，e11.2; I10",
            reported_emergency_visits="2",
        ),
    )

    assert response.status_code == 302
    stay = Discharge.objects.get()
    assert (stay.admission_type, stay.secondary_icd10, stay.reported_emergency_visits) == (
        "emergency",
        ["J44.9", "E11.2", "I10"],
        2,
    )
    # 6 days: L 4; emergency: A 3; heart failure 1 + COPD 1 + diabetes with complications 2 = 4: C 5; E 2.
    assert components(stay) == [
        ("L", "6", 4, "stay_dates"),
        ("A", "emergency", 3, "admission_type"),
        ("C", "4", 5, "icd10"),
        ("E", "2", 2, "reported"),
    ]
    assert (stay.risk_score, stay.risk_tier) == (14, "high")


def test_a_form_without_the_risk_data_leaves_the_score_unknown(client_for, nurse, ward):
    client_for(nurse).post(NEW, post_data(ward))

    stay = Discharge.objects.get()
    assert (stay.risk_score, stay.risk_tier, stay.risk_lower_bound) == (None, "unknown", 4)
    assert [c[3] for c in components(stay)] == ["stay_dates", "missing", "icd10", "missing"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("secondary_icd10", "E11.9, <script>alert(1)</script>", "Not ICD-10 codes: &lt;SCRIPT&gt;ALERT(1)&lt;/SC"),
        ("secondary_icd10", "I10, 高血压", "Not ICD-10 codes: 高血压"),
        ("reported_emergency_visits", "-1", "Ensure this value is greater than or equal to 0."),
        ("reported_emergency_visits", "many", "Enter a whole number."),
        ("admission_type", "urgent<b>", "Select a valid choice."),
    ],
)
def test_bad_risk_data_is_refused_in_plain_words_and_changes_nothing(client_for, nurse, ward, field, value, message):
    response = client_for(nurse).post(NEW, post_data(ward, **{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert "<SCRIPT>" not in response.content.decode()
    assert Patient.objects.count() == 0


# --- HL7 v2 --------------------------------------------------------------------------------------

PV1_4_EMERGENCY = "E"


def inpatient_a03(**changes):
    """An A03 with PV1-4 admission type and three DG1 diagnoses (the first the principal)."""
    text = adt(
        dg1="I50.9^心力衰竭^I10",
        extra=("DG1|2||J44.9^慢阻肺^I10||20261116|S", "DG1|3||E11.2^糖尿病肾病^ICD10||20261116|S"),
        **changes,
    )
    fields = text.split("\r")
    pv1 = next(i for i, segment in enumerate(fields) if segment.startswith("PV1|"))
    parts = fields[pv1].split("|")
    parts[4] = PV1_4_EMERGENCY
    fields[pv1] = "|".join(parts)
    return "\r".join(fields)


def test_hl7_reads_admission_type_and_every_diagnosis(cardiology, eager_celery, django_capture_on_commit_callbacks):
    receipt = receive(inpatient_a03(), django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    stay = Discharge.objects.get()
    assert (stay.icd10, stay.admission_type, stay.secondary_icd10) == ("I50.9", "emergency", ["J44.9", "E11.2"])
    assert components(stay)[:3] == [
        ("L", "4", 4, "stay_dates"),
        ("A", "emergency", 3, "admission_type"),
        ("C", "4", 5, "icd10"),
    ]


def test_an_emergency_visit_is_recorded_as_a_visit_and_counts_for_the_later_stay(
    cardiology, eager_celery, django_capture_on_commit_callbacks, settings
):
    settings.RISK_EMERGENCY_VISITS_COMPLETE = True
    visit = adt(control_id="ED1", patient_class="E", admit="20260901220000+0800", discharge="20260902030000+0800")
    receipt = receive(visit, django_capture_on_commit_callbacks)
    receive(visit.replace("ED1", "ED1-again"), django_capture_on_commit_callbacks)  # the same visit sent twice

    assert (receipt.ack_code, receipt.text) == ("AA", "Accepted.")
    assert list(Visit.objects.values_list("patient__mrn", "kind", "visited_on", "source")) == [
        ("ZY0001", "emergency", dt.date(2026, 9, 1), "hl7")
    ]
    assert Discharge.objects.count() == 0
    assert list(AuditEvent.objects.filter(object_type="visit").values_list("actor_name", "action", "patient_id")) == [
        ("hl7:HIS/HOSP", "create", Patient.objects.get().pk)
    ]

    receive(inpatient_a03(control_id="IP1"), django_capture_on_commit_callbacks)

    stay = Discharge.objects.get()
    assert components(stay)[3] == ("E", "1", 1, "visits")
    assert (stay.risk_score, stay.risk_tier) == (4 + 3 + 5 + 1, "high")


def test_a_visit_reported_after_the_stay_scores_the_stay_again(
    cardiology, eager_celery, django_capture_on_commit_callbacks
):
    receive(inpatient_a03(control_id="IP1"), django_capture_on_commit_callbacks)
    stay = Discharge.objects.get()
    assert (components(stay)[3], stay.risk_lower_bound) == (("E", "", None, "missing"), 12)

    receive(
        adt(control_id="ED1", patient_class="E", admit="20261020080000+0800", discharge="20261020"),
        django_capture_on_commit_callbacks,
    )
    receive(
        adt(
            control_id="ED2", patient_class="E", admit="20260301080000+0800", discharge="20260301"
        ),  # > 6 months before
        django_capture_on_commit_callbacks,
    )

    stay.refresh_from_db()
    # One visit within six months is known to have happened; more may have (the feed is not complete).
    assert (components(stay)[3], stay.risk_lower_bound, stay.risk_score) == (("E", "1", None, "missing"), 13, None)
    assert Visit.objects.count() == 2


def test_an_emergency_visit_with_a_hostile_name_is_kept_as_text(
    cardiology, eager_celery, django_capture_on_commit_callbacks
):
    receive(
        adt(control_id="ED1", patient_class="E", name="<script>alert(1)</script>^X", admit="20261020080000+0800"),
        django_capture_on_commit_callbacks,
    )
    assert Patient.objects.get().name == "X <script>alert(1)</script>"  # stored as text, escaped when shown
    assert Visit.objects.count() == 1


# --- FHIR --------------------------------------------------------------------------------------


def test_fhir_reads_priority_every_condition_and_emergency_encounters(cardiology, settings):
    settings.RISK_EMERGENCY_VISITS_COMPLETE = True
    inpatient = encounter(priority={"coding": [{"code": "EM"}]})
    emergency = encounter("ed1", klass="EMER", start="2026-10-01T23:00:00+08:00", end="2026-10-02T02:00:00+08:00")
    payload = bundle(
        patient(),
        inpatient,
        emergency,
        condition(codings=({"system": ICD10, "code": "I50.9"},)),
        {**condition(codings=({"system": ICD10, "code": "N18.5"},)), "id": "c2"},
        {**condition(codings=({"system": "http://snomed.info/sct", "code": "44054006"},)), "id": "c3"},
        PRACTITIONER,
    )

    row, outcome = fhir_payload_receive(payload=payload)

    assert row.status == "processed", outcome
    stay = Discharge.objects.get()
    assert (stay.admission_type, stay.icd10, stay.secondary_icd10) == ("emergency", "I50.9", ["N18.5"])
    assert list(Visit.objects.values_list("visited_on", "source", "source_reference")) == [
        (dt.date(2026, 10, 1), "fhir", "ed1")
    ]
    # 4 days: 4; emergency: 3; heart failure 1 + renal disease 2: 3; one emergency visit: 1.
    assert (stay.risk_score, stay.risk_tier) == (11, "high")


def test_fhir_admit_source_gives_the_admission_type_when_there_is_no_priority(cardiology):
    inpatient = encounter(hospitalization={"admitSource": {"coding": [{"code": "hosp-trans"}]}})

    fhir_payload_receive(payload=bundle(patient(), inpatient, condition(), PRACTITIONER))

    assert Discharge.objects.get().admission_type == "transfer"


def test_an_emergency_encounter_in_the_future_is_refused_and_records_nothing(cardiology):
    emergency = encounter("ed1", klass="EMER", start="2027-10-01T23:00:00+08:00", end="2027-10-02T02:00:00+08:00")

    row, outcome = fhir_payload_receive(
        payload=json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": patient()}, {"resource": emergency}],
            }
        )
    )

    assert row.status == "error"
    assert outcome.errors == ["Encounter/ed1: The visit date is in the future."]
    assert Visit.objects.count() == Patient.objects.count() == 0
