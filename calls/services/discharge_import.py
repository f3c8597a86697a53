"""Importing a discharge file, all or nothing, at hospital scale: every row
read (calls.imports), checked by the intake core (calls.services.intake) and
by the importing user's scope, then registered as the nurse's page would
register it, row after row (``_upsert``) -- but with a few statements per
chunk of rows instead of several per row, and in memory that does not grow
with the file (docs/intake.md, "A year in one file").

Two passes over a temporary table on the database server (``_Staging``):

1. *Check.* Rows are read and checked in chunks of ``CHUNK``; each chunk
   goes to the table, where one query per check finds what spans the whole
   file (the same stay or the same MRN under another name on an earlier
   line), and a few more look up the chunk's patients and stays (another
   ward's? created or updated?). Only the bad rows' messages stay in memory.
2. *Apply*, when every row is good and this is no dry run: the rows come back
   ordered by patient, then admission, a chunk of patients at a time. For
   each patient the rows are played in Python exactly as ``_upsert`` plays
   them one by one (what changes, what is audited, whose details are kept,
   which earlier calls a readmission cancels); then the chunk is written
   with one upsert per table, its audit rows with one INSERT
   (``audit_batch``), its deaths and cancellations with one statement each,
   and its calls with one ``generate_calls``.
"""

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import access
from followup.audit import audit_batch, audit_changes
from followup.bulk import defaults, insert_rows, refresh_statistics
from followup.models import AuditEvent, User

from ..imports import COLUMN_OF_FIELD, IMPORT_COLUMNS, RowReader
from ..models import Discharge, FollowUpCall, Patient
from .cancellation import calls_cancel_open, patients_mark_deceased
from .discharges import _name_of_another_ward, _stay_of_another_ward, same_person_name
from .intake import POLICIES, intake_check, nurse_works_in
from .queue import calls_follow_stays, generate_calls
from .risk import OUTCOME_FIELDS, RISK_FIELDS, changed, emergency_days_of, outcome_values, risk_values

CHUNK = 2000  # rows checked, or patients applied, per round of statements
_IDS_PER_QUERY = 1000  # ids in one IN (...) list
ANALYZE_AFTER = 10_000  # stays written before the first ANALYZE (PostgreSQL)
# Stays whose calls are generated together: each generation reads the ward's
# rules, the nurses' loads and every stay's existing calls, and its summary
# triggers touch one row per day and kind of call; ten chunks share that.
GENERATE_EVERY = 10_000
CREATE, CHANGE = AuditEvent.Action.CREATE, AuditEvent.Action.CHANGE


@dataclass
class ImportRow:
    """A good row, as the preview lists it."""

    line: int
    mrn: str
    name: str
    admitted_on: dt.date | None
    action: str = ""  # "create" or "update"
    deceased_on: dt.date | None = None


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or a bad file, would do)."""

    rows: list[ImportRow] = field(default_factory=list)  # the good rows, when the caller keeps them
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    warnings: list[str] = field(default_factory=list)  # about the file: columns it has that are not read
    dry_run: bool = False
    applied: bool = False
    created: int = 0  # good rows whose stay is new
    updated: int = 0  # good rows whose stay is already registered

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Checked:
    """One row after the intake check: its keys (also when it is bad) and,
    when good, its normalised data."""

    seq: int  # position in the file, from 0
    line: int
    mrn: str
    name: str
    admitted_on: dt.date | None
    errors: list[str]
    patient_data: dict[str, Any] | None = None
    discharge_data: dict[str, Any] | None = None
    deceased_on: dt.date | None = None
    group: str = ""  # the MRN of the patient record the row lands on (the surviving one of a merge)


class _RowChecker:
    """Reads and checks one row at a time; remembers which nurse works where."""

    def __init__(self, today: dt.date):
        self.reader = RowReader()
        self.staff: dict[tuple[int, int], bool] = {}
        self.policy = POLICIES[Discharge.Source.IMPORT]
        self.today = today

    def works_in(self, nurse: User, department) -> bool:
        key = (nurse.pk, department.pk)
        if key not in self.staff:
            self.staff[key] = nurse_works_in(nurse, department)
        return self.staff[key]

    def check(self, seq: int, line: int, raw: dict[str, Any]) -> _Checked:
        intake, unreadable = self.reader.read(raw)
        errors = [message for _column, message in unreadable]
        checked = intake_check(intake, policy=self.policy, works_in=self.works_in, today=self.today)
        said = {column for column, _message in unreadable}
        for name, messages in checked.errors.items():
            column = COLUMN_OF_FIELD.get(name, name)
            if column not in said:  # a column that could not be read is explained once
                errors.extend(f"{column}: {message}" for message in messages)
        intake = checked.intake
        row = _Checked(
            seq=seq,
            line=line,
            mrn=intake.mrn,
            name=intake.patient_data.get("name", ""),
            admitted_on=intake.admitted_on,
            errors=errors,
        )
        if not errors:
            row.patient_data, row.discharge_data = intake.patient_data, intake.discharge_data
            row.deceased_on = intake.deceased_on
        return row


def _escaped(text: str) -> str:
    """Text as a PostgreSQL column holds it (no NUL), one to one."""
    return text.replace("\\", "\\\\").replace("\x00", "\\0")


def _unescaped(text: str) -> str:
    out, chars = [], iter(text)
    for ch in chars:
        if ch == "\\":
            ch = next(chars)
            out.append("\x00" if ch == "0" else ch)
        else:
            out.append(ch)
    return "".join(out)


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


_DATE_FIELDS = {
    model: {f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateField"}
    for model in (Patient, Discharge)
}


class _Staging:
    """The file's rows on the database server, in a temporary table dropped
    at the end of the import: the keys of every row (MRN, admission, name,
    escaped so that a NUL is kept), and the data of the good rows as JSON."""

    TABLE = "calls_import_staging"
    COLUMNS = ("seq", "line", "mrn", "admitted_on", "name", "grp", "data")

    def __init__(self):
        self.copying = connection.vendor == "postgresql"

    def create(self) -> None:
        table = self.TABLE
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {table} (seq integer PRIMARY KEY, line bigint NOT NULL, "
                "mrn text NOT NULL, admitted_on text NOT NULL, name text NOT NULL, grp text NOT NULL, data text)"
            )
            cursor.execute(f"CREATE INDEX {table}_stay ON {table} (mrn, admitted_on, seq)")
            cursor.execute(f"CREATE INDEX {table}_name ON {table} (mrn, seq)")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}")

    def add(self, rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            if self.copying:
                with cursor.cursor.copy(f"COPY {self.TABLE} ({', '.join(self.COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.COLUMNS))
                columns = ", ".join(self.COLUMNS)
                cursor.executemany(f"INSERT INTO {self.TABLE} ({columns}) VALUES ({marks})", rows)  # noqa: S608  # nosec B608

    def repeated_stays(self, seqs: range) -> dict[int, int]:
        """seq -> line of the first row with the same MRN and admission, for
        the rows of ``seqs`` that repeat an earlier one. Each row is looked
        up through the (MRN, admission, seq) index: the cost of a chunk does
        not grow with the rows before it."""
        table = self.TABLE
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.seq, f.line FROM {table} s JOIN {table} f ON f.seq = ("  # noqa: S608  # nosec B608
                f"SELECT min(e.seq) FROM {table} e WHERE e.mrn = s.mrn AND e.admitted_on = s.admitted_on) "
                "WHERE s.seq BETWEEN %s AND %s AND s.mrn <> '' AND s.admitted_on <> '' AND f.line <> s.line",
                [seqs.start, seqs.stop - 1],
            )
            return dict(cursor.fetchall())

    def other_names(self, seqs: range) -> dict[int, tuple[int, str]]:
        """seq -> (line, name) of the first row naming the MRN, for the rows
        of ``seqs`` that give the MRN another name."""
        table = self.TABLE
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.seq, f.line, f.name FROM {table} s JOIN {table} f ON f.seq = ("  # noqa: S608  # nosec B608
                f"SELECT min(e.seq) FROM {table} e WHERE e.mrn = s.mrn AND e.name <> '') "
                "WHERE s.seq BETWEEN %s AND %s AND s.mrn <> '' AND s.name <> '' AND f.name <> s.name",
                [seqs.start, seqs.stop - 1],
            )
            return {seq: (line, _unescaped(name)) for seq, line, name in cursor.fetchall()}

    def prepare_reading(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX {self.TABLE}_apply ON {self.TABLE} (grp, admitted_on, line, seq)")
            if self.copying:
                cursor.execute(f"ANALYZE {self.TABLE}")

    def chunks(self, size: int) -> Iterator[list[dict[str, Any]]]:
        """The rows' data ordered by patient record, admission, line: ``size``
        rows at a time and more, so a patient's rows stay in one chunk."""
        table = self.TABLE
        last = ""
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT grp FROM {table} WHERE grp > %s ORDER BY grp LIMIT 1 OFFSET %s",  # noqa: S608  # nosec B608
                    [last, size - 1],
                )
                found = cursor.fetchone()
                upper = "" if found is None else " AND grp <= %s"
                cursor.execute(
                    f"SELECT data FROM {table} WHERE grp > %s{upper} "  # noqa: S608  # nosec B608
                    "ORDER BY grp, admitted_on, line, seq",
                    [last] if found is None else [last, found[0]],
                )
                rows = [json.loads(data) for (data,) in cursor.fetchall()]
            if rows:
                yield rows
            if found is None:
                return
            last = found[0]


class _Scope:
    """What the importing user may see, as _outside_scope_problem and
    _upsert ask it, answered from values already loaded."""

    def __init__(self, by: User | None):
        self.by = by
        self.everything = by is None or (access.sees_every_patient(by) and access.sees_every_stay(by))
        self.every_patient = by is None or access.sees_every_patient(by)
        self.stay_departments = None if by is None else access.stay_department_ids(by)

    def sees_stay(self, department_id: int) -> bool:
        return self.stay_departments is None or department_id in self.stay_departments

    def sees_patient(self, stays: Iterable[dict[str, Any]]) -> bool:
        return self.every_patient or any(self.sees_stay(stay["department_id"]) for stay in stays)


def _chunked(items: list, size: int = _IDS_PER_QUERY) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def discharges_import(
    *,
    rows: Iterable[tuple[int, dict[str, Any]]],
    by: User | None,
    dry_run: bool,
    source_reference: str = "",
    keep_rows: bool = True,
) -> ImportReport:
    """Import ``rows`` ((line number, {column: value}) pairs, a list or a
    stream such as calls.imports.discharge_file_rows) all or nothing.

    Every row is checked first; if any is bad nothing changes and the report
    lists every bad row with its line number and reason. A dry run only says
    what would be created or updated. Re-importing the same rows updates the
    same patients and discharges (MRN + admission date), never duplicates.
    ``keep_rows`` False leaves ``report.rows`` empty (the counts are still
    there), so a file of any size is imported in constant memory."""
    # The file's name as a person or a browser gave it: only printable
    # characters reach the stays and the audit trail (PostgreSQL refuses NUL).
    source_reference = "".join(ch for ch in source_reference if ch.isprintable()).strip()[:200]
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        staging = _Staging()
        staging.create()
        unknown = _check(rows=iter(rows), by=by, report=report, staging=staging, keep_rows=keep_rows)
        if not report.errors and not dry_run:
            staging.prepare_reading()
            _apply(
                staging=staging,
                by=by,
                source_reference=source_reference,
                actor=f"import:{source_reference.strip() or 'file'}",
            )
            report.applied = True
        staging.drop()
    if unknown:
        report.warnings.append(
            _("These columns are not imported: %(columns)s. The columns read are: %(known)s.")
            % {"columns": ", ".join(sorted(unknown)), "known": ", ".join(IMPORT_COLUMNS)}
        )
    return report


# --- pass 1: checking ---------------------------------------------------------------------


def _check(
    *, rows: Iterator[tuple[int, dict[str, Any]]], by: User | None, report: ImportReport, staging: _Staging, keep_rows
) -> set[str]:
    """Check every row, chunk by chunk, into ``report``; return the columns
    the file has that are not read."""
    today = timezone.localdate()
    checker = _RowChecker(today)
    scope = _Scope(by)
    known = set(IMPORT_COLUMNS)
    unknown: set[str] = set()
    outside: list[tuple[int, str]] = []  # reported after every other problem, as the one-by-one import did
    seq = 0
    while chunk := list(islice(rows, CHUNK)):
        checked = []
        for line, raw in chunk:
            unknown.update(column for column in raw if column not in known)
            checked.append(checker.check(seq, line, raw))
            seq += 1
        stored = _stored_patients({row.mrn for row in checked if row.mrn})
        keep_data = not (report.errors or report.dry_run)
        _stage(staging, checked, stored, keep_data=keep_data)
        seqs = range(checked[0].seq, seq)
        repeated, renamed = staging.repeated_stays(seqs), staging.other_names(seqs)
        good = []
        for row in checked:
            if row.seq in repeated:
                row.errors.append(
                    _("MRN %(mrn)s with admission %(date)s is already on line %(line)s.")
                    % {"mrn": row.mrn, "date": row.admitted_on.isoformat(), "line": repeated[row.seq]}
                )
            if row.seq in renamed:
                first_line, first_name = renamed[row.seq]
                row.errors.append(
                    _("MRN %(mrn)s has another name (“%(name)s”) on line %(line)s.")
                    % {"mrn": row.mrn, "name": first_name, "line": first_line}
                )
            report.errors.extend((row.line, message) for message in row.errors)
            if not row.errors:
                good.append(row)
        outside.extend(_outside_scope(good, stored, scope))
        existing = _existing_stays(good)
        for row in good:
            created = (row.mrn, row.admitted_on) not in existing
            report.created += created
            report.updated += not created
            if keep_rows:
                report.rows.append(
                    ImportRow(
                        line=row.line,
                        mrn=row.mrn,
                        name=row.name,
                        admitted_on=row.admitted_on,
                        action="create" if created else "update",
                        deceased_on=row.deceased_on,
                    )
                )
    report.errors.extend(outside)
    report.errors.sort(key=lambda error: error[0])  # stable: each line keeps its order
    return unknown


def _stored_patients(mrns: set[str]) -> dict[str, tuple[str, str]]:
    """MRN -> (name, MRN of the record it was merged into or its own) of the
    patients already registered under these MRNs."""
    found = {}
    for part in _chunked(sorted(mrns)):
        for mrn, name, merged_into in Patient.objects.filter(mrn__any=part).values_list(
            "mrn", "name", "merged_into__mrn"
        ):
            found[mrn] = (name, merged_into or mrn)
    return found


def _stage(staging: _Staging, rows: list[_Checked], stored: dict[str, tuple[str, str]], *, keep_data: bool) -> None:
    staged = []
    for row in rows:
        row.group = stored[row.mrn][1] if row.mrn in stored else row.mrn
        data = None
        if keep_data and not row.errors:
            data = json.dumps(
                {
                    "seq": row.seq,
                    "mrn": row.mrn,
                    "admitted_on": row.admitted_on.isoformat(),
                    "patient": {name: _plain(value) for name, value in row.patient_data.items()},
                    "stay": {name: _plain(value) for name, value in row.discharge_data.items()},
                    "deceased_on": _plain(row.deceased_on),
                },
                ensure_ascii=False,
            )
        staged.append(
            (
                row.seq,
                row.line,
                _escaped(row.mrn),
                row.admitted_on.isoformat() if row.admitted_on else "",
                _escaped(row.name),
                _escaped(row.group),
                data,
            )
        )
    staging.add(staged)


def _outside_scope(
    rows: list[_Checked], stored: dict[str, tuple[str, str]], scope: _Scope
) -> Iterator[tuple[int, str]]:
    """(line, reason) of the rows naming a patient or a stay of another ward
    that the importing user may not change (see _outside_scope_problem),
    from a few queries per chunk. The administrator role and superusers
    import hospital-wide."""
    if scope.everything:
        return
    mrns = sorted({row.mrn for row in rows if row.mrn in stored})
    visible: set[str] = set()
    stays: set[tuple[str, dt.date]] = set()
    visible_stays: set[tuple[str, dt.date]] = set()
    for part in _chunked(mrns):
        visible.update(access.visible_patients(scope.by).filter(mrn__any=part).values_list("mrn", flat=True))
        stays.update(Discharge.objects.filter(patient__mrn__any=part).values_list("patient__mrn", "admitted_on"))
        visible_stays.update(
            access.visible_discharges(scope.by)
            .filter(patient__mrn__any=part)
            .values_list("patient__mrn", "admitted_on")
        )
    for row in rows:
        if row.mrn not in stored:
            continue
        if (row.mrn, row.admitted_on) in stays - visible_stays:
            yield row.line, _stay_of_another_ward(row.mrn, row.admitted_on)
        elif row.mrn not in visible and not same_person_name(stored[row.mrn][0], row.name):
            yield row.line, _name_of_another_ward(row.mrn)


def _existing_stays(rows: list[_Checked]) -> set[tuple[str, dt.date]]:
    found = set()
    for part in _chunked(sorted({row.mrn for row in rows})):
        found.update(Discharge.objects.filter(patient__mrn__any=part).values_list("patient__mrn", "admitted_on"))
    return found


# --- pass 2: applying ----------------------------------------------------------------------
#
# Rows of patients and stays are plain dicts of column values by attribute
# name (followup.bulk): a Django instance costs more to build than the
# database spends storing the row.

Row = dict[str, Any]
_ATTNAME = {model: {f.name: f.attname for f in model._meta.concrete_fields} for model in (Patient, Discharge)}


@dataclass(slots=True)
class _Event:
    """An audit row, written once its object has an id."""

    action: str
    object_type: str
    row: Row  # the patient's or the stay's
    fields: tuple[str, ...]


@dataclass
class _Writes:
    """What one chunk of patients changes, played row by row in memory."""

    new_patients: list[Row] = field(default_factory=list)
    changed_patients: dict[int, Row] = field(default_factory=dict)
    patient_fields: set[str] = field(default_factory=set)
    new_stays: list[tuple[Row, Row]] = field(default_factory=list)  # (stay, its patient)
    changed_stays: dict[int, Row] = field(default_factory=dict)
    stay_fields: set[str] = field(default_factory=set)
    events: list[_Event] = field(default_factory=list)
    readmitted: dict[int, dt.date] = field(default_factory=dict)  # patient id -> close calls of earlier stays
    deaths: list[tuple[Row, dt.date]] = field(default_factory=list)
    stays: list[Row] = field(default_factory=list)  # every row's stay, in order


def _values(model, data: dict[str, Any]) -> dict[str, Any]:
    """A dict _plain made, by attribute name, with its dates back."""
    attname, dates = _ATTNAME[model], _DATE_FIELDS[model]
    return {
        attname[name]: dt.date.fromisoformat(value) if name in dates and value is not None else value
        for name, value in data.items()
    }


def _changes(row: Row, names: list[str], values: dict[str, Any], model) -> list[str]:
    """The names of the fields whose value differs from the row's (relations
    by id), set on the row: what _save_changes saves and audits."""
    attname = _ATTNAME[model]
    changed = []
    for name in names:
        column = attname[name]
        if row[column] != values[column]:
            row[column] = values[column]
            changed.append(name)
    return changed


class _Statistics:
    """Keeps PostgreSQL's statistics of the tables an import grows fresh
    enough for the planner: ANALYZE after ``ANALYZE_AFTER`` stays written,
    then each time the stays written double (10,000, 20,000, 40,000, ...:
    five times for a year's file). Planned with statistics taken before the
    import (a ward with no stays yet, tables a tenth of their size), the
    chunks' look-ups by id became scans of all the ward's stays, and the
    import quadratic."""

    TABLES = (Patient, Discharge, FollowUpCall)

    def __init__(self):
        self.on = connection.vendor == "postgresql"
        self.written = 0
        self.next = ANALYZE_AFTER
        self.quick = False  # statistics from a small sample taken

    def wrote(self, stays: int) -> None:
        self.written += stays
        if self.on and self.written >= self.next:
            refresh_statistics(*self.TABLES, quick=True)  # a small sample: followup.bulk.QUICK_STATISTICS
            self.next = 2 * self.written
            self.quick = True

    def finish(self) -> None:
        """Full statistics once the import has written everything, where
        it took quick ones: the pages are planned with them afterwards."""
        if self.quick:
            refresh_statistics(*self.TABLES)


@transaction.atomic
def _apply(*, staging: _Staging, by: User | None, source_reference: str, actor: str) -> None:
    scope = _Scope(by)
    today = timezone.localdate()
    statistics = _Statistics()
    waiting: list[int] = []  # stays written, their calls not yet generated
    for rows in staging.chunks(CHUNK):
        with audit_batch():
            writes = _play(rows, by=by, scope=scope, source_reference=source_reference)
            _write(writes, actor=actor)
            # Deaths before the calls are planned: a patient who died gets none.
            patients_mark_deceased(deaths=[(patient["id"], day) for patient, day in writes.deaths], actor=actor)
        waiting.extend(stay["id"] for stay in writes.stays)
        if len(waiting) >= GENERATE_EVERY:
            generate_calls(week=today, discharges=waiting, actor=actor)
            waiting = []
        statistics.wrote(len(writes.new_stays))
    if waiting:
        generate_calls(week=today, discharges=waiting, actor=actor)
    statistics.finish()


def _play(rows: list[dict[str, Any]], *, by: User | None, scope: _Scope, source_reference: str) -> _Writes:
    """Play the rows (ordered by patient record, admission, line) as _upsert
    would one by one, from the patients and stays loaded (and locked) once."""
    mrns = {row["mrn"] for row in rows}
    patients = {p["mrn"]: p for p in Patient.objects.select_for_update().filter(mrn__any=list(mrns)).values()}
    records = {p["id"]: p for p in patients.values()}
    merged_into = sorted({p["merged_into_id"] for p in patients.values() if p["merged_into_id"]} - set(records))
    records.update((p["id"], p) for p in Patient.objects.select_for_update().filter(pk__any=merged_into).values())
    # Each patient record's stays by admission, keyed by the record (a new one has no id yet).
    stays_of: dict[int, dict[dt.date, Row]] = {id(p): {} for p in records.values()}
    for stay in Discharge.objects.select_for_update(of=("self",)).filter(patient_id__any=list(records)).values():
        stays_of[id(records[stay["patient_id"]])][stay["admitted_on"]] = stay
    new_patient, new_stay = defaults(Patient), defaults(Discharge)
    created_by = by.pk if by is not None else None
    writes = _Writes()
    touched: dict[int, Row] = {}  # the patient records the rows land on, by id()
    for row in rows:
        mrn, admitted_on = row["mrn"], dt.date.fromisoformat(row["admitted_on"])
        patient_names, patient_values = list(row["patient"]), _values(Patient, row["patient"])
        stay_names = [*row["stay"], "source_reference"]
        stay_values = {**_values(Discharge, row["stay"]), "source_reference": source_reference}
        patient = patients.get(mrn)
        if patient is not None and patient["merged_into_id"]:  # an MRN merged into another record: that one
            patient = records[patient["merged_into_id"]]
        stays = stays_of[id(patient)] if patient is not None else {}
        stay = stays.get(admitted_on)
        if patient is not None and not scope.everything:
            if stay is not None and not scope.sees_stay(stay["department_id"]):
                raise ValidationError(_stay_of_another_ward(patient["mrn"], admitted_on), code="outside_scope")
            if not scope.sees_patient(stays.values()) and not same_person_name(
                patient["name"], patient_values.get("name", "")
            ):
                raise ValidationError(_name_of_another_ward(patient["mrn"]), code="outside_scope")
        kept = patient is not None and by is not None and not scope.sees_patient(stays.values())
        patient_created = patient is None
        if patient is None:
            patient = patients[mrn] = {**new_patient, "mrn": mrn, **patient_values}
            stays = stays_of[id(patient)] = {}
            writes.new_patients.append(patient)
            writes.events.append(_Event(CREATE, "patient", patient, ("mrn", *patient_names)))
        elif not kept:
            changed = _changes(patient, patient_names, patient_values, Patient)
            if changed:
                writes.events.append(_Event(CHANGE, "patient", patient, tuple(changed)))
                if patient["id"] is not None:
                    writes.changed_patients[patient["id"]] = patient
                    writes.patient_fields.update(changed)
        if stay is None:
            stay = stays[admitted_on] = {
                **new_stay,
                "admitted_on": admitted_on,
                "source": Discharge.Source.IMPORT.value,
                "created_by_id": created_by,
                **stay_values,
            }
            writes.new_stays.append((stay, patient))
            writes.events.append(_Event(CREATE, "stay", stay, ("patient", "admitted_on", *stay_names)))
        else:
            changed = _changes(stay, stay_names, stay_values, Discharge)
            if changed:
                writes.events.append(_Event(CHANGE, "stay", stay, tuple(changed)))
                if stay["id"] is not None:
                    writes.changed_stays[stay["id"]] = stay
                    writes.stay_fields.update(changed)
        if not patient_created and patient["id"] is not None:  # a patient new in this file has no calls yet
            writes.readmitted[patient["id"]] = max(admitted_on, writes.readmitted.get(patient["id"], admitted_on))
        writes.stays.append(stay)
        # The date of death as _upsert's caller compared it: with the stored
        # one (the import records deaths after every row).
        deceased_on = row["deceased_on"] and dt.date.fromisoformat(row["deceased_on"])
        if deceased_on and deceased_on != patient["deceased_on"]:
            writes.deaths.append((patient, deceased_on))
        touched[id(patient)] = patient
    _score(writes, touched, stays_of)
    return writes


def _score(writes: _Writes, patients: dict[int, Row], stays_of: dict[int, dict[dt.date, Row]]) -> None:
    """The readmission risk of the rows' stays and the outcome ledger of
    every stay of their patients (a later stay is a readmission), worked out
    in memory as calls.services.risk does and written with the stays: a new
    stay's in its insert, an existing stay's in the chunk's upsert. Before
    the calls are generated (a rule step may be for some tiers only)."""
    visits = emergency_days_of(p["id"] for p in patients.values() if p["id"] is not None)
    died = {id(patient): day for patient, day in writes.deaths}  # the last date learnt is the one kept
    in_file = {id(stay) for stay in writes.stays}
    for key, patient in patients.items():
        stays = list(stays_of[key].values())
        days = visits[patient["id"]] if patient["id"] is not None else []
        for stay in stays:
            if id(stay) in in_file:
                _rescored(writes, stay, risk_values(stay, days), RISK_FIELDS)
        values = outcome_values(stays, emergency_days=days, died_on=died.get(key, patient["deceased_on"]))
        for stay, new in zip(stays, values, strict=True):
            _rescored(writes, stay, new, OUTCOME_FIELDS)


def _rescored(writes: _Writes, stay: Row, values: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Set a stay's derived columns: a new stay carries them into its
    insert; an existing one whose values changed joins the upsert (derived
    data: not audited)."""
    if stay["id"] is None:
        stay.update(values)
    elif changed(stay, values):
        writes.changed_stays[stay["id"]] = stay
        writes.stay_fields.update(fields)


def _write(writes: _Writes, *, actor: str) -> None:
    """Write what _play decided: one statement per table and kind of change."""
    insert_rows(Patient, writes.new_patients)
    if writes.changed_patients:
        Patient.objects.bulk_create(
            [Patient(**row) for row in writes.changed_patients.values()],
            update_conflicts=True,
            unique_fields=["pk"],
            update_fields=[*sorted(writes.patient_fields), "updated_at"],
        )
    for stay, patient in writes.new_stays:
        stay["patient_id"] = patient["id"]  # a patient new in this file got its id just above
    insert_rows(Discharge, [stay for stay, _patient in writes.new_stays])
    if writes.changed_stays:
        Discharge.objects.bulk_create(
            [Discharge(**row) for row in writes.changed_stays.values()],
            update_conflicts=True,
            unique_fields=["pk"],
            update_fields=[*sorted(writes.stay_fields), "updated_at"],
        )
        if "department" in writes.stay_fields:  # a stay moved to another ward: its calls go with it
            calls_follow_stays(discharge_ids=writes.changed_stays)
    _audit(writes.events, actor=actor)
    if writes.readmitted:
        _cancel_readmitted(writes.readmitted, actor=actor)


def _audit(events: list[_Event], *, actor: str) -> None:
    """The audit rows _upsert writes, grouped by what they say (one
    audit_changes per kind; the rows go out together with audit_batch)."""
    groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[object, int | None]]] = {}
    for event in events:
        row = event.row
        patient_id = row["id"] if event.object_type == "patient" else row["patient_id"]
        groups.setdefault((event.action, event.object_type, event.fields), []).append((row["id"], patient_id))
    for (action, object_type, fields), objects in groups.items():
        audit_changes(actor=actor, action=action, object_type=object_type, objects=objects, fields=list(fields))


def _cancel_readmitted(admitted: dict[int, dt.date], *, actor: str) -> None:
    """The open calls of each patient's stays admitted before her latest
    stay in the file: one query to find them, one statement to cancel."""
    found = []
    for part in _chunked(list(admitted)):
        for pk, patient_id, admitted_on in (
            FollowUpCall.objects.filter(discharge__patient_id__any=part, status__in=FollowUpCall.OPEN_STATUSES)
            .order_by("pk")
            .values_list("pk", "discharge__patient_id", "discharge__admitted_on")
        ):
            if admitted_on < admitted[patient_id]:
                found.append(pk)
    for part in _chunked(found):
        calls_cancel_open(
            calls=FollowUpCall.objects.filter(pk__any=part), reason=FollowUpCall.CancelReason.READMITTED, actor=actor
        )
