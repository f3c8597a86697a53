"""Cancelling open calls: shared by the deceased path, refusals, readmissions
and cancelled discharges. Each cancelled call is audited with its reason.

A death is a ``DeathRecord`` (its date may be unknown) that remembers the
calls it cancelled; a head nurse may reverse a mistaken one, with a reason,
and the calls still worth making come back (``death_record_reverse``,
docs/call-queue.md "A death recorded by mistake")."""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.audit import audit_change, audit_changes
from followup.bulk import insert_rows, update_rows
from followup.dates import start_of_day, week_bounds
from followup.models import AuditEvent, User

from ..models import DeathRecord, FollowUpCall, Patient
from .drafts import drafts_discard
from .queue import GenerationResult, _Assigner, _callable_discharges, _Planner, generate_calls, place_call
from .risk import outcomes_recompute

CREATE = AuditEvent.Action.CREATE


def _cancel_open(*, calls: QuerySet[FollowUpCall], reason: str, actor: "User | str") -> list[int]:
    """Cancel the still-open calls of ``calls`` (locked first) and audit
    them; returns the ids of those this run cancelled."""
    return [pk for pk, _patient in _cancel_open_rows(calls=calls, reason=reason, actor=actor)]


def _cancel_open_rows(*, calls: QuerySet[FollowUpCall], reason: str, actor: "User | str") -> list[tuple[int, int]]:
    """_cancel_open, returning (call id, patient id) of each call cancelled."""
    open_calls = calls.filter(status__in=FollowUpCall.OPEN_STATUSES)
    rows = list(open_calls.select_for_update(of=("self",)).order_by("pk").values_list("pk", "discharge__patient_id"))
    if not rows:
        return []
    FollowUpCall.objects.filter(pk__in=[pk for pk, _patient in rows], status__in=FollowUpCall.OPEN_STATUSES).update(
        status=FollowUpCall.Status.CANCELLED, cancel_reason=reason, version=F("version") + 1, updated_at=timezone.now()
    )
    audit_changes(
        actor=actor, object_type="call", objects=rows, fields=["status", "cancel_reason"], note=f"cancelled: {reason}"
    )
    # What nurses had typed on these calls will never be sent now.
    drafts_discard(calls=[pk for pk, _patient in rows], actor=actor, reason=f"cancelled: {reason}")
    return rows


@transaction.atomic
def calls_cancel_open(*, calls: QuerySet[FollowUpCall], reason: str, actor: "User | str") -> int:
    """Cancel every still-open call of ``calls``; return how many changed.
    The rows are locked first and only those still open are updated, so
    running it twice changes nothing more (and audits nothing more)."""
    return len(_cancel_open(calls=calls, reason=reason, actor=actor))


@transaction.atomic
def patient_mark_deceased(
    *,
    patient: Patient,
    died_on: dt.date | None,
    actor: "User | str",
    call: FollowUpCall | None = None,
    note: str = "",
) -> int:
    """Record the death (``died_on`` None: the date is not known) and cancel
    all the patient's open calls; no call is ever made to that family again.
    Returns the number of calls cancelled.

    A patient already recorded as died keeps her one standing record: a
    date given now fills in or corrects its date, and any call opened since
    is cancelled with it. Running it twice changes nothing more."""
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one death recording at a time per patient
    record = DeathRecord.objects.filter(patient=patient, reversed_at__isnull=True).first()
    if record is None:
        record = DeathRecord.objects.create(
            patient=patient,
            died_on=died_on,
            recorded_by=actor if isinstance(actor, User) else None,
            recorded_via="" if isinstance(actor, User) else actor[:150],
            call=call,
            note=note.strip(),
        )
        audit_change(
            actor=actor,
            action=CREATE,
            object_type="death",
            object_id=record.pk,
            fields=["died_on", "call", *(["note"] if record.note else [])],
            patient_id=patient.pk,
        )
        Patient.objects.filter(pk=patient.pk).update(deceased=True, deceased_on=died_on, updated_at=timezone.now())
        audit_change(actor=actor, object_type="patient", object_id=patient.pk, fields=["deceased", "deceased_on"])
    elif died_on is not None and record.died_on != died_on:
        DeathRecord.objects.filter(pk=record.pk).update(died_on=died_on)
        record.died_on = died_on
        audit_change(actor=actor, object_type="death", object_id=record.pk, fields=["died_on"], patient_id=patient.pk)
        Patient.objects.filter(pk=patient.pk).update(deceased_on=died_on, updated_at=timezone.now())
        audit_change(actor=actor, object_type="patient", object_id=patient.pk, fields=["deceased_on"])
    patient.deceased, patient.deceased_on = True, record.died_on
    outcomes_recompute(patient_ids=[patient.pk])
    cancelled = _cancel_open(
        calls=FollowUpCall.objects.filter(discharge__patient=patient),
        reason=FollowUpCall.CancelReason.DECEASED,
        actor=actor,
    )
    record.cancelled_calls.add(*cancelled)
    return len(cancelled)


@transaction.atomic
def patients_mark_deceased(*, deaths: list[tuple[int, dt.date]], actor: "User | str") -> int:
    """patient_mark_deceased for many patients at once (a file import):
    ``deaths`` holds (patient id, date of death) pairs in the order they were
    learnt; the last date of a patient is the one kept. Returns the number of
    calls cancelled.

    The patients learnt dead once, with no standing death record (nearly
    all of them), are recorded together: one statement for their records,
    one for the patients, one for the audit rows of each, one outcome
    recomputation and one cancellation of their open calls. The others (a
    record to correct, two dates in one file) go one by one, in the order
    learnt, through patient_mark_deceased."""
    if not deaths:
        return 0
    ids = sorted({pk for pk, _day in deaths})
    patients = {p.pk: p for p in Patient.objects.select_for_update().filter(pk__any=ids).order_by("pk")}
    recorded = set(
        DeathRecord.objects.filter(patient_id__any=ids, reversed_at__isnull=True).values_list("patient_id", flat=True)
    )
    times = Counter(pk for pk, _day in deaths)
    together = {pk: day for pk, day in deaths if times[pk] == 1 and pk not in recorded}
    cancelled = _mark_deceased_together(together, actor=actor) if together else 0
    return cancelled + sum(
        patient_mark_deceased(patient=patients[pk], died_on=day, actor=actor)
        for pk, day in deaths
        if pk not in together
    )


def _mark_deceased_together(deaths: dict[int, dt.date], *, actor: "User | str") -> int:
    """Record the deaths of patients with no standing record, as
    patient_mark_deceased records each (the same rows and audit rows)."""
    now = timezone.now()
    by = actor if isinstance(actor, User) else None
    records = [
        {
            "patient_id": pk,
            "died_on": day,
            "recorded_by_id": by.pk if by else None,
            "recorded_via": "" if by else actor[:150],
            "call_id": None,
            "note": "",
        }
        for pk, day in deaths.items()
    ]
    insert_rows(DeathRecord, records)
    audit_changes(
        actor=actor,
        action=CREATE,
        object_type="death",
        objects=[(record["id"], record["patient_id"]) for record in records],
        fields=["died_on", "call"],
    )
    update_rows(
        Patient,
        [{"id": pk, "deceased": True, "deceased_on": day, "updated_at": now} for pk, day in deaths.items()],
        ["deceased", "deceased_on", "updated_at"],
    )
    audit_changes(
        actor=actor, object_type="patient", objects=[(pk, pk) for pk in deaths], fields=["deceased", "deceased_on"]
    )
    outcomes_recompute(patient_ids=deaths)
    rows = _cancel_open_rows(
        calls=FollowUpCall.objects.filter(discharge__patient_id__any=list(deaths)),
        reason=FollowUpCall.CancelReason.DECEASED,
        actor=actor,
    )
    record_of = {record["patient_id"]: record["id"] for record in records}
    DeathRecord.cancelled_calls.through.objects.bulk_create(
        [
            DeathRecord.cancelled_calls.through(deathrecord_id=record_of[patient_id], followupcall_id=pk)
            for pk, patient_id in rows
        ]
    )
    return len(rows)


@transaction.atomic
def patient_decline_calls(*, patient: Patient, on: dt.date, actor: "User | str") -> int:
    """The patient asked for no more calls: record it and cancel the open ones."""
    Patient.objects.filter(pk=patient.pk).update(declined_calls_on=on)
    patient.declined_calls_on = on
    audit_change(actor=actor, object_type="patient", object_id=patient.pk, fields=["declined_calls_on"])
    return calls_cancel_open(
        calls=FollowUpCall.objects.filter(discharge__patient=patient),
        reason=FollowUpCall.CancelReason.DECLINED,
        actor=actor,
    )


# --- reversing a death recorded by mistake -------------------------------------------------


@dataclass
class ReversalPlan:
    """What reversing a death record does to the calls it cancelled:
    ``restore`` are scheduled again (their lateness limit is today or
    later), ``miss`` are recorded as missed (their limit passed while the
    death stood), ``keep`` stay cancelled (their stay gets no calls any more:
    a later stay superseded it, it was archived, or the patient asked for no
    more calls). Calls the record cancelled that have changed since are in
    none of them."""

    restore: list[FollowUpCall] = field(default_factory=list)
    miss: list[FollowUpCall] = field(default_factory=list)
    keep: list[FollowUpCall] = field(default_factory=list)


@dataclass(frozen=True)
class DeathReversal:
    restored: int
    missed: int
    kept: int
    generated: GenerationResult


def death_reversal_plan(*, record: DeathRecord, today: dt.date | None = None) -> ReversalPlan:
    """Which of the calls ``record`` cancelled would come back, today."""
    today = today or timezone.localdate()
    calls = list(
        record.cancelled_calls.filter(
            status=FollowUpCall.Status.CANCELLED, cancel_reason=FollowUpCall.CancelReason.DECEASED
        )
        .select_related("step", "discharge__patient", "discharge__department", "discharge__responsible_nurse")
        .select_related("assigned_to")
        .order_by("due_date", "pk")
    )
    stays = {call.discharge_id for call in calls}
    still_called = set(_callable_discharges(list(stays), if_alive=True).values_list("pk", flat=True))
    plan = ReversalPlan()
    for call in calls:
        if call.discharge_id not in still_called:
            plan.keep.append(call)
        elif call.latest_on >= today:
            plan.restore.append(call)
        else:
            plan.miss.append(call)
    return plan


def _planned_moment(call: FollowUpCall, *, today: dt.date) -> dt.datetime | None:
    """When a restored call is planned: as before when that is still ahead;
    else, for a rule's call, the first calling day from today as generation
    would plan it; for a booked call, the same time today or on its due day."""
    if call.scheduled_for is not None and call.scheduled_for >= start_of_day(today):
        return call.scheduled_for
    preferred = call.discharge.patient.preferred_call_time
    if call.step_id:
        planner = _Planner(step=call.step, today=today)
        return planner.moment(_place(call, today=today), preferred)[0]
    day = max(call.due_date, today)
    at = timezone.localtime(call.scheduled_for).time() if call.scheduled_for else preferred
    return dt.datetime.combine(day, at, tzinfo=timezone.get_default_timezone()) if at else None


def _place(call: FollowUpCall, *, today: dt.date) -> dt.date:
    return place_call(step=call.step, due=call.due_date, not_before=today)


def _still_hers(call: FollowUpCall) -> bool:
    nurse = call.assigned_to
    return nurse is not None and nurse.is_active and nurse.departments.filter(pk=call.discharge.department_id).exists()


@transaction.atomic
def death_record_reverse(*, record: DeathRecord, by: User, reason: str, today: dt.date | None = None) -> DeathReversal:
    """A head nurse reverses a death recorded by mistake, saying why. The
    patient is alive again for the desk; of the calls the record cancelled
    those within their lateness limit are scheduled again (with the nurse
    they had when she still works there, else as generation assigns), those
    past it are recorded as missed, and calls of a stay that gets no calls
    any more stay cancelled (``death_reversal_plan``). Then the calls of
    rule steps never generated while the death stood are generated as the
    weekly run would (scheduled, or missed when past their limit).

    Who may do it (the head nurse of the ward, followup.access) is the
    view's question; the reason is required, and a record is reversed once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the death record is wrong.")]})
    today = today or timezone.localdate()
    now = timezone.now()
    changed = DeathRecord.objects.filter(pk=record.pk, reversed_at__isnull=True).update(
        reversed_at=now, reversed_by=by, reversal_reason=reason
    )
    if changed != 1:
        raise ValidationError(_("This death record was already reversed."), code="reversed")
    record.reversed_at, record.reversed_by, record.reversal_reason = now, by, reason
    patient = record.patient
    audit_change(
        actor=by,
        object_type="death",
        object_id=record.pk,
        fields=["reversed_at", "reversed_by", "reversal_reason"],
        patient_id=patient.pk,
    )
    Patient.objects.filter(pk=patient.pk).update(deceased=False, deceased_on=None, updated_at=now)
    patient.deceased, patient.deceased_on = False, None
    audit_change(
        actor=by, object_type="patient", object_id=patient.pk, fields=["deceased", "deceased_on"], note="death reversed"
    )
    outcomes_recompute(patient_ids=[patient.pk])

    plan = death_reversal_plan(record=record, today=today)
    # Lock the calls to be changed (and only those still cancelled by this death).
    ids = [call.pk for call in plan.restore + plan.miss]
    locked = set(
        FollowUpCall.objects.select_for_update(of=("self",))
        .filter(pk__in=ids, status=FollowUpCall.Status.CANCELLED, cancel_reason=FollowUpCall.CancelReason.DECEASED)
        .values_list("pk", flat=True)
    )
    restore = [call for call in plan.restore if call.pk in locked]
    miss = [call for call in plan.miss if call.pk in locked]
    monday, sunday = week_bounds(today)
    assigners: dict[int, _Assigner] = {}
    for call in restore:
        nurse_id = call.assigned_to_id
        if not _still_hers(call):
            department = call.discharge.department
            assigner = assigners.get(department.pk) or assigners.setdefault(
                department.pk, _Assigner(department=department, monday=monday, sunday=sunday)
            )
            responsible = call.discharge.responsible_nurse
            nurse_id = assigner.pick(
                responsible.pk if responsible else None, responsible.is_active if responsible else None
            )
        FollowUpCall.objects.filter(pk=call.pk).update(
            status=FollowUpCall.Status.SCHEDULED,
            cancel_reason="",
            scheduled_for=_planned_moment(call, today=today),
            next_attempt_on=None,
            callback_at=None,  # a callback agreed before the death was recorded is no longer an agreement
            assigned_to_id=nurse_id,
            changed_by=by,
            version=F("version") + 1,
            updated_at=now,
        )
    if restore:
        audit_changes(
            actor=by,
            object_type="call",
            objects=[(call.pk, patient.pk) for call in restore],
            fields=["status", "cancel_reason", "scheduled_for", "next_attempt_on", "callback_at", "assigned_to"],
            note="restored: death record reversed",
        )
    if miss:
        FollowUpCall.objects.filter(pk__in=[call.pk for call in miss]).update(
            status=FollowUpCall.Status.MISSED, cancel_reason="", changed_by=by, version=F("version") + 1, updated_at=now
        )
        audit_changes(
            actor=by,
            object_type="call",
            objects=[(call.pk, patient.pk) for call in miss],
            fields=["status", "cancel_reason"],
            note="missed: death record reversed",
        )
    stays = list(_callable_discharges(None).filter(patient=patient).values_list("pk", flat=True))
    generated = generate_calls(week=today, discharges=stays, today=today, actor=by) if stays else GenerationResult()
    return DeathReversal(restored=len(restore), missed=len(miss), kept=len(plan.keep), generated=generated)
