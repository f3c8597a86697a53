"""Registering discharges (typed in or imported) and readmissions.

A discharge is identified by the patient's MRN + the admission date, so
registering or importing the same stay again updates it. A new stay of the
same patient (a readmission) cancels the open calls of the earlier stays.
Either way the discharge's calls for the current week are generated at once,
in the same transaction.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import access
from followup.audit import actor_of, audit_change
from followup.dates import EARLIEST
from followup.models import AuditEvent, User

from ..models import Discharge, FollowUpCall, Patient
from .cancellation import calls_cancel_open
from .queue import calls_follow_stays, calls_reopen, generate_calls
from .risk import discharges_rescore, outcomes_recompute

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


def stay_date_errors(
    *, admitted_on: dt.date | None, discharged_on: dt.date | None, today: dt.date | None = None
) -> dict[str, list[str]]:
    """What is wrong with a stay's dates, by field, at registration (every
    source) and at correction; ``today`` defaults to today in the hospital's
    time zone."""
    errors: dict[str, list[str]] = {}
    today = today or timezone.localdate()
    if admitted_on and admitted_on < EARLIEST:
        errors.setdefault("admitted_on", []).append(_("The admission date is before 1 January 1900."))
    if admitted_on and admitted_on > today:
        errors.setdefault("admitted_on", []).append(_("The admission date is in the future."))
    if admitted_on and discharged_on and discharged_on < admitted_on:
        errors.setdefault("discharged_on", []).append(_("The discharge date is before the admission date."))
    if discharged_on and discharged_on < EARLIEST:
        errors.setdefault("discharged_on", []).append(_("The discharge date is before 1 January 1900."))
    if discharged_on and discharged_on > today:
        errors.setdefault("discharged_on", []).append(_("The discharge date is in the future."))
    return errors


def stay_date_problems(*, admitted_on: dt.date | None, discharged_on: dt.date | None) -> list[str]:
    """stay_date_errors as one list of messages."""
    errors = stay_date_errors(admitted_on=admitted_on, discharged_on=discharged_on)
    return [message for name in ("admitted_on", "discharged_on") for message in errors.get(name, [])]


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
        if "department" in fields:
            calls_follow_stays(discharge_ids=[stay.pk])
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
    discharges_rescore(discharge_ids=[discharge.pk])
    outcomes_recompute(patient_ids=[discharge.patient_id])
    if getattr(discharge, "reopened", False):  # cancelled (A11/A13), now sent again
        calls_reopen(discharge=discharge, actor=actor_of(by, via))
    generated = generate_calls(week=timezone.localdate(), discharges=[discharge.pk], actor=actor_of(by, via))
    # A broken rule of the ward keeps the stay but plans none of its calls
    # (logged); the weekly run plans them once the rule is corrected.
    discharge.calls_not_planned = bool(generated.failed_departments)
    return discharge
