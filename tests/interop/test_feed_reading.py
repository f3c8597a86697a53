"""What a sender's messages are taken for: which patient classes are
discharges (per sender), and what is read leniently (spaces inside
timestamps, spaces before a segment name, a stay without its admission
date, an impossible birth date), each with a warning on the message."""

import datetime as dt

import hl7
import pytest

from calls.models import Discharge, FollowUpCall, Patient
from interop.models import FeedSender, InboundMessage, Kind
from interop.services import fhir_payload_receive, hl7_message_receive

from .conftest import adt
from .test_fhir import PRACTITIONER, bundle, encounter, patient

pytestmark = pytest.mark.django_db

NOT_A_DISCHARGE = "Not an inpatient discharge (PV1-2 patient class {}): nothing registered."


def receive(text: str, capture):
    with capture(execute=True):
        return hl7_message_receive(raw=text.encode("utf-8"))


def msa(ack: str) -> tuple[str, str, str]:
    segment = hl7.parse(ack).segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3])


def stored() -> tuple[str, list[str]]:
    message = InboundMessage.objects.order_by("-pk").first()
    return message.status, message.warnings.splitlines()


def stays() -> list[tuple]:
    return list(
        Discharge.objects.order_by("admitted_on").values_list(
            "patient__mrn", "admitted_on", "discharged_on", "archived"
        )
    )


# --- 1. which patient classes are discharges ---------------------------------------------------


@pytest.mark.parametrize("patient_class", ["O", "N", "o", "<B>" * 40])
def test_a03_of_another_patient_class_is_acknowledged_and_registers_nothing(
    patient_class, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(adt(patient_class=patient_class), django_capture_on_commit_callbacks)

    reason = NOT_A_DISCHARGE.format(patient_class.upper())
    assert (receipt.ack_code, receipt.text) == ("AA", reason)
    assert msa(receipt.ack)[:2] == ("AA", "MSG0001")
    assert stored() == ("ignored", [reason])
    assert (Patient.objects.count(), Discharge.objects.count(), FollowUpCall.objects.count()) == (0, 0, 0)


def test_a_sender_configured_for_outpatient_visits_has_them_registered(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    FeedSender.objects.create(kind=Kind.HL7, name="HIS/HOSP", discharge_classes="I,O")

    receipt = receive(adt(patient_class="O"), django_capture_on_commit_callbacks)

    assert (receipt.ack_code, receipt.text) == ("AA", "Accepted.")
    assert stays() == [("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False)]
    # Another sender still takes inpatients only.
    other = receive(
        adt(patient_class="O", sending=("LIS", "HOSP"), control_id="M2"), django_capture_on_commit_callbacks
    )
    assert other.text == NOT_A_DISCHARGE.format("O")


def test_a_sender_that_takes_no_inpatients_has_an_inpatient_a03_ignored(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    FeedSender.objects.create(kind=Kind.HL7, name="HIS/HOSP", discharge_classes="E")

    receipt = receive(adt(), django_capture_on_commit_callbacks)

    assert receipt.text == NOT_A_DISCHARGE.format("I")
    assert Discharge.objects.count() == 0


def test_an_outpatient_a13_without_admission_date_leaves_the_inpatient_stay_alone(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receipt = receive(
        adt("A13", control_id="M2", patient_class="O", admit="", discharge=""), django_capture_on_commit_callbacks
    )

    assert receipt.text == NOT_A_DISCHARGE.format("O")
    assert stays() == [("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False)]
    assert FollowUpCall.objects.get().status == "scheduled"


def test_an_outpatient_a08_updates_the_patient_but_registers_no_stay(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receipt = receive(
        adt("A08", control_id="M2", patient_class="O", name="张^三丰", admit="20261122080000", discharge="20261122"),
        django_capture_on_commit_callbacks,
    )

    assert receipt.ack_code == "AA"
    assert Patient.objects.get().name == "张三丰"
    assert Discharge.objects.count() == 1
    assert stored() == ("processed", [NOT_A_DISCHARGE.format("O")])


def test_an_empty_patient_class_is_taken_as_inpatient_and_flagged(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(patient_class=""), django_capture_on_commit_callbacks)

    assert Discharge.objects.count() == 1
    assert stored() == ("processed", ["PV1-2 (patient class) is empty: taken as I (inpatient)."])


def test_a_switched_off_sender_is_refused(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    FeedSender.objects.create(kind=Kind.HL7, name="HIS/HOSP", active=False)

    receipt = receive(adt(), django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AR", "MSG0001", "Messages from HIS/HOSP are switched off here.")
    assert (stored()[0], Patient.objects.count()) == ("error", 0)


def test_fhir_follows_the_senders_classes(cardiology, now):
    ambulatory = bundle(patient(), encounter(klass="AMB"), PRACTITIONER)
    message, _outcome = fhir_payload_receive(payload=ambulatory, sender="EHR")
    assert (message.status, Discharge.objects.count()) == ("ignored", 0)
    assert message.warnings == "No finished encounter of class IMP in the input: not an inpatient discharge."

    FeedSender.objects.create(kind=Kind.FHIR, name="EHR", discharge_classes="imp, amb")
    message, _outcome = fhir_payload_receive(payload=ambulatory, sender="EHR")

    assert message.status == "processed"
    assert stays() == [("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False)]


# --- 3. tolerant reading ----------------------------------------------------------------------------


def test_timestamps_with_spaces_inside_are_read_and_flagged(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(
        adt(admit="20261116 0930+0800", discharge="20261120 1030 +0800", birth="1960 0517"),
        django_capture_on_commit_callbacks,
    )

    assert receipt.ack_code == "AA"
    assert stays() == [("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False)]
    assert Patient.objects.get().birth_date == dt.date(1960, 5, 17)
    assert stored() == (
        "processed",
        [
            "PID-7 “1960 0517” has spaces inside: read as 19600517.",
            "PV1-44 “20261116 0930+0800” has spaces inside: read as 202611160930+0800.",
            "PV1-45 “20261120 1030 +0800” has spaces inside: read as 202611201030+0800.",
        ],
    )


@pytest.mark.parametrize("value", ["2026 11 2x", "20261120 1030 -08 00 00", "20261120 10:30"])
def test_a_timestamp_that_spaces_do_not_explain_is_still_refused(
    value, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(adt(discharge=value, evn6=""), django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AE"
    assert Discharge.objects.count() == 0


def test_segments_after_leading_spaces_are_read_and_flagged(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    message = adt(extra=(" ZPD|1|私有字段", "\tZBE|2")).replace("\rDG1|", "\r  DG1|")

    receipt = receive(message, django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    assert Discharge.objects.get().icd10 == "I25.1"
    assert stored() == (
        "processed",
        [
            "Segment 5 (DG1) starts with spaces: read without them.",
            "Segment 6 (ZPD) starts with spaces: read without them.",
            "Segment 7 (ZBE) starts with spaces: read without them.",
        ],
    )


def test_an_a03_without_admission_date_updates_the_stay_with_its_visit_number(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(visit="V0042^^^HOSP"), django_capture_on_commit_callbacks)

    receipt = receive(
        adt(control_id="M2", visit="V0042^^^HOSP", admit="", discharge="20261121100000+0800"),
        django_capture_on_commit_callbacks,
    )

    assert receipt.ack_code == "AA"
    assert stays() == [("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 21), False)]
    assert stored() == (
        "processed",
        ["PV1-44 (admit date/time) is empty: the stay was found by its visit number (PV1-19) V0042."],
    )


def test_an_a03_without_admission_date_or_visit_number_finds_the_stay_by_its_discharge_date(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receive(adt(control_id="M2", admit="", dg1="I21.9^急性心肌梗死^I10"), django_capture_on_commit_callbacks)

    assert stays() == [("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False)]
    assert Discharge.objects.get().icd10 == "I21.9"
    assert stored() == ("processed", ["PV1-44 (admit date/time) is empty: the stay was found by its discharge date."])


def test_a_new_stay_without_admission_date_is_registered_admitted_on_its_discharge_day(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(adt(admit="", visit="V9"), django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    assert stays() == [("ZY0001", dt.date(2026, 11, 20), dt.date(2026, 11, 20), False)]
    assert FollowUpCall.objects.count() == 1
    assert stored() == (
        "processed",
        [
            "PV1-44 (admit date/time) is empty and no stay here has this visit number or discharge date: "
            "the admission date is recorded as the discharge date."
        ],
    )


def test_an_a13_without_admission_date_cancels_the_stay_of_its_visit_number(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(visit="V1", admit="20261101", discharge="20261105"), django_capture_on_commit_callbacks)
    receive(adt(control_id="M2", visit="V2"), django_capture_on_commit_callbacks)

    receive(adt("A13", control_id="M3", visit="V1", admit="", discharge=""), django_capture_on_commit_callbacks)

    assert stays() == [
        ("ZY0001", dt.date(2026, 11, 1), dt.date(2026, 11, 5), True),
        ("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False),
    ]


def test_a_visit_number_of_another_patient_finds_nothing(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(visit="V1"), django_capture_on_commit_callbacks)

    receive(
        adt(control_id="M2", pid3="ZY0002^^^HOSP^MR", visit="V1", admit="", discharge="20261119"),
        django_capture_on_commit_callbacks,
    )

    assert stays() == [
        ("ZY0001", dt.date(2026, 11, 16), dt.date(2026, 11, 20), False),
        ("ZY0002", dt.date(2026, 11, 19), dt.date(2026, 11, 19), False),
    ]


@pytest.mark.parametrize(
    ("birth", "warning"),
    [
        ("17260517", "PID-7 birth date 1726-05-17 is more than 120 years ago: left out."),
        ("18991231", "PID-7 birth date 1899-12-31 is more than 120 years ago: left out."),
        ("19061122", "PID-7 birth date 1906-11-22 is more than 120 years ago: left out."),
        ("20270101", "PID-7 birth date 2027-01-01 is in the future: left out."),
    ],
)
def test_an_impossible_birth_date_is_left_out_and_the_discharge_kept(
    birth, warning, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(birth=birth), django_capture_on_commit_callbacks)

    assert (Patient.objects.get().birth_date, Discharge.objects.count()) == (None, 1)
    assert stored() == ("processed", [warning])


def test_a_birth_date_120_years_ago_today_is_kept(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receive(adt(birth="19061123"), django_capture_on_commit_callbacks)

    assert Patient.objects.get().birth_date == dt.date(1906, 11, 23)


def test_fhir_leaves_out_an_impossible_birth_date(cardiology, now):
    message, _outcome = fhir_payload_receive(
        payload=bundle(patient(birthDate="1726-05-17"), encounter(), PRACTITIONER), sender="EHR"
    )

    assert (message.status, Patient.objects.get().birth_date) == ("processed", None)
    assert message.warnings == "Patient/p1 birth date 1726-05-17 is more than 120 years ago: left out."
