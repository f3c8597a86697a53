"""The outcome ledger's rules (docs/outcomes.md): unplanned readmission
0-31 days by the national indicator's definition, all-cause readmission,
emergency visit and death within 30 days."""

import datetime as dt

import pytest

from calls.risk.outcomes import Stay, outcome_of

D = dt.date
INDEX = Stay(1, D(2026, 10, 1), D(2026, 10, 5), "I21.0")


def later(days_after_discharge: int, icd10: str = "I21.9", key: int = 2) -> Stay:
    admitted = INDEX.discharged_on + dt.timedelta(days=days_after_discharge)
    return Stay(key, admitted, admitted + dt.timedelta(days=3), icd10)


def outcome(*stays, visits=(), died_on=None, **options):
    return outcome_of(INDEX, later_stays=[INDEX, *stays], emergency_days=list(visits), died_on=died_on, **options)


@pytest.mark.parametrize(
    ("days", "unplanned", "all_cause"),
    [(0, True, True), (1, True, True), (30, True, True), (31, True, False), (32, False, False)],
)
def test_a_readmission_counts_from_day_0_to_day_31_and_all_cause_to_day_30(days, unplanned, all_cause):
    result = outcome(later(days))
    assert (result.readmitted_unplanned, result.readmitted_all_cause) == (unplanned, all_cause)


def test_another_disease_is_a_readmission_but_not_an_unplanned_one():
    result = outcome(later(10, "J44.1"))
    assert (result.readmitted_unplanned, result.readmitted_all_cause) == (False, True)


def test_the_diagnosis_is_compared_at_the_configured_depth():
    assert outcome(later(10, "I21.9")).readmitted_unplanned is True
    assert outcome(later(10, "I21.9"), depth=4).readmitted_unplanned is False
    assert outcome(later(10, "i21.001"), depth=4).readmitted_unplanned is True


def test_planned_care_is_never_an_unplanned_readmission():
    chemotherapy = Stay(1, D(2026, 10, 1), D(2026, 10, 5), "C34.9")
    result = outcome_of(
        chemotherapy,
        later_stays=[chemotherapy, Stay(2, D(2026, 10, 20), D(2026, 10, 22), "Z51.1")],
        emergency_days=[],
        died_on=None,
    )
    assert (result.readmitted_unplanned, result.readmitted_all_cause) == (False, True)
    same_code_planned = outcome(later(10, "I21.9"), planned_prefixes=("I21",))
    assert same_code_planned.readmitted_unplanned is False


def test_earlier_and_overlapping_stays_are_no_readmission():
    earlier = Stay(3, D(2026, 8, 1), D(2026, 8, 3), "I21.0")
    assert outcome(earlier).readmitted_all_cause is False


@pytest.mark.parametrize(("days", "counted"), [(-1, False), (0, True), (30, True), (31, False)])
def test_emergency_visits_and_death_count_within_30_days(days, counted):
    day = INDEX.discharged_on + dt.timedelta(days=days)
    result = outcome(visits=[day], died_on=day)
    assert (result.emergency_visit, result.died) == (counted, counted)
