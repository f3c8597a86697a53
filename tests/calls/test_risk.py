"""Readmission risk at discharge: the Charlson index from ICD-10 (Quan's
coding), the LACE index with each component and where it came from, and
"unknown" where data is missing rather than a silent 0."""

import datetime as dt
import json

import pytest

from calls.risk import charlson_conditions, charlson_index, lace_score
from calls.risk.lace import comorbidity_points, emergency_points, length_points, stored_component
from calls.services.risk import risk_values

D = dt.date


# --- Charlson (Quan H, et al. Med Care 2005;43:1130, Table 1; Charlson 1987 weights) ------------


@pytest.mark.parametrize(
    ("codes", "conditions"),
    [
        (["I21.9"], {"ami"}),
        (["I25.2"], {"ami"}),  # old myocardial infarction
        (["I25.1"], set()),  # chronic ischaemic heart disease is no Charlson condition
        (["I50.0", "J44.1"], {"chf", "copd"}),
        (["E11.9"], {"diab"}),
        (["E11.2"], {"diabwc"}),
        (["N18.3"], {"rend"}),
        (["C50.9"], {"canc"}),
        (["K70.4"], {"msld"}),
        (["B20"], {"aids"}),
        (["i21.001", "E11.900x001"], {"ami", "diab"}),  # China's clinical version: extensions after the dot
        ([" i50 .9 "], {"chf"}),
        (["XYZ", "", "<script>"], set()),
    ],
)
def test_quan_icd10_codes_give_their_charlson_conditions(codes, conditions):
    assert charlson_conditions(codes) == conditions


def test_the_severe_form_of_a_condition_replaces_the_mild_one():
    # Metastatic cancer (6) without the primary cancer's 2; diabetes with complications (2)
    # without plain diabetes' 1; severe liver disease (3) without mild liver disease's 1.
    codes = ["C50.9", "C78.0", "E11.9", "E11.2", "K70.3", "K72.1"]
    assert charlson_conditions(codes) == {"metacanc", "diabwc", "msld"}
    assert charlson_index(codes) == 6 + 2 + 3


def test_charlson_index_adds_the_original_weights():
    # MI 1 + heart failure 1 + COPD 1 + hemiplegia 2 + renal disease 2 = 7
    assert charlson_index(["I21.0", "I50.9", "J44.9", "G81.9", "N18.5"]) == 7


# --- LACE (van Walraven C, et al. CMAJ 2010;182:551, Table 3) ----------------------------------


@pytest.mark.parametrize(
    ("days", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (6, 4), (7, 5), (13, 5), (14, 7), (60, 7)]
)
def test_length_of_stay_points(days, points):
    assert length_points(days) == points


@pytest.mark.parametrize(("index", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (9, 5)])
def test_comorbidity_points(index, points):
    assert comorbidity_points(index) == points


@pytest.mark.parametrize(("visits", "points"), [(0, 0), (1, 1), (3, 3), (4, 4), (12, 4)])
def test_emergency_visit_points(visits, points):
    assert emergency_points(visits) == points


def test_a_worked_example_scores_every_component_and_names_its_source():
    # 5 days in hospital (L 4), admitted through the emergency department (A 3),
    # heart failure and COPD (Charlson 2: C 2), one emergency visit in six months (E 1).
    score = lace_score(
        admitted_on=D(2026, 11, 10),
        discharged_on=D(2026, 11, 15),
        admission_type="emergency",
        icd10_codes=["I50.9", "J44.9"],
        emergency_visits=1,
        emergency_source="reported",
    )
    assert [(c.letter, c.value, c.points, c.source) for c in score.components] == [
        ("L", "5", 4, "stay_dates"),
        ("A", "emergency", 3, "admission_type"),
        ("C", "2", 2, "icd10"),
        ("E", "1", 1, "reported"),
    ]
    assert (score.total, score.lower_bound, score.tier) == (10, 10, "high")
    assert score.conditions == ("chf", "copd")


@pytest.mark.parametrize(
    ("admission_type", "visits", "total", "tier"),
    [
        ("elective", 0, 4 + 0 + 0 + 0, "low"),
        ("transfer", 1, 4 + 0 + 0 + 1, "moderate"),
        ("emergency", 4, 4 + 3 + 0 + 4, "high"),
    ],
)
def test_tiers_follow_the_thresholds(admission_type, visits, total, tier):
    score = lace_score(
        admitted_on=D(2026, 11, 10),
        discharged_on=D(2026, 11, 15),
        admission_type=admission_type,
        icd10_codes=["I25.1"],
        emergency_visits=visits,
    )
    assert (score.total, score.tier) == (total, tier)


def test_missing_data_is_unknown_not_zero():
    score = lace_score(
        admitted_on=D(2026, 11, 10),
        discharged_on=D(2026, 11, 12),
        admission_type="",
        icd10_codes=[],
        emergency_visits=None,
    )
    assert [(c.letter, c.points, c.source) for c in score.components] == [
        ("L", 2, "stay_dates"),
        ("A", None, "missing"),
        ("C", None, "missing"),
        ("E", None, "missing"),
    ]
    assert (score.total, score.lower_bound, score.tier) == (None, 2, "unknown")


def test_a_lower_bound_at_the_threshold_is_high_risk_even_with_a_component_unknown():
    # 14 days (7) + emergency (3) = 10 already, whatever the comorbidities.
    score = lace_score(
        admitted_on=D(2026, 11, 1),
        discharged_on=D(2026, 11, 15),
        admission_type="emergency",
        icd10_codes=[],
        emergency_visits=None,
        emergency_visits_at_least=2,
    )
    assert (score.total, score.lower_bound, score.tier) == (None, 12, "high")
    assert score.components[3].floor == 2


@pytest.mark.parametrize(
    ("admission_type", "codes", "reported"),
    [
        ("emergency", ["I21.0", "E11.2", "C78.0"], 2),
        ("", [], None),
        ("elective", ["Z51.1"], 7),
        ("transfer", ["I50.9"], 0),
    ],
)
def test_a_stored_risk_detail_is_its_own_json(admission_type, codes, reported, settings):
    """The detail a stay keeps carries the JSON text the import writes: it
    must read back as the detail itself, components and conditions alike."""
    settings.RISK_EMERGENCY_VISITS_COMPLETE = False
    stay = {
        "admitted_on": dt.date(2026, 1, 1),
        "discharged_on": dt.date(2026, 1, 9),
        "admission_type": admission_type,
        "icd10": codes[0] if codes else "",
        "secondary_icd10": codes[1:],
        "reported_emergency_visits": reported,
    }
    detail = risk_values(stay, [dt.date(2025, 12, 1)])["risk_detail"]
    assert json.loads(detail.text) == detail
    assert [stored_component(c).letter for c in detail["components"]] == ["L", "A", "C", "E"]


def test_a_component_reads_the_same_from_either_form_a_stay_kept():
    """Stays scored before components were kept as lists hold objects with keys: both read alike."""
    score = lace_score(
        admitted_on=dt.date(2026, 1, 1),
        discharged_on=dt.date(2026, 1, 3),
        admission_type="",
        icd10_codes=[],
        emergency_visits=None,
        emergency_visits_at_least=2,
    )
    for component in score.components:
        older = {"letter": component.letter, "value": component.value, "points": component.points}
        older.update(source=component.source, **({"floor": component.floor} if component.floor else {}))
        assert stored_component(component.stored()) == stored_component(older) == component
    assert score.components[3].stored() == ["E", "2", None, "missing", 2]
