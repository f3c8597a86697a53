"""HL7 v2 ADT messages: decoding, parsing (with the ``hl7`` library), turning
an ADT^A03/A08/A11/A13 into the fields of a patient and a discharge, and the
acknowledgements (ACK with MSA and ERR, as in HL7 v2.5 chapter 2).

Pure functions: nothing here touches the database except through the
``ward_lookup`` callable the caller passes in.
"""

import datetime as dt
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import hl7
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import Department, Patient
from calls.phones import normalise_phone
from followup.dates import EARLIEST, OLDEST_AGE_YEARS, oldest_birth_date

MLLP_START = b"\x0b"
MLLP_END = b"\x1c\r"

# Trigger events this desk acts on; every other ADT event is acknowledged and ignored.
DISCHARGE = "A03"
UPDATE = "A08"
CANCEL_ADMIT = "A11"
CANCEL_DISCHARGE = "A13"
# Merges: A40 "merge patient - patient identifier list", A34 its older
# "patient ID only" form, A47 "change patient identifier list" (the old
# identifier in MRG-1, the new one in PID-3). Each joins the record of
# MRG-1 into the record of PID-3.
MERGE_EVENTS = ("A34", "A40", "A47")
HANDLED_EVENTS = (DISCHARGE, UPDATE, CANCEL_ADMIT, CANCEL_DISCHARGE, *MERGE_EVENTS)

# HL7 table 0357 (message error condition codes).
ERR_SEGMENT_SEQUENCE = ("100", "Segment sequence error")
ERR_REQUIRED_FIELD = ("101", "Required field missing")
ERR_DATA_TYPE = ("102", "Data type error")
ERR_TABLE_VALUE = ("103", "Table value not found")
ERR_UNSUPPORTED_TYPE = ("200", "Unsupported message type")
ERR_INTERNAL = ("207", "Application internal error")

# MSH-18 character sets (HL7 table 0211) we can read besides UTF-8.
CHARSETS = {
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "8859/1": "latin-1",
    "ASCII": "ascii",
    "GB 18030-2000": "gb18030",
    "GB18030": "gb18030",
    "GBK": "gb18030",
}
# PV1-36 discharge disposition meaning the patient died (UB-04 / NUBC code 20, HL7 "exp").
EXPIRED_DISPOSITIONS = {"20", "exp", "EXP"}
ICD10_SYSTEMS = {"I10", "I10C", "I10P", "ICD10", "ICD-10", "ICD10CN", "ICD-10-CN", "ICD10CM", "ICD-10-CM"}
_SEGMENT_RE = re.compile(r"^[A-Z][A-Z0-9]{2}(\|.*)?$", re.DOTALL)
_DTM_RE = re.compile(r"\d{4}(?:\d{2}){0,5}(?:\.\d{1,4})?(?:[+-]\d{4})?")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


class Hl7Error(Exception):
    """A message we refuse. ``ack_code`` AR (rejected: cannot be read at all)
    or AE (read, but its content is wrong); ``location`` like "PID-3"."""

    def __init__(
        self, text: str, *, ack_code: str = "AE", location: str = "", condition: tuple[str, str] = ERR_INTERNAL
    ):
        super().__init__(text)
        self.text = text
        self.ack_code = ack_code
        self.location = location
        self.condition = condition

    def __str__(self) -> str:
        return f"{self.location}: {self.text}" if self.location else self.text


@dataclass(frozen=True)
class Header:
    """What MSH says: enough to acknowledge and to detect duplicates."""

    sender: str
    control_id: str
    message_type: str  # "ADT"
    trigger: str  # "A03"
    version: str
    processing_id: str = "P"
    sending_application: str = ""
    sending_facility: str = ""

    @property
    def event_type(self) -> str:
        return f"{self.message_type}^{self.trigger}" if self.trigger else self.message_type


@dataclass
class AdtRecord:
    """An ADT message turned into our fields. ``discharged_on`` is None for
    an A08 that carries no discharge (then only the patient is updated)."""

    trigger: str
    mrn: str
    patient_data: dict[str, Any]
    admitted_on: dt.date | None
    discharged_on: dt.date | None
    department: Department | None
    discharge_data: dict[str, Any] = field(default_factory=dict)
    deceased_on: dt.date | None = None
    warnings: list[str] = field(default_factory=list)
    visit_number: str = ""  # PV1-19
    prior_mrn: str = ""  # MRG-1 of a merge (A34/A40/A47): the record merged into this one
    ignored: str = ""  # why this is no discharge (a patient class not taken), else empty
    emergency_visit_on: dt.date | None = None  # an emergency department visit (PV1-2 E), not a stay


# --- decoding and parsing ---------------------------------------------------------------


def decode(raw: bytes) -> str:
    """The message as text with segments separated by CR. UTF-8 (a BOM is
    dropped) unless MSH-18 names another character set we know."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        charset = _declared_charset(raw)
        encoding = CHARSETS.get(charset.upper()) if charset else None
        if encoding is None or encoding == "utf-8":
            raise Hl7Error(
                _("The message is not valid UTF-8 text and MSH-18 names no other character set we can read."),
                ack_code="AR",
                location="MSH-18",
                condition=ERR_DATA_TYPE,
            ) from None
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise Hl7Error(
                _("The message is not valid %(charset)s text, the character set MSH-18 names.") % {"charset": charset},
                ack_code="AR",
                location="MSH-18",
                condition=ERR_DATA_TYPE,
            ) from None
    if "\x00" in text:
        raise Hl7Error(
            _("The message contains NUL bytes, which HL7 text never holds."),
            ack_code="AR",
            location="MSH",
            condition=ERR_DATA_TYPE,
        )
    segments = [line.strip("\n") for line in re.split(r"\r\n|\r|\n", text)]
    return "\r".join(line for line in segments if line.strip())


def ack_encoding(raw: bytes) -> str:
    """The encoding to answer in: the character set MSH-18 declares when we
    know it, else ASCII (HL7's default when MSH-18 is empty, and a subset of
    whatever character set a sender we cannot read might use)."""
    return CHARSETS.get(_declared_charset(raw).upper(), "ascii")


def _declared_charset(raw: bytes) -> str:
    first = raw.split(b"\r", 1)[0].split(b"\n", 1)[0].decode("latin-1")
    fields = first.split(first[3:4] or "|")
    return fields[17].split("~")[0].strip() if len(fields) > 17 else ""


def _without_leading_spaces(text: str, warnings: list[str] | None) -> str:
    """Segments written with spaces before their name (" ZPD|...") read
    without them, each noted in ``warnings``."""
    lines = text.split("\r")
    for number, line in enumerate(lines, start=1):
        stripped = line.lstrip(" \t")
        if stripped != line and _SEGMENT_RE.match(stripped):
            lines[number - 1] = stripped
            if warnings is not None:
                warnings.append(
                    _("Segment %(number)s (%(name)s) starts with spaces: read without them.")
                    % {"number": number, "name": stripped[:3]}
                )
    return "\r".join(lines)


def parse(text: str, warnings: list[str] | None = None) -> tuple[hl7.Message, Header]:
    """Parse ``text`` (from :func:`decode`) with the hl7 library; raise AR
    Hl7Error when the header or a segment is malformed. What was read
    leniently (a segment name after spaces) is added to ``warnings``."""
    text = _without_leading_spaces(text, warnings)
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7Error(
            _("The message does not start with an MSH segment."),
            ack_code="AR",
            location="MSH",
            condition=ERR_SEGMENT_SEQUENCE,
        )
    for number, line in enumerate(text.split("\r"), start=1):
        if not _SEGMENT_RE.match(line):
            raise Hl7Error(
                _("Segment %(number)s is malformed: “%(start)s”.") % {"number": number, "start": line[:30]},
                ack_code="AR",
                location=f"segment {number}",
                condition=ERR_SEGMENT_SEQUENCE,
            )
    try:
        message = hl7.parse(text)
    except (hl7.ParseException, ValueError, IndexError) as exc:
        raise Hl7Error(
            _("The message cannot be parsed: %(reason)s") % {"reason": exc},
            ack_code="AR",
            location="MSH",
            condition=ERR_SEGMENT_SEQUENCE,
        ) from None
    msh = message.segment("MSH")
    control_id = _leaf(message, msh, 10)
    message_type = _leaf(message, msh, 9)
    trigger = _leaf(message, msh, 9, component=2)
    if not control_id:
        raise Hl7Error(
            _("MSH-10 (message control id) is empty."), ack_code="AR", location="MSH-10", condition=ERR_REQUIRED_FIELD
        )
    if not message_type:
        raise Hl7Error(
            _("MSH-9 (message type) is empty."), ack_code="AR", location="MSH-9", condition=ERR_REQUIRED_FIELD
        )
    application, facility = _leaf(message, msh, 3), _leaf(message, msh, 4)
    header = Header(
        sender="/".join(part for part in (application, facility) if part),
        control_id=control_id,
        message_type=message_type,
        trigger=trigger,
        version=_leaf(message, msh, 12) or "2.5",
        processing_id=_leaf(message, msh, 11) or "P",
        sending_application=application,
        sending_facility=facility,
    )
    return message, header


_MESSAGE_TYPE_RE = re.compile(r"[A-Z]{3}")


def header_guess(text: str) -> Header | None:
    """Best effort for a message that would not parse: the MSH fields, so
    that even a rejection names the control id it rejects. A control id is
    taken only where the message type stands before it (MSH-9, or a field
    next to it when MSH has one field too many or too few), so a malformed
    header never lends another field's value as its id."""
    first = text.lstrip("\ufeff").split("\r", 1)[0].split("\n", 1)[0].lstrip()
    if not first.startswith("MSH") or len(first) < 4:
        return None
    separator = first[3]
    fields = ["", *first.split(separator)]  # so fields[n] is MSH-n
    fields[1] = separator
    encoding = fields[2] if len(fields) > 2 else ""
    component = encoding[:1] if encoding and not any(ch.isalnum() for ch in encoding) else "^"

    def get(n: int, c: int = 1) -> str:
        if len(fields) <= n:
            return ""
        parts = fields[n].split(component)
        return parts[c - 1].strip() if len(parts) >= c else ""

    def is_type(n: int) -> bool:
        return bool(_MESSAGE_TYPE_RE.fullmatch(get(n)))

    at = next((n for n in (9, 10, 8, 11, 7) if is_type(n) and get(n + 1)), None)
    # No message type to be seen: MSH-10, unless it holds the type itself.
    control_id = get(at + 1) if at is not None else ("" if is_type(10) else get(10))
    return Header(
        sender="/".join(p for p in (get(3), get(4)) if p),
        control_id=control_id,
        message_type=get(at) if at else "",
        trigger=get(at, 2) if at else "",
        version=(get(at + 3) if at else "") or "2.5",
        processing_id=(get(at + 2) if at else "") or "P",
        sending_application=get(3),
        sending_facility=get(4),
    )


# --- field access ------------------------------------------------------------------------


def _segments(message: hl7.Message, name: str) -> list[hl7.Segment]:
    return [segment for segment in message if str(segment[0]) == name]


def _first(message: hl7.Message, name: str) -> hl7.Segment | None:
    found = _segments(message, name)
    return found[0] if found else None


def _repetitions(message: hl7.Message, segment: hl7.Segment | None, number: int) -> list[list[list[str]]]:
    """Field ``number`` of ``segment`` as repetitions -> components ->
    subcomponents, escape sequences resolved."""
    if segment is None or len(segment) <= number:
        return []
    text = str(segment[number])
    if not text:
        return []
    separators = message.separators  # segment, field, repetition, component, subcomponent
    repetition, component, subcomponent = separators[2], separators[3], separators[4]
    return [
        [[message.unescape(sub) for sub in comp.split(subcomponent)] for comp in rep.split(component)]
        for rep in text.split(repetition)
    ]


def _component(repetition: list[list[str]], number: int) -> str:
    """Component ``number`` (1-based), first subcomponent, stripped."""
    if len(repetition) < number:
        return ""
    return repetition[number - 1][0].strip()


def _leaf(message: hl7.Message, segment: hl7.Segment | None, number: int, component: int = 1) -> str:
    reps = _repetitions(message, segment, number)
    return _component(reps[0], component) if reps else ""


# --- values ----------------------------------------------------------------------------------


def _without_spaces(value: str, location: str, warnings: list[str] | None, pattern: re.Pattern) -> str:
    """A timestamp written with spaces inside (``20070207 0403-0500``) read
    without them when that makes it valid, noted in ``warnings``."""
    if not any(ch.isspace() for ch in value):
        return value
    joined = "".join(value.split())
    if pattern.fullmatch(joined):
        if warnings is not None:
            warnings.append(
                _("%(field)s “%(value)s” has spaces inside: read as %(read)s.")
                % {"field": location, "value": value, "read": joined}
            )
        return joined
    return value


def local_date(value: str, location: str, warnings: list[str] | None = None) -> dt.date | None:
    """An HL7 DTM as a date in the hospital's time zone: a timestamp with an
    offset (20150209113419+0110) is converted; one without is taken as local.
    Spaces inside are dropped with a warning (see _without_spaces)."""
    if not value:
        return None
    value = _without_spaces(value, location, warnings, _DTM_RE)
    try:
        moment = hl7.parse_datetime(value) if _DTM_RE.fullmatch(value) else None
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        raise Hl7Error(
            _("“%(value)s” is not an HL7 date/time (YYYYMMDD[HHMM[SS]][+ZZZZ]).") % {"value": value},
            location=location,
            condition=ERR_DATA_TYPE,
        )
    if moment.tzinfo is not None:
        return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    return moment.date()


def birth_date_problem(born: dt.date, today: dt.date) -> str:
    """Why a birth date cannot be right (empty when it can): in the future,
    before 1900, or more than OLDEST_AGE_YEARS years ago. Shared by the HL7
    and FHIR readers."""
    if born > today:
        return _("in the future")
    if born < EARLIEST or born < oldest_birth_date(today):
        return _("more than %(years)s years ago") % {"years": OLDEST_AGE_YEARS}
    return ""


def birth_date(value: str, location: str, warnings: list[str] | None = None) -> dt.date | None:
    """A birth date as written (an offset does not move a birthday). One
    that cannot be right (see birth_date_problem) is left out with a warning:
    the discharge is real even when the birth year was mistyped."""
    if not value:
        return None
    value = _without_spaces(value, location, warnings, _DTM_RE)
    try:
        born = dt.datetime.strptime(value[:8], "%Y%m%d").date()
    except ValueError:
        raise Hl7Error(
            _("“%(value)s” is not an HL7 date (YYYYMMDD).") % {"value": value},
            location=location,
            condition=ERR_DATA_TYPE,
        ) from None
    problem = birth_date_problem(born, timezone.localdate())
    if problem:
        if warnings is not None:
            warnings.append(
                _("%(field)s birth date %(date)s is %(problem)s: left out.")
                % {"field": location, "date": born.isoformat(), "problem": problem}
            )
        return None
    return born


def person_name(family: str, given: str, middle: str = "") -> str:
    """Chinese names are family + given without a space (张三); others are
    written given middle family."""
    if _CJK_RE.search(family + given):
        return f"{family}{given}{middle}"
    return " ".join(part for part in (given, middle, family) if part)


def _xpn(repetition: list[list[str]]) -> str:
    return person_name(_component(repetition, 1), _component(repetition, 2), _component(repetition, 3))


def _xcn(repetition: list[list[str]]) -> str:
    return person_name(_component(repetition, 2), _component(repetition, 3), _component(repetition, 4))


def _xtn_numbers(repetition: list[list[str]]) -> list[str]:
    """The ways one XTN repetition may hold its number (XTN-12 unformatted,
    XTN-5/6/7 country/area/local, XTN-1 as before v2.5); none for e-mail,
    fax and pager entries."""
    use, equipment = _component(repetition, 2).upper(), _component(repetition, 3).upper()
    if use == "NET" or equipment in {"INTERNET", "X.400", "FX", "BP"}:
        return []
    numbers = [_component(repetition, 12)]
    local = _component(repetition, 7)
    if local:
        country, area = _component(repetition, 5), _component(repetition, 6)
        numbers.append(f"{'+' + country if country else ''}{area}{local}")
    numbers.append(_component(repetition, 1))
    return [n for n in numbers if n]


def best_phone(candidates: list[str]) -> tuple[str, bool]:
    """(number, needs correction): the first candidate that is a valid phone
    number, normalised; else the first one as written, marked for correction."""
    for candidate in candidates:
        try:
            return normalise_phone(candidate), False
        except ValidationError:
            continue
    return (candidates[0][:32], True) if candidates else ("", False)


SEXES = {"M": Patient.Sex.MALE, "F": Patient.Sex.FEMALE}


# --- the ADT message -------------------------------------------------------------------------


WardLookup = Callable[[str, str], Department | None]  # (sender, code) -> department


INPATIENT = "I"  # PV1-2 (HL7 table 0004): the default and only discharge class unless a sender says otherwise
EMERGENCY = "E"  # PV1-2: an emergency department visit, recorded as a visit (calls.Visit), not a discharge
# PV1-4 admission type (HL7 table 0007) and PV1-14 admit source (table 0023) -> Discharge.AdmissionType.
ADMISSION_TYPES = {"E": "emergency", "U": "emergency", "A": "emergency", "R": "elective", "C": "elective"}
ADMIT_SOURCES = {"7": "emergency", "4": "transfer", "5": "transfer", "6": "transfer"}


def adt_record(
    message: hl7.Message,
    header: Header,
    *,
    ward_lookup: WardLookup,
    discharge_classes: Collection[str] = (INPATIENT,),
) -> AdtRecord:
    """Read an ADT^A03/A08/A11/A13 into an :class:`AdtRecord`; raise
    Hl7Error (AE) naming the field when something required is missing or
    unreadable.

    A stay whose patient class (PV1-2) is not one of ``discharge_classes``
    (an outpatient or emergency visit) is no discharge: the record says why
    in ``ignored`` (an A08 of such a visit still updates the patient). Read
    leniently, each noted in ``warnings``: spaces inside timestamps, an
    empty PV1-2 (taken as inpatient), an empty PV1-44 (``admitted_on`` None:
    the caller finds the stay by its visit number PV1-19 or its discharge
    date), an impossible birth date (left out)."""
    warnings: list[str] = []
    evn, pid, pv1 = _first(message, "EVN"), _first(message, "PID"), _first(message, "PV1")
    if pid is None:
        raise Hl7Error(_("The message has no PID segment."), location="PID", condition=ERR_SEGMENT_SEQUENCE)
    evn_trigger = _leaf(message, evn, 1)
    if evn_trigger and evn_trigger != header.trigger:
        warnings.append(
            _("EVN-1 says %(evn)s but MSH-9 says %(msh)s: MSH-9 was followed.")
            % {"evn": evn_trigger, "msh": header.trigger}
        )
    mrn = _mrn(message, pid)
    patient_data = _patient_data(message, pid, warnings)
    deceased_on = local_date(_leaf(message, pid, 29), "PID-29", warnings) if _leaf(message, pid, 30) != "N" else None
    record = AdtRecord(
        trigger=header.trigger,
        mrn=mrn,
        patient_data=patient_data,
        admitted_on=None,
        discharged_on=None,
        department=None,
        deceased_on=deceased_on,
        warnings=warnings,
        visit_number=_leaf(message, pv1, 19)[:100],
    )
    if header.trigger in MERGE_EVENTS:
        record.prior_mrn = _prior_mrn(message, mrn)
        return record
    patient_class = _leaf(message, pv1, 2).upper()
    if patient_class == EMERGENCY and EMERGENCY not in discharge_classes and header.trigger == DISCHARGE:
        # The end of an emergency visit: counted by the readmission risk and the outcome ledger.
        record.emergency_visit_on = local_date(_leaf(message, pv1, 44), "PV1-44", warnings) or local_date(
            _leaf(message, pv1, 45), "PV1-45", warnings
        )
        if record.emergency_visit_on is None:
            record.emergency_visit_on = _discharge_fallback(message, evn, warnings)
        if record.emergency_visit_on > timezone.localdate():
            raise Hl7Error(_("The visit date is in the future."), location="PV1-44", condition=ERR_DATA_TYPE)
        return record
    if pv1 is not None and patient_class and patient_class not in discharge_classes:
        record.ignored = _("Not an inpatient discharge (PV1-2 patient class %(class)s): nothing registered.") % {
            "class": patient_class
        }
        if header.trigger != UPDATE:
            return record
        # An A08 of an outpatient visit: the patient's details only.
        warnings.append(record.ignored)
        record.ignored = ""
        return record
    record.admitted_on = local_date(_leaf(message, pv1, 44), "PV1-44", warnings)
    if header.trigger in (CANCEL_ADMIT, CANCEL_DISCHARGE):
        return record
    discharged_on = local_date(_leaf(message, pv1, 45), "PV1-45", warnings)
    if discharged_on is None and header.trigger == DISCHARGE:
        discharged_on = _discharge_fallback(message, evn, warnings)
    if discharged_on is None:
        return record  # an A08 of a patient still in hospital: only the patient changes
    if pv1 is None:
        raise Hl7Error(_("The message has no PV1 segment."), location="PV1", condition=ERR_SEGMENT_SEQUENCE)
    if not patient_class:
        warnings.append(_("PV1-2 (patient class) is empty: taken as I (inpatient)."))
    if record.admitted_on is not None and discharged_on < record.admitted_on:
        raise Hl7Error(
            _("The discharge date is before the admission date."), location="PV1-45", condition=ERR_DATA_TYPE
        )
    if discharged_on > timezone.localdate():
        raise Hl7Error(_("The discharge date is in the future."), location="PV1-45", condition=ERR_DATA_TYPE)
    record.discharged_on = discharged_on
    if _leaf(message, pv1, 36) in EXPIRED_DISPOSITIONS and record.deceased_on is None:
        record.deceased_on = discharged_on  # died in hospital: the family is never called
    record.department = _department(message, pv1, header, ward_lookup)
    diagnosis, icd10 = _diagnosis(message)
    if not diagnosis:
        warnings.append(_("No DG1 diagnosis in the message."))
    attending = _repetitions(message, pv1, 7)
    record.discharge_data = {
        "department": record.department,
        "discharged_on": discharged_on,
        "diagnosis": diagnosis[:255],
        "icd10": icd10[:16],
        "attending_doctor": _xcn(attending[0])[:100] if attending else "",
    }
    # What the message does not carry is left out, so an update never blanks it.
    secondary = _secondary_codes(message)
    if secondary is not None:
        record.discharge_data["secondary_icd10"] = secondary
    admission_type = ADMISSION_TYPES.get(_leaf(message, pv1, 4).upper()) or ADMIT_SOURCES.get(_leaf(message, pv1, 14))
    if admission_type:
        record.discharge_data["admission_type"] = admission_type
    return record


def _mrn(message: hl7.Message, pid: hl7.Segment, location: str = "PID-3") -> str:
    """PID-3 (or MRG-1): the identifier of type MR when repeated, else the first."""
    number = int(location.rsplit("-", 1)[1])
    identifiers = [rep for rep in _repetitions(message, pid, number) if _component(rep, 1)]
    if not identifiers:
        raise Hl7Error(
            _("%(field)s (patient identifier list) is empty: no MRN.") % {"field": location},
            location=location,
            condition=ERR_REQUIRED_FIELD,
        )
    chosen = next((rep for rep in identifiers if _component(rep, 5).upper() == "MR"), identifiers[0])
    mrn = _component(chosen, 1)
    if len(mrn) > Patient._meta.get_field("mrn").max_length:
        raise Hl7Error(
            _("%(field)s MRN “%(mrn)s” is too long.") % {"field": location, "mrn": mrn},
            location=location,
            condition=ERR_DATA_TYPE,
        )
    return mrn


def _prior_mrn(message: hl7.Message, mrn: str) -> str:
    """MRG-1 of a merge: the MRN of the record joined into PID-3's."""
    mrg = _first(message, "MRG")
    if mrg is None:
        raise Hl7Error(
            _("The merge has no MRG segment: which record to merge is not said."),
            location="MRG",
            condition=ERR_SEGMENT_SEQUENCE,
        )
    prior = _mrn(message, mrg, "MRG-1")
    if prior == mrn:
        raise Hl7Error(
            _("MRG-1 names the same MRN as PID-3 (%(mrn)s): nothing to merge.") % {"mrn": mrn},
            location="MRG-1",
            condition=ERR_DATA_TYPE,
        )
    return prior


def _patient_data(message: hl7.Message, pid: hl7.Segment, warnings: list[str]) -> dict[str, Any]:
    """Patient fields present in the message; absent ones are left out so an
    update never blanks what the desk already knows."""
    data: dict[str, Any] = {}
    names = _repetitions(message, pid, 5)
    name = _xpn(names[0]) if names else ""
    if not name:
        raise Hl7Error(_("PID-5 (patient name) is empty."), location="PID-5", condition=ERR_REQUIRED_FIELD)
    data["name"] = name[:100]
    born = birth_date(_leaf(message, pid, 7), "PID-7", warnings)
    if born:
        data["birth_date"] = born
    sex = _leaf(message, pid, 8).upper()
    if sex:
        data["sex"] = SEXES.get(sex, Patient.Sex.UNKNOWN)
    numbers = [
        number for location in (13, 14) for rep in _repetitions(message, pid, location) for number in _xtn_numbers(rep)
    ]
    if numbers:
        data["phone"], data["phone_needs_correction"] = best_phone(numbers)
        if data["phone_needs_correction"]:
            warnings.append(
                _("Phone “%(phone)s” is not a valid number: kept, marked for correction.") % {"phone": data["phone"]}
            )
    nk1 = _first(message, "NK1")
    if nk1 is not None:
        names = _repetitions(message, nk1, 2)
        if names:
            data["family_name"] = _xpn(names[0])[:100]
        relation = _repetitions(message, nk1, 3)
        if relation:
            data["family_relation"] = (_component(relation[0], 2) or _component(relation[0], 1))[:50]
        family_phone, wrong = best_phone([n for rep in _repetitions(message, nk1, 5) for n in _xtn_numbers(rep)])
        if wrong:
            warnings.append(_("Family phone “%(phone)s” is not a valid number: left out.") % {"phone": family_phone})
        elif family_phone:
            data["family_phone"] = family_phone
    return data


def _discharge_fallback(message: hl7.Message, evn: hl7.Segment | None, warnings: list[str]) -> dt.date | None:
    for location, number in (("EVN-6", 6), ("EVN-2", 2)):
        day = local_date(_leaf(message, evn, number), location, warnings)
        if day is not None:
            warnings.append(
                _("PV1-45 (discharge date/time) is empty: the discharge date was taken from %(field)s.")
                % {"field": location}
            )
            return day
    raise Hl7Error(
        _("PV1-45 (discharge date/time) is empty and so are EVN-6 and EVN-2."),
        location="PV1-45",
        condition=ERR_REQUIRED_FIELD,
    )


def _department(message: hl7.Message, pv1: hl7.Segment, header: Header, ward_lookup: WardLookup) -> Department:
    code = _leaf(message, pv1, 3)
    if not code:
        raise Hl7Error(
            _("PV1-3 (assigned patient location) is empty: no ward."), location="PV1-3", condition=ERR_REQUIRED_FIELD
        )
    department = ward_lookup(header.sender, code)
    if department is None:
        raise Hl7Error(
            _("Unknown ward “%(code)s” from %(sender)s: add a ward mapping in the admin, then reprocess.")
            % {"code": code, "sender": header.sender or "?"},
            location="PV1-3",
            condition=ERR_TABLE_VALUE,
        )
    return department


def _icd10_of(message: hl7.Message, segment: hl7.Segment) -> str:
    coded = _repetitions(message, segment, 3)
    code = coded[0] if coded else []
    if _component(code, 3).upper() in ICD10_SYSTEMS:
        return _component(code, 1).upper()
    if _component(code, 6).upper() in ICD10_SYSTEMS:
        return _component(code, 4).upper()
    return ""


def _secondary_codes(message: hl7.Message) -> list[str] | None:
    """The ICD-10 codes of every DG1 but the principal one, in order (None:
    the message has no DG1, so it says nothing about them)."""
    segments = _segments(message, "DG1")
    if not segments:
        return None
    chosen = next((s for s in segments if _leaf(message, s, 15) == "1"), segments[0])
    return [code for s in segments if s is not chosen and (code := _icd10_of(message, s))]


def _diagnosis(message: hl7.Message) -> tuple[str, str]:
    """(text, ICD-10 code) of the first DG1 (the one with priority 1 if any):
    DG1-3 coded (ICD-10 when its coding system says so, or the alternate
    code is ICD-10), the text from DG1-3.2 or DG1-4."""
    segments = _segments(message, "DG1")
    if not segments:
        return "", ""
    chosen = next((s for s in segments if _leaf(message, s, 15) == "1"), segments[0])
    coded = _repetitions(message, chosen, 3)
    code = coded[0] if coded else []
    text = _component(code, 2) or _leaf(message, chosen, 4) or _component(code, 1)
    return text, _icd10_of(message, chosen)


# --- acknowledgements ----------------------------------------------------------------------


def _escape(text: str) -> str:
    for char, sequence in (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\")):
        text = text.replace(char, sequence)
    return text.replace("\r", " ").replace("\n", " ")


MSA_TEXT_LENGTH = 80  # MSA-3 holds 80 characters; the whole reason goes in ERR-8.


def _shorten(text: str, length: int, ellipsis: str = "…") -> str:
    """Cut before escaping, so an escape sequence is never split, and say so with an ellipsis."""
    return text if len(text) <= length else text[: length - len(ellipsis)] + ellipsis


def build_ack(
    *, header: Header | None, ack_code: str, text: str = "", error: Hl7Error | None = None, encoding: str = "utf-8"
) -> str:
    """An HL7 v2.5 ACK: MSH, MSA (MSA-1 code, MSA-2 the control id we
    acknowledge, MSA-3 the reason) and, for an error, ERR (ERR-2 location,
    ERR-3 table 0357 code, ERR-4 severity, ERR-8 the reason). The reason is
    spelled in what ``encoding`` (the sender's character set) can write."""
    text = encodable(text, encoding)
    ellipsis = encodable("…", encoding)
    now = timezone.localtime().strftime("%Y%m%d%H%M%S%z")
    control_id = header.control_id if header else ""
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            settings.INTEROP_HL7_APPLICATION,
            settings.INTEROP_HL7_FACILITY,
            _escape(header.sending_application) if header else "",
            _escape(header.sending_facility) if header else "",
            now,
            "",
            f"ACK^{header.trigger}^ACK" if header and header.trigger else "ACK",
            hl7.generate_message_control_id(),
            header.processing_id if header else "P",
            header.version if header else "2.5",
        ]
    )
    segments = [
        msh,
        "|".join(["MSA", ack_code, _escape(control_id), _escape(_shorten(text, MSA_TEXT_LENGTH, ellipsis))]),
    ]
    if error is not None:
        match = re.fullmatch(r"([A-Z0-9]{3})-(\d+)", error.location)
        location = f"{match[1]}^1^{match[2]}" if match else ""
        code, name = error.condition
        segments.append("|".join(["ERR", "", location, f"{code}^{name}^HL70357", "E", "", "", "", _escape(text)]))
    return "\r".join(segments) + "\r"


# Typographic characters of our own texts and their plain-ASCII spelling, for
# a character set that lacks them.
_PLAIN = {"“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "–": "-", "—": "-", "→": "->", "\u00a0": " "}


def encodable(text: str, encoding: str) -> str:
    """``text`` with what ``encoding`` cannot write spelled in ASCII (curly
    quotes as straight ones, the ellipsis as three dots) or, failing that,
    replaced by "?"."""
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode(encoding)
            out.append(char)
        except UnicodeEncodeError:
            out.append(_PLAIN.get(char, "?"))
    return "".join(out)


def frame(text: str, encoding: str = "utf-8") -> bytes:
    """MLLP framing: <VT> message <FS><CR>, the message in ``encoding``
    (characters it cannot write spelled in ASCII, see :func:`encodable`)."""
    return MLLP_START + encodable(text, encoding).encode(encoding) + MLLP_END
