"""FHIR R4: reading Bundles (JSON) and NDJSON bulk exports, and turning each
finished inpatient Encounter (class IMP with a period end) into a patient and
a discharge, with its Patient, Condition and Practitioner.

Plain JSON: we read the handful of elements we need and say exactly which
one is missing or wrong. Nothing here writes to the database; the ward comes
from the ``ward_lookup`` callable the caller passes in.
"""

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from calls.models import Department, Patient

from .hl7v2 import best_phone, birth_date_problem, person_name

ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm", "icd-10")
INPATIENT_CLASSES = ("IMP",)  # the default; a sender may take others (interop.FeedSender)
EXPIRED_DISPOSITIONS = {"exp", "20"}  # discharge-disposition "exp", NUBC 20: the patient died
SKIPPED_STATUSES = {"cancelled", "entered-in-error", "planned"}
EMERGENCY_CLASS = "EMER"
# Encounter.priority (v3 ActPriority) and hospitalization.admitSource -> Discharge.AdmissionType.
PRIORITIES = {
    "EM": "emergency",
    "UR": "emergency",
    "S": "emergency",
    "A": "emergency",
    "EL": "elective",
    "R": "elective",
}
ADMIT_SOURCES = {
    "emd": "emergency",
    "hosp-trans": "transfer",
    "nursing": "transfer",
    "psych": "transfer",
    "rehab": "transfer",
    "gp": "elective",
    "mp": "elective",
    "outp": "elective",
}
GENDERS = {"male": Patient.Sex.MALE, "female": Patient.Sex.FEMALE}

WardLookup = Callable[[list[str]], Department | None]  # candidate codes -> department


class FhirError(ValueError):
    """The input cannot be read at all (not JSON, not FHIR)."""


@dataclass
class FhirDischarge:
    encounter_id: str
    mrn: str
    patient_data: dict[str, Any]
    admitted_on: dt.date
    discharge_data: dict[str, Any]
    deceased_on: dt.date | None = None


@dataclass
class FhirVisit:
    """An emergency encounter (class EMER): a visit, not a discharge."""

    encounter_id: str
    mrn: str
    patient_data: dict[str, Any]
    visited_on: dt.date


@dataclass
class FhirReading:
    discharges: list[FhirDischarge] = field(default_factory=list)
    visits: list[FhirVisit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_resources(text: str) -> list[dict[str, Any]]:
    """The resources of a Bundle, of a single resource, or of NDJSON (one
    resource per line, as a bulk export writes them)."""
    text = text.lstrip("\ufeff").strip()
    if not text:
        raise FhirError(_("The input is empty."))
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        documents = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise FhirError(
                    _("Line %(line)s is not JSON: %(reason)s") % {"line": number, "reason": exc.msg}
                ) from None
    if "\\u0000" in text.lower() and any(_holds_nul(document) for document in documents):
        raise FhirError(_("The input contains NUL characters (\\u0000), which no FHIR string may hold."))
    resources: list[dict[str, Any]] = []
    for document in documents:
        resources.extend(_flatten(document))
    return resources


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _flatten(document: Any) -> Iterable[dict[str, Any]]:
    if not isinstance(document, dict) or "resourceType" not in document:
        raise FhirError(_("The JSON is not a FHIR resource (no resourceType)."))
    if document["resourceType"] != "Bundle":
        yield document
        return
    for entry in document.get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and "resourceType" in resource:
            if entry.get("fullUrl"):
                resource = {**resource, "_fullUrl": entry["fullUrl"]}
            yield from _flatten(resource) if resource["resourceType"] == "Bundle" else [resource]


class _Index:
    """Resources by every name a reference may use: fullUrl, urn:uuid:id, Type/id."""

    def __init__(self, resources: list[dict[str, Any]]):
        self.by_ref: dict[str, dict[str, Any]] = {}
        for resource in resources:
            kind, rid = resource["resourceType"], resource.get("id")
            if rid:
                self.by_ref[f"{kind}/{rid}"] = resource
                self.by_ref[f"urn:uuid:{rid}"] = resource
            if resource.get("_fullUrl"):
                self.by_ref[resource["_fullUrl"]] = resource
        self.conditions: dict[str, list[dict[str, Any]]] = {}
        for resource in resources:
            if resource["resourceType"] == "Condition":
                ref = (resource.get("encounter") or {}).get("reference", "")
                self.conditions.setdefault(ref, []).append(resource)

    def get(self, reference: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
        ref = (reference or {}).get("reference", "")
        found = self.by_ref.get(ref) or self.by_ref.get(f"{kind}/{ref.rsplit('/', 1)[-1]}")
        return found if found and found["resourceType"] == kind else None

    def conditions_of(self, encounter: dict[str, Any]) -> list[dict[str, Any]]:
        names = {f"Encounter/{encounter.get('id')}", f"urn:uuid:{encounter.get('id')}", encounter.get("_fullUrl")}
        return [c for name in names if name for c in self.conditions.get(name, [])]


def local_date(value: str | None, what: str) -> dt.date | None:
    """A FHIR date or dateTime as a date in the hospital's time zone (a
    dateTime with an offset is converted; a plain date is taken as written)."""
    if not value:
        return None
    try:
        if len(value) > 10:
            moment = parse_datetime(value)
            if moment is None:
                raise ValueError(value)
            if timezone.is_aware(moment):
                return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
            return moment.date()
        day = {
            4: lambda: dt.date(int(value), 1, 1),
            7: lambda: dt.date(int(value[:4]), int(value[5:7]), 1),
            10: lambda: parse_date(value),
        }.get(len(value), lambda: None)()
        if day is None:
            raise ValueError(value)
        return day
    except ValueError:
        raise ValueError(_("%(what)s “%(value)s” is not a FHIR date/time.") % {"what": what, "value": value}) from None


def read_discharges(
    resources: list[dict[str, Any]], *, ward_lookup: WardLookup, classes: Collection[str] = INPATIENT_CLASSES
) -> FhirReading:
    """Every finished Encounter of one of ``classes`` (inpatient, IMP,
    unless the sender takes others) as a :class:`FhirDischarge`; the
    problems of each one as a plain sentence naming the Encounter."""
    reading = FhirReading()
    index = _Index(resources)
    for encounter in resources:
        if encounter["resourceType"] != "Encounter" or encounter.get("status") in SKIPPED_STATUSES:
            continue
        label = f"Encounter/{encounter.get('id', '?')}"
        codes = _class_codes(encounter)
        if EMERGENCY_CLASS in codes and EMERGENCY_CLASS not in classes:
            try:
                reading.visits.append(_visit(encounter, index, reading.warnings))
            except ValueError as exc:
                reading.errors.append(f"{label}: {exc}")
            continue
        if not codes & set(classes) or not (encounter.get("period") or {}).get("end"):
            continue
        try:
            reading.discharges.append(_discharge(encounter, index, ward_lookup, reading.warnings))
        except ValueError as exc:
            reading.errors.append(f"{label}: {exc}")
    return reading


def _class_codes(encounter: dict[str, Any]) -> set[str]:
    """Encounter.class codes (a Coding in R4, a list of CodeableConcepts in R5), upper case."""
    classes = encounter.get("class")
    codings = classes if isinstance(classes, list) else [classes or {}]
    codes = set()
    for coding in codings:
        if not isinstance(coding, dict):
            continue
        codes.add(coding.get("code"))
        codes.update(c.get("code") for c in coding.get("coding") or [] if isinstance(c, dict))
    return {code.upper() for code in codes if isinstance(code, str)}


def _discharge(encounter: dict[str, Any], index: _Index, ward_lookup: WardLookup, warnings: list[str]) -> FhirDischarge:
    encounter_id = encounter.get("id") or ""
    if not encounter_id:
        raise ValueError(_("the Encounter has no id."))
    patient = index.get(encounter.get("subject"), "Patient")
    if patient is None:
        raise ValueError(_("its subject Patient is not in the input."))
    mrn = _mrn(patient)
    period = encounter.get("period") or {}
    admitted_on = local_date(period.get("start"), "period.start")
    discharged_on = local_date(period.get("end"), "period.end")
    if admitted_on is None:
        raise ValueError(_("period.start (admission) is empty."))
    if discharged_on < admitted_on:
        raise ValueError(_("The discharge date is before the admission date."))
    if discharged_on > timezone.localdate():
        raise ValueError(_("The discharge date is in the future."))
    department = ward_lookup(_ward_codes(encounter, index))
    if department is None:
        raise ValueError(
            _("no ward mapping for its location or service provider (%(codes)s) and no default (*) mapping.")
            % {"codes": ", ".join(_ward_codes(encounter, index)) or "-"}
        )
    diagnosis, icd10 = _diagnosis(encounter, index)
    risk_data = _risk_data(encounter, index, icd10)
    patient_data = _patient_data(patient, warnings)
    deceased_on = local_date(patient.get("deceasedDateTime"), "Patient.deceasedDateTime")
    disposition = (encounter.get("hospitalization") or {}).get("dischargeDisposition") or {}
    if deceased_on is None and {c.get("code") for c in disposition.get("coding") or []} & EXPIRED_DISPOSITIONS:
        deceased_on = discharged_on  # died in hospital: the family is never called
    return FhirDischarge(
        encounter_id=encounter_id,
        mrn=mrn,
        patient_data=patient_data,
        admitted_on=admitted_on,
        deceased_on=deceased_on,
        discharge_data={
            "department": department,
            "discharged_on": discharged_on,
            "diagnosis": diagnosis[:255],
            "icd10": icd10[:16],
            "attending_doctor": _attending(encounter, index)[:100],
            **risk_data,
        },
    )


def _visit(encounter: dict[str, Any], index: _Index, warnings: list[str]) -> FhirVisit:
    patient = index.get(encounter.get("subject"), "Patient")
    if patient is None:
        raise ValueError(_("its subject Patient is not in the input."))
    period = encounter.get("period") or {}
    visited_on = local_date(period.get("start") or period.get("end"), "period.start")
    if visited_on is None:
        raise ValueError(_("period.start (the visit's date) is empty."))
    if visited_on > timezone.localdate():
        raise ValueError(_("The visit date is in the future."))
    return FhirVisit(
        encounter_id=encounter.get("id") or "",
        mrn=_mrn(patient),
        patient_data=_patient_data(patient, warnings),
        visited_on=visited_on,
    )


def _codes(concept: dict[str, Any]) -> set[str]:
    return {c.get("code") for c in (concept or {}).get("coding") or [] if isinstance(c, dict) and c.get("code")}


def _risk_data(encounter: dict[str, Any], index: _Index, principal: str) -> dict[str, Any]:
    """Admission type (Encounter.priority, else hospitalization.admitSource)
    and the secondary diagnoses (ICD-10 codes of the encounter's other
    Conditions); what the input does not carry is left out, so an update
    never blanks it."""
    data: dict[str, Any] = {}
    priority = next((PRIORITIES[c] for c in _codes(encounter.get("priority")) if c in PRIORITIES), "")
    source = _codes((encounter.get("hospitalization") or {}).get("admitSource"))
    admission_type = priority or next((ADMIT_SOURCES[c] for c in sorted(source) if c in ADMIT_SOURCES), "")
    if admission_type:
        data["admission_type"] = admission_type
    conditions = list(index.conditions_of(encounter))
    for entry in encounter.get("diagnosis") or []:
        condition = index.get((entry or {}).get("condition"), "Condition")
        if condition is not None and condition not in conditions:
            conditions.append(condition)
    if conditions:
        codes = [
            coding["code"].upper()
            for condition in conditions
            for coding in (condition.get("code") or {}).get("coding") or []
            if (coding.get("system") or "").lower() in ICD10_SYSTEMS and isinstance(coding.get("code"), str)
        ]
        data["secondary_icd10"] = [code for code in dict.fromkeys(codes) if code != principal]
    return data


def _mrn(patient: dict[str, Any]) -> str:
    for identifier in patient.get("identifier") or []:
        codes = {c.get("code") for c in ((identifier.get("type") or {}).get("coding") or [])}
        if "MR" in codes and identifier.get("value"):
            mrn = str(identifier["value"]).strip()
            if len(mrn) > Patient._meta.get_field("mrn").max_length:
                raise ValueError(_("the MRN “%(mrn)s” is too long.") % {"mrn": mrn})
            return mrn
    raise ValueError(_("Patient/%(id)s has no identifier of type MR (the MRN).") % {"id": patient.get("id", "?")})


def _human_name(names: list[dict[str, Any]]) -> str:
    if not names:
        return ""
    name = next((n for n in names if n.get("use") == "official"), names[0])
    given = name.get("given") or []
    built = person_name(name.get("family") or "", given[0] if given else "", " ".join(given[1:]))
    return built or name.get("text") or ""


def _patient_data(patient: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    name = _human_name(patient.get("name") or [])
    if not name:
        raise ValueError(_("Patient/%(id)s has no name.") % {"id": patient.get("id", "?")})
    data: dict[str, Any] = {"name": name[:100]}
    if patient.get("gender"):
        data["sex"] = GENDERS.get(patient["gender"], Patient.Sex.UNKNOWN)
    born = local_date(patient.get("birthDate"), "Patient.birthDate")
    problem = birth_date_problem(born, timezone.localdate()) if born else ""
    if problem:
        warnings.append(
            _("Patient/%(id)s birth date %(date)s is %(problem)s: left out.")
            % {"id": patient.get("id", "?"), "date": born.isoformat(), "problem": problem}
        )
    elif born:
        data["birth_date"] = born
    phones = [t for t in patient.get("telecom") or [] if t.get("system") == "phone" and t.get("value")]
    phones.sort(key=lambda t: {"mobile": 0, "home": 1}.get(t.get("use"), 2))
    if phones:
        data["phone"], data["phone_needs_correction"] = best_phone([t["value"] for t in phones])
        if data["phone_needs_correction"]:
            warnings.append(
                _("Phone “%(phone)s” of Patient/%(id)s is not a valid number: kept, marked for correction.")
                % {"phone": data["phone"], "id": patient.get("id", "?")}
            )
    return data


def _ward_codes(encounter: dict[str, Any], index: _Index) -> list[str]:
    """Codes to look up in the ward mapping, most specific first."""
    codes: list[str] = []
    for place in encounter.get("location") or []:
        reference = place.get("location") or {}
        location = index.get(reference, "Location") or {}
        codes.extend(v for v in (location.get("name"), reference.get("display"), reference.get("reference")) if v)
    provider = encounter.get("serviceProvider") or {}
    organisation = index.get(provider, "Organization") or {}
    codes.extend(v for v in (organisation.get("name"), provider.get("display"), provider.get("reference")) if v)
    return list(dict.fromkeys(codes))


def _diagnosis(encounter: dict[str, Any], index: _Index) -> tuple[str, str]:
    """(text, ICD-10 code): the Encounter's Condition (an ICD-10 coding if
    present, else its text or SNOMED display), else its reason, else its type."""
    concepts = [c.get("code") or {} for c in index.conditions_of(encounter)]
    concepts += encounter.get("reasonCode") or []
    for concept in concepts:
        for coding in concept.get("coding") or []:
            if (coding.get("system") or "").lower() in ICD10_SYSTEMS and coding.get("code"):
                return concept.get("text") or coding.get("display") or coding["code"], coding["code"].upper()
    for concept in [*concepts, *(encounter.get("type") or [])]:
        displays = [c.get("display") for c in concept.get("coding") or [] if c.get("display")]
        text = concept.get("text") or (displays[0] if displays else "")
        if text:
            return text, ""
    return "", ""


def _attending(encounter: dict[str, Any], index: _Index) -> str:
    participants = encounter.get("participant") or []

    def role(p: dict[str, Any]) -> int:
        codes = {c.get("code") for t in p.get("type") or [] for c in t.get("coding") or []}
        return 0 if "ATND" in codes else 1 if "PPRF" in codes else 2

    for participant in sorted(participants, key=role):
        individual = participant.get("individual") or {}
        practitioner = index.get(individual, "Practitioner")
        name = _human_name(practitioner.get("name") or []) if practitioner else ""
        if name or individual.get("display"):
            return name or individual["display"]
    return ""
