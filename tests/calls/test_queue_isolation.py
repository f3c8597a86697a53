"""One department with a broken rule never stops the others' calls: each
department is generated in its own savepoint, the failure is logged (ward
code and id, nothing about patients) and reported, and that department gets
all of its calls or none.

The broken rule is real data, not a mock: a step whose calling days were
stored as 9 (written before the model checked them, or by a script), which
the queue cannot place a call on."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from calls.models import Discharge, FollowUpCall, RuleStep
from calls.services.queue import GenerationResult, generate_calls
from calls.tasks import generate_weekly_queue
from tests.calls.test_discharge_form import post_data
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpRuleFactory, PatientFactory, RuleStepFactory

pytestmark = pytest.mark.django_db

MONDAY_W48 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(MONDAY_W48, tick=False):
        yield


@pytest.fixture
def wards():
    """ONC (created first, so generated first) has a good step and a broken
    one; CARD's rule is sound. Each has discharges due this week."""
    oncology = DepartmentFactory(code="ONC", name="Oncology")
    rule = FollowUpRuleFactory(department=oncology)
    RuleStepFactory(rule=rule, order=0, offset_days=7, weekdays=[0, 1, 2, 3, 4])
    broken = RuleStepFactory(rule=rule, order=1, offset_days=14, weekdays=[9])
    cardiology = DepartmentFactory(code="CARD", name="Cardiology")
    RuleStepFactory(rule__department=cardiology, offset_days=7, weekdays=[3])
    for day in (16, 17, 18):
        DischargeFactory(department=cardiology, discharged_on=dt.date(2026, 11, day))
    DischargeFactory(department=oncology, discharged_on=dt.date(2026, 11, 9), patient=PatientFactory(name="王秀兰"))
    return oncology, cardiology, broken


def calls_by_ward():
    return sorted(FollowUpCall.objects.values_list("discharge__department__code", "due_date"))


def test_a_broken_rule_stops_only_its_own_department(wards, caplog):
    oncology, _cardiology, _broken = wards

    with caplog.at_level(logging.ERROR):
        result = generate_weekly_queue.apply().get()

    assert result == {"created": 3, "already_present": 0, "missed": 0, "failed_departments": ["ONC"]}
    # Oncology's good step (due 16 November) was rolled back with the broken one: all or nothing.
    assert calls_by_ward() == [
        ("CARD", dt.date(2026, 11, 23)),
        ("CARD", dt.date(2026, 11, 24)),
        ("CARD", dt.date(2026, 11, 25)),
    ]
    failure, summary = caplog.records
    assert (failure.name, failure.getMessage()) == (
        "calls.services.queue",
        f"Call generation failed for department ONC (id {oncology.pk})",
    )
    assert str(failure.exc_info[1]).startswith("rule step ")
    assert summary.getMessage() == "Call queue for the week of 2026-11-23: departments not generated: ONC"
    assert "王秀兰" not in caplog.text


def test_once_the_rule_is_corrected_the_next_run_plans_the_departments_calls(wards):
    _oncology, _cardiology, broken = wards
    generate_calls(week=MONDAY_W48.date())
    RuleStep.objects.filter(pk=broken.pk).update(weekdays=[0])

    result = generate_calls(week=MONDAY_W48.date())

    assert result == GenerationResult(created=2, already_present=3, missed=0, failed_departments=())
    assert [c for c in calls_by_ward() if c[0] == "ONC"] == [
        ("ONC", dt.date(2026, 11, 16)),
        ("ONC", dt.date(2026, 11, 23)),
    ]


def test_the_command_prints_what_it_did_and_fails_naming_the_department(wards, capsys):
    with pytest.raises(CommandError) as failed:
        call_command("generate_calls", "--week", "2026-W48")

    assert (
        str(failed.value) == "Not generated, see the log: departments ONC (the other departments' calls were created)"
    )
    assert capsys.readouterr().out == (
        "Week 2026-W48 (2026-11-23 to 2026-11-29)\ncreated:         3\nalready present: 0\nmissed:          0\n"
    )


def test_registering_a_discharge_in_a_ward_with_a_broken_rule_keeps_it_and_says_so(client_for, nurse, wards):
    oncology, _cardiology, _broken = wards
    oncology.staff.add(nurse)

    response = client_for(nurse).post(
        reverse("calls:discharge_new"),
        post_data(oncology, admitted_on="2026-11-02", discharged_on="2026-11-09"),
        follow=True,
    )

    assert response.redirect_chain == [(reverse("calls:discharge_list"), 302)]
    assert [(m.level_tag, str(m)) for m in response.context["messages"]] == [
        (
            "warning",
            "Discharge of 张伟 (ZY123) registered, but its calls could not be planned: a follow-up rule of Oncology is "
            "broken. Tell the administrator: the first weekly run after the rule is corrected plans them.",
        )
    ]
    assert Discharge.objects.filter(patient__mrn="ZY123", department=oncology).count() == 1
    assert FollowUpCall.objects.filter(discharge__department=oncology).count() == 0
