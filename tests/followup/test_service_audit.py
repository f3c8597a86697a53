"""Every service writes its change to the audit trail with the actor: a user,
a feed (hl7:SENDER, fhir:SENDER), a task or an import file; the object, the
patient it concerns and the names (never the values) of the changed fields."""

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.dashboard.tasks import sample_spot_checks
from calls.imports import read_discharge_file
from calls.models import Discharge, FollowUpCall, Patient, SpotCheck
from calls.services import call_work, records
from calls.services.discharge_import import discharges_import
from calls.services.scripts import script_version_publish
from calls.services.spot_checks import spot_check_review
from calls.tasks import generate_weekly_queue
from complaints import services as complaint_services
from complaints.models import Category, Complaint
from complaints.tasks import check_sla_breaches
from followup.models import AuditEvent
from followup.roles import Role
from interop.models import InboundMessage, Kind, WardMapping
from interop.services import fhir_payload_receive, hl7_message_receive, inbound_message_process
from tests.calls.test_discharge_form import post_data as discharge_form_data
from tests.factories import (
    DepartmentFactory,
    DischargeFactory,
    FollowUpCallFactory,
    PatientFactory,
    RuleStepFactory,
    UserFactory,
    publishable_version,
)
from tests.interop.conftest import adt, samples_dir

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
COLUMNS = ("actor_name", "source", "action", "object_type", "patient_id", "fields", "note")


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


@pytest.fixture
def cardiology(nurse, head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse, head_nurse)
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    WardMapping.objects.create(kind=Kind.HL7, sender="", code="3A", department=department)
    WardMapping.objects.create(kind=Kind.FHIR, sender="", code=WardMapping.DEFAULT_CODE, department=department)
    return department


def rows(**filters) -> list[tuple]:
    events = AuditEvent.objects.filter(**filters).exclude(action__in=["login", "view"]).order_by("pk")
    return list(events.values_list(*COLUMNS))


def stay_of(patient: Patient) -> Discharge:
    return Discharge.objects.get(patient=patient)


# --- registration: page, feed, file, task -------------------------------------------


def test_a_discharge_registered_on_the_page_is_audited_as_the_nurse(client_for, nurse, cardiology):
    response = client_for(nurse).post(reverse("calls:discharge_new"), discharge_form_data(cardiology, mrn="ZY1"))
    assert response.status_code == 302

    patient = Patient.objects.get(mrn="ZY1")
    events = rows()
    assert [(e[0], e[1], e[2], e[3], e[4]) for e in events] == [
        ("alice", "user", "create", "patient", patient.pk),
        ("alice", "user", "create", "stay", patient.pk),
        ("alice", "user", "create", "call", None),
    ]
    assert events[0][5].split(",")[:2] == ["mrn", "name"]
    assert "generated 1 calls" in events[2][6]
    # Names of fields, never what was typed.
    assert not AuditEvent.objects.filter(fields__contains=patient.name).exists()
    # The service's rows are the whole record of the POST: no page-level "change" beside them.
    request_rows = AuditEvent.objects.filter(path=reverse("calls:discharge_new"), action="change")
    assert request_rows.count() == 0


def test_an_hl7_discharge_is_audited_as_the_sending_system(cardiology):
    receipt = hl7_message_receive(raw=adt(sending=("HIS", "HOSP")).encode())
    inbound_message_process(message_id=receipt.message.pk)

    patient = Patient.objects.get(mrn="ZY0001")
    assert rows() == [
        ("hl7:HIS/HOSP", "feed", "create", "message", None, "", ""),
        ("hl7:HIS/HOSP", "feed", "create", "patient", patient.pk, rows()[1][5], ""),
        ("hl7:HIS/HOSP", "feed", "create", "stay", patient.pk, rows()[2][5], ""),
        ("hl7:HIS/HOSP", "feed", "create", "call", None, "", rows()[3][6]),
        ("hl7:HIS/HOSP", "feed", "change", "message", patient.pk, "status,discharge", "processed: processed"),
    ]
    assert AuditEvent.objects.filter(actor__isnull=False).count() == 0


def test_an_hl7_update_and_a_cancellation_name_the_fields_and_the_calls(cardiology):
    inbound_message_process(message_id=hl7_message_receive(raw=adt(control_id="M1").encode()).message.pk)
    patient = Patient.objects.get(mrn="ZY0001")
    call = FollowUpCall.objects.get()
    mark = AuditEvent.objects.order_by("-pk").first().pk

    inbound_message_process(
        message_id=hl7_message_receive(raw=adt("A08", control_id="M2", phone="13900000000").encode()).message.pk
    )
    inbound_message_process(message_id=hl7_message_receive(raw=adt("A13", control_id="M3").encode()).message.pk)

    changes = list(
        AuditEvent.objects.filter(pk__gt=mark, action="change")
        .exclude(object_type="message")
        .order_by("pk")
        .values_list("object_type", "object_id", "fields", "note")
    )
    assert changes == [
        ("patient", str(patient.pk), "phone", ""),
        ("stay", str(stay_of(patient).pk), "source_reference", ""),  # the A08 names its own message
        ("stay", str(stay_of(patient).pk), "archived", ""),
        ("call", str(call.pk), "status,cancel_reason", "cancelled: discharge_cancelled"),
    ]


def test_a_message_from_a_nameless_sender_is_still_audited(cardiology):
    receipt = hl7_message_receive(raw=adt(sending=("", "")).encode())
    inbound_message_process(message_id=receipt.message.pk)
    assert set(AuditEvent.objects.values_list("actor_name", flat=True)) == {"hl7:unknown"}


def test_a_fhir_bundle_is_audited_as_the_sending_system(cardiology):
    payload = next((samples_dir() / "fhir").glob("*.json")).read_text(encoding="utf-8")
    _message, outcome = fhir_payload_receive(payload=payload, sender="EMR-1")
    assert outcome.status == InboundMessage.Status.PROCESSED
    assert set(AuditEvent.objects.values_list("actor_name", "source")) == {("fhir:EMR-1", "feed")}
    assert AuditEvent.objects.filter(object_type="stay", action="create").count() == len(outcome.discharges)


def test_an_imported_file_is_audited_as_the_file(cardiology):
    header = "mrn,name,department_code,admitted_on,discharged_on,diagnosis,phone"
    content = f"{header}\nZY7,张伟,CARD,2026-11-10,2026-11-16,冠心病,13812345678\n".encode()
    report = discharges_import(
        rows=read_discharge_file(name="ward.csv", content=content), by=None, dry_run=False, source_reference="ward.csv"
    )
    assert report.applied
    assert set(AuditEvent.objects.values_list("actor_name", "source", "actor")) == {("import:ward.csv", "import", None)}


@pytest.mark.parametrize("name", ["   ", "a\x00b.csv", "x" * 400, "=cmd|' /C calc'!A0.csv"])
def test_a_hostile_file_name_is_kept_as_a_label_and_never_breaks_the_import(cardiology, name):
    header = "mrn,name,department_code,admitted_on,discharged_on,diagnosis,phone"
    content = f"{header}\nZY8,李娜,CARD,2026-11-10,2026-11-16,冠心病,13812345678\n".encode()
    report = discharges_import(
        rows=read_discharge_file(name="f.csv", content=content), by=None, dry_run=False, source_reference=name[:200]
    )
    assert report.applied
    label = AuditEvent.objects.values_list("actor_name", flat=True).distinct().get()
    assert label.startswith("import:")
    assert all(ch.isprintable() for ch in Discharge.objects.get().source_reference)
    assert "\x00" not in label
    assert len(label) <= 150


def test_the_weekly_queue_is_audited_as_the_task(cardiology):
    DischargeFactory(department=cardiology, discharged_on=dt.date(2026, 11, 19))
    generate_weekly_queue()
    assert rows() == [
        (
            "task:calls.generate_weekly_queue",
            "task",
            "create",
            "call",
            None,
            "",
            f"generated 1 calls and 0 missed for the week of 2026-11-23 in department {cardiology.pk}",
        )
    ]
    generate_weekly_queue()  # nothing new: nothing recorded
    assert len(rows()) == 1


# --- readmission in another ward ----------------------------------------------------


def test_a_readmission_elsewhere_cancels_the_other_wards_call_audited_and_visible_to_its_head_nurse(
    client_for, nurse, cardiology
):
    oncology_head = UserFactory(username="onco-head", roles=[Role.HEAD_NURSE])
    oncology = DepartmentFactory(code="ONC", name="Oncology")
    oncology.staff.add(oncology_head)
    patient = PatientFactory(mrn="ZY900", name="王芳")
    stay = DischargeFactory(
        patient=patient, department=oncology, admitted_on=dt.date(2026, 11, 2), discharged_on=dt.date(2026, 11, 12)
    )
    theirs = FollowUpCallFactory(discharge=stay, due_date=dt.date(2026, 11, 26))

    client_for(nurse).post(
        reverse("calls:discharge_new"), discharge_form_data(cardiology, mrn="ZY900", name="王芳", phone="13800001111")
    )

    assert AuditEvent.objects.filter(object_type="call", object_id=str(theirs.pk)).values_list(
        "actor_name", "patient_id", "fields", "note"
    ).get() == ("alice", patient.pk, "status,cancel_reason", "cancelled: readmitted")
    page = client_for(oncology_head).get(reverse("calls:call_detail", args=[theirs.pk]))
    assert page.status_code == 200
    assert "Readmitted" in page.content.decode()


# --- the nurse's and head nurse's work ----------------------------------------------


@pytest.fixture
def call(nurse, cardiology):
    stay = DischargeFactory(department=cardiology, discharged_on=dt.date(2026, 11, 16))
    return FollowUpCallFactory(discharge=stay, due_date=dt.date(2026, 11, 23), assigned_to=nurse)


def test_attempts_deaths_and_reassignments_are_audited_with_field_names(nurse, cardiology, call):
    patient_id = call.discharge.patient_id
    call_work.call_record_attempt(call=call, by=nurse, result="busy", note="王芳's daughter", expected_version=1)
    other = UserFactory(username="bea", roles=[Role.NURSE])
    cardiology.staff.add(other)
    call_work.calls_reassign(calls=FollowUpCall.objects.filter(pk=call.pk), to=other, by=nurse)
    call.refresh_from_db()
    call_work.call_record_death(call=call, by=nurse, died_on=dt.date(2026, 11, 20), expected_version=call.version)

    assert rows() == [
        (
            "alice",
            "user",
            "change",
            "call",
            patient_id,
            "attempt_count,status,next_attempt_on",
            "attempt: busy; dialled: patient",
        ),
        ("alice", "user", "change", "call", patient_id, "assigned_to", "reassigned"),
        ("alice", "user", "change", "call", patient_id, "answered_by,attempt_count", "death reported"),
        ("alice", "user", "create", "death", patient_id, "died_on,call", ""),
        ("alice", "user", "change", "patient", patient_id, "deceased,deceased_on", ""),
        ("alice", "user", "change", "call", patient_id, "status,cancel_reason", "cancelled: deceased"),
    ]
    assert not AuditEvent.objects.filter(note__contains="王芳").exists()


def test_an_admin_correction_of_a_call_names_the_fields(admin_user, nurse, cardiology, call):
    records.call_correct(
        call=call, changes={"due_date": dt.date(2026, 11, 24)}, by=admin_user, expected_version=call.version
    )
    assert rows() == [("dave", "user", "change", "call", call.discharge.patient_id, "due_date", "")]


def test_a_spot_check_sampled_by_the_task_and_reviewed_by_the_head_nurse(head_nurse, nurse, call):
    FollowUpCall.objects.filter(pk=call.pk).update(
        status=FollowUpCall.Status.COMPLETED, completed_by=nurse, completed_at=MONDAY - dt.timedelta(days=3)
    )
    assert sample_spot_checks() == 1
    check = SpotCheck.objects.get()
    spot_check_review(spot_check=check, by=head_nurse, verdict="good", comment="清楚")
    assert rows() == [
        ("task:calls.sample_spot_checks", "task", "create", "spot_check", call.discharge.patient_id, "", ""),
        (
            "bob",
            "user",
            "change",
            "spot_check",
            call.discharge.patient_id,
            "verdict,comment,reviewer,reviewed_at",
            "",
        ),
    ]


def test_publishing_a_script_is_audited(admin_user):
    version = publishable_version()
    script_version_publish(version=version, by=admin_user)
    assert rows(object_type="script", action="change") == [
        ("dave", "user", "change", "script", None, "status,published_at", "")
    ]


# --- complaints ---------------------------------------------------------------------


def test_every_step_of_a_complaint_is_audited_and_the_breach_task_names_itself(officer, nurse):
    patient = PatientFactory()
    with time_machine.travel(MONDAY - dt.timedelta(days=30), tick=False):
        complaint = complaint_services.complaint_create(
            by=officer,
            channel=Complaint.Channel.HOTLINE,
            category=Category.objects.get(code="attitude"),
            description="门诊态度差",
            complainant_name="王女士",
            patient=patient,
        )
    complaint_services.complaint_add_note(complaint=complaint, by=officer, text="called back")
    promise = complaint_services.promise_add(
        complaint=complaint, by=officer, what="apology", owner=officer, due_on=dt.date(2026, 11, 30)
    )
    assert check_sla_breaches() >= 1

    events = rows()
    assert events[0] == (
        "carol",
        "user",
        "create",
        "complaint",
        patient.pk,
        "channel,category,description,complainant_name,patient,severity,departments",
        f"complaint {complaint.pk}: created",
    )
    assert events[1][2:5] == ("change", "complaint", patient.pk)
    assert AuditEvent.objects.filter(object_type="promise", object_id=str(promise.pk), action="create").exists()
    breach = AuditEvent.objects.filter(source="task").first()
    assert (breach.actor_name, breach.object_type, breach.patient_id) == (
        "task:complaints.check_sla_breaches",
        "complaint",
        patient.pk,
    )
    assert not AuditEvent.objects.filter(note__contains="门诊").exists()


# --- every service audits ----------------------------------------------------------------

SERVICE_MODULES = [
    "calls/services/call_work.py",
    "calls/services/cancellation.py",
    "calls/services/discharges.py",
    "calls/services/discharge_import.py",
    "calls/services/drafts.py",
    "calls/services/intake.py",
    "calls/services/queue.py",
    "calls/services/records.py",
    "calls/services/risk.py",
    "calls/services/scripts.py",
    "calls/services/self_report.py",
    "calls/services/spot_checks.py",
    "complaints/services.py",
    "followup/services.py",
    "interop/services.py",
]
# Services that change no patient, call, complaint, script or user data, with the reason.
NOT_AUDITED = {
    "reference_allocate": "a year's complaint number counter",
    "notifications_mark_read": "the reader's own notification badges",
    "notification_open": "the reader's own notification badge",
    "notify": "a message to a user; the change that caused it is audited by its own service",
}
AUDIT_WRITERS = {"audit_change", "audit_changes"}


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _is_atomic(function: ast.FunctionDef) -> bool:
    return any(ast.unparse(decorator) == "transaction.atomic" for decorator in function.decorator_list)


def test_every_service_that_writes_records_an_audit_row_or_calls_one_that_does():
    """A simple scan: each function of a service module that opens a
    transaction calls audit_change, or (directly or not) a function of the
    same modules that does."""
    root = Path(__file__).resolve().parents[2]
    calls: dict[str, set[str]] = {}
    writers = set()
    for module in SERVICE_MODULES:
        tree = ast.parse((root / module).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                calls[node.name] = _called_names(node)
                if _is_atomic(node):
                    writers.add(node.name)
    audited = {name for name, called in calls.items() if called & AUDIT_WRITERS}
    while more := {name for name, called in calls.items() if name not in audited and called & audited}:
        audited |= more
    assert sorted(writers - audited - set(NOT_AUDITED)) == []
    assert set(NOT_AUDITED) <= writers


def test_a_form_sent_back_with_its_errors_is_recorded_as_a_view_not_a_change(client_for, nurse, cardiology):
    response = client_for(nurse).post(
        reverse("calls:discharge_new"), discharge_form_data(cardiology, mrn="ZY2", discharged_on="2026-10-01")
    )
    assert response.status_code == 200
    assert list(AuditEvent.objects.exclude(action="login").values_list("action", "method", "status_code")) == [
        ("view", "POST", 200)
    ]
    assert not Patient.objects.filter(mrn="ZY2").exists()
