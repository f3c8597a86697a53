"""The LACE index for 30-day readmission or death (van Walraven C, Dhalla IA,
Bell C, et al. "Derivation and validation of an index to predict early death
or unplanned readmission after discharge from hospital to the community."
CMAJ 2010;182(6):551-557, Table 3).

L  length of stay in days: <1: 0, 1: 1, 2: 2, 3: 3, 4-6: 4, 7-13: 5, >=14: 7
A  acute (emergent) admission: 3, otherwise 0
C  Charlson comorbidity index: 0-3: the same number of points, >=4: 5
E  emergency department visits in the 6 months before admission: 0-3: the
   same number, >=4: 4

A component whose data is missing is *unknown*, never a silent 0: the total is
then unknown too, but its lower bound (the sum of the known points) is kept,
and a lower bound already at the high threshold makes the patient high risk.
"""

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from .charlson import charlson_conditions, charlson_weight

# Admission types (Discharge.AdmissionType values) that count as acute.
ACUTE_ADMISSION_TYPES = frozenset({"emergency"})
KNOWN_ADMISSION_TYPES = frozenset({"emergency", "elective", "transfer"})
EMERGENCY_LOOKBACK_DAYS = 182  # six months before the admission


class RiskTier(models.TextChoices):
    HIGH = "high", _("High")
    MODERATE = "moderate", _("Moderate")
    LOW = "low", _("Low")
    UNKNOWN = "unknown", _("Unknown")


class Component(NamedTuple):
    """One letter of LACE: the value it was worked out from, its points
    (None: unknown) and where the value came from (a plain-word key). A
    named tuple: an import builds four per row."""

    letter: str
    value: str
    points: int | None
    source: str
    floor: int = 0  # unknown, but at least this many points (visits known to have happened)

    def stored(self) -> list:
        """As a stay keeps it in ``risk_detail``: [letter, value, points,
        source] and the floor when there is one (a list, not an object with
        keys: an import writes four per stay). ``stored_component`` reads it."""
        kept = [self.letter, self.value, self.points, self.source]
        if self.floor:
            kept.append(self.floor)
        return kept


def stored_component(kept) -> Component:
    """A component as a stay keeps it: the list Component.stored writes, or
    the object with keys stays scored before that kept."""
    if isinstance(kept, dict):
        return Component(
            kept["letter"], kept.get("value", ""), kept.get("points"), kept.get("source", ""), kept.get("floor", 0)
        )
    return Component(*kept)


class LaceScore(NamedTuple):
    """A stay's score: its components, the total (None when one is
    unknown), the sum of the known points and floors, and the tier."""

    components: tuple[Component, ...]
    tier: str
    conditions: tuple[str, ...] = ()
    total: int | None = None
    lower_bound: int = 0

    @classmethod
    def of(cls, components: tuple[Component, ...], *, conditions: tuple[str, ...], high: int, moderate: int):
        known = [c.points for c in components if c.points is not None]
        total = sum(known) if len(known) == len(components) else None
        lower_bound = sum(c.floor if c.points is None else c.points for c in components)
        tier = tier_for(total=total, lower_bound=lower_bound, high=high, moderate=moderate)
        return cls(components, tier, conditions, total, lower_bound)

    def as_dict(self) -> dict:
        """What a stay keeps of its score beside its risk columns (total,
        lower bound and tier): the index, the conditions and the components."""
        return {
            "index": "LACE",
            "conditions": list(self.conditions),
            "components": [component.stored() for component in self.components],
        }


def length_points(days: int) -> int:
    if days < 1:
        return 0
    if days <= 3:
        return days
    if days <= 6:
        return 4
    if days <= 13:
        return 5
    return 7


def comorbidity_points(index: int) -> int:
    return index if index <= 3 else 5


def emergency_points(visits: int) -> int:
    return min(visits, 4)


def tier_for(*, total: int | None, lower_bound: int, high: int, moderate: int) -> str:
    if lower_bound >= high:
        return RiskTier.HIGH.value
    if total is None:
        return RiskTier.UNKNOWN.value
    if total >= moderate:
        return RiskTier.MODERATE.value
    return RiskTier.LOW.value


def lace_score(
    *,
    admitted_on: dt.date,
    discharged_on: dt.date,
    admission_type: str,
    icd10_codes: Sequence[str],
    emergency_visits: int | None,
    emergency_source: str = "visits",
    emergency_visits_at_least: int = 0,
    high: int = 10,
    moderate: int = 5,
) -> LaceScore:
    """Score one stay. ``icd10_codes``: the principal and secondary codes as
    recorded (empty: comorbidity unknown); ``emergency_visits``: emergency
    visits in the six months before ``admitted_on`` (None: unknown, though
    ``emergency_visits_at_least`` are known to have happened)."""
    days = (discharged_on - admitted_on).days
    length = Component("L", str(days), length_points(days), "stay_dates")
    if admission_type in KNOWN_ADMISSION_TYPES:
        acuity = Component("A", admission_type, 3 if admission_type in ACUTE_ADMISSION_TYPES else 0, "admission_type")
    else:
        acuity = Component("A", "", None, "missing")
    codes = [code for code in icd10_codes if code and code.strip()]
    conditions: tuple[str, ...] = ()
    if codes:
        found = charlson_conditions(codes)
        conditions = tuple(sorted(found))
        comorbidity = Component("C", str(index := charlson_weight(found)), comorbidity_points(index), "icd10")
    else:
        comorbidity = Component("C", "", None, "missing")
    if emergency_visits is None:
        floor = emergency_points(emergency_visits_at_least)
        emergency = Component("E", str(emergency_visits_at_least or ""), None, "missing", floor=floor)
    else:
        emergency = Component("E", str(emergency_visits), emergency_points(emergency_visits), emergency_source)
    return LaceScore.of((length, acuity, comorbidity, emergency), conditions=conditions, high=high, moderate=moderate)
