"""The outcome ledger of a stay: what happened to the patient in the month
after discharge, worked out from the later stays, emergency visits and the
date of death the desk holds (pure: no database).

Unplanned readmission 0-31 days follows China's national hospital indicator
(住院患者出院后0-31天非预期再住院率; National Health Commission, 三级医院评审
标准 (2022 年版) 实施细则, and the 国家医疗质量安全改进目标): a new stay in
the same hospital whose admission falls 0 to 31 days after the discharge,
for the same principal diagnosis (ICD-10 compared at ``depth`` characters,
default 3: I21.0 and I21.9 are the same disease), not a planned admission
(principal code starting with one of ``planned_prefixes``, default Z51:
chemotherapy, radiotherapy and other planned care). docs/outcomes.md says
more.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from .charlson import normalise_icd10

READMISSION_DAYS = 31  # 0-31 days after discharge (the national indicator)
OUTCOME_DAYS = 30  # all-cause readmission, emergency visit, death: within 30 days


@dataclass(frozen=True)
class Stay:
    key: int
    admitted_on: dt.date
    discharged_on: dt.date
    icd10: str


@dataclass(frozen=True)
class Outcome:
    readmitted_unplanned: bool  # same diagnosis, not planned, admitted 0-31 days after discharge
    readmitted_all_cause: bool  # any stay admitted 0-30 days after discharge
    emergency_visit: bool  # an emergency visit 0-30 days after discharge
    died: bool  # died 0-30 days after discharge


def same_disease(a: str, b: str, depth: int) -> bool:
    a, b = normalise_icd10(a), normalise_icd10(b)
    return bool(a) and a[:depth] == b[:depth]


def planned(code: str, planned_prefixes: Sequence[str]) -> bool:
    code = normalise_icd10(code)
    return any(code.startswith(normalise_icd10(prefix)) for prefix in planned_prefixes if prefix)


def outcome_of(
    stay: Stay,
    *,
    later_stays: Sequence[Stay],
    emergency_days: Sequence[dt.date],
    died_on: dt.date | None,
    depth: int = 3,
    planned_prefixes: Sequence[str] = ("Z51",),
) -> Outcome:
    """``later_stays``: the patient's other stays (any order; those not
    admitted after this discharge are ignored)."""
    end = stay.discharged_on

    def within(day: dt.date, days: int) -> bool:
        return 0 <= (day - end).days <= days

    # A stay admitted on the day of this discharge is a readmission (day 0), but not this stay itself.
    others = [other for other in later_stays if other.key != stay.key and other.admitted_on >= stay.admitted_on]
    return Outcome(
        readmitted_unplanned=any(
            within(other.admitted_on, READMISSION_DAYS)
            and same_disease(other.icd10, stay.icd10, depth)
            and not planned(other.icd10, planned_prefixes)
            for other in others
        ),
        readmitted_all_cause=any(within(other.admitted_on, OUTCOME_DAYS) for other in others),
        emergency_visit=any(within(day, OUTCOME_DAYS) for day in emergency_days),
        died=died_on is not None and within(died_on, OUTCOME_DAYS),
    )
