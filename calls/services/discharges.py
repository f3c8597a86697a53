"""Registering discharges (typed in or imported) and readmissions.

A discharge is identified by the patient's MRN + the admission date, so
registering or importing the same stay again updates it. A new stay of the
same patient (a readmission) cancels the open calls of the earlier stays.
Either way the discharge's calls for the current week are generated at once,
in the same transaction.
"""

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from followup import access
from followup.audit import actor_of, audit_change
from followup.models import AuditEvent, User

from ..models import Department, Discharge, FollowUpCall, Patient
from ..phones import normalise_phone
from .cancellation import calls_cancel_open
from .queue import calls_reopen, generate_calls

IMPORT_COLUMNS = (
    "mrn",
    "name",
    "sex",
    "birth_date",
    "phone",
    "family_name",
    "family_relation",
    "family_phone",
    "department_code",
    "admitted_on",
    "discharged_on",
    "diagnosis",
    "icd10",
    "attending_doctor",
    "responsible_nurse",
    "nursing_level",
    "open_problems",
)
REQUIRED_COLUMNS = ("mrn", "name", "department_code", "admitted_on", "discharged_on", "diagnosis")
_IDS_PER_GENERATION = 500
CREATE, CHANGE = AuditEvent.Action.CREATE, AuditEvent.Action.CHANGE


def _save_changes(obj: Patient | Discharge, data: dict[str, Any]) -> list[str]:
    """Save the fields of ``data`` that differ (nothing when nothing does);
    return their names."""
    changed = [name for name, value in data.items() if getattr(obj, name) != value]
    if changed:
        for name in changed:
            setattr(obj, name, data[name])
        obj.save(update_fields=[*changed, "updated_at"])
    return changed


def stay_date_problems(*, admitted_on: dt.date | None, discharged_on: dt.date | None) -> list[str]:
    """What is wrong with a stay's dates, at registration and at correction."""
    problems = []
    if admitted_on and discharged_on and discharged_on < admitted_on:
        problems.append(_("The discharge date is before the admission date."))
    if discharged_on and discharged_on > timezone.localdate():
        problems.append(_("The discharge date is in the future."))
    return problems


def same_person_name(stored: str, typed: str) -> bool:
    """Names compared as a ward would: ignoring case and spaces (张 三 = 张三)."""

    def key(name: str) -> str:
        return "".join((name or "").split()).casefold()

    return bool(key(typed)) and key(stored) == key(typed)


def _stay_of_another_ward(mrn: str, admitted_on: dt.date) -> str:
    return _(
        "A stay of the patient with inpatient number %(mrn)s admitted on %(date)s is already registered "
        "by another ward. Check the admission date, or ask that ward to correct its record."
    ) % {"mrn": mrn, "date": admitted_on.isoformat()}


def _name_of_another_ward(mrn: str) -> str:
    return _(
        "The inpatient number %(mrn)s belongs to a patient registered under another name by another ward. "
        "Check the number and the name as written on the discharge record."
    ) % {"mrn": mrn}


def _outside_scope_problem(*, by: User | None, patient: Patient | None, name: str, stay: Discharge | None) -> str:
    """Why a user may not register this stay of a patient outside her wards
    (empty when she may). Feeds and tasks (``by`` None) act hospital-wide.

    Nothing here reveals the other ward's record: the message is the same
    whatever the stored name is."""
    if by is None or patient is None:
        return ""
    if stay is not None and not access.can_see_stay(by, stay):
        return _stay_of_another_ward(patient.mrn, stay.admitted_on)
    if not access.can_see_patient(by, patient.pk) and not same_person_name(patient.name, name):
        return _name_of_another_ward(patient.mrn)
    return ""


def _upsert(
    *,
    mrn: str,
    patient_data: dict[str, Any],
    admitted_on: dt.date,
    discharge_data: dict[str, Any],
    by: User | None,
    source: str,
    actor: "User | str",
) -> tuple[Discharge, bool]:
    """Create or update the patient (by MRN) and the stay (by MRN + admission
    date); cancel the open calls of the patient's earlier stays.

    A user who may not see the patient (another ward's) adds her ward's stay
    only when the typed name matches; the patient's details stay as recorded
    (``discharge.patient_details_kept``), and another ward's stay is never
    changed or moved (docs/access.md). Every change is audited as ``actor``."""
    patient = Patient.objects.select_for_update().filter(mrn=mrn).first()
    if patient is not None and patient.merged_into_id:  # an MRN merged into another record: that one
        patient = Patient.objects.select_for_update().get(pk=patient.merged_into_id)
    stay = Discharge.objects.filter(patient=patient, admitted_on=admitted_on).first() if patient else None
    problem = _outside_scope_problem(by=by, patient=patient, name=patient_data.get("name", ""), stay=stay)
    if problem:
        raise ValidationError(problem, code="outside_scope")
    kept = patient is not None and by is not None and not access.can_see_patient(by, patient.pk)
    patient_created = patient is None
    if patient is None:
        patient = Patient.objects.create(mrn=mrn, **patient_data)
        audit_change(
            actor=actor, action=CREATE, object_type="patient", object_id=patient.pk, fields=["mrn", *patient_data]
        )
    elif not kept:
        changed = _save_changes(patient, patient_data)
        if changed:
            audit_change(actor=actor, object_type="patient", object_id=patient.pk, fields=changed)
    created = stay is None
    if created:
        stay = Discharge.objects.create(
            patient=patient, admitted_on=admitted_on, **{**discharge_data, "source": source, "created_by": by}
        )
        fields, action = ["patient", "admitted_on", *discharge_data], CREATE
    else:
        was_archived = stay.archived
        fields, action = _save_changes(stay, discharge_data), CHANGE
        stay.reopened = was_archived and not stay.archived
    if fields:
        audit_change(
            actor=actor, action=action, object_type="stay", object_id=stay.pk, fields=fields, patient_id=patient.pk
        )
    if not patient_created:  # a patient new here has no earlier stay
        calls_cancel_open(
            calls=FollowUpCall.objects.filter(discharge__patient=patient, discharge__admitted_on__lt=admitted_on),
            reason=FollowUpCall.CancelReason.READMITTED,
            actor=actor,
        )
    stay.patient_details_kept = kept
    return stay, created


@transaction.atomic
def discharge_register(
    *,
    mrn: str,
    patient_data: dict[str, Any],
    admitted_on: dt.date,
    discharge_data: dict[str, Any],
    by: User | None,
    source: str = Discharge.Source.MANUAL,
    via: str = "",
) -> Discharge:
    """Register one discharge: find the patient by MRN or create them (the
    given patient fields overwrite the stored ones), create or update the
    stay, cancel the calls of earlier stays (readmission) and generate this
    week's calls for it. ``patient_data`` keys are Patient fields,
    ``discharge_data`` keys Discharge fields (``department`` an instance).
    ``via`` names the feed that registers it ("hl7:SENDER"), for the audit
    trail; without it the trail names ``by``."""
    problems = stay_date_problems(admitted_on=admitted_on, discharged_on=discharge_data["discharged_on"])
    if problems:
        raise ValidationError(problems[0])
    discharge, _created = _upsert(
        mrn=mrn.strip(),
        patient_data=patient_data,
        admitted_on=admitted_on,
        discharge_data=discharge_data,
        by=by,
        source=source,
        actor=actor_of(by, via),
    )
    if getattr(discharge, "reopened", False):  # cancelled (A11/A13), now sent again
        calls_reopen(discharge=discharge, actor=actor_of(by, via))
    generate_calls(week=timezone.localdate(), discharges=[discharge.pk], actor=actor_of(by, via))
    return discharge


# --- import -------------------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    mrn: str
    name: str
    admitted_on: dt.date | None
    action: str = ""  # "create" or "update"
    patient_data: dict[str, Any] = field(default_factory=dict)
    discharge_data: dict[str, Any] = field(default_factory=dict)
    scope_problem: str = ""


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or a bad file, would do)."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    dry_run: bool = False
    applied: bool = False

    @property
    def created(self) -> int:
        return sum(1 for row in self.rows if row.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for row in self.rows if row.action == "update")

    @property
    def ok(self) -> bool:
        return not self.errors


SEX_ALIASES = {
    "m": Patient.Sex.MALE,
    "male": Patient.Sex.MALE,
    "男": Patient.Sex.MALE,
    "f": Patient.Sex.FEMALE,
    "female": Patient.Sex.FEMALE,
    "女": Patient.Sex.FEMALE,
    "u": Patient.Sex.UNKNOWN,
    "": Patient.Sex.UNKNOWN,
    "未知": Patient.Sex.UNKNOWN,
}
NURSING_LEVEL_ALIASES = {
    "special": "special",
    "特级": "special",
    "特级护理": "special",
    "1": "1",
    "i": "1",
    "一级": "1",
    "一级护理": "1",
    "2": "2",
    "ii": "2",
    "二级": "2",
    "二级护理": "2",
    "3": "3",
    "iii": "3",
    "三级": "3",
    "三级护理": "3",
    "": "",
}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets turn MRNs and phone numbers into numbers
    return str(value).strip()


def _date(value: Any, column: str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(
        _("%(column)s “%(value)s” is not a date (write it as YYYY-MM-DD).") % {"column": column, "value": text}
    )


# Text columns and the model field that stores each, for length checks.
_TEXT_FIELDS = {
    "mrn": (Patient, "mrn"),
    "name": (Patient, "name"),
    "family_name": (Patient, "family_name"),
    "family_relation": (Patient, "family_relation"),
    "diagnosis": (Discharge, "diagnosis"),
    "icd10": (Discharge, "icd10"),
    "attending_doctor": (Discharge, "attending_doctor"),
}


def _text_problems(text: dict[str, str]) -> list[str]:
    """Control characters anywhere, and text longer than its column holds."""
    problems = []
    for column, value in text.items():
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in value):
            problems.append(_("%(column)s contains control characters.") % {"column": column})
        if column in _TEXT_FIELDS:
            model, field_name = _TEXT_FIELDS[column]
            limit = model._meta.get_field(field_name).max_length
            if len(value) > limit:
                problems.append(
                    _("%(column)s is longer than %(limit)s characters.") % {"column": column, "limit": limit}
                )
    return problems


class _RowChecker:
    """Reads and checks one file's rows; remembers what it needs across rows
    (departments, nurses, the (MRN, admission) pairs seen)."""

    def __init__(self):
        self.departments = {d.code.upper(): d for d in Department.objects.all()}
        self.nurses: dict[str, User | None] = {}
        self.seen_stays: dict[tuple[str, dt.date], int] = {}
        self.seen_names: dict[str, tuple[str, int]] = {}
        self.today = timezone.localdate()

    def nurse(self, username: str) -> User | None:
        if username not in self.nurses:
            self.nurses[username] = User.objects.filter(username=username).first()
        return self.nurses[username]

    def check(self, line: int, raw: dict[str, Any]) -> tuple[ImportRow | None, list[str]]:
        errors: list[str] = []
        value = {column: raw.get(column) for column in IMPORT_COLUMNS}
        text = {column: _text(v) for column, v in value.items()}
        for column in REQUIRED_COLUMNS:
            if not text[column]:
                errors.append(_("%(column)s is empty.") % {"column": column})
        errors.extend(_text_problems(text))
        dates = {}
        for column in ("birth_date", "admitted_on", "discharged_on"):
            try:
                dates[column] = _date(value[column], column)
            except ValueError as exc:
                errors.append(str(exc))
                dates[column] = None
        admitted_on, discharged_on = dates["admitted_on"], dates["discharged_on"]
        if admitted_on and discharged_on and discharged_on < admitted_on:
            errors.append(_("discharged_on is before admitted_on."))
        if discharged_on and discharged_on > self.today:
            errors.append(_("discharged_on is in the future."))
        department = None
        if text["department_code"]:
            department = self.departments.get(text["department_code"].upper())
            if department is None:
                errors.append(_("Unknown department code “%(code)s”.") % {"code": text["department_code"]})
        phones = {}
        for column in ("phone", "family_phone"):
            try:
                phones[column] = normalise_phone(text[column])
            except ValidationError as exc:
                errors.append(f"{column}: {exc.messages[0]}")
        sex = SEX_ALIASES.get(text["sex"].lower())
        if sex is None:
            errors.append(_("sex “%(value)s” is not one of M, F, U.") % {"value": text["sex"]})
        level = NURSING_LEVEL_ALIASES.get(text["nursing_level"].lower())
        if level is None:
            errors.append(
                _("nursing_level “%(value)s” is not one of special, 1, 2, 3.") % {"value": text["nursing_level"]}
            )
        nurse = None
        if text["responsible_nurse"]:
            nurse = self.nurse(text["responsible_nurse"])
            if nurse is None:
                errors.append(
                    _("No user “%(username)s” for responsible_nurse.") % {"username": text["responsible_nurse"]}
                )
        mrn = text["mrn"]
        if mrn and admitted_on:
            first = self.seen_stays.setdefault((mrn, admitted_on), line)
            if first != line:
                errors.append(
                    _("MRN %(mrn)s with admission %(date)s is already on line %(line)s.")
                    % {"mrn": mrn, "date": admitted_on.isoformat(), "line": first}
                )
        if mrn and text["name"]:
            name, first = self.seen_names.setdefault(mrn, (text["name"], line))
            if name != text["name"]:
                errors.append(
                    _("MRN %(mrn)s has another name (“%(name)s”) on line %(line)s.")
                    % {"mrn": mrn, "name": name, "line": first}
                )
        if errors:
            return None, errors
        patient_data = {
            "name": text["name"],
            "sex": sex,
            "phone": phones["phone"],
            "family_phone": phones["family_phone"],
            "family_name": text["family_name"],
            "family_relation": text["family_relation"],
        }
        if dates["birth_date"]:
            patient_data["birth_date"] = dates["birth_date"]
        discharge_data = {
            "department": department,
            "discharged_on": discharged_on,
            "diagnosis": text["diagnosis"],
            "icd10": text["icd10"].upper(),
            "attending_doctor": text["attending_doctor"],
            "nursing_level": level,
            "open_problems": text["open_problems"],
        }
        if nurse is not None:
            discharge_data["responsible_nurse"] = nurse
        row = ImportRow(
            line=line,
            mrn=mrn,
            name=text["name"],
            admitted_on=admitted_on,
            patient_data=patient_data,
            discharge_data=discharge_data,
        )
        return row, []


def discharges_import(
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
    today = timezone.localdate()
    for start in range(0, len(ids), _IDS_PER_GENERATION):
        generate_calls(week=today, discharges=ids[start : start + _IDS_PER_GENERATION], actor=actor)


# --- reading files --------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file cannot be read at all (format, encoding, header)."""


def read_discharge_file(*, name: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The rows of a CSV (UTF-8 or GBK/GB18030) or XLSX export as (line
    number, {column: value}) pairs; line 1 is the header. Raises
    ImportFileError with a plain message when the file cannot be read."""
    if name.lower().endswith(".xlsx"):
        table = _read_xlsx(content)
    elif name.lower().endswith((".csv", ".txt")):
        table = _read_csv(content)
    else:
        raise ImportFileError(_("Only .csv and .xlsx files can be imported."))
    if not table:
        raise ImportFileError(_("The file is empty."))
    header = [_text(cell).lower() for cell in table[0]]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            _("The first line must name the columns; missing: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(_text(cell) for cell in cells):
            continue  # blank lines at the end of spreadsheets
        rows.append((number, {column: cell for column, cell in zip(header, cells, strict=False) if column}))
    return rows


def decode_text(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportFileError(_("The file is neither UTF-8 nor GBK text: save it as CSV UTF-8 or as XLSX and try again."))


def _read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(decode_text(content), newline="")))


def _read_xlsx(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from None
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
