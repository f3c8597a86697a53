"""Cancelling open calls: shared by the deceased path, refusals, readmissions
and cancelled discharges."""

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet

from ..models import FollowUpCall, Patient


def calls_cancel_open(*, calls: QuerySet[FollowUpCall], reason: str) -> int:
    """Cancel every still-open call of ``calls``; return how many changed.
    A conditional update, so running it twice changes nothing more."""
    return calls.filter(status__in=FollowUpCall.OPEN_STATUSES).update(
        status=FollowUpCall.Status.CANCELLED, cancel_reason=reason, version=F("version") + 1
    )


@transaction.atomic
def patient_mark_deceased(*, patient: Patient, died_on: dt.date) -> int:
    """Record the death and cancel all the patient's open calls; no call is
    ever made to that family again. Returns the number of calls cancelled."""
    Patient.objects.filter(pk=patient.pk).update(deceased_on=died_on)
    patient.deceased_on = died_on
    return calls_cancel_open(
        calls=FollowUpCall.objects.filter(discharge__patient=patient), reason=FollowUpCall.CancelReason.DECEASED
    )


@transaction.atomic
def patient_decline_calls(*, patient: Patient, on: dt.date) -> int:
    """The patient asked for no more calls: record it and cancel the open ones."""
    Patient.objects.filter(pk=patient.pk).update(declined_calls_on=on)
    patient.declined_calls_on = on
    return calls_cancel_open(
        calls=FollowUpCall.objects.filter(discharge__patient=patient), reason=FollowUpCall.CancelReason.DECLINED
    )
