"""Corrections of patients, stays and calls outside the nurse's pages: the
admin site and the hospital feeds change records only through these
services, which check what the pages check (dates, the version a nurse may
have open, the nurse working in the ward) and regenerate calls."""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from followup import access
from followup.audit import actor_of, audit_change, audit_changes
from followup.dates import date_problem
from followup.models import AuditEvent, User

from ..models import Discharge, FollowUpCall, Patient, Visit
from .call_work import CallChanged
from .cancellation import calls_cancel_open, patient_decline_calls, patient_mark_deceased
from .discharges import stay_date_problems
from .queue import calls_follow_stays, generate_calls
from .risk import OUTCOME_INPUTS, RISK_INPUTS, discharges_rescore, outcomes_recompute


def _changed(obj, data: dict[str, Any]) -> list[str]:
    return [name for name, value in data.items() if getattr(obj, name) != value]


@transaction.atomic
def patient_create(*, data: dict[str, Any], by: User | None, via: str = "") -> Patient:
    """A patient added by hand in the admin (before any stay)."""
    patient = Patient.objects.create(**data)
    audit_change(
        actor=actor_of(by, via),
        action=AuditEvent.Action.CREATE,
        object_type="patient",
        object_id=patient.pk,
        fields=list(data),
    )
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, changes: dict[str, Any], by: User | None, via: str = "") -> list[str]:
    """Overwrite the given fields (a correction in the admin, or an update
    from the hospital system: ``via`` names the feed); return the names of
    the fields that changed."""
    changed = _changed(patient, changes)
    for name in changed:
        setattr(patient, name, changes[name])
    if changed:
        patient.save(update_fields=[*changed, "updated_at"])
        audit_change(actor=actor_of(by, via), object_type="patient", object_id=patient.pk, fields=changed)
    return changed


# Details the surviving record takes from the merged one where it has none.
MERGE_FILLS = (
    "birth_date",
    "phone",
    "family_name",
    "family_relation",
    "family_phone",
    "address",
    "education",
    "communication_needs",
    "communication_notes",
    "preferred_call_time",
)


@dataclass
class MergeResult:
    stays: int
    complaints: int
    filled: list[str]


@transaction.atomic
def patient_merge(*, survivor: Patient, merged: Patient, by: User | None, via: str = "") -> MergeResult:
    """Two records of one person become one (HL7 A40/A34/A47, "merge patient
    identifier list"): ``merged``'s stays (and with them their calls) and
    complaints move to ``survivor``; survivor's empty details are filled from
    merged's; a death or a refusal on either holds for her; her earlier stays'
    open calls are cancelled as at a readmission. ``merged`` stays, archived,
    with ``merged_into`` set, so its MRN still finds her (followup.access.
    patient_by_mrn) and its audit trail counts as hers (followup.audit);
    records merged into it before now point at ``survivor`` too. The merge
    itself is recorded on both patients' trails ("merged 12 into 7").

    Refused (ValidationError, nothing changed): the same record twice, a
    record already merged, or a stay of each admitted on the same day (one
    stay registered twice: which is right is a person's call)."""
    actor = actor_of(by, via)
    if survivor.pk == merged.pk:
        raise ValidationError(_("A patient cannot be merged into herself."))
    locked = {
        p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk]).order_by("pk")
    }
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    for record in (survivor, merged):
        if record.merged_into_id:
            raise ValidationError(
                _("The record with MRN %(mrn)s was merged into another already.") % {"mrn": record.mrn}
            )
    clash = (
        Discharge.objects.filter(patient=survivor)
        .filter(admitted_on__in=Discharge.objects.filter(patient=merged).values("admitted_on"))
        .order_by("admitted_on")
        .values_list("admitted_on", flat=True)
        .first()
    )
    if clash is not None:
        raise ValidationError(
            _(
                "Both records (MRN %(survivor)s and %(merged)s) have a stay admitted on %(date)s: one stay registered "
                "twice. Correct or archive one of them, then merge again."
            )
            % {"survivor": survivor.mrn, "merged": merged.mrn, "date": clash.isoformat()}
        )
    note = f"merged {merged.pk} into {survivor.pk}"
    now = timezone.now()
    stays = list(Discharge.objects.filter(patient=merged).values_list("pk", flat=True))
    Discharge.objects.filter(pk__in=stays).update(patient=survivor, updated_at=now)
    audit_changes(
        actor=actor, object_type="stay", objects=[(pk, survivor.pk) for pk in stays], fields=["patient"], note=note
    )
    # Emergency visits follow (a day the survivor already has stays with the merged record: counted once).
    taken = Visit.objects.filter(patient=survivor).values("kind", "visited_on")
    visits = list(
        Visit.objects.filter(patient=merged)
        .exclude(Exists(taken.filter(kind=OuterRef("kind"), visited_on=OuterRef("visited_on"))))
        .values_list("pk", flat=True)
    )
    Visit.objects.filter(pk__in=visits).update(patient=survivor)
    audit_changes(
        actor=actor, object_type="visit", objects=[(pk, survivor.pk) for pk in visits], fields=["patient"], note=note
    )
    complaints = list(merged.complaints.values_list("pk", flat=True))  # complaints.Complaint, by its relation
    merged.complaints.update(patient=survivor, updated_at=now)
    audit_changes(
        actor=actor,
        object_type="complaint",
        objects=[(pk, survivor.pk) for pk in complaints],
        fields=["patient"],
        note=note,
    )
    filled = {
        name: getattr(merged, name)
        for name in MERGE_FILLS
        if getattr(merged, name) not in (None, "", []) and getattr(survivor, name) in (None, "", [])
    }
    if "phone" in filled:
        filled["phone_needs_correction"] = merged.phone_needs_correction
    if survivor.sex == Patient.Sex.UNKNOWN and merged.sex != Patient.Sex.UNKNOWN:
        filled["sex"] = merged.sex
    for name, value in filled.items():
        setattr(survivor, name, value)
    if filled:
        survivor.save(update_fields=[*filled, "updated_at"])
    Patient.objects.filter(merged_into=merged).update(merged_into=survivor, updated_at=now)
    Patient.objects.filter(pk=merged.pk).update(merged_into=survivor, archived=True, updated_at=now)
    merged.merged_into, merged.archived = survivor, True
    audit_change(actor=actor, object_type="patient", object_id=survivor.pk, fields=list(filled), note=note)
    audit_change(actor=actor, object_type="patient", object_id=merged.pk, fields=["merged_into", "archived"], note=note)
    if merged.deceased and not survivor.deceased:
        patient_mark_deceased(patient=survivor, died_on=merged.deceased_on, actor=actor)
    if merged.declined_calls_on and not survivor.declined_calls_on:
        patient_decline_calls(patient=survivor, on=merged.declined_calls_on, actor=actor)
    latest = Discharge.objects.filter(patient=survivor).order_by("-admitted_on").values_list("admitted_on", flat=True)
    if latest:
        calls_cancel_open(
            calls=FollowUpCall.objects.filter(discharge__patient=survivor, discharge__admitted_on__lt=latest[0]),
            reason=FollowUpCall.CancelReason.READMITTED,
            actor=actor,
        )
    discharges_rescore(discharge_ids=Discharge.objects.filter(patient=survivor).values_list("pk", flat=True))
    outcomes_recompute(patient_ids=[survivor.pk])
    return MergeResult(stays=len(stays), complaints=len(complaints), filled=sorted(filled))


def discharge_update_problems(*, discharge: Discharge, changes: dict[str, Any]) -> list[str]:
    """What is wrong with correcting the stay so (empty when nothing is): the
    dates as at registration, the responsible nurse working in the ward."""
    problems = stay_date_problems(
        admitted_on=changes.get("admitted_on", discharge.admitted_on),
        discharged_on=changes.get("discharged_on", discharge.discharged_on),
    )
    department = changes.get("department") or getattr(discharge, "department", None)
    nurse = changes.get("responsible_nurse", getattr(discharge, "responsible_nurse", None))
    if nurse is not None and department is not None and not _works_in(nurse, department):
        problems.append(_("%(nurse)s does not work in %(department)s.") % {"nurse": nurse, "department": department})
    return problems


def _works_in(nurse: User, department) -> bool:
    return access.ward_staff([department.pk]).filter(pk=nurse.pk).exists()


@transaction.atomic
def discharge_update(*, discharge: Discharge, changes: dict[str, Any], by: User | None, via: str = "") -> list[str]:
    """Correct a stay (department, dates, diagnosis, nurse...), checked as
    discharge_update_problems says, and generate this week's calls for the
    corrected stay. Returns the names of the fields that changed."""
    problems = discharge_update_problems(discharge=discharge, changes=changes)
    if problems:
        raise ValidationError(problems)
    changed = _changed(discharge, changes)
    for name in changed:
        setattr(discharge, name, changes[name])
    if changed:
        discharge.save(update_fields=[*changed, "updated_at"])
        if "department" in changed:
            calls_follow_stays(discharge_ids=[discharge.pk])
        actor = actor_of(by, via)
        audit_change(
            actor=actor, object_type="stay", object_id=discharge.pk, fields=changed, patient_id=discharge.patient_id
        )
        if set(changed) & RISK_INPUTS:  # before the calls: a rule step may be for some risk tiers only
            discharges_rescore(discharge_ids=[discharge.pk])
        if set(changed) & OUTCOME_INPUTS:
            outcomes_recompute(patient_ids=[discharge.patient_id])
        generate_calls(week=timezone.localdate(), discharges=[discharge.pk], actor=actor)
    return changed


@transaction.atomic
def discharge_cancel(*, discharge: Discharge, by: User | None, via: str = "") -> int:
    """The hospital cancelled the admission (A11) or the discharge (A13):
    archive the discharge and cancel its open calls. Returns how many calls
    were cancelled; running it twice changes nothing more."""
    actor = actor_of(by, via)
    if Discharge.objects.filter(pk=discharge.pk, archived=False).update(archived=True, updated_at=timezone.now()):
        audit_change(
            actor=actor,
            object_type="stay",
            object_id=discharge.pk,
            fields=["archived"],
            patient_id=discharge.patient_id,
        )
    discharge.archived = True
    outcomes_recompute(patient_ids=[discharge.patient_id])
    return calls_cancel_open(
        calls=FollowUpCall.objects.filter(discharge=discharge),
        reason=FollowUpCall.CancelReason.DISCHARGE_CANCELLED,
        actor=actor,
    )


CALL_CORRECTABLE = ("due_date", "earliest_on", "latest_on", "scheduled_for", "next_attempt_on", "assigned_to")


def call_correct_problems(*, call: FollowUpCall, changes: dict[str, Any], expected_version: int | None) -> list[str]:
    """What is wrong with correcting the call so: a field only the call screen
    records, a nurse of another ward, a window that ends before it starts, or
    a nurse's save since the form was opened."""
    problems = []
    unknown = sorted(set(changes) - set(CALL_CORRECTABLE))
    if unknown:
        problems.append(_("These fields cannot be corrected here: %(fields)s.") % {"fields": ", ".join(unknown)})
    nurse = changes.get("assigned_to")
    if nurse is not None and not _works_in(nurse, call.discharge.department):
        problems.append(
            _("%(nurse)s does not work in %(department)s.") % {"nurse": nurse, "department": call.discharge.department}
        )
    for name in ("due_date", "earliest_on", "latest_on", "next_attempt_on", "scheduled_for"):
        problem = date_problem(changes.get(name), future=True)
        if problem:
            label = capfirst(FollowUpCall._meta.get_field(name).verbose_name)
            problems.append(_("%(field)s: %(problem)s") % {"field": label, "problem": problem})
    earliest = changes.get("earliest_on", call.earliest_on)
    latest = changes.get("latest_on", call.latest_on)
    if earliest and latest and latest < earliest:
        problems.append(_("The last day a call may be made is before the first."))
    current = FollowUpCall.objects.filter(pk=call.pk).values_list("version", flat=True).first()
    if expected_version is not None and current != expected_version:
        problems.append(_("Someone saved this call after you opened it: reload the page and make your change again."))
    return problems


@transaction.atomic
def call_correct(*, call: FollowUpCall, changes: dict[str, Any], by: User, expected_version: int) -> list[str]:
    """Correct a call's dates or nurse (the admin), checked as
    call_correct_problems says; the version check is repeated in the update
    itself, so a save between the check and the update raises CallChanged."""
    problems = call_correct_problems(call=call, changes=changes, expected_version=expected_version)
    if problems:
        raise ValidationError(problems)
    changed = _changed(call, changes)
    if not changed:
        return []
    rows = FollowUpCall.objects.filter(pk=call.pk, version=expected_version).update(
        **{name: changes[name] for name in changed},
        version=F("version") + 1,
        changed_by=by,
        updated_at=timezone.now(),
    )
    if rows != 1:
        raise CallChanged(FollowUpCall.objects.select_related("changed_by").get(pk=call.pk))
    call.refresh_from_db()
    audit_change(actor=by, object_type="call", object_id=call.pk, fields=changed, patient_id=call.discharge.patient_id)
    return changed
