"""A discharge sent again after its A13 gets its calls back; an A40 (A34,
A47) joins two records of one patient: stays, calls and complaints move to
the survivor, both MRNs find her, her audit trail includes the merged
record's, and the merge itself is recorded."""

import datetime as dt

import hl7
import pytest

from calls.models import Discharge, FollowUpCall, Patient
from calls.services.cancellation import patient_mark_deceased
from complaints.models import Category, Complaint
from complaints.services import complaint_create
from followup import access
from followup.audit import audit_events_for_patient, audit_patient_ids, audit_record
from followup.models import AuditEvent
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive
from tests.factories import DepartmentFactory, UserFactory

from .conftest import adt

pytestmark = pytest.mark.django_db


def receive(text: str, capture):
    with capture(execute=True):
        return hl7_message_receive(raw=text.encode("utf-8"))


def msa(ack: str) -> tuple[str, str, str]:
    segment = hl7.parse(ack).segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3])


def last() -> tuple[str, str, str]:
    message = InboundMessage.objects.order_by("-pk").first()
    return message.status, message.error, message.warnings


def calls() -> list[tuple]:
    return list(
        FollowUpCall.objects.order_by("pk").values_list(
            "discharge__patient__mrn", "due_date", "status", "cancel_reason"
        )
    )


def merge(trigger: str = "A40", *, survivor="ZY0001", prior="ZY0002", control_id="MRG0001", name="张^三", extra=()):
    """An ADT^A40 (or A34/A47) as HL7 v2.5 chapter 3 lays it out: PID the
    surviving record, MRG-1 the one merged into it."""
    return (
        "\r".join(
            [
                f"MSH|^~\\&|HIS|HOSP|FOLLOWUP||20261122090000+0800||ADT^{trigger}^ADT_A39|{control_id}|P|2.5|||||CHN|"
                "UNICODE UTF-8",
                f"EVN|{trigger}|20261122090000+0800",
                f"PID|1||{survivor}^^^HOSP^MR||{name}||19600517|F",
                f"MRG|{prior}^^^HOSP^MR",
                *extra,
            ]
        )
        + "\r"
    )


# --- a discharge sent again after A13 -----------------------------------------------------------------


def test_a_discharge_sent_again_after_its_a13_gets_its_call_back_planned_from_the_new_date(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receive(adt("A13", control_id="M2", discharge=""), django_capture_on_commit_callbacks)
    assert calls() == [("ZY0001", dt.date(2026, 11, 23), "cancelled", "discharge_cancelled")]

    receive(adt(control_id="M3", discharge="20261121100000+0800"), django_capture_on_commit_callbacks)

    # Three days after the new discharge date, a Tuesday, in the rule's window.
    assert calls() == [("ZY0001", dt.date(2026, 11, 24), "scheduled", "")]
    call = FollowUpCall.objects.get()
    assert call.scheduled_for == dt.datetime(2026, 11, 24, 14, 0, tzinfo=now.tzinfo)
    assert Discharge.objects.get().archived is False
    assert list(
        AuditEvent.objects.filter(object_type="call", note__startswith="reopened").values_list(
            "actor_name", "object_id"
        )
    ) == [("hl7:HIS/HOSP", str(call.pk))]


def test_a_discharge_sent_again_for_a_patient_who_died_meanwhile_gets_no_call(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receive(adt("A13", control_id="M2", discharge=""), django_capture_on_commit_callbacks)
    patient_mark_deceased(patient=Patient.objects.get(), died_on=dt.date(2026, 11, 21), actor="system")

    receive(adt(control_id="M3"), django_capture_on_commit_callbacks)

    assert calls() == [("ZY0001", dt.date(2026, 11, 23), "cancelled", "discharge_cancelled")]


def test_an_update_of_a_live_stay_reopens_nothing(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receive(adt(admit="20261101", discharge="20261105"), django_capture_on_commit_callbacks)
    receive(adt(control_id="M2"), django_capture_on_commit_callbacks)  # a readmission cancels the first stay's call
    receive(adt("A08", control_id="M3", admit="20261101", discharge="20261105"), django_capture_on_commit_callbacks)

    # The first stay's call was past its lateness limit when it was made (missed), the second's stands.
    assert [c[2:] for c in calls()] == [("missed", ""), ("scheduled", "")]
    assert AuditEvent.objects.filter(note__startswith="reopened").count() == 0


# --- merges --------------------------------------------------------------------------------------------


@pytest.fixture
def two_records(cardiology, now, eager_celery, django_capture_on_commit_callbacks, officer):
    """One person registered twice: ZY0001 (a stay in November, its call)
    and ZY0002 (a later stay, its call, a complaint, an earlier look at her
    record by a nurse)."""
    receive(adt(admit="20261101", discharge="20261105", phone=""), django_capture_on_commit_callbacks)
    receive(
        adt(control_id="M2", pid3="ZY0002^^^HOSP^MR", name="张^三", phone="13900001111^PRN^CP"),
        django_capture_on_commit_callbacks,
    )
    first, second = Patient.objects.order_by("mrn")
    complaint = complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description="病房太吵",
        complainant_name="张三",
        patient=second,
    )
    audit_record(
        request=None,
        action=AuditEvent.Action.VIEW,
        object_type="patient",
        object_id=second.pk,
        patient_id=second.pk,
        user=officer,
    )
    return first, second, complaint


def test_an_a40_moves_the_stays_calls_and_complaints_to_the_survivor(two_records, django_capture_on_commit_callbacks):
    first, second, complaint = two_records

    receipt = receive(merge(), django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AA", "MRG0001", "Accepted.")
    assert last() == ("processed", "", "")
    assert list(Discharge.objects.order_by("admitted_on").values_list("patient__mrn", "admitted_on")) == [
        ("ZY0001", dt.date(2026, 11, 1)),
        ("ZY0001", dt.date(2026, 11, 16)),
    ]
    # The earlier stay's open call is cancelled as at a readmission; the later one's stands.
    assert [c[2:] for c in calls()][-1] == ("scheduled", "")
    assert FollowUpCall.objects.filter(discharge__admitted_on=dt.date(2026, 11, 1), status="scheduled").count() == 0
    complaint.refresh_from_db()
    assert complaint.patient == first
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.merged_into, second.archived, first.merged_into) == (first, True, None)
    assert first.phone == "+8613900001111"  # the survivor had none: taken from the merged record


def test_both_mrns_find_the_survivor_and_her_trail_includes_the_merged_records(
    two_records, django_capture_on_commit_callbacks, nurse, cardiology
):
    first, second, _complaint = two_records
    cardiology.staff.add(nurse)

    receive(merge(), django_capture_on_commit_callbacks)

    assert access.patient_by_mrn(nurse, "ZY0002") == first
    assert access.patient_by_mrn(nurse, "ZY0001") == first
    assert sorted(audit_patient_ids("ZY0002")) == sorted([first.pk, second.pk])
    trail = audit_events_for_patient(patient_id=first.pk)
    assert trail.filter(action="view", patient_id=second.pk).count() == 1
    merged_rows = AuditEvent.objects.filter(note=f"merged {second.pk} into {first.pk}", object_type="patient")
    assert sorted(merged_rows.values_list("actor_name", "object_id", "patient_id")) == sorted(
        [("hl7:HIS/HOSP", str(first.pk), first.pk), ("hl7:HIS/HOSP", str(second.pk), second.pk)]
    )


def test_a_discharge_sent_under_the_merged_mrn_lands_on_the_survivor(two_records, django_capture_on_commit_callbacks):
    first, _second, _complaint = two_records
    receive(merge(), django_capture_on_commit_callbacks)

    receive(
        adt(control_id="M9", pid3="ZY0002^^^HOSP^MR", admit="20261121", discharge="20261122"),
        django_capture_on_commit_callbacks,
    )

    assert Discharge.objects.filter(patient=first).count() == 3
    assert Patient.objects.filter(merged_into__isnull=True).count() == 1


@pytest.mark.parametrize("trigger", ["A34", "A47"])
def test_a34_and_a47_merge_as_a40_does(trigger, two_records, django_capture_on_commit_callbacks):
    first, second, _complaint = two_records

    receive(merge(trigger), django_capture_on_commit_callbacks)

    second.refresh_from_db()
    assert (last()[0], second.merged_into) == ("processed", first)


def test_an_a47_to_a_new_number_creates_the_record_under_it(two_records, django_capture_on_commit_callbacks):
    _first, second, complaint = two_records

    receive(merge("A47", survivor="ZY9000", prior="ZY0002", name="张^三"), django_capture_on_commit_callbacks)

    renumbered = Patient.objects.get(mrn="ZY9000")
    second.refresh_from_db()
    complaint.refresh_from_db()
    assert (renumbered.name, second.merged_into, complaint.patient) == ("张三", renumbered, renumbered)
    assert list(renumbered.discharges.values_list("admitted_on", flat=True)) == [dt.date(2026, 11, 16)]


def test_a_merge_sent_again_under_another_control_id_changes_nothing(two_records, django_capture_on_commit_callbacks):
    receive(merge(), django_capture_on_commit_callbacks)
    before = AuditEvent.objects.count()

    receive(merge(control_id="MRG0002"), django_capture_on_commit_callbacks)

    assert last() == ("ignored", "", "MRN ZY0002 and ZY0001 are one record here already: nothing to merge.")
    assert AuditEvent.objects.count() == before + 2  # the message received and processed, nothing else


def test_a_merge_of_an_unknown_record_is_ignored(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receive(adt(), django_capture_on_commit_callbacks)

    receive(merge(prior="ZY7777"), django_capture_on_commit_callbacks)

    assert last() == ("ignored", "", "No patient with MRN ZY7777 (MRG-1) here: nothing to merge.")


def test_merges_chain_onto_the_last_survivor(two_records, django_capture_on_commit_callbacks):
    first, second, _complaint = two_records
    receive(merge(survivor="ZY0002", prior="ZY0001"), django_capture_on_commit_callbacks)  # 1 into 2

    receive(merge(survivor="ZY0003", prior="ZY0002", control_id="MRG0002"), django_capture_on_commit_callbacks)

    third = Patient.objects.get(mrn="ZY0003")
    assert dict(Patient.objects.values_list("mrn", "merged_into__mrn")) == {
        "ZY0001": "ZY0003",
        "ZY0002": "ZY0003",
        "ZY0003": None,
    }
    assert third.discharges.count() == 2
    assert sorted(audit_patient_ids("ZY0001")) == sorted([first.pk, second.pk, third.pk])


def test_two_records_with_a_stay_admitted_the_same_day_are_not_merged(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receive(adt(control_id="M2", pid3="ZY0002^^^HOSP^MR"), django_capture_on_commit_callbacks)

    receive(merge(), django_capture_on_commit_callbacks)

    assert last()[:2] == (
        "error",
        "Both records (MRN ZY0001 and ZY0002) have a stay admitted on 2026-11-16: one stay registered twice. "
        "Correct or archive one of them, then merge again.",
    )
    assert list(Patient.objects.values_list("merged_into", flat=True)) == [None, None]
    assert set(Discharge.objects.values_list("patient__mrn", flat=True)) == {"ZY0001", "ZY0002"}


def test_a_merge_of_a_deceased_record_carries_the_death(two_records, django_capture_on_commit_callbacks):
    first, second, _complaint = two_records
    patient_mark_deceased(patient=second, died_on=dt.date(2026, 11, 22), actor="system")

    receive(merge(), django_capture_on_commit_callbacks)

    first.refresh_from_db()
    assert first.deceased_on == dt.date(2026, 11, 22)
    assert FollowUpCall.objects.filter(status="scheduled").count() == 0


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (
            merge().replace("MRG|ZY0002^^^HOSP^MR\r", ""),
            "MRG: The merge has no MRG segment: which record to merge is not said.",
        ),
        (merge(prior="ZY0001"), "MRG-1: MRG-1 names the same MRN as PID-3 (ZY0001): nothing to merge."),
        (merge(prior=""), "MRG-1: MRG-1 (patient identifier list) is empty: no MRN."),
        (merge(prior="Z" * 65), f"MRG-1: MRG-1 MRN “{'Z' * 65}” is too long."),
    ],
    ids=["no-mrg", "same-mrn", "empty-mrg1", "long-mrg1"],
)
def test_a_merge_that_cannot_be_read_is_refused_and_changes_nothing(
    message, reason, two_records, django_capture_on_commit_callbacks
):
    receipt = receive(message, django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AE"
    assert last()[:2] == ("error", reason)
    assert list(Patient.objects.values_list("merged_into", flat=True)) == [None, None]


def test_a_sender_cannot_merge_a_record_of_a_ward_it_does_not_file_into(
    two_records, cardiology, django_capture_on_commit_callbacks
):
    WardMapping.objects.filter(kind=Kind.HL7).update(sender="HIS/HOSP")
    surgery = DepartmentFactory(code="SURG")
    WardMapping.objects.create(kind=Kind.HL7, sender="LIS/HOSP", code="5B", department=surgery)

    receive(merge().replace("|HIS|HOSP|", "|LIS|HOSP|"), django_capture_on_commit_callbacks)

    assert last()[:2] == (
        "error",
        "Patient MRN ZY0002 has no stay in a ward LIS/HOSP has a ward mapping for: not changed.",
    )
    assert list(Patient.objects.values_list("merged_into", flat=True)) == [None, None]


def test_the_merge_service_refuses_a_patient_into_herself(two_records):
    from django.core.exceptions import ValidationError

    from calls.services.records import patient_merge

    first, _second, _complaint = two_records
    with pytest.raises(ValidationError):
        patient_merge(survivor=first, merged=first, by=UserFactory())
