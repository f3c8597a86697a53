import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calls.models import FollowUpCall
from calls.services.cancellation import patient_decline_calls, patient_mark_deceased
from calls.services.queue import GenerationResult, generate_calls, parse_iso_week
from calls.tasks import generate_weekly_queue
from followup.roles import Role
from tests.factories import (
    DepartmentFactory,
    DischargeFactory,
    FollowUpRuleFactory,
    PatientFactory,
    RuleStepFactory,
    UserFactory,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC
MON_W48 = dt.date(2026, 11, 23)  # Monday of ISO week 2026-W48

pytestmark = pytest.mark.django_db


def at(day: dt.date, hour: int = 9, zone=SHANGHAI):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=zone), tick=False)


def weekday_step(department, *, offset=7, weekdays=(0, 1, 2, 3, 4), start=dt.time(14), end=dt.time(17), **kwargs):
    rule = FollowUpRuleFactory(department=department, **{k: kwargs.pop(k) for k in ["diagnosis_match"] if k in kwargs})
    return RuleStepFactory(
        rule=rule, offset_days=offset, weekdays=list(weekdays), window_start=start, window_end=end, **kwargs
    )


def only_call():
    (call,) = FollowUpCall.objects.all()
    return call


def test_parse_iso_week_gives_the_monday():
    assert parse_iso_week("2026-W48") == MON_W48
    assert parse_iso_week("2026-w01") == dt.date(2025, 12, 29)


def test_thursday_desk_call_lands_on_the_first_thursday_after_the_due_date():
    step = RuleStepFactory(offset_days=7, weekdays=[3], window_start=dt.time(16), window_end=dt.time(17))
    discharge = DischargeFactory(department=step.rule.department, discharged_on=dt.date(2026, 11, 16))
    with at(MON_W48):
        result = generate_calls(week=dt.date(2026, 11, 25))
    assert result == GenerationResult(created=1, already_present=0, missed=0)
    call = only_call()
    assert (call.discharge, call.step, call.status) == (discharge, step, FollowUpCall.Status.SCHEDULED)
    assert call.due_date == dt.date(2026, 11, 23)
    assert (call.earliest_on, call.latest_on) == (dt.date(2026, 11, 23), dt.date(2026, 11, 30))
    assert call.scheduled_for == dt.datetime(2026, 11, 26, 16, 0, tzinfo=SHANGHAI)


def test_saturday_due_date_moves_to_monday_across_the_week_and_month_end():
    department = DepartmentFactory()
    weekday_step(department)
    DischargeFactory(department=department, discharged_on=dt.date(2026, 10, 24))  # due Saturday 31 October
    with at(dt.date(2026, 10, 26)):
        result = generate_calls(week=dt.date(2026, 10, 26))  # the catch-up covers the week before
    assert result == GenerationResult(created=1, already_present=0, missed=0)
    call = only_call()
    assert call.due_date == dt.date(2026, 10, 31)
    assert call.scheduled_for == dt.datetime(2026, 11, 2, 14, 0, tzinfo=SHANGHAI)


def test_only_calls_due_in_the_week_or_before_are_created():
    department = DepartmentFactory()
    weekday_step(department)
    in_week = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 22))  # due Sunday 29
    DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 23))  # due Monday 30: next week
    with at(MON_W48):
        result = generate_calls(week=MON_W48)
    assert result == GenerationResult(created=1, already_present=0, missed=0)
    call = only_call()
    assert (call.discharge, call.due_date) == (in_week, dt.date(2026, 11, 29))
    assert call.scheduled_for == dt.datetime(2026, 11, 30, 14, 0, tzinfo=SHANGHAI)


def test_early_calling_uses_the_window_day_before_the_due_date_when_none_follows_in_time():
    step = RuleStepFactory(
        offset_days=7, weekdays=[3], early_days=2, late_days=1, window_start=dt.time(16), window_end=dt.time(17)
    )
    DischargeFactory(department=step.rule.department, discharged_on=dt.date(2026, 11, 21))  # due Sat 28
    with at(MON_W48):
        generate_calls(week=MON_W48)
    assert only_call().scheduled_for == dt.datetime(2026, 11, 26, 16, 0, tzinfo=SHANGHAI)


def test_preferred_time_inside_the_window_wins_and_outside_it_the_window_start_is_used():
    department = DepartmentFactory()
    weekday_step(department, start=dt.time(15), end=dt.time(17))
    inside = DischargeFactory(
        department=department,
        discharged_on=dt.date(2026, 11, 17),
        patient=PatientFactory(preferred_call_time=dt.time(16, 30)),
    )
    outside = DischargeFactory(
        department=department,
        discharged_on=dt.date(2026, 11, 17),
        patient=PatientFactory(preferred_call_time=dt.time(9, 0)),
    )
    with at(MON_W48):
        generate_calls(week=MON_W48)
    placed = dict(FollowUpCall.objects.values_list("discharge", "scheduled_for"))
    assert placed == {
        inside.pk: dt.datetime(2026, 11, 24, 16, 30, tzinfo=SHANGHAI),
        outside.pk: dt.datetime(2026, 11, 24, 15, 0, tzinfo=SHANGHAI),
    }


def test_window_keeps_its_local_hour_across_the_daylight_saving_change(settings):
    settings.TIME_ZONE = "Europe/Berlin"  # summer time ends on Sunday 25 October 2026
    berlin = ZoneInfo("Europe/Berlin")
    department = DepartmentFactory()
    weekday_step(department, weekdays=[0], start=dt.time(9), end=dt.time(10))
    summer = DischargeFactory(department=department, discharged_on=dt.date(2026, 10, 12))  # due Mon 19 Oct
    winter = DischargeFactory(department=department, discharged_on=dt.date(2026, 10, 19))  # due Mon 26 Oct
    with time_machine.travel(dt.datetime(2026, 10, 19, 8, 0, tzinfo=berlin), tick=False):
        assert generate_calls(week=dt.date(2026, 10, 19)) == GenerationResult(created=1)
    # Sunday 23:30 UTC is already Monday 00:30 in Berlin after the change: the task runs week 2026-W44.
    with time_machine.travel(dt.datetime(2026, 10, 25, 23, 30, tzinfo=UTC), tick=False):
        assert generate_weekly_queue.apply().get() == {
            "created": 1,
            "already_present": 1,
            "missed": 0,
            "failed_departments": [],
        }
    placed = {d: t.astimezone(UTC) for d, t in FollowUpCall.objects.values_list("discharge", "scheduled_for")}
    assert placed == {
        summer.pk: dt.datetime(2026, 10, 19, 7, 0, tzinfo=UTC),  # 09:00 CEST (UTC+2)
        winter.pk: dt.datetime(2026, 10, 26, 8, 0, tzinfo=UTC),  # 09:00 CET (UTC+1)
    }
    assert FollowUpCall.objects.get(discharge=winter).scheduled_for.astimezone(berlin).hour == 9


def test_responsible_nurse_gets_the_call_when_active():
    department = DepartmentFactory()
    weekday_step(department)
    responsible = UserFactory(roles=[Role.NURSE])
    department.staff.add(UserFactory(roles=[Role.NURSE]))
    DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17), responsible_nurse=responsible)
    with at(MON_W48):
        generate_calls(week=MON_W48)
    assert only_call().assigned_to == responsible


def test_calls_without_an_active_responsible_nurse_go_to_the_least_loaded_nurse_of_the_department():
    department = DepartmentFactory()
    step = weekday_step(department)
    busy, idle = UserFactory(roles=[Role.NURSE]), UserFactory(roles=[Role.NURSE])
    retired = UserFactory(roles=[Role.NURSE], is_active=False)
    not_a_nurse = UserFactory(roles=[Role.COMPLAINT_OFFICER])
    department.staff.add(busy, idle, retired, not_a_nurse)
    other = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 16))
    for _booked in range(2):  # two calls booked for busy already that week
        FollowUpCall.objects.create(
            discharge=other,
            department=department,
            step=None,
            due_date=MON_W48,
            earliest_on=MON_W48,
            latest_on=MON_W48,
            assigned_to=busy,
        )
    first = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17), responsible_nurse=retired)
    second = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17))
    third = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17))
    with at(MON_W48):
        generate_calls(week=MON_W48)
    assigned = dict(FollowUpCall.objects.filter(step=step).values_list("discharge", "assigned_to"))
    assert assigned == {other.pk: idle.pk, first.pk: idle.pk, second.pk: busy.pk, third.pk: idle.pk}


def test_a_department_without_nurses_leaves_the_call_unassigned():
    department = DepartmentFactory()
    weekday_step(department)
    DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17))
    with at(MON_W48):
        generate_calls(week=MON_W48)
    assert only_call().assigned_to is None


def test_generate_calls_twice_creates_nothing_new():
    department = DepartmentFactory()
    weekday_step(department, offset=7)
    weekday_step(department, offset=3, diagnosis_match="")
    for _ in range(3):
        DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 19))
    with at(MON_W48):
        first = generate_calls(week=MON_W48)
        snapshot = list(FollowUpCall.objects.order_by("pk").values())
        second = generate_calls(week=MON_W48)
    assert first == GenerationResult(created=3, already_present=0, missed=0)
    assert second == GenerationResult(created=0, already_present=3, missed=0)
    assert list(FollowUpCall.objects.order_by("pk").values()) == snapshot


def test_catch_up_schedules_overdue_calls_still_in_time_and_records_the_rest_as_missed():
    step = RuleStepFactory(offset_days=7, late_days=7, weekdays=[3], window_start=dt.time(16), window_end=dt.time(17))
    department = step.rule.department
    too_late = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 5))  # due 12th, until 19th
    in_time = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 10))  # due 17th, until 24th
    with at(MON_W48):
        result = generate_calls(week=MON_W48)
    assert result == GenerationResult(created=1, already_present=0, missed=1)
    calls = {c.discharge_id: c for c in FollowUpCall.objects.all()}
    assert calls[too_late.pk].status == FollowUpCall.Status.MISSED
    assert calls[too_late.pk].scheduled_for == dt.datetime(2026, 11, 12, 16, 0, tzinfo=SHANGHAI)
    assert calls[in_time.pk].status == FollowUpCall.Status.SCHEDULED
    # Not in the past: the first Thursday from today on, late as it is.
    assert calls[in_time.pk].scheduled_for == dt.datetime(2026, 11, 26, 16, 0, tzinfo=SHANGHAI)


def test_a_discharge_entered_months_late_has_every_past_call_recorded_as_missed():
    department = DepartmentFactory()
    step7 = weekday_step(department, offset=7, late_days=7)
    step30 = RuleStepFactory(
        rule=step7.rule,
        offset_days=30,
        late_days=7,
        weekdays=[0, 1, 2, 3, 4],
        window_start=dt.time(14),
        window_end=dt.time(17),
    )
    old = DischargeFactory(department=department, discharged_on=dt.date(2026, 8, 3))
    with at(MON_W48):
        weekly = generate_calls(week=MON_W48)  # the weekly run looks back six weeks only
        entered = generate_calls(week=MON_W48, discharges=[old])
    assert weekly == GenerationResult(created=0, already_present=0, missed=0)
    assert entered == GenerationResult(created=0, already_present=0, missed=2)
    assert sorted(FollowUpCall.objects.values_list("step", "status", "due_date")) == sorted(
        [
            (step7.pk, FollowUpCall.Status.MISSED, dt.date(2026, 8, 10)),
            (step30.pk, FollowUpCall.Status.MISSED, dt.date(2026, 9, 2)),
        ]
    )


def test_deceased_declined_archived_and_readmitted_stays_get_no_calls():
    department = DepartmentFactory()
    weekday_step(department)
    day = dt.date(2026, 11, 17)
    deceased = DischargeFactory(department=department, discharged_on=day)
    patient_mark_deceased(patient=deceased.patient, died_on=day, actor="hl7:HIS")
    declined = DischargeFactory(department=department, discharged_on=day)
    patient_decline_calls(patient=declined.patient, on=day, actor="hl7:HIS")
    DischargeFactory(department=department, discharged_on=day, archived=True)
    earlier = DischargeFactory(department=department, discharged_on=day, admitted_on=dt.date(2026, 11, 10))
    DischargeFactory(
        department=department,
        patient=earlier.patient,
        admitted_on=dt.date(2026, 11, 20),
        discharged_on=dt.date(2026, 11, 22),
    )
    kept = DischargeFactory(department=department, discharged_on=day)
    with at(MON_W48):
        result = generate_calls(week=MON_W48)
    assert result == GenerationResult(created=2, already_present=0, missed=0)
    assert sorted(FollowUpCall.objects.values_list("discharge__discharged_on", "discharge_id")) == [
        (day, kept.pk),
        (dt.date(2026, 11, 22), earlier.patient.discharges.get(admitted_on=dt.date(2026, 11, 20)).pk),
    ]


def test_a_rule_matching_the_diagnosis_or_icd10_prefix_beats_the_departments_general_rule():
    department = DepartmentFactory()
    general = weekday_step(department, offset=7)
    heart_failure = weekday_step(department, offset=4, diagnosis_match="heart failure")
    by_code = weekday_step(department, offset=5, diagnosis_match="I21")
    plain = DischargeFactory(
        department=department, discharged_on=dt.date(2026, 11, 17), diagnosis="Angina", icd10="I20.0"
    )
    failing = DischargeFactory(
        department=department, discharged_on=dt.date(2026, 11, 19), diagnosis="Chronic Heart Failure", icd10="I50.9"
    )
    infarct = DischargeFactory(
        department=department, discharged_on=dt.date(2026, 11, 19), diagnosis="Myocardial infarction", icd10="i21.4"
    )
    with at(MON_W48):
        generate_calls(week=MON_W48)
    assert dict(FollowUpCall.objects.values_list("discharge", "step")) == {
        plain.pk: general.pk,
        failing.pk: heart_failure.pk,
        infarct.pk: by_code.pk,
    }


def test_inactive_rules_and_other_departments_are_ignored():
    department = DepartmentFactory()
    step = weekday_step(department)
    step.rule.is_active = False
    step.rule.save()
    DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17))
    DischargeFactory(discharged_on=dt.date(2026, 11, 17))
    with at(MON_W48):
        assert generate_calls(week=MON_W48) == GenerationResult()
    assert FollowUpCall.objects.count() == 0


def test_limiting_to_some_discharges_leaves_the_others_for_the_weekly_run():
    department = DepartmentFactory()
    weekday_step(department)
    chosen = DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17))
    DischargeFactory(department=department, discharged_on=dt.date(2026, 11, 17))
    with at(MON_W48):
        assert generate_calls(week=MON_W48, discharges=[chosen.pk]) == GenerationResult(created=1)
        assert generate_calls(week=MON_W48) == GenerationResult(created=1, already_present=1)
    assert FollowUpCall.objects.filter(discharge=chosen).count() == 1
