"""One intake core for discharges, whatever the source.

The nurse's form, a CSV/XLSX file, an HL7 v2 message and a FHIR bundle each
read a discharge their own way (``calls.forms.discharges``,
``calls.imports``, ``interop.hl7v2``, ``interop.fhir``) into a
:class:`DischargeIntake`. From there one function, :func:`intake_check`,
normalises and checks it with the same rules and the same words, and
:func:`discharge_intake` registers it through ``discharge_register``. Where
the sources really differ, a :class:`IntakePolicy` says so:

- a person (form, file) must give a phone number or a family member's and a
  diagnosis: a discharge nobody can call is refused while she still has the
  record in front of her; a hospital system's message is kept with a
  warning instead (refusing it would lose the discharge, and the ward adds
  the number later);
- a hospital system leaves out what its message does not carry, so an
  update never blanks what the desk already knows.

``intake_check`` reads nothing from the database except through the
``works_in`` callable it is given (is this nurse staff of that ward?), so a
file of 200,000 rows is checked with one query per chunk, not per row.
"""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import access
from followup.audit import audit_change
from followup.dates import OLDEST_AGE_YEARS, date_problem, oldest_birth_date
from followup.models import AuditEvent, User

from ..models import Department, Discharge, Patient, Visit
from ..phones import normalise_phone
from ..risk import split_codes
from .discharges import discharge_register, stay_date_errors
from .risk import visit_record

PATIENT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "phone",
    "family_name",
    "family_relation",
    "family_phone",
    "address",
    "education",
    "communication_notes",
    "preferred_call_time",
)
DISCHARGE_FIELDS = (
    "department",
    "discharged_on",
    "diagnosis",
    "icd10",
    "attending_doctor",
    "responsible_nurse",
    "nursing_level",
    "condition_at_discharge",
    "open_problems",
    "told_about_followup",
    "admission_type",
    "secondary_icd10",
    "reported_emergency_visits",
)
PHONE_FIELDS = ("phone", "family_phone")
# Free text that may run over several lines (a pasted note); the rest is one line.
MULTILINE_FIELDS = {"address", "communication_notes", "condition_at_discharge", "open_problems"}
CHOICE_FIELDS = {
    "sex": Patient.Sex.values,
    "education": ["", *Patient.Education.values],
    "nursing_level": ["", *Discharge.NursingLevel.values],
    "admission_type": ["", *Discharge.AdmissionType.values],
}
MAX_SECONDARY_DIAGNOSES = 30
MAX_REPORTED_VISITS = 99


@dataclass(frozen=True)
class IntakePolicy:
    source: str
    contact_required: bool  # no phone at all: refused (a person typing) or a warning (a system)
    diagnosis_required: bool
    # A number that is not one: refused (a person can correct it now), or kept
    # and marked for correction (a system's record: the ward corrects it).
    keep_invalid_phone: bool = False
    # A birth date more than OLDEST_AGE_YEARS ago: refused, or left out with a warning.
    drop_doubtful_birth_date: bool = False
    # A secondary diagnosis that is not an ICD-10 code: refused, or left out with a warning.
    drop_unreadable_codes: bool = False


POLICIES = {
    Discharge.Source.MANUAL: IntakePolicy(Discharge.Source.MANUAL, contact_required=True, diagnosis_required=True),
    Discharge.Source.IMPORT: IntakePolicy(Discharge.Source.IMPORT, contact_required=True, diagnosis_required=True),
    Discharge.Source.HL7: IntakePolicy(
        Discharge.Source.HL7,
        contact_required=False,
        diagnosis_required=False,
        keep_invalid_phone=True,
        drop_doubtful_birth_date=True,
        drop_unreadable_codes=True,
    ),
    Discharge.Source.FHIR: IntakePolicy(
        Discharge.Source.FHIR,
        contact_required=False,
        diagnosis_required=False,
        keep_invalid_phone=True,
        drop_doubtful_birth_date=True,
        drop_unreadable_codes=True,
    ),
}


@dataclass
class DischargeIntake:
    """A discharge as a source read it: ``patient_data`` holds Patient fields
    (only those the source carries), ``discharge_data`` Discharge fields
    (``department`` and ``responsible_nurse`` as instances)."""

    mrn: str
    admitted_on: dt.date | None
    patient_data: dict[str, Any] = field(default_factory=dict)
    discharge_data: dict[str, Any] = field(default_factory=dict)
    deceased_on: dt.date | None = None  # the patient died (in hospital, or since): no calls


@dataclass
class IntakeCheck:
    intake: DischargeIntake  # normalised
    errors: dict[str, list[str]] = field(default_factory=dict)  # field name -> messages
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _limit(model, name: str) -> int | None:
    return getattr(model._meta.get_field(name), "max_length", None)


_LIMITS = {
    **{name: _limit(Patient, name) for name in PATIENT_FIELDS},
    **{name: _limit(Discharge, name) for name in DISCHARGE_FIELDS if name not in ("department", "responsible_nurse")},
    "mrn": _limit(Patient, "mrn"),
}


_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, line feed and return allowed


def text_problem(name: str, value: str) -> str | None:
    control = _CONTROL_BUT_LINES if name in MULTILINE_FIELDS else _CONTROL
    if control.search(value):
        return _("This text contains control characters: type it again or paste it as plain text.")
    limit = _LIMITS.get(name)
    if limit and len(value) > limit:
        return _("This text is longer than %(limit)s characters.") % {"limit": limit}
    return None


def nurse_works_in(nurse: User, department: Department) -> bool:
    return access.ward_staff([department.pk]).filter(pk=nurse.pk).exists()


def intake_check(
    intake: DischargeIntake,
    *,
    policy: IntakePolicy,
    works_in: Callable[[User, Department], bool] = nurse_works_in,
    today: dt.date | None = None,
) -> IntakeCheck:
    """Normalise (trimmed text, phones in E.164, ICD-10 in capitals) and check
    one discharge; every problem is returned by field, in plain words.
    ``today`` (default: today in the hospital's time zone) is passed by a
    caller that checks many discharges at once."""
    errors: dict[str, list[str]] = {}
    today = today or timezone.localdate()

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    patient = dict(intake.patient_data)
    stay = dict(intake.discharge_data)
    mrn = (intake.mrn or "").strip()
    for name, data in [("mrn", {"mrn": mrn}), *((n, patient) for n in patient), *((n, stay) for n in stay)]:
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
            problem = text_problem(name, data[name])
            if problem:
                refuse(name, problem)
    if not mrn:
        refuse("mrn", _("Enter the inpatient number (MRN)."))
    if "name" in patient and not patient["name"]:
        refuse("name", _("Enter the patient's name."))
    warnings: list[str] = []
    for name in PHONE_FIELDS:
        if name in patient and name not in errors:
            try:
                patient[name] = normalise_phone(patient[name])
            except ValidationError as exc:
                if not policy.keep_invalid_phone:
                    refuse(name, exc.messages[0])
                elif name == "phone":
                    patient["phone_needs_correction"] = True
                else:
                    warnings.append(exc.messages[0])
                    del patient[name]
    if "icd10" in stay:
        stay["icd10"] = stay["icd10"].upper()
    if "secondary_icd10" in stay:
        codes, bad = split_codes(stay["secondary_icd10"])
        stay["secondary_icd10"] = codes
        if bad and policy.drop_unreadable_codes:  # a system's record: keep the rest, say what was left out
            warnings.append(_("Secondary diagnoses left out, not ICD-10 codes: %(codes)s") % {"codes": ", ".join(bad)})
        elif bad:
            refuse("secondary_icd10", _("Not ICD-10 codes: %(codes)s") % {"codes": ", ".join(bad)})
        if len(codes) > MAX_SECONDARY_DIAGNOSES:
            refuse(
                "secondary_icd10",
                _("At most %(count)s secondary diagnoses.") % {"count": MAX_SECONDARY_DIAGNOSES},
            )
    visits = stay.get("reported_emergency_visits")
    if visits is not None and not (isinstance(visits, int) and 0 <= visits <= MAX_REPORTED_VISITS):
        refuse(
            "reported_emergency_visits",
            _("Enter a whole number of visits from 0 to %(most)s.") % {"most": MAX_REPORTED_VISITS},
        )
    for name, allowed in CHOICE_FIELDS.items():
        data = patient if name in PATIENT_FIELDS else stay
        if name in data and data[name] not in allowed:
            refuse(name, _("“%(value)s” is not one of the choices.") % {"value": data[name]})
    born = patient.get("birth_date")
    doubtful = born and date_problem(born, today=today)
    if born and not doubtful and born < oldest_birth_date(today):
        doubtful = _("The birth date %(date)s is more than %(years)s years ago: check the year.") % {
            "date": born.isoformat(),
            "years": OLDEST_AGE_YEARS,
        }
    if doubtful and policy.drop_doubtful_birth_date:
        warnings.append(_("Birth date %(date)s left out: %(reason)s") % {"date": born.isoformat(), "reason": doubtful})
        del patient["birth_date"]
    elif doubtful:
        refuse("birth_date", doubtful)
    died = intake.deceased_on
    if died is not None:
        if problem := date_problem(died, today=today):
            refuse("deceased_on", problem)
        elif intake.admitted_on and died < intake.admitted_on:
            refuse("deceased_on", _("The date of death is before the admission date."))
    if intake.admitted_on is None:
        refuse("admitted_on", _("Enter the admission date."))
    if stay.get("discharged_on") is None:
        refuse("discharged_on", _("Enter the discharge date."))
    for name, messages in stay_date_errors(
        admitted_on=intake.admitted_on, discharged_on=stay.get("discharged_on"), today=today
    ).items():
        for message in messages:
            refuse(name, message)
    department = stay.get("department")
    if department is None:
        refuse("department", _("Choose the ward the patient was discharged from."))
    nurse = stay.get("responsible_nurse")
    if nurse is not None and department is not None and not works_in(nurse, department):
        refuse(
            "responsible_nurse",
            _("%(nurse)s does not work in %(department)s.") % {"nurse": nurse, "department": department},
        )
    if policy.diagnosis_required and not stay.get("diagnosis"):
        refuse("diagnosis", _("Enter the diagnosis."))
    has_contact = any(patient.get(name) for name in PHONE_FIELDS)
    if not has_contact and "phone" not in errors and "family_phone" not in errors:
        if policy.contact_required:
            refuse("phone", _("Enter the patient's phone or a family member's phone, or both."))
        else:
            warnings.append(
                _("No phone number for the patient or the family in this record: the ward must add one to call.")
            )
    normalised = DischargeIntake(
        mrn=mrn, admitted_on=intake.admitted_on, patient_data=patient, discharge_data=stay, deceased_on=died
    )
    return IntakeCheck(intake=normalised, errors=errors, warnings=warnings)


def discharge_intake(
    *, intake: DischargeIntake, policy: IntakePolicy, by: User | None, via: str = "", reference: str = ""
) -> Discharge:
    """Check ``intake`` as ``intake_check`` does and register it; a refusal
    raises ValidationError with the messages by field and changes nothing.
    The registered discharge carries the check's ``intake_warnings``."""
    checked = intake_check(intake, policy=policy)
    if not checked.ok:
        raise ValidationError(checked.errors)
    data = checked.intake
    discharge_data = {**data.discharge_data}
    if reference:
        discharge_data["source_reference"] = reference[:200]
    discharge = discharge_register(
        mrn=data.mrn,
        patient_data=data.patient_data,
        admitted_on=data.admitted_on,
        discharge_data=discharge_data,
        by=by,
        source=policy.source,
        via=via,
    )
    discharge.intake_warnings = checked.warnings
    return discharge


@transaction.atomic
def visit_register(
    *,
    mrn: str,
    patient_data: dict[str, Any],
    visited_on: dt.date,
    source: str,
    source_reference: str = "",
    actor: "User | str",
    warnings: list[str],
) -> Visit:
    """An emergency visit a hospital system reports for a patient by MRN.
    A patient the desk has never seen is recorded (their visits before the
    first stay are what LACE's E counts), with the fields that pass the
    intake's text checks; a known patient's details are left alone (a visit
    is not a correction of them)."""
    mrn = mrn.strip()
    patient = Patient.objects.select_for_update().filter(mrn=mrn).first()
    if patient is not None and patient.merged_into_id:
        patient = Patient.objects.get(pk=patient.merged_into_id)
    if patient is None:
        kept = {}
        for name, value in patient_data.items():
            problem = text_problem(name, value) if isinstance(value, str) else None
            if problem:
                warnings.append(f"{name}: {problem}")
            else:
                kept[name] = value.strip() if isinstance(value, str) else value
        patient = Patient.objects.create(mrn=mrn, **kept)
        audit_change(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            object_type="patient",
            object_id=patient.pk,
            fields=["mrn", *kept],
        )
    return visit_record(
        patient=patient, visited_on=visited_on, source=source, source_reference=source_reference, actor=actor
    )
