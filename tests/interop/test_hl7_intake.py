"""HL7 v2 ADT messages written to the v2.5 specification: received, stored,
acknowledged, then processed into patients, discharges and calls."""

import datetime as dt

import hl7
import pytest

from calls.models import Discharge, FollowUpCall, Patient
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import hl7_message_receive, inbound_message_process, inbound_messages_reprocess
from interop.tasks import process_message
from tests.factories import DepartmentFactory, UserFactory

from .conftest import adt

pytestmark = pytest.mark.django_db


def receive(text: str | bytes, capture, *, execute: bool = True):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    with capture(execute=execute):
        return hl7_message_receive(raw=raw)


def msa(ack: str) -> tuple[str, str, str]:
    segment = hl7.parse(ack).segment("MSA")
    return str(segment[1]), str(segment[2]), str(segment[3])


def err(ack: str) -> tuple[str, str]:
    segment = hl7.parse(ack).segment("ERR")
    return str(segment[2]), str(segment[3])


def nothing_changed() -> bool:
    return (Patient.objects.count(), Discharge.objects.count(), FollowUpCall.objects.count()) == (0, 0, 0)


def test_a03_creates_patient_discharge_and_this_weeks_call(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(adt(), django_capture_on_commit_callbacks)

    assert (receipt.ack_code, receipt.duplicate) == ("AA", False)
    assert msa(receipt.ack) == ("AA", "MSG0001", "Accepted.")
    patient = Patient.objects.get()
    assert (patient.mrn, patient.name, patient.sex, patient.birth_date, patient.phone) == (
        "ZY0001",
        "张三",
        "F",
        dt.date(1960, 5, 17),
        "+8613812345678",
    )
    discharge = Discharge.objects.get()
    assert (discharge.department, discharge.admitted_on, discharge.discharged_on) == (
        cardiology,
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 20),
    )
    assert (discharge.diagnosis, discharge.icd10, discharge.attending_doctor) == ("冠心病", "I25.1", "李四")
    assert (discharge.source, discharge.source_reference) == ("hl7", "HIS/HOSP:MSG0001")
    call = FollowUpCall.objects.get()
    assert (call.discharge, call.due_date, call.status) == (discharge, dt.date(2026, 11, 23), "scheduled")
    message = InboundMessage.objects.get()
    assert (message.kind, message.sender, message.control_id, message.event_type, message.status) == (
        "hl7",
        "HIS/HOSP",
        "MSG0001",
        "ADT^A03",
        "processed",
    )
    assert (message.discharge, message.error) == (discharge, "")


def test_message_is_stored_before_processing_and_the_task_processes_it_once(
    cardiology, now, django_capture_on_commit_callbacks
):
    receipt = receive(adt(), django_capture_on_commit_callbacks, execute=False)

    assert receipt.ack_code == "AA"
    assert InboundMessage.objects.get().status == "received"
    assert Discharge.objects.count() == 0
    assert process_message(receipt.message.pk) == "processed"
    assert process_message(receipt.message.pk) is None
    assert (Discharge.objects.count(), FollowUpCall.objects.count()) == (1, 1)


def test_same_control_id_from_same_sender_is_acknowledged_and_not_processed_again(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    again = receive(adt(name="王^五"), django_capture_on_commit_callbacks)

    assert (again.ack_code, again.duplicate) == ("AA", True)
    assert msa(again.ack)[:2] == ("AA", "MSG0001")
    assert InboundMessage.objects.count() == 1
    assert Patient.objects.get().name == "张三"


def test_same_control_id_from_another_sender_is_a_new_message(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    other = receive(adt(sending=("LIS", "HOSP"), pid3="ZY0002^^^HOSP^MR"), django_capture_on_commit_callbacks)

    assert (other.ack_code, other.duplicate) == ("AA", False)
    assert (InboundMessage.objects.count(), Discharge.objects.count()) == (2, 2)


def test_a08_updates_the_patient_and_the_discharge(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receive(adt(), django_capture_on_commit_callbacks)
    receipt = receive(
        adt("A08", control_id="MSG0002", name="张^三丰", dg1="I21.9^急性心肌梗死^I10"),
        django_capture_on_commit_callbacks,
    )

    assert receipt.ack_code == "AA"
    assert Patient.objects.get().name == "张三丰"
    discharge = Discharge.objects.get()
    assert (discharge.diagnosis, discharge.icd10, discharge.source_reference) == (
        "急性心肌梗死",
        "I21.9",
        "HIS/HOSP:MSG0002",
    )
    assert FollowUpCall.objects.count() == 1


def test_a08_without_discharge_updates_only_a_known_patient(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receive(
        adt("A08", control_id="MSG0002", phone="13900001111^PRN^CP", discharge=""), django_capture_on_commit_callbacks
    )
    unknown = receive(
        adt("A08", control_id="MSG0003", pid3="ZY9999^^^HOSP^MR", discharge=""), django_capture_on_commit_callbacks
    )

    assert Patient.objects.get().phone == "+8613900001111"
    assert Discharge.objects.get().discharged_on == dt.date(2026, 11, 20)
    assert unknown.ack_code == "AA"
    assert InboundMessage.objects.get(control_id="MSG0003").status == "ignored"


@pytest.mark.parametrize("trigger", ["A13", "A11"])
def test_cancel_discharge_or_admit_archives_the_discharge_and_cancels_its_open_calls(
    trigger, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receipt = receive(adt(trigger, control_id="MSG0002", discharge=""), django_capture_on_commit_callbacks)

    assert msa(receipt.ack)[:2] == ("AA", "MSG0002")
    discharge = Discharge.objects.get()
    assert discharge.archived is True
    call = FollowUpCall.objects.get()
    assert (call.status, call.cancel_reason) == ("cancelled", "discharge_cancelled")
    assert InboundMessage.objects.get(control_id="MSG0002").discharge == discharge


def test_discharge_sent_again_after_a13_is_live_again(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receive(adt("A13", control_id="MSG0002", discharge=""), django_capture_on_commit_callbacks)
    receive(adt(control_id="MSG0003", discharge="20261121100000+0800"), django_capture_on_commit_callbacks)

    discharge = Discharge.objects.get()
    assert (discharge.archived, discharge.discharged_on) == (False, dt.date(2026, 11, 21))


def test_other_events_are_acknowledged_and_ignored(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receipt = receive(adt("A01", discharge=""), django_capture_on_commit_callbacks)

    assert msa(receipt.ack)[:2] == ("AA", "MSG0001")
    assert InboundMessage.objects.get().status == "ignored"
    assert nothing_changed()


def test_msh9_is_trusted_when_evn1_disagrees(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receipt = receive(adt(evn_trigger="A01"), django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    assert Discharge.objects.count() == 1
    assert InboundMessage.objects.get().warnings == "EVN-1 says A01 but MSH-9 says A03: MSH-9 was followed."


def test_missing_pv1_45_falls_back_to_evn6_and_is_flagged(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(discharge="", evn6="20261119180000+0800"), django_capture_on_commit_callbacks)

    assert Discharge.objects.get().discharged_on == dt.date(2026, 11, 19)
    assert InboundMessage.objects.get().warnings == (
        "PV1-45 (discharge date/time) is empty: the discharge date was taken from EVN-6."
    )


def test_timestamps_with_offsets_become_hospital_dates(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    # 22:30 at UTC-0500 on the 19th is 11:30 on the 20th in Shanghai; 23:50 at +0110 stays on the 15th... in Shanghai
    # it is 06:40 on the 16th.
    receive(adt(admit="20261115235000+0110", discharge="20261119223000-0500"), django_capture_on_commit_callbacks)

    discharge = Discharge.objects.get()
    assert (discharge.admitted_on, discharge.discharged_on) == (dt.date(2026, 11, 16), dt.date(2026, 11, 20))


def test_mrn_is_the_identifier_of_type_mr(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receive(adt(pid3="110101196005170021^^^GOV^NI~ZY0042^^^HOSP^MR"), django_capture_on_commit_callbacks)

    assert Patient.objects.get().mrn == "ZY0042"


def test_western_names_keep_their_spaces(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    receive(adt(name="EVERYMAN^ADAM^A", doctor="D02^Smith^John"), django_capture_on_commit_callbacks)

    assert Patient.objects.get().name == "ADAM A EVERYMAN"
    assert Discharge.objects.get().attending_doctor == "John Smith"


def test_ward_mapping_for_the_sender_wins_over_any_sender(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    surgery = DepartmentFactory(code="SURG")
    WardMapping.objects.create(kind=Kind.HL7, sender="HIS/HOSP", code="3A", department=surgery)

    receive(adt(), django_capture_on_commit_callbacks)

    assert Discharge.objects.get().department == surgery


@pytest.mark.parametrize(
    ("message", "code", "location", "reason"),
    [
        (adt(pid3=""), "AE", "PID^1^3", "PID-3: PID-3 (patient identifier list) is empty: no MRN."),
        (
            adt(discharge="2026-11-20"),
            "AE",
            "PV1^1^45",
            "PV1-45: “2026-11-20” is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ]).",
        ),
        (
            adt(admit="20261316"),
            "AE",
            "PV1^1^44",
            "PV1-44: “20261316” is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ]).",
        ),
        (
            adt(ward="9Z^1^1"),
            "AE",
            "PV1^1^3",
            "PV1-3: Unknown ward “9Z” from HIS/HOSP: add a ward mapping in the admin, then reprocess.",
        ),
        (adt(discharge="20261201100000+0800"), "AE", "PV1^1^45", "PV1-45: The discharge date is in the future."),
        (
            adt(discharge="20261110100000+0800"),
            "AE",
            "PV1^1^45",
            "PV1-45: The discharge date is before the admission date.",
        ),
        (
            adt(extra=("this is not a segment",)),
            "AR",
            "",
            "segment 6: Segment 6 is malformed: “this is not a segment”.",
        ),
    ],
    ids=[
        "missing-pid3",
        "bad-discharge-date",
        "bad-admit-date",
        "unknown-ward",
        "future",
        "before-admission",
        "malformed-segment",
    ],
)
def test_bad_messages_get_an_error_ack_and_change_nothing(
    message, code, location, reason, cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receipt = receive(message, django_capture_on_commit_callbacks)

    assert msa(receipt.ack)[:2] == (code, "MSG0001")
    assert err(receipt.ack)[0] == location
    assert nothing_changed()
    stored = InboundMessage.objects.get()
    assert (stored.status, stored.error, stored.control_id) == ("error", reason, "MSG0001")


def test_wrong_encoding_is_rejected_and_stored(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    raw = adt().replace("UNICODE UTF-8", "").encode("gb18030")

    receipt = receive(raw, django_capture_on_commit_callbacks)

    assert msa(receipt.ack)[:2] == ("AR", "MSG0001")
    assert err(receipt.ack) == ("MSH^1^18", "102^Data type error^HL70357")
    assert nothing_changed()
    assert InboundMessage.objects.get().error == (
        "MSH-18: The message is not valid UTF-8 text and MSH-18 names no other character set we can read."
    )


def test_gb18030_declared_in_msh18_is_read(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    raw = adt().replace("UNICODE UTF-8", "GB 18030-2000").encode("gb18030")

    receipt = receive(raw, django_capture_on_commit_callbacks)

    assert receipt.ack_code == "AA"
    assert Patient.objects.get().name == "张三"


def test_garbage_is_rejected_and_kept_for_the_admin(db, django_capture_on_commit_callbacks):
    receipt = receive("hello there", django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AR", "", "The message does not start with an MSH segment.")
    stored = InboundMessage.objects.get()
    assert (stored.status, stored.payload, stored.control_id) == ("error", "hello there", "")


def test_a_refused_message_sent_again_unchanged_is_checked_and_refused_again(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(ward="9Z"), django_capture_on_commit_callbacks)
    again = receive(adt(ward="9Z"), django_capture_on_commit_callbacks)

    assert (again.ack_code, again.duplicate) == ("AE", False)
    assert list(InboundMessage.objects.values_list("control_id", "status")) == [
        ("MSG0001", "error"),
        ("MSG0001", "error"),
    ]


def test_a_refused_message_resent_corrected_with_the_same_control_id_is_processed(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    refused = receive(adt(ward="9Z^1^1"), django_capture_on_commit_callbacks)
    corrected = receive(adt(ward="3A^301^2^HOSP"), django_capture_on_commit_callbacks)

    assert (refused.ack_code, corrected.ack_code, corrected.duplicate) == ("AE", "AA", False)
    assert msa(corrected.ack) == ("AA", "MSG0001", "Accepted.")
    assert Discharge.objects.get().department == cardiology
    assert list(InboundMessage.objects.order_by("pk").values_list("control_id", "status")) == [
        ("MSG0001", "error"),
        ("MSG0001", "processed"),
    ]
    # Resent once more, it is the accepted one's duplicate.
    third = receive(adt(ward="3A^301^2^HOSP"), django_capture_on_commit_callbacks)
    assert (third.ack_code, third.duplicate, third.message.status) == ("AA", True, "processed")


def test_a_message_accepted_but_failing_in_processing_is_processed_anew_when_resent(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    first = receive(adt(), django_capture_on_commit_callbacks, execute=False)
    WardMapping.objects.all().delete()  # the ward mapping is gone when the worker gets to it
    inbound_message_process(message_id=first.message.pk)
    assert InboundMessage.objects.get().status == "error"
    WardMapping.objects.create(kind=Kind.HL7, code="3A", department=cardiology)

    again = receive(adt(), django_capture_on_commit_callbacks)

    assert (again.ack_code, again.duplicate) == ("AA", False)
    assert list(InboundMessage.objects.order_by("pk").values_list("status", flat=True)) == ["error", "processed"]
    assert Discharge.objects.count() == 1


def test_reprocessing_leaves_a_refused_message_whose_resend_was_accepted(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(ward="9Z^1^1"), django_capture_on_commit_callbacks)
    receive(adt(), django_capture_on_commit_callbacks)
    WardMapping.objects.create(kind=Kind.HL7, code="9Z", department=cardiology)

    counts = inbound_messages_reprocess(messages=InboundMessage.objects.all(), by=UserFactory())

    assert counts == {}
    assert list(InboundMessage.objects.order_by("pk").values_list("status", flat=True)) == ["error", "processed"]
    assert Discharge.objects.count() == 1


# MSH with one field too many between MSH-7 and MSH-9: MSH-9 is empty, the
# type and the control id stand one field later.
SHIFTED_MSH = "MSH|^~\\&|HIS|HOSP|FOLLOWUP||20261120103500|||ADT^A03^ADT_A03|{id}|P|2.5"


@pytest.mark.parametrize(
    ("first", "second", "echoed"),
    [
        (SHIFTED_MSH.format(id="BAD0001"), SHIFTED_MSH.format(id="BAD0002"), ("BAD0001", "BAD0002")),
        # No message type anywhere near MSH-9: MSH-10 as it stands.
        ("MSH|^~\\&|HIS|HOSP|||20261120|||n1|P", "MSH|^~\\&|HIS|HOSP|||20261120|||n2|P", ("n1", "n2")),
        # The message type where MSH-10 should be, and nothing after it: no control id.
        ("MSH|^~\\&|HIS|HOSP|||20261120|||ADT", "MSH|^~\\&|HIS|HOSP|||20261120|||ADT^A08", ("", "")),
    ],
    ids=["shifted", "empty-msh9", "type-in-msh10"],
)
def test_each_message_with_an_unreadable_msh_is_kept_under_its_own_identity(
    first, second, echoed, db, django_capture_on_commit_callbacks
):
    rest = "\rPID|1||ZY0001^^^HOSP^MR||张^三\r"
    receipts = [receive(header + rest, django_capture_on_commit_callbacks) for header in (first, second)]

    assert [(r.ack_code, r.duplicate, msa(r.ack)[1]) for r in receipts] == [
        ("AR", False, echoed[0]),
        ("AR", False, echoed[1]),
    ]
    assert list(InboundMessage.objects.order_by("pk").values_list("sender", "control_id", "status")) == [
        ("HIS/HOSP", echoed[0], "error"),
        ("HIS/HOSP", echoed[1], "error"),
    ]


def test_admin_fixes_the_ward_mapping_and_reprocesses(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(ward="9Z^1^1"), django_capture_on_commit_callbacks)
    WardMapping.objects.create(kind=Kind.HL7, code="9Z", department=cardiology)

    counts = inbound_messages_reprocess(messages=InboundMessage.objects.all(), by=UserFactory())

    assert counts == {"processed": 1}
    message = InboundMessage.objects.get()
    assert (message.status, message.error, message.discharge) == ("processed", "", Discharge.objects.get())
    assert FollowUpCall.objects.count() == 1


def test_processing_a_message_twice_changes_nothing_more(cardiology, now, django_capture_on_commit_callbacks):
    receipt = receive(adt(), django_capture_on_commit_callbacks, execute=False)

    first = inbound_message_process(message_id=receipt.message.pk)
    second = inbound_message_process(message_id=receipt.message.pk)

    assert (first.status, second) == ("processed", None)
    assert (Discharge.objects.count(), FollowUpCall.objects.count()) == (1, 1)


def test_readmission_by_hl7_cancels_the_earlier_stays_calls(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt(), django_capture_on_commit_callbacks)
    receive(
        adt(control_id="MSG0002", admit="20261121080000+0800", discharge="20261122170000+0800"),
        django_capture_on_commit_callbacks,
    )

    first = FollowUpCall.objects.get(discharge__admitted_on=dt.date(2026, 11, 16))
    assert (first.status, first.cancel_reason) == ("cancelled", "readmitted")
    assert Discharge.objects.count() == 2


def test_deceased_patient_in_pid29_has_no_open_calls(cardiology, now, eager_celery, django_capture_on_commit_callbacks):
    message = adt().replace("|13812345678^PRN^CP", "|13812345678^PRN^CP" + "|" * 16 + "20261122080000+0800|Y")

    receive(message, django_capture_on_commit_callbacks)

    assert Patient.objects.get().deceased_on == dt.date(2026, 11, 22)
    assert FollowUpCall.objects.get().cancel_reason == "deceased"


def test_reprocessing_an_unreadable_message_keeps_it_in_error(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    receive(adt().replace("UNICODE UTF-8", "").encode("gb18030"), django_capture_on_commit_callbacks)

    counts = inbound_messages_reprocess(messages=InboundMessage.objects.all(), by=UserFactory())

    assert counts == {"error": 1}
    assert InboundMessage.objects.get().error == (
        "The message was not readable text when it arrived: ask the sender to resend it."
    )
    assert nothing_changed()


def test_ack_is_written_in_the_character_set_the_sender_declared(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    raw = adt().replace("UNICODE UTF-8", "GB 18030-2000").encode("gb18030")

    receipt = receive(raw, django_capture_on_commit_callbacks)

    assert receipt.encoding == "gb18030"


def test_a_message_that_trips_an_unforeseen_error_is_kept_and_answered_ae(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks, monkeypatch
):
    # Stands in for a parser defect on a message shape nobody foresaw (the hl7 library is not ours to break).
    def broken(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr("interop.hl7v2.adt_record", broken)

    receipt = receive(adt(), django_capture_on_commit_callbacks)

    assert msa(receipt.ack) == ("AE", "MSG0001", "The message could not be checked: list index out of range")
    assert InboundMessage.objects.get().status == "error"
    assert nothing_changed()


def test_discharge_disposition_expired_marks_the_patient_deceased(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    pv1_36 = adt()
    fields = next(s for s in pv1_36.split("\r") if s.startswith("PV1")).split("|")
    fields[36] = "20"
    message = "\r".join("|".join(fields) if s.startswith("PV1") else s for s in pv1_36.split("\r"))

    receive(message, django_capture_on_commit_callbacks)

    assert Patient.objects.get().deceased_on == dt.date(2026, 11, 20)
    assert FollowUpCall.objects.get().cancel_reason == "deceased"


def test_a_long_reason_is_cut_in_msa3_with_an_ellipsis_and_kept_whole_in_err8(db):
    from interop.hl7v2 import Hl7Error, build_ack, parse

    _message, header = parse(adt(control_id="LONG01").rstrip("\r"))
    reason = "Field PV1-3 says " + "x" * 58 + " & more"  # 82 characters, "&" escaped as \T\
    error = Hl7Error(reason, ack_code="AE", location="PV1-3")

    ack = build_ack(header=header, ack_code="AE", text=reason, error=error)

    segments = dict(segment.split("|", 1) for segment in ack.split("\r") if segment)
    assert segments["MSA"] == "AE|LONG01|Field PV1-3 says " + "x" * 58 + " \\T\\ m…"
    assert segments["ERR"].endswith("|Field PV1-3 says " + "x" * 58 + " \\T\\ more")
