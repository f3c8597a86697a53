"""Each sender writes only into the wards its mappings name: it files stays
there, and it changes, cancels or merges only stays and patients of those
wards. Anything else is kept as an error and changes nothing."""

import datetime as dt

import hl7
import pytest

from calls.models import Discharge, FollowUpCall, Patient
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive
from tests.factories import DepartmentFactory

from .conftest import adt

pytestmark = pytest.mark.django_db

LAB = ("LIS", "HOSP")  # a second sending system, whose mappings name surgery only


def receive(text: str, capture):
    with capture(execute=True):
        return hl7_message_receive(raw=text.encode("utf-8"))


def msa(ack: str) -> tuple[str, str, str]:
    segment = hl7.parse(ack).segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3])


def last() -> tuple[str, str]:
    message = InboundMessage.objects.order_by("-pk").first()
    return message.status, message.error


@pytest.fixture
def surgery(cardiology):
    """3A is cardiology for every sender; LIS/HOSP maps its own code 5B to surgery."""
    WardMapping.objects.filter(kind=Kind.HL7).update(sender="HIS/HOSP")
    department = DepartmentFactory(code="SURG", name="Surgery")
    WardMapping.objects.create(kind=Kind.HL7, sender="LIS/HOSP", code="5B", department=department)
    return department


def test_a_ward_code_that_names_a_department_without_a_mapping_is_an_unknown_ward(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(adt(ward="CARD^1^1"), django_capture_on_commit_callbacks)

    assert msa(receipt.ack)[:2] == ("AE", "MSG0001")
    assert Discharge.objects.count() == 0


def test_a_sender_cannot_file_into_another_senders_ward(surgery, now, eager_celery, django_capture_on_commit_callbacks):
    receipt = receive(adt(sending=LAB, ward="3A^1^1"), django_capture_on_commit_callbacks)

    assert msa(receipt.ack)[:2] == ("AE", "MSG0001")
    assert receipt.text == "Unknown ward “3A” from LIS/HOSP: add a ward mapping in the admin, then reprocess."
    assert Discharge.objects.count() == 0


def test_a_sender_cannot_cancel_a_stay_of_a_ward_it_does_not_file_into(
    surgery, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receipt = receive(adt("A13", sending=LAB, control_id="M2", discharge=""), django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"  # the check needs the stay: it is made when the message is processed
    assert last() == (
        "error",
        "The stay of MRN ZY0001 admitted on 2026-11-16 is filed in a ward LIS/HOSP has no ward mapping for: "
        "not changed.",
    )
    assert Discharge.objects.get().archived is False
    assert FollowUpCall.objects.get().status == "scheduled"


def test_a_sender_cannot_move_or_change_a_stay_of_another_ward(
    surgery, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receive(adt(sending=LAB, control_id="M2", ward="5B^1^1", name="王^五"), django_capture_on_commit_callbacks)

    assert last()[0] == "error"
    assert (Discharge.objects.get().department, Patient.objects.get().name) == (cardiology, "张三")


def test_a_sender_cannot_rename_a_patient_of_wards_it_does_not_file_into(
    surgery, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receive(adt("A08", sending=LAB, control_id="M2", name="王^五", discharge=""), django_capture_on_commit_callbacks)

    assert last() == (
        "error",
        "Patient MRN ZY0001 has no stay in a ward LIS/HOSP has a ward mapping for: not changed.",
    )
    assert Patient.objects.get().name == "张三"


def test_a_sender_files_its_own_stay_of_a_patient_known_elsewhere(
    surgery, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)

    receive(
        adt(sending=LAB, control_id="M2", ward="5B^1^1", admit="20261121", discharge="20261122"),
        django_capture_on_commit_callbacks,
    )

    assert last() == ("processed", "")
    assert list(Discharge.objects.order_by("admitted_on").values_list("department__code", "admitted_on")) == [
        ("CARD", dt.date(2026, 11, 16)),
        ("SURG", dt.date(2026, 11, 21)),
    ]
    # Now a patient of one of its wards: its A08 updates her.
    receive(adt("A08", sending=LAB, control_id="M3", name="张^三丰", discharge=""), django_capture_on_commit_callbacks)
    assert Patient.objects.get().name == "张三丰"
