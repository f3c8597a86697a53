"""The real public HL7 v2 samples (microsoft/FHIR-Converter) and their quirks."""

import datetime as dt

import hl7
import pytest

from calls.models import Discharge, Patient
from interop.models import FeedSender, InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def homerton_sender(db):
    """The samples' stays have patient class P (preadmit): their sender is
    configured to take P as well as I as discharges."""
    return FeedSender.objects.create(kind=Kind.HL7, name="ADTApp/GHHSFacility", discharge_classes="I, p")


@pytest.fixture
def homerton(cardiology, homerton_sender):
    WardMapping.objects.create(kind=Kind.HL7, sender="ADTApp/GHHSFacility", code="HUH AE OMU", department=cardiology)
    return cardiology


def receive_sample(samples, name, capture):
    with capture(execute=True):
        return hl7_message_receive(raw=(samples / "hl7" / name).read_bytes())


def msa(ack):
    segment = hl7.parse(ack).segment("MSA")
    return str(segment[1]), str(segment[2])


def test_current_a03_sample_is_a_discharge_despite_evn1_saying_a01(
    samples, homerton, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive_sample(samples, "msft-fhirconverter_ADT-A03-01.hl7", django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AA", "MSG00001")
    discharge = Discharge.objects.get()
    # PV1-44/45 20150208113419+0110 / 20150209113419+0110 are 18:24 in Shanghai the same days.
    assert (discharge.admitted_on, discharge.discharged_on) == (dt.date(2015, 2, 8), dt.date(2015, 2, 9))
    assert (discharge.department, discharge.diagnosis, discharge.icd10) == (homerton, "Ischemic stroke(disorder)", "")
    assert (discharge.attending_doctor, discharge.source) == ("Mohammed Mahi Alaz", "hl7")
    patient = discharge.patient
    # PID-3 repeats: PATID1234 is the one of type MR.
    assert (patient.mrn, patient.name, patient.sex, patient.birth_date) == (
        "PATID1234",
        "ADAM A EVERYMAN",
        "M",
        dt.date(1988, 8, 18),
    )
    assert (patient.phone_needs_correction, patient.deceased_on) == (True, dt.date(2008, 8, 25))
    message = InboundMessage.objects.get()
    assert message.status == "processed"
    assert message.warnings.splitlines() == [
        "EVN-1 says A01 but MSH-9 says A03: MSH-9 was followed.",
        "Phone “2222” is not a valid number: kept, marked for correction.",
        "Family phone “121111” is not a valid number: left out.",
    ]


def test_the_a03_sample_is_no_discharge_for_a_sender_that_takes_inpatients_only(
    samples, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    WardMapping.objects.create(kind=Kind.HL7, code="HUH AE OMU", department=cardiology)

    receipt = receive_sample(samples, "msft-fhirconverter_ADT-A03-01.hl7", django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AA", "MSG00001")
    assert receipt.text == "Not an inpatient discharge (PV1-2 patient class P): nothing registered."
    message = InboundMessage.objects.get()
    assert (message.status, message.warnings.splitlines()[-1]) == ("ignored", receipt.text)
    assert Patient.objects.count() == 0


def test_short_a03_sample_without_dg1_still_registers(
    samples, homerton, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive_sample(samples, "msft-fhirconverter_ADT-A03-02.hl7", django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    assert Discharge.objects.get().diagnosis == ""
    assert InboundMessage.objects.get().warnings.splitlines()[-1] == "No DG1 diagnosis in the message."


def test_old_a03_without_pv1_45_takes_evn6_and_flags_it(
    samples, homerton, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive_sample(
        samples, "msft-fhirconverter_ADT_A03_old-1c821ba_noPV1-45.hl7", django_capture_on_commit_callbacks
    )

    assert receipt.ack_code == "AA"
    # EVN-6 20210817151943.4+0200 is 21:19 on 17 August in Shanghai.
    assert Discharge.objects.get().discharged_on == dt.date(2021, 8, 17)
    assert "PV1-45 (discharge date/time) is empty: the discharge date was taken from EVN-6." in (
        InboundMessage.objects.get().warnings.splitlines()
    )


def test_a08_sample_with_the_same_control_id_as_the_a03_is_a_duplicate(
    samples, homerton, now, eager_celery, django_capture_on_commit_callbacks
):
    receive_sample(samples, "msft-fhirconverter_ADT-A03-01.hl7", django_capture_on_commit_callbacks)
    receipt = receive_sample(samples, "msft-fhirconverter_ADT-A08-01.hl7", django_capture_on_commit_callbacks)

    assert (receipt.ack_code, receipt.duplicate) == ("AA", True)
    assert InboundMessage.objects.count() == 1


def test_a08_sample_alone_creates_the_stay_it_describes(
    samples, homerton, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive_sample(samples, "msft-fhirconverter_ADT-A08-01.hl7", django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    assert Discharge.objects.get().patient.mrn == "PATID1234"


def test_a03_sample_with_an_unmapped_ward_is_refused_then_reprocessed(
    samples, cardiology, homerton_sender, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive_sample(samples, "msft-fhirconverter_ADT-A03-01.hl7", django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AE", "MSG00001")
    assert (Patient.objects.count(), InboundMessage.objects.get().status) == (0, "error")


@pytest.mark.parametrize("name", ["msft-fhirconverter_ADT-A01-01.hl7", "msft-fhirconverter_ADT01-23.hl7"])
def test_a01_samples_are_acknowledged_and_ignored(name, samples, cardiology, django_capture_on_commit_callbacks):
    receipt = receive_sample(samples, name, django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    message = InboundMessage.objects.get()
    assert (message.status, message.event_type) == ("ignored", "ADT^A01")
    assert Patient.objects.count() == 0


def test_v23_sample_with_a_byte_order_mark_is_read(samples, cardiology, django_capture_on_commit_callbacks):
    raw = (samples / "hl7" / "msft-fhirconverter_ADT01-23.hl7").read_bytes()
    assert raw[:3] == b"\xef\xbb\xbf"

    receipt = receive_sample(samples, "msft-fhirconverter_ADT01-23.hl7", django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AA", "599102")
    message = InboundMessage.objects.get()
    assert (message.sender, message.control_id, message.payload[:4]) == ("AccMgr/1", "599102", "MSH|")
