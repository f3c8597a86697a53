"""The set-based import does what the one-by-one import did.

Random files (readmissions inside the file and against stored stays, another
ward's patient under her name or another, an MRN merged into another
record, deaths, bad rows, repeated stays) are imported by a nurse, by the
administrator and by the command line, once by calls.services.discharge_import
and once by the import it replaced (tests/calls/reference_import.py), each
in a transaction rolled back afterwards. Both must answer with the same
report and leave the same patients, stays, calls and audit rows (compared
by MRN and admission date: the ids differ, the rows are created in another
order). Plus what only the new one promises: a chunked file is imported as a
whole, a query count that does not grow with the rows, the file read as a
stream."""

import datetime as dt
import io
import re
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calls.imports import IMPORT_COLUMNS, discharge_file_rows
from calls.models import DeathRecord, Discharge, FollowUpCall, Patient
from calls.services import discharge_import
from calls.services.discharge_import import discharges_import
from calls.services.queue import generate_calls
from followup import audit, bulk
from followup.models import AuditEvent
from followup.roles import Role
from tests.calls.reference_import import import_one_by_one
from tests.factories import DepartmentFactory, DischargeFactory, PatientFactory, RuleStepFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NAMES = {"ZY1": "张三", "ZY2": "李四", "ZY3": "赵六", "OLD": "王芳", "MERGED": "王芳"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def hospital(nurse, admin_user):
    """Two wards with rules; a patient of the other ward with a stay and its
    calls, a record merged into hers, and a cardiology patient with calls."""
    cardiology = DepartmentFactory(code="CARD", name="Cardiology")
    cardiology.staff.add(nurse)
    RuleStepFactory(rule__department=cardiology, offset_days=7, weekdays=[])
    RuleStepFactory(rule__department=cardiology, offset_days=30, weekdays=[0, 1, 2, 3, 4], late_days=3)
    oncology = DepartmentFactory(code="ONC", name="Oncology")
    oncology.staff.add(UserFactory(username="eve", roles=[Role.NURSE]))
    RuleStepFactory(rule__department=oncology, offset_days=7, weekdays=[])
    old = PatientFactory(mrn="OLD", name="王芳", phone="+8613800001111")
    PatientFactory(mrn="MERGED", name="王芳", merged_into=old, archived=True)
    stays = [
        DischargeFactory(
            patient=old, department=oncology, admitted_on=dt.date(2026, 10, 1), discharged_on=dt.date(2026, 10, 5)
        ),
        DischargeFactory(
            patient=PatientFactory(mrn="ZY3", name="赵六", phone="+8613800002222"),
            department=cardiology,
            admitted_on=dt.date(2026, 10, 20),
            discharged_on=dt.date(2026, 10, 24),
        ),
    ]
    generate_calls(week=TODAY.date(), discharges=stays)
    return cardiology


GOOD = {
    "admitted_on": ["2026-10-01", "2026-10-20", "2026-11-10", "2026-11-12"],
    "discharged_on": ["2026-11-16", "2026-11-18"],
    "department_code": ["CARD", "CARD", "card", "ONC"],
    "phone": ["13812345678", "13812345678", "+8613900000000", ""],
    "family_phone": ["", "021 6404 1990"],
    "responsible_nurse": ["", "alice", "alice", "eve"],
    "diagnosis": ["冠心病", "心力衰竭"],
    "sex": ["M", "女", "F"],
    "deceased_on": ["", "", "", "", "2026-11-19"],
    "discharge_disposition": ["", "", "", "home", "died"],
    "birth_date": ["", "1950-02-03", "1950/02/04"],
}
BAD = {"admitted_on": "2026-13-01", "phone": "12345", "sex": "x", "department_code": "XRAY", "diagnosis": ""}


@st.composite
def import_rows(draw, bad: bool):
    count = draw(st.integers(min_value=1, max_value=7))
    rows, stays = [], set()
    for _index in range(count):
        mrn = draw(st.sampled_from(list(NAMES)))
        row = {column: "" for column in IMPORT_COLUMNS}
        row.update({column: draw(st.sampled_from(values)) for column, values in GOOD.items()})
        row.update(mrn=mrn, name=NAMES[mrn], icd10="I25.1", attending_doctor="刘医生", nursing_level="2")
        if bad and draw(st.integers(min_value=0, max_value=3)) == 0:
            column = draw(st.sampled_from([*BAD, "name"]))
            row[column] = BAD.get(column, "张 三" if column == "name" else "")
        elif not bad:  # a good file: each stay once, each nurse in her own ward
            if (mrn, row["admitted_on"]) in stays:
                continue
            stays.add((mrn, row["admitted_on"]))
            row["responsible_nurse"] = draw(
                st.sampled_from(["", "alice" if row["department_code"] != "ONC" else "eve"])
            )
        rows.append((len(rows) + 2, row))
    return rows


def run(importer, rows, by):
    """The report and the state an import leaves, rolled back afterwards."""
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        try:
            report = importer(rows=rows, by=by, dry_run=False, source_reference="ward.csv")
        except ValidationError as refused:
            # A stay of another ward reached through an MRN merged into her
            # record passes the check (it looks at the MRN's own record) and
            # is refused while applying: the same refusal from both.
            transaction.set_rollback(True)
            return refused.messages
        outcome = (
            sorted(report.errors),
            (report.created, report.updated, report.applied, report.warnings),
            [(row.line, row.mrn, row.name, row.admitted_on, row.action) for row in report.rows],
            state(last_event),
        )
        transaction.set_rollback(True)
    return outcome


def state(last_event: int):
    patients = dict(Patient.objects.values_list("pk", "mrn"))
    stays = {
        pk: (patients[patient], admitted)
        for pk, patient, admitted in Discharge.objects.values_list("pk", "patient_id", "admitted_on")
    }
    calls = {
        pk: (stays[stay], step) for pk, stay, step in FollowUpCall.objects.values_list("pk", "discharge_id", "step_id")
    }
    stored_patients = sorted(
        (row["mrn"], patients.get(row["merged_into_id"]), *(v for k, v in sorted(row.items()) if k not in SKIP))
        for row in Patient.objects.values()
    )
    stored_stays = sorted(
        (stays[row["id"]], *(v for k, v in sorted(row.items()) if k not in SKIP | {"patient_id"}))
        for row in Discharge.objects.values()
    )
    with_nurse = set(Discharge.objects.exclude(responsible_nurse=None).values_list("pk", flat=True))
    stored_calls = sorted(
        (
            calls[row["id"]],
            *(v for k, v in sorted(row.items()) if k not in SKIP | {"discharge_id", "assigned_to_id"}),
            row["assigned_to_id"] if row["discharge_id"] in with_nurse else "someone",
        )
        for row in FollowUpCall.objects.values()
    )
    loads = sorted(Counter(FollowUpCall.objects.values_list("assigned_to_id", flat=True)).items(), key=str)
    # A death record by its patient: the two imports may record a file's deaths in another order.
    deaths = {pk: patients[patient] for pk, patient in DeathRecord.objects.values_list("pk", "patient_id")}
    names = {"patient": patients, "stay": stays, "call": calls, "death": deaths}

    def named(kind, value):
        return names[kind].get(int(value), value) if kind in names and value not in ("", None) else value

    events, generated = Counter(), {}
    for event in AuditEvent.objects.filter(pk__gt=last_event):
        if match := GENERATED.fullmatch(event.note):
            # One row per generation, and a file is generated a chunk at a time: the sums must agree.
            created, missed, week, department = match.groups()
            key = (event.actor_name, week, department)
            generated[key] = generated.get(key, Counter()) + Counter(created=int(created), missed=int(missed))
            continue
        events[
            (
                event.actor_name,
                event.source,
                event.action,
                event.object_type,
                named(event.object_type, event.object_id),
                patients.get(event.patient_id),
                event.fields,
                event.note,
            )
        ] += 1
    return stored_patients, stored_stays, stored_calls, loads, events, generated


SKIP = {"id", "merged_into_id", "created_at", "updated_at"}
GENERATED = re.compile(r"generated (\d+) calls and (\d+) missed for the week of (\S+) in department (\d+)")
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(rows=import_rows(bad=False), who=st.sampled_from(["file", "nurse", "admin"]), copying=st.booleans())
def test_good_files_leave_what_the_one_by_one_import_left(hospital, nurse, admin_user, monkeypatch, rows, who, copying):
    by = {"file": None, "nurse": nurse, "admin": admin_user}[who]
    with monkeypatch.context() as patch:
        if copying:  # as a big file is written on PostgreSQL (COPY), however few the rows
            patch.setattr(bulk, "COPY_FROM", 1)
            patch.setattr(audit, "COPY_FROM", 1)
        imported = run(discharges_import, rows, by)
    assert imported == run(import_one_by_one, rows, by)


@FUZZ
@given(rows=import_rows(bad=True), who=st.sampled_from(["file", "nurse"]))
def test_files_with_bad_rows_are_reported_as_the_one_by_one_import_reported_them(hospital, nurse, rows, who):
    by = {"file": None, "nurse": nurse}[who]
    assert run(discharges_import, rows, by) == run(import_one_by_one, rows, by)


def test_a_file_of_many_chunks_is_checked_and_applied_as_a_whole(hospital, monkeypatch):
    monkeypatch.setattr(discharge_import, "CHUNK", 2)
    monkeypatch.setattr(
        discharge_import, "GENERATE_EVERY", 3
    )  # calls generated after the second chunk, then at the end
    rows = [
        (2, row("ZY1", "2026-11-10")),
        (3, row("ZY2", "2026-11-10")),
        (4, row("ZY5", "2026-11-10")),
        (5, row("ZY1", "2026-10-20")),  # an earlier stay, two chunks later
        (6, row("ZY6", "2026-11-12")),
        (7, row("ZY3", "2026-11-12")),  # a readmission of a stored patient
    ]
    assert run(discharges_import, rows, None) == run(import_one_by_one, rows, None)
    repeated = [*rows, (8, row("ZY2", "2026-11-10")), (9, row("ZY5", "2026-11-11", name="别人"))]
    report = discharges_import(rows=repeated, by=None, dry_run=False)
    assert report.errors == [
        (8, "MRN ZY2 with admission 2026-11-10 is already on line 3."),
        (9, "MRN ZY5 has another name (“赵六”) on line 4."),
    ]
    assert Patient.objects.filter(mrn__in=["ZY1", "ZY2", "ZY5", "ZY6"]).count() == 0


def row(mrn: str, admitted_on: str, *, name: str = "赵六") -> dict:
    return {
        "mrn": mrn,
        "name": name,
        "phone": "13812345678",
        "department_code": "CARD",
        "admitted_on": admitted_on,
        "discharged_on": "2026-11-16",
        "diagnosis": "冠心病",
    }


def test_the_queries_do_not_grow_with_the_rows(hospital, django_assert_num_queries):
    """Set-based: the same statements for 6 rows as for 30 (one chunk)."""

    def queries(count: int) -> int:
        rows = [(n + 2, row(f"Q{count}-{n}", "2026-11-10")) for n in range(count)]
        with transaction.atomic():
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as context:
                assert discharges_import(rows=rows, by=None, dry_run=False).applied
            transaction.set_rollback(True)
        return len(context.captured_queries)

    assert queries(30) == queries(6)


def test_the_file_is_read_as_a_stream_and_its_header_checked_first():
    content = ",".join(IMPORT_COLUMNS) + "\n" + "\n".join(f"ZY{n},张三" for n in range(5)) + "\n\n"
    stream = io.BytesIO(content.encode("gb18030"))
    rows = discharge_file_rows(name="ward.csv", stream=stream)
    assert next(rows) == (2, {"mrn": "ZY0", "name": "张三"})
    assert [line for line, _row in rows] == [3, 4, 5, 6]
    assert not stream.closed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's; CI runs it")
def test_a_long_import_leaves_full_statistics_for_the_pages(hospital, monkeypatch):
    """Between its chunks a long import refreshes the tables' statistics
    from a small sample (followup.bulk.QUICK_STATISTICS); it ends with full
    ones, as the pages are planned with them afterwards (coarse ones made
    the head nurse's worklist 113 ms instead of 15 on a large database)."""
    monkeypatch.setattr(discharge_import, "CHUNK", 10)
    monkeypatch.setattr(discharge_import, "ANALYZE_AFTER", 10)
    rows = [(n + 2, row(f"ST{n:03d}", "2026-11-10", name=f"病人{n}")) for n in range(60)]

    report = discharges_import(rows=rows, by=None, dry_run=False)

    assert report.applied and report.created == 60
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_length(histogram_bounds::text::text[], 1) FROM pg_stats "
            "WHERE tablename = 'calls_discharge' AND attname = 'id'"
        )
        (bounds,) = cursor.fetchone()
    assert bounds > bulk.QUICK_STATISTICS + 1  # 62 stays: a bound for each, not eleven
