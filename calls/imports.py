"""Reading a discharge export (CSV in UTF-8 or GBK, or XLSX) into rows, and
each row into a :class:`calls.services.intake.DischargeIntake`: the
spreadsheet's own spellings (男/女, 一级护理, 2026/11/16, numbers for MRNs)
are understood here; what a discharge must be is checked by the intake core.
The import service (calls.services.discharge_import) applies the rows."""

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from typing import Any, BinaryIO

from django.utils.translation import gettext as _
from openpyxl import load_workbook

from followup.models import User

from .models import Department, Patient
from .services.intake import DischargeIntake

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
    "deceased_on",
    "discharge_disposition",
    "admission_type",
    "secondary_icd10",
    "emergency_visits_6m",
)
REQUIRED_COLUMNS = ("mrn", "name", "department_code", "admitted_on", "discharged_on", "diagnosis")
# How hospital systems write a discharge disposition; any that means the
# patient died in hospital gives a death on the discharge date (no calls).
# Anything else (home, a transfer, a code of another meaning) is a discharge.
DIED_DISPOSITIONS = {"died", "dead", "death", "expired", "deceased", "20", "死亡", "院内死亡", "病故", "已故"}

# Import columns named otherwise than the field they fill.
COLUMN_OF_FIELD = {"department": "department_code", "reported_emergency_visits": "emergency_visits_6m"}


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
# Admission type as hospital systems write it (docs/risk.md): emergency adds to the readmission risk.
ADMISSION_TYPE_ALIASES = {
    "emergency": "emergency",
    "e": "emergency",
    "急诊": "emergency",
    "急诊入院": "emergency",
    "elective": "elective",
    "routine": "elective",
    "r": "elective",
    "择期": "elective",
    "门诊": "elective",
    "门诊入院": "elective",
    "transfer": "transfer",
    "转院": "transfer",
    "外院转入": "transfer",
    "转入": "transfer",
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
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


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
    if _ISO_DATE.fullmatch(text):  # the common case, read as strptime("%Y-%m-%d") would, in a tenth of the time
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # 2026-13-40: the formats below refuse it with the message
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(
        _("%(column)s “%(value)s” is not a date (write it as YYYY-MM-DD).") % {"column": column, "value": text}
    )


class RowReader:
    """Reads one file's rows into intakes; remembers the departments and the
    nurses it looked up (one query per distinct user name)."""

    def __init__(self):
        self.departments = {d.code.upper(): d for d in Department.objects.all()}
        self.nurses: dict[str, User | None] = {}

    def nurse(self, username: str) -> User | None:
        if username not in self.nurses:
            self.nurses[username] = User.objects.filter(username=username).first()
        return self.nurses[username]

    def read(self, raw: dict[str, Any]) -> tuple[DischargeIntake, list[tuple[str, str]]]:
        """The row as an intake, and what could not be read at all (a date
        that is not one, an unknown code or user name, an empty column), as
        (column, message) pairs."""
        errors: list[tuple[str, str]] = []
        value = {column: raw.get(column) for column in IMPORT_COLUMNS}
        text = {column: _text(v) for column, v in value.items()}
        for column in REQUIRED_COLUMNS:
            if not text[column]:
                errors.append((column, _("%(column)s is empty.") % {"column": column}))
        dates = {}
        for column in ("birth_date", "admitted_on", "discharged_on", "deceased_on"):
            try:
                dates[column] = _date(value[column], column)
            except ValueError as exc:
                errors.append((column, str(exc)))
                dates[column] = None
        department = None
        if text["department_code"]:
            department = self.departments.get(text["department_code"].upper())
            if department is None:
                errors.append(
                    ("department_code", _("Unknown department code “%(code)s”.") % {"code": text["department_code"]})
                )
        sex = SEX_ALIASES.get(text["sex"].lower())
        if sex is None:
            errors.append(("sex", _("sex “%(value)s” is not one of M, F, U.") % {"value": text["sex"]}))
        level = NURSING_LEVEL_ALIASES.get(text["nursing_level"].lower())
        if level is None:
            message = _("nursing_level “%(value)s” is not one of special, 1, 2, 3.") % {"value": text["nursing_level"]}
            errors.append(("nursing_level", message))
        nurse = None
        if text["responsible_nurse"]:
            nurse = self.nurse(text["responsible_nurse"])
            if nurse is None:
                message = _("No user “%(username)s” for responsible_nurse.") % {"username": text["responsible_nurse"]}
                errors.append(("responsible_nurse", message))
        patient_data = {
            "name": text["name"],
            "sex": sex or Patient.Sex.UNKNOWN,
            "phone": text["phone"],
            "family_phone": text["family_phone"],
            "family_name": text["family_name"],
            "family_relation": text["family_relation"],
        }
        if dates["birth_date"]:
            patient_data["birth_date"] = dates["birth_date"]
        discharge_data = {
            "department": department,
            "discharged_on": dates["discharged_on"],
            "diagnosis": text["diagnosis"],
            "icd10": text["icd10"],
            "attending_doctor": text["attending_doctor"],
            "nursing_level": level or "",
            "open_problems": text["open_problems"],
        }
        if nurse is not None:
            discharge_data["responsible_nurse"] = nurse
        # The risk columns are optional: an empty cell leaves what the desk knows.
        if text["admission_type"]:
            admission = ADMISSION_TYPE_ALIASES.get(text["admission_type"].lower())
            if admission is None:
                errors.append(
                    (
                        "admission_type",
                        _("admission_type “%(value)s” is not one of emergency, elective, transfer.")
                        % {"value": text["admission_type"]},
                    )
                )
            discharge_data["admission_type"] = admission or ""
        if text["secondary_icd10"]:
            discharge_data["secondary_icd10"] = text["secondary_icd10"]  # split and checked by the intake core
        if text["emergency_visits_6m"]:
            try:
                discharge_data["reported_emergency_visits"] = int(text["emergency_visits_6m"].removesuffix(".0"))
            except ValueError:
                errors.append(
                    (
                        "emergency_visits_6m",
                        _("emergency_visits_6m “%(value)s” is not a whole number.")
                        % {"value": text["emergency_visits_6m"]},
                    )
                )
        deceased_on = dates["deceased_on"]
        if deceased_on is None and text["discharge_disposition"].lower() in DIED_DISPOSITIONS:
            deceased_on = dates["discharged_on"]
        intake = DischargeIntake(
            mrn=text["mrn"],
            admitted_on=dates["admitted_on"],
            patient_data=patient_data,
            discharge_data=discharge_data,
            deceased_on=deceased_on,
        )
        return intake, errors


class ImportFileError(ValueError):
    """The file cannot be read at all (format, encoding, header)."""


Rows = Iterator[tuple[int, dict[str, Any]]]
_BLOCK = 1 << 20  # bytes decoded at a time while the encoding is worked out


def discharge_file_rows(*, name: str, stream: BinaryIO) -> Rows:
    """The rows of a CSV (UTF-8 or GBK/GB18030) or XLSX export as (line
    number, {column: value}) pairs, read one at a time from ``stream`` (a
    seekable binary file), so a file of any size is read in constant memory;
    line 1 is the header. The encoding and the header are checked before
    this returns: ImportFileError with a plain message when the file cannot
    be read. Blank lines (the end of spreadsheets) are skipped."""
    lower = name.lower()
    if lower.endswith(".xlsx"):
        table = _xlsx_rows(stream)
    elif lower.endswith((".csv", ".txt")):
        table = _csv_rows(stream)
    else:
        raise ImportFileError(_("Only .csv and .xlsx files can be imported."))
    try:
        first = next(table, None)
        if first is None:
            raise ImportFileError(_("The file is empty."))
        header = [_text(cell).lower() for cell in first]
        missing = [column for column in REQUIRED_COLUMNS if column not in header]
        if missing:
            raise ImportFileError(
                _("The first line must name the columns; missing: %(columns)s.") % {"columns": ", ".join(missing)}
            )
    except BaseException:
        table.close()
        raise
    return _records(header, table)


def _records(header: list[str], table: Iterator[list[Any]]) -> Rows:
    with closing(table):
        for number, cells in enumerate(table, start=2):
            if not any(_text(cell) for cell in cells):
                continue  # blank lines at the end of spreadsheets
            yield number, {column: cell for column, cell in zip(header, cells, strict=False) if column}


def read_discharge_file(*, name: str, content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """discharge_file_rows of a file held in memory, as a list."""
    return list(discharge_file_rows(name=name, stream=io.BytesIO(content)))


def _encoding_of(stream: BinaryIO) -> str:
    """The first of UTF-8 (with or without a byte-order mark) and GB18030 in
    which the whole file decodes without a NUL character, read in blocks."""
    for encoding in ("utf-8-sig", "gb18030"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while True:
                block = stream.read(_BLOCK)
                if "\x00" in decoder.decode(block, final=not block):
                    break
                if not block:
                    stream.seek(0)
                    return encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file is neither UTF-8 nor GBK text: save it as CSV UTF-8 or as XLSX and try again."))


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding=_encoding_of(stream), newline="")
    try:
        yield from csv.reader(text)
    finally:
        text.detach()  # the caller's stream stays open


def _xlsx_rows(stream: BinaryIO) -> Iterator[list[Any]]:
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportFileError(_("The file is not a readable XLSX workbook.")) from None
    return _sheet_rows(workbook)


def _sheet_rows(workbook) -> Iterator[list[Any]]:
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()
