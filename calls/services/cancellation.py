"""Cancelling open calls: shared by the deceased path, refusals, readmissions
and cancelled discharges. Each cancelled call is audited with its reason."""

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from followup.audit import audit_change, audit_changes
from followup.models import User

from ..models import FollowUpCall, Patient


@transaction.atomic
def calls_cancel_open(*, calls: QuerySet[FollowUpCall], reason: str, actor: "User | str") -> int:
    """Cancel every still-open call of ``calls``; return how many changed.
    The rows are locked first and only those still open are updated, so
    running it twice changes nothing more (and audits nothing more)."""
    open_calls = calls.filter(status__in=FollowUpCall.OPEN_STATUSES)
    rows = list(open_calls.select_for_update(of=("self",)).order_by("pk").values_list("pk", "discharge__patient_id"))
    if not rows:
        return 0
    changed = FollowUpCall.objects.filter(
        pk__in=[pk for pk, _patient in rows], status__in=FollowUpCall.OPEN_STATUSES
    ).update(
        status=FollowUpCall.Status.CANCELLED, cancel_reason=reason, version=F("version") + 1, updated_at=timezone.now()
    )
    audit_changes(
        actor=actor, object_type="call", objects=rows, fields=["status", "cancel_reason"], note=f"cancelled: {reason}"
    )
    return changed


@transaction.atomic
def patient_mark_deceased(*, patient: Patient, died_on: dt.date, actor: "User | str") -> int:
    """Record the death and cancel all the patient's open calls; no call is
    ever made to that family again. Returns the number of calls cancelled."""
    Patient.objects.filter(pk=patient.pk).update(deceased_on=died_on)
    patient.deceased_on = died_on
    audit_change(actor=actor, object_type="patient", object_id=patient.pk, fields=["deceased_on"])
    return calls_cancel_open(
        calls=FollowUpCall.objects.filter(discharge__patient=patient),
        reason=FollowUpCall.CancelReason.DECEASED,
        actor=actor,
    )


@transaction.atomic
def patients_mark_deceased(*, deaths: list[tuple[int, dt.date]], actor: "User | str") -> int:
    """patient_mark_deceased for many patients at once (a file import):
    ``deaths`` holds (patient id, date of death) pairs in the order they were
    learnt; each is audited as patient_mark_deceased audits it, the last date
    of a patient is the one kept, and the open calls of them all are
    cancelled with one statement. Returns the number of calls cancelled."""
    if not deaths:
        return 0
    last = dict(deaths)
    Patient.objects.bulk_update([Patient(pk=pk, deceased_on=day) for pk, day in last.items()], ["deceased_on"])
    audit_changes(
        actor=actor, object_type="patient", objects=[(pk, None) for pk, _day in deaths], fields=["deceased_on"]
    )
    return calls_cancel_open(
        calls=FollowUpCall.objects.filter(discharge__patient_id__in=list(last)),
        reason=FollowUpCall.CancelReason.DECEASED,
        actor=actor,
    )


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
