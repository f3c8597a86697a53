"""Scoring stays for readmission risk (calls.risk) and recording the
emergency visits the score counts.

Scoring is set-based: ``discharges_rescore`` reads the stays and the
emergency visits of their patients in two queries and writes the changed
scores with one ``UPDATE`` per 1,000 (followup.bulk.update_rows), so a file of 200,000 rows pays a few
queries per batch, not per row. A score is derived data: the change that
caused it (a stay registered, a visit recorded) carries the audit row.
"""

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from followup.audit import audit_change
from followup.bulk import JsonText, update_rows
from followup.models import AuditEvent, User

from ..models import Discharge, Patient, Visit
from ..risk import lace_score
from ..risk.lace import EMERGENCY_LOOKBACK_DAYS
from ..risk.outcomes import Stay as OutcomeStay
from ..risk.outcomes import outcome_of

RISK_FIELDS = ("risk_score", "risk_lower_bound", "risk_tier", "risk_detail")
OUTCOME_FIELDS = ("readmitted_unplanned_31", "readmitted_30", "emergency_visit_30", "died_30")
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


def discharge_risk(stay: Mapping[str, Any], emergency_days: Iterable[dt.date]):
    """The LACE score of one stay (its fields by name: a dict of column
    values or an instance's ``__dict__``), given the days of its patient's
    recorded emergency visits."""
    admitted_on = stay["admitted_on"]
    since = admitted_on - dt.timedelta(days=EMERGENCY_LOOKBACK_DAYS)
    recorded = sum(1 for day in emergency_days if since <= day < admitted_on)
    visits: int | None = None
    source, at_least = "", recorded
    if stay["reported_emergency_visits"] is not None:
        visits, source = stay["reported_emergency_visits"], "reported"
    elif settings.RISK_EMERGENCY_VISITS_COMPLETE:  # the feeds send every visit: none recorded means none
        visits, source = recorded, "visits"
    return lace_score(
        admitted_on=admitted_on,
        discharged_on=stay["discharged_on"],
        admission_type=stay["admission_type"],
        icd10_codes=[stay["icd10"], *stay["secondary_icd10"]],
        emergency_visits=visits,
        emergency_source=source,
        emergency_visits_at_least=at_least,
        high=settings.RISK_HIGH,
        moderate=settings.RISK_MODERATE,
    )


def risk_values(stay: Mapping[str, Any], emergency_days: Iterable[dt.date]) -> dict[str, Any]:
    """The risk columns of one stay (RISK_FIELDS), as discharge_risk scores it."""
    score = discharge_risk(stay, emergency_days)
    return {
        "risk_score": score.total,
        "risk_lower_bound": score.lower_bound,
        "risk_tier": score.tier,
        "risk_detail": _detail(score),
    }


def _detail(score) -> dict[str, Any]:
    """A score's detail (LaceScore.as_dict) with its JSON text, which
    followup.bulk writes instead of encoding it again: put together from
    the text of each component and of the conditions, of which a ward has a
    few hundred (a whole score's combinations are as many as its stays)."""
    text = (
        '{"index": "LACE", "conditions": '
        + _json_of(score.conditions)
        + ', "components": ['
        + ", ".join(map(_json_of, score.components))
        + "]}"
    )
    return JsonText(score.as_dict(), text=text)


@functools.lru_cache(maxsize=4096)
def _json_of(part) -> str:
    """The JSON text of a score's conditions (a tuple) or of one component."""
    return json.dumps(part.stored() if hasattr(part, "stored") else list(part))


def outcome_values(
    stays: Sequence[Mapping[str, Any]], *, emergency_days: Sequence[dt.date], died_on: dt.date | None
) -> list[dict[str, Any]]:
    """The outcome columns (OUTCOME_FIELDS) of each of one patient's stays
    (their fields by name, in any order; a cancelled stay is no
    readmission), from her stays, emergency visits and date of death."""
    if len(stays) == 1 and not emergency_days and died_on is None:  # most patients: nothing followed
        return [dict.fromkeys(OUTCOME_FIELDS, False)]
    outcome_stays = [
        OutcomeStay(key, stay["admitted_on"], stay["discharged_on"], stay["icd10"]) for key, stay in enumerate(stays)
    ]
    later = [outcome_stays[key] for key, stay in enumerate(stays) if not stay["archived"]]
    values = []
    for outcome_stay in outcome_stays:
        outcome = outcome_of(
            outcome_stay,
            later_stays=later,
            emergency_days=emergency_days,
            died_on=died_on,
            depth=settings.OUTCOME_DIAGNOSIS_DEPTH,
            planned_prefixes=settings.OUTCOME_PLANNED_CODES,
        )
        values.append(
            {
                "readmitted_unplanned_31": outcome.readmitted_unplanned,
                "readmitted_30": outcome.readmitted_all_cause,
                "emergency_visit_30": outcome.emergency_visit,
                "died_30": outcome.died,
            }
        )
    return values


def changed(row: dict[str, Any], values: dict[str, Any]) -> bool:
    """Set ``values`` on ``row`` (a dict by attribute name); whether any differed."""
    differs = any(row[name] != value for name, value in values.items())
    row.update(values)
    return differs


def emergency_days_of(patient_ids: Iterable[int], *, since: dt.date | None = None) -> dict[int, list[dt.date]]:
    """The days of the recorded emergency visits of these patients (from ``since``), in one query per 1,000."""
    ids = sorted(set(patient_ids))
    days: dict[int, list[dt.date]] = defaultdict(list)
    for start in range(0, len(ids), 1000):
        visits = Visit.objects.filter(patient_id__any=ids[start : start + 1000], kind=Visit.Kind.EMERGENCY)
        if since is not None:
            visits = visits.filter(visited_on__gte=since)
        for patient_id, day in visits.values_list("patient_id", "visited_on"):
            days[patient_id].append(day)
    return days


def discharges_rescore(*, discharge_ids: Iterable[int]) -> int:
    """Work out the risk of these stays again; return how many changed."""
    stays = list(
        Discharge.objects.filter(pk__any=list(discharge_ids)).values(
            "id",
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
    earliest = min(stay["admitted_on"] for stay in stays) - dt.timedelta(days=EMERGENCY_LOOKBACK_DAYS)
    days = emergency_days_of((stay["patient_id"] for stay in stays), since=earliest)
    rescored = [stay for stay in stays if changed(stay, risk_values(stay, days[stay["patient_id"]]))]
    update_rows(Discharge, rescored, RISK_FIELDS)
    return len(rescored)


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


def outcomes_recompute(*, patient_ids: Iterable[int]) -> int:
    """Work out again the outcome ledger of every stay of these patients
    (docs/outcomes.md) from their stays, emergency visits and dates of
    death, in three queries; return how many stays changed."""
    ids = set(patient_ids)
    if not ids:
        return 0
    stays: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for stay in Discharge.objects.filter(patient_id__any=list(ids)).values(
        "id", "patient_id", "admitted_on", "discharged_on", "icd10", "archived", *OUTCOME_FIELDS
    ):
        stays[stay["patient_id"]].append(stay)
    visits = emergency_days_of(ids)
    died = dict(Patient.objects.filter(pk__any=list(ids)).values_list("pk", "deceased_on"))
    recomputed = []
    for patient_id, own in stays.items():
        values = outcome_values(own, emergency_days=visits[patient_id], died_on=died.get(patient_id))
        recomputed.extend(stay for stay, new in zip(own, values, strict=True) if changed(stay, new))
    update_rows(Discharge, recomputed, OUTCOME_FIELDS)
    return len(recomputed)
