"""Scoring stays for readmission risk (calls.risk) and recording the
emergency visits the score counts.

Scoring is set-based: ``discharges_rescore`` reads the stays and the
emergency visits of their patients in two queries and writes the changed
scores with one ``bulk_update``, so a file of 200,000 rows pays a few
queries per batch, not per row. A score is derived data: the change that
caused it (a stay registered, a visit recorded) carries the audit row.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from followup.audit import audit_change
from followup.models import AuditEvent, User

from ..models import Discharge, Patient, Visit
from ..risk import lace_score
from ..risk.lace import EMERGENCY_LOOKBACK_DAYS
from ..risk.outcomes import Stay as OutcomeStay
from ..risk.outcomes import outcome_of

RISK_FIELDS = ("risk_score", "risk_lower_bound", "risk_tier", "risk_detail")
# Stay fields a score or an outcome is worked out from: correcting one works them out again.
RISK_INPUTS = {
    "admitted_on",
    "discharged_on",
    "admission_type",
    "icd10",
    "secondary_icd10",
    "reported_emergency_visits",
}
OUTCOME_INPUTS = {"admitted_on", "discharged_on", "icd10", "archived", "patient"}


def discharge_risk(discharge: Discharge, emergency_days: list[dt.date]):
    """The LACE score of one stay, given the days of its patient's recorded
    emergency visits."""
    since = discharge.admitted_on - dt.timedelta(days=EMERGENCY_LOOKBACK_DAYS)
    recorded = sum(1 for day in emergency_days if since <= day < discharge.admitted_on)
    visits: int | None = None
    source, at_least = "", recorded
    if discharge.reported_emergency_visits is not None:
        visits, source = discharge.reported_emergency_visits, "reported"
    elif settings.RISK_EMERGENCY_VISITS_COMPLETE:  # the feeds send every visit: none recorded means none
        visits, source = recorded, "visits"
    return lace_score(
        admitted_on=discharge.admitted_on,
        discharged_on=discharge.discharged_on,
        admission_type=discharge.admission_type,
        icd10_codes=[discharge.icd10, *discharge.secondary_icd10],
        emergency_visits=visits,
        emergency_source=source,
        emergency_visits_at_least=at_least,
        high=settings.RISK_HIGH,
        moderate=settings.RISK_MODERATE,
    )


def discharges_rescore(*, discharge_ids: Iterable[int]) -> int:
    """Work out the risk of these stays again; return how many changed."""
    stays = list(
        Discharge.objects.filter(pk__in=list(discharge_ids)).only(
            "patient_id",
            "admitted_on",
            "discharged_on",
            "admission_type",
            "icd10",
            "secondary_icd10",
            "reported_emergency_visits",
            *RISK_FIELDS,
        )
    )
    if not stays:
        return 0
    earliest = min(stay.admitted_on for stay in stays) - dt.timedelta(days=EMERGENCY_LOOKBACK_DAYS)
    days: dict[int, list[dt.date]] = defaultdict(list)
    for patient_id, day in Visit.objects.filter(
        patient_id__in={stay.patient_id for stay in stays}, kind=Visit.Kind.EMERGENCY, visited_on__gte=earliest
    ).values_list("patient_id", "visited_on"):
        days[patient_id].append(day)
    changed = []
    for stay in stays:
        score = discharge_risk(stay, days[stay.patient_id])
        values = {
            "risk_score": score.total,
            "risk_lower_bound": score.lower_bound,
            "risk_tier": score.tier,
            "risk_detail": score.as_dict(),
        }
        if any(getattr(stay, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(stay, name, value)
            changed.append(stay)
    Discharge.objects.bulk_update(changed, RISK_FIELDS, batch_size=1000)
    return len(changed)


@transaction.atomic
def visit_record(
    *,
    patient: Patient,
    visited_on: dt.date,
    source: str,
    source_reference: str = "",
    kind: str = Visit.Kind.EMERGENCY,
    actor: "User | str",
) -> Visit:
    """Record an emergency visit (once per patient and day, however often a
    feed repeats it) and score again the patient's stays it falls in the six
    months before."""
    visit, created = Visit.objects.get_or_create(
        patient=patient,
        kind=kind,
        visited_on=visited_on,
        defaults={"source": source, "source_reference": source_reference[:200]},
    )
    if created:
        audit_change(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            object_type="visit",
            object_id=visit.pk,
            fields=["patient", "kind", "visited_on", "source", "source_reference"],
            patient_id=patient.pk,
        )
        later = Discharge.objects.filter(
            patient=patient,
            admitted_on__gt=visited_on,
            admitted_on__lte=visited_on + dt.timedelta(days=EMERGENCY_LOOKBACK_DAYS),
        ).values_list("pk", flat=True)
        discharges_rescore(discharge_ids=later)
        outcomes_recompute(patient_ids=[patient.pk])
    return visit


OUTCOME_FIELDS = ("readmitted_unplanned_31", "readmitted_30", "emergency_visit_30", "died_30")


def outcomes_recompute(*, patient_ids: Iterable[int]) -> int:
    """Work out again the outcome ledger of every stay of these patients
    (docs/outcomes.md) from their stays, emergency visits and dates of
    death, in three queries; return how many stays changed. Cancelled
    stays are no readmission."""
    ids = set(patient_ids)
    if not ids:
        return 0
    stays = list(
        Discharge.objects.filter(patient_id__in=ids).only(
            "patient_id", "admitted_on", "discharged_on", "icd10", "archived", *OUTCOME_FIELDS
        )
    )
    visits: dict[int, list[dt.date]] = defaultdict(list)
    for patient_id, day in Visit.objects.filter(patient_id__in=ids, kind=Visit.Kind.EMERGENCY).values_list(
        "patient_id", "visited_on"
    ):
        visits[patient_id].append(day)
    died = dict(Patient.objects.filter(pk__in=ids).values_list("pk", "deceased_on"))
    by_patient: dict[int, list[OutcomeStay]] = defaultdict(list)
    for stay in stays:
        if not stay.archived:
            by_patient[stay.patient_id].append(OutcomeStay(stay.pk, stay.admitted_on, stay.discharged_on, stay.icd10))
    changed = []
    for stay in stays:
        outcome = outcome_of(
            OutcomeStay(stay.pk, stay.admitted_on, stay.discharged_on, stay.icd10),
            later_stays=by_patient[stay.patient_id],
            emergency_days=visits[stay.patient_id],
            died_on=died.get(stay.patient_id),
            depth=settings.OUTCOME_DIAGNOSIS_DEPTH,
            planned_prefixes=settings.OUTCOME_PLANNED_CODES,
        )
        values = {
            "readmitted_unplanned_31": outcome.readmitted_unplanned,
            "readmitted_30": outcome.readmitted_all_cause,
            "emergency_visit_30": outcome.emergency_visit,
            "died_30": outcome.died,
        }
        if any(getattr(stay, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(stay, name, value)
            changed.append(stay)
    Discharge.objects.bulk_update(changed, OUTCOME_FIELDS, batch_size=1000)
    return len(changed)
