"""The discharge import as it was before it became set-based: every row
checked with dicts of what earlier rows said, then registered one by one
through ``_upsert`` (the nurse's page's path), deaths recorded one by one,
calls generated 500 stays at a time. Kept, unchanged but for its names, as
the oracle the bulk import (calls.services.discharge_import) is compared
with in tests/calls/test_import_bulk.py: the same files must leave the same
patients, stays, calls and audit rows, and the same report."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.imports import COLUMN_OF_FIELD, IMPORT_COLUMNS, RowReader
from calls.models import Discharge, Patient
from calls.services.cancellation import patient_mark_deceased
from calls.services.discharges import _name_of_another_ward, _stay_of_another_ward, _upsert, same_person_name
from calls.services.intake import POLICIES, intake_check, nurse_works_in
from calls.services.queue import generate_calls
from calls.services.risk import discharges_rescore, outcomes_recompute
from followup import access
from followup.models import User

_IDS_PER_GENERATION = 500


@dataclass
class ImportRow:
    line: int
    mrn: str
    name: str
    admitted_on: dt.date | None
    action: str = ""
    patient_data: dict[str, Any] = field(default_factory=dict)
    discharge_data: dict[str, Any] = field(default_factory=dict)
    deceased_on: dt.date | None = None
    scope_problem: str = ""


@dataclass
class ImportReport:
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    applied: bool = False

    @property
    def created(self) -> int:
        return sum(1 for row in self.rows if row.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for row in self.rows if row.action == "update")


class _RowChecker:
    """Reads and checks one file's rows; remembers what it needs across rows
    (the (MRN, admission) pairs and names seen, which nurse works where)."""

    def __init__(self):
        self.reader = RowReader()
        self.staff: dict[tuple[int, int], bool] = {}
        self.seen_stays: dict[tuple[str, dt.date], int] = {}
        self.seen_names: dict[str, tuple[str, int]] = {}
        self.policy = POLICIES[Discharge.Source.IMPORT]

    def works_in(self, nurse: User, department) -> bool:
        key = (nurse.pk, department.pk)
        if key not in self.staff:
            self.staff[key] = nurse_works_in(nurse, department)
        return self.staff[key]

    def check(self, line: int, raw: dict[str, Any]) -> tuple[ImportRow | None, list[str]]:
        intake, unreadable = self.reader.read(raw)
        errors = [message for _column, message in unreadable]
        checked = intake_check(intake, policy=self.policy, works_in=self.works_in)
        said = {column for column, _message in unreadable}
        for name, messages in checked.errors.items():
            column = COLUMN_OF_FIELD.get(name, name)
            if column not in said:  # a column that could not be read is explained once
                errors.extend(f"{column}: {message}" for message in messages)
        intake = checked.intake
        mrn, name, admitted_on = intake.mrn, intake.patient_data.get("name", ""), intake.admitted_on
        if mrn and admitted_on:
            first = self.seen_stays.setdefault((mrn, admitted_on), line)
            if first != line:
                errors.append(
                    _("MRN %(mrn)s with admission %(date)s is already on line %(line)s.")
                    % {"mrn": mrn, "date": admitted_on.isoformat(), "line": first}
                )
        if mrn and name:
            seen, first = self.seen_names.setdefault(mrn, (name, line))
            if seen != name:
                errors.append(
                    _("MRN %(mrn)s has another name (“%(name)s”) on line %(line)s.")
                    % {"mrn": mrn, "name": seen, "line": first}
                )
        if errors:
            return None, errors
        row = ImportRow(
            line=line,
            mrn=mrn,
            name=name,
            admitted_on=admitted_on,
            patient_data=intake.patient_data,
            discharge_data=intake.discharge_data,
            deceased_on=intake.deceased_on,
        )
        return row, []


def import_one_by_one(
    *, rows: list[tuple[int, dict[str, Any]]], by: User | None, dry_run: bool, source_reference: str = ""
) -> ImportReport:
    """Import ``rows`` ((line number, {column: value}) pairs) all or nothing.

    Every row is checked first; if any is bad nothing changes and the report
    lists every bad row with its line number and reason. A dry run only says
    what would be created or updated. Re-importing the same rows updates the
    same patients and discharges (MRN + admission date), never duplicates.
    """
    # The file's name as a person or a browser gave it: only printable
    # characters reach the stays and the audit trail (PostgreSQL refuses NUL).
    source_reference = "".join(ch for ch in source_reference if ch.isprintable()).strip()[:200]
    report = ImportReport(dry_run=dry_run)
    unknown = sorted({column for _line, raw in rows for column in raw} - set(IMPORT_COLUMNS))
    if unknown:
        report.warnings.append(
            _("These columns are not imported: %(columns)s. The columns read are: %(known)s.")
            % {"columns": ", ".join(unknown), "known": ", ".join(IMPORT_COLUMNS)}
        )
    checker = _RowChecker()
    for line, raw in rows:
        row, errors = checker.check(line, raw)
        report.errors.extend((line, message) for message in errors)
        if row is not None:
            report.rows.append(row)
    for row in _rows_outside_scope(report.rows, by=by):
        report.errors.append((row.line, row.scope_problem))
    report.errors.sort(key=lambda error: error[0])  # stable: each line keeps its order
    existing = _existing_stays({(row.mrn, row.admitted_on) for row in report.rows})
    for row in report.rows:
        row.action = "update" if (row.mrn, row.admitted_on) in existing else "create"
    if report.errors or dry_run:
        return report
    _apply(
        report=report, by=by, source_reference=source_reference, actor=f"import:{source_reference.strip() or 'file'}"
    )
    report.applied = True
    return report


def _rows_outside_scope(rows: list[ImportRow], *, by: User | None) -> list[ImportRow]:
    """Rows naming a patient or a stay of another ward that ``by`` may not
    change (see _outside_scope_problem), found with a few queries per chunk of
    MRNs. The administrator role and superusers import hospital-wide."""
    if by is None or (access.sees_every_patient(by) and access.sees_every_stay(by)):
        return []
    by_mrn: dict[str, list[ImportRow]] = {}
    for row in rows:
        by_mrn.setdefault(row.mrn, []).append(row)
    refused = []
    mrns = sorted(by_mrn)
    for start in range(0, len(mrns), _IDS_PER_GENERATION):
        chunk = mrns[start : start + _IDS_PER_GENERATION]
        stored = dict(Patient.objects.filter(mrn__in=chunk).values_list("mrn", "name"))
        visible = set(access.visible_patients(by).filter(mrn__in=chunk).values_list("mrn", flat=True))
        stays = set(Discharge.objects.filter(patient__mrn__in=chunk).values_list("patient__mrn", "admitted_on"))
        visible_stays = set(
            access.visible_discharges(by).filter(patient__mrn__in=chunk).values_list("patient__mrn", "admitted_on")
        )
        for mrn in chunk:
            if mrn not in stored:
                continue
            for row in by_mrn[mrn]:
                if (mrn, row.admitted_on) in stays - visible_stays:
                    row.scope_problem = _stay_of_another_ward(mrn, row.admitted_on)
                elif mrn not in visible and not same_person_name(stored[mrn], row.name):
                    row.scope_problem = _name_of_another_ward(mrn)
                else:
                    continue
                refused.append(row)
    return refused


def _existing_stays(stays: set[tuple[str, dt.date]]) -> set[tuple[str, dt.date]]:
    mrns = {mrn for mrn, _admitted in stays}
    found = set()
    mrn_list = sorted(mrns)
    for start in range(0, len(mrn_list), _IDS_PER_GENERATION):
        found.update(
            Discharge.objects.filter(patient__mrn__in=mrn_list[start : start + _IDS_PER_GENERATION]).values_list(
                "patient__mrn", "admitted_on"
            )
        )
    return found & stays


@transaction.atomic
def _apply(*, report: ImportReport, by: User | None, source_reference: str, actor: str) -> None:
    # Earlier stays first, so a readmission inside the file cancels the calls
    # of the stay before it.
    ids = []
    died = []
    for row in sorted(report.rows, key=lambda r: (r.admitted_on, r.line)):
        discharge, _created = _upsert(
            mrn=row.mrn,
            patient_data=row.patient_data,
            admitted_on=row.admitted_on,
            discharge_data={**row.discharge_data, "source_reference": source_reference},
            by=by,
            source=Discharge.Source.IMPORT,
            actor=actor,
        )
        ids.append(discharge.pk)
        if row.deceased_on is not None and discharge.patient.deceased_on != row.deceased_on:
            died.append((discharge.patient, row.deceased_on))
    # Deaths before the calls are planned: a patient who died gets none.
    for patient, deceased_on in died:
        patient_mark_deceased(patient=patient, died_on=deceased_on, actor=actor)
    # As discharge_register does after each stay: its risk, then the patients' outcome ledgers.
    discharges_rescore(discharge_ids=ids)
    outcomes_recompute(patient_ids=set(Discharge.objects.filter(pk__in=ids).values_list("patient_id", flat=True)))
    today = timezone.localdate()
    for start in range(0, len(ids), _IDS_PER_GENERATION):
        generate_calls(week=today, discharges=ids[start : start + _IDS_PER_GENERATION], actor=actor)
