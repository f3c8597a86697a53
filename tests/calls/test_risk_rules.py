"""Risk drives the work: a rule step can be for some readmission risk tiers
only, so high-risk patients get an early call and weekly calls to day 30
while the others get days 7 and 14."""

import datetime as dt

import pytest

from calls.models import FollowUpCall
from calls.services.queue import generate_calls
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpRuleFactory, RuleStepFactory

from .test_queue_generation import at

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 30)


def test_each_tier_gets_its_own_steps():
    department = DepartmentFactory()
    rule = FollowUpRuleFactory(department=department)
    for offset, tiers in [(2, ["high"]), (7, []), (14, []), (21, ["high"]), (28, ["high"])]:
        RuleStepFactory(
            rule=rule,
            offset_days=offset,
            late_days=1 if offset == 2 else 7,
            weekdays=[0, 1, 2, 3, 4, 5, 6],
            window_start=dt.time(9),
            window_end=dt.time(17),
            risk_tiers=tiers,
        )
    discharged = MONDAY - dt.timedelta(days=30)
    high = DischargeFactory(department=department, discharged_on=discharged, risk_tier="high", risk_score=12)
    low = DischargeFactory(department=department, discharged_on=discharged, risk_tier="low", risk_score=3)
    unknown = DischargeFactory(department=department, discharged_on=discharged, risk_tier="unknown")

    with at(MONDAY):
        generate_calls(week=MONDAY)

    def offsets(discharge):
        return sorted(FollowUpCall.objects.filter(discharge=discharge).values_list("step__offset_days", flat=True))

    assert offsets(high) == [2, 7, 14, 21, 28]
    assert offsets(low) == [7, 14]
    assert offsets(unknown) == [7, 14]
