"""On PostgreSQL the dashboard reads summary tables kept by triggers; here
every kind of change goes through them and the figures must equal those
counted from the calls themselves. (On SQLite both sources are the calls.)"""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from calls.dashboard.selectors import Period, Source, dashboard_figures
from calls.dashboard.stay_summary import stays_differences, stays_rebuild
from calls.dashboard.summary import summary_differences, summary_rebuild
from calls.models import DashboardDay, DashboardItemDay, Discharge, FollowUpCall, ItemScore, Patient, SpotCheck
from calls.services.queue import CHUNK_SIZE, generate_calls
from calls.services.spot_checks import spot_check_review
from followup.roles import Role
from tests.factories import DepartmentFactory, RuleStepFactory, SatisfactionItemFactory, UserFactory, bulk_calls

NOW = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
S = FollowUpCall.Status


def figures(department_ids, source):
    d = dashboard_figures(
        department_ids=department_ids, period=Period(dt.date(2025, 11, 1), dt.date(2026, 11, 26)), source=source
    )
    return {
        "counts": d.counts,
        "headlines": [(h.key, h.current, h.previous, h.year_ago) for h in d.headlines],
        "items": [(r["item_id"], r["n"], r["average"], r["top"], r["middle"], r["bottom"]) for r in d.items],
        "items_total": (d.items_total["n"], d.items_total["average"]),
        "weeks": [(w["week"], w["due"], w["countable"], w["completed"], w["rated"], w["satisfied"]) for w in d.weeks],
        "nurses": [
            (r["assigned_to"], r["assigned"], r["completed"], r["overdue"], r["average_minutes"], r["satisfied"])
            for r in d.nurses
        ],
        "spot_checks": {k: v for k, v in d.spot_checks.items() if isinstance(v, int)},
        "patients": patient_figures(d.patients),
    }


def patient_figures(p) -> dict:
    return {
        "headlines": [(f.key, f.count, f.rate) for f in p.headlines],
        "breakdowns": [
            [(r["value"], r["patients"], r["reached"]) for r in rows]
            for rows in (p.by_sex, p.by_age_band, p.by_chapter, p.by_icd10)
        ],
        "reasons": [(r["code"], r["complaints"], r["stays"]) for r in p.complaint_reasons],
    }


@time_machine.travel(NOW, tick=False)
def test_summary_figures_equal_the_figures_counted_from_the_calls(head_nurse):
    cardio, onco = DepartmentFactory(code="CARD"), DepartmentFactory(code="ONC")
    alice, erin = (UserFactory(username=n, roles=[Role.NURSE]) for n in ("alice", "erin"))
    item, other_item = SatisfactionItemFactory(code="attitude"), SatisfactionItemFactory(code="fees")
    rows = []
    for i in range(40):
        day = dt.date(2026, 11, 20) - dt.timedelta(days=9 * i)
        rows.append({"due_date": day, "assigned_to": (alice, erin, None)[i % 3], "status": S.SCHEDULED})
    calls = bulk_calls(department=cardio, rows=rows)
    bulk_calls(department=onco, rows=rows[:10])
    # completions, through save() as the services do
    for i, call in enumerate(calls[:30]):
        call.status = S.COMPLETED
        call.completed_at = timezone.now()
        call.satisfaction = ("satisfied", "basic", "unsatisfied", "")[i % 4]
        call.answered_by = ("patient", "family", "both")[i % 3]
        call.duration_seconds = 200 + 10 * i if i % 5 else None
        call.save()
        ItemScore.objects.create(call=call, item=item, score=1 + i % 10)
        if i % 2:
            ItemScore.objects.create(call=call, item=other_item, score=10 - i % 10)
    # conditional updates (no save()), as cancellation does
    FollowUpCall.objects.filter(pk__in=[c.pk for c in calls[30:34]]).update(
        status=S.CANCELLED, cancel_reason="deceased"
    )
    FollowUpCall.objects.filter(pk__in=[c.pk for c in calls[34:36]]).update(
        status=S.CANCELLED, cancel_reason="declined"
    )
    FollowUpCall.objects.filter(pk=calls[36].pk).update(status=S.UNREACHABLE)
    # an item score corrected and one removed; a call moved to another day and a nurse
    ItemScore.objects.filter(call=calls[0], item=item).update(score=9)
    ItemScore.objects.filter(call=calls[1], item=other_item).delete()
    FollowUpCall.objects.filter(pk=calls[2].pk).update(due_date=dt.date(2026, 11, 25), assigned_to=erin)
    # spot checks sampled, reviewed, one removed
    checks = SpotCheck.objects.bulk_create(
        [SpotCheck(call=c, week=dt.date(2026, 11, 16), sampled_at=timezone.now()) for c in calls[:8]]
    )
    spot_check_review(spot_check=checks[0], by=head_nurse, verdict="good", comment="")
    spot_check_review(spot_check=checks[1], by=head_nurse, verdict="needs_improvement", comment="Too fast.")
    spot_check_review(spot_check=checks[1], by=head_nurse, verdict="good", comment="Second look: fine.")
    checks[7].delete()
    # a discharge moved to another department takes its call along
    Discharge.objects.filter(pk=calls[3].discharge_id).update(department=onco)

    for department_ids in ([cardio.pk], [onco.pk], [cardio.pk, onco.pk]):
        live = figures(department_ids, Source(summary=False))
        assert figures(department_ids, None) == live
    assert figures([cardio.pk], None)["spot_checks"] == {
        "completed": 29,
        "sampled": 6,
        "reviewed": 2,
        "good": 2,
        "needs_improvement": 0,
    }
    summary_rebuild()
    assert figures([cardio.pk, onco.pk], None) == figures([cardio.pk, onco.pk], Source(summary=False))


def summary_rows() -> tuple[list[tuple], list[tuple]]:
    """Both summary tables' rows that count something, sorted."""
    days = (
        DashboardDay.objects.exclude(calls=0, duration_sum=0, duration_n=0)
        .values_list(*DAY_FIELDS, "calls", "duration_sum", "duration_n")
        .order_by(*DAY_FIELDS)
    )
    items = (
        DashboardItemDay.objects.exclude(scores=0)
        .values_list("department_id", "due_date", "item_id", "score", "scores")
        .order_by("department_id", "due_date", "item_id", "score")
    )
    return list(days), list(items)


DAY_FIELDS = (
    "department_id",
    "due_date",
    "assigned_to_id",
    "status",
    "cancel_reason",
    "answered_by",
    "satisfaction",
    "spot_check",
)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary tables are kept on PostgreSQL only")
@time_machine.travel(NOW, tick=False)
def test_summary_stays_exact_through_a_large_generation_and_statements_of_many_rows(head_nurse):
    """The triggers work per statement: a generation inserts its calls in
    chunks of CHUNK_SIZE, bulk updates and deletes touch hundreds of rows at
    once. After each, the summary equals the one rebuilt from the calls."""
    cardio, onco = DepartmentFactory(code="CARD"), DepartmentFactory(code="ONC")
    nurses = [UserFactory(username=f"nurse{i}", roles=[Role.NURSE]) for i in range(3)]
    cardio.staff.add(*nurses[:2])
    onco.staff.add(nurses[2])
    for department in (cardio, onco):
        RuleStepFactory(rule__department=department, offset_days=7, weekdays=[0, 1, 2, 3, 4], late_days=3)
        RuleStepFactory(rule=department.rules.get(), offset_days=14, weekdays=[3], late_days=7)
    sizes = {cardio: 2 * CHUNK_SIZE + 300, onco: 400}
    for department, size in sizes.items():
        patients = Patient.objects.bulk_create(
            Patient(mrn=f"{department.code}{i:06d}", name=f"Patient {i}") for i in range(size)
        )
        Discharge.objects.bulk_create(
            Discharge(
                patient=patient,
                department=department,
                admitted_on=dt.date(2026, 11, 1),
                discharged_on=dt.date(2026, 11, 9) + dt.timedelta(days=i % 9),
                diagnosis="Coronary heart disease",
                responsible_nurse=nurses[i % 3] if i % 4 else None,
            )
            for i, patient in enumerate(patients)
        )

    result = generate_calls(week=dt.date(2026, 11, 23), today=dt.date(2026, 11, 23))

    # both steps of every discharge, but the day-14 calls of the last two discharge days fall due next week
    assert result.created + result.missed == 2 * 4700 - 1042
    generated = summary_rows()
    assert sum(row[8] for row in generated[0]) == 2 * 4700 - 1042
    assert summary_differences([cardio.pk, onco.pk]) == 0
    summary_rebuild()
    assert summary_rows() == generated

    calls = list(FollowUpCall.objects.filter(discharge__department=cardio).order_by("pk"))
    completed = [c.pk for c in calls[:1500]]
    FollowUpCall.objects.filter(pk__in=completed[:1000]).update(
        status=S.COMPLETED, satisfaction="satisfied", answered_by="patient", duration_seconds=300
    )
    FollowUpCall.objects.filter(pk__in=completed[1000:]).update(
        status=S.COMPLETED, satisfaction="basic", answered_by="family"
    )
    FollowUpCall.objects.filter(pk__in=[c.pk for c in calls[1500:1800]]).update(
        status=S.CANCELLED, cancel_reason="deceased"
    )
    FollowUpCall.objects.filter(pk__in=[c.pk for c in calls[1800:2000]]).update(due_date=dt.date(2026, 11, 27))
    item = SatisfactionItemFactory(code="attitude")
    ItemScore.objects.bulk_create(ItemScore(call_id=pk, item=item, score=1 + pk % 10) for pk in completed)
    ItemScore.objects.filter(call_id__in=completed[:200]).update(score=10)
    SpotCheck.objects.bulk_create(
        SpotCheck(call_id=pk, week=dt.date(2026, 11, 16), sampled_at=timezone.now()) for pk in completed[::10]
    )
    SpotCheck.objects.filter(call_id__in=completed[:300]).update(verdict="good", reviewer=head_nurse)
    moved = completed[1400:1500]
    FollowUpCall.objects.filter(pk__in=moved).update(due_date=dt.date(2026, 11, 20))
    Discharge.objects.filter(calls__pk__in=completed[1300:1400]).update(department=onco)
    # removed as the app removes them: scores and spot checks first, then the calls;
    # and with raw SQL the other way round (foreign keys are checked at commit)
    gone = completed[1200:1300]
    ItemScore.objects.filter(call_id__in=gone[:50]).delete()
    SpotCheck.objects.filter(call_id__in=gone).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM calls_followupcall WHERE id = ANY(%s)", [gone])
        cursor.execute("DELETE FROM calls_itemscore WHERE call_id = ANY(%s)", [gone[50:]])

    changed = summary_rows()
    assert changed != generated
    assert summary_differences([cardio.pk, onco.pk]) == 0
    assert stays_differences() == 0
    for department_ids in ([cardio.pk], [onco.pk], [cardio.pk, onco.pk]):
        assert figures(department_ids, None) == figures(department_ids, Source(summary=False))
    summary_rebuild()
    assert summary_rows() == changed


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary tables are kept on PostgreSQL only")
def test_summary_differences_counts_the_rows_a_recount_does_not_give(db):
    ward = DepartmentFactory(code="CARD")
    calls = bulk_calls(department=ward, rows=[{"due_date": dt.date(2026, 11, 20), "status": S.SCHEDULED}] * 3)
    ItemScore.objects.create(call=calls[0], item=SatisfactionItemFactory(code="attitude"), score=9)
    assert summary_differences([ward.pk]) == 0

    DashboardDay.objects.filter(department_id=ward.pk).update(calls=2)
    DashboardItemDay.objects.filter(department_id=ward.pk).update(score=8)

    assert summary_differences([ward.pk]) == 4  # each table: the kept row, and the counted row it lacks


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the summary tables are kept on PostgreSQL only")
@time_machine.travel(NOW, tick=False)
def test_the_stay_summary_stays_exact_through_every_kind_of_change(head_nurse, officer):
    """Patient figures on PostgreSQL come from the stay summary: after each
    kind of change it equals a recount, and the figures and the lists behind
    them equal those counted from the calls."""
    from calls.dashboard.selectors import dashboard_stays
    from calls.models import DashboardStay
    from tests.calls.cohorts import build_cardiology

    cardio, onco = DepartmentFactory(code="CARD"), DepartmentFactory(code="ONC")
    cardio.staff.add(head_nurse)
    onco.staff.add(head_nurse)
    stays = build_cardiology(cardio, received_by=officer)
    assert stays_differences() == 0
    assert DashboardStay.objects.filter(department_id=cardio.pk).count() == 1056

    def check():
        assert stays_differences() == 0
        for department_ids in ([cardio.pk], [onco.pk], [cardio.pk, onco.pk]):
            period = Period(dt.date(2011, 6, 1), dt.date(2012, 6, 30))
            kept = dashboard_figures(department_ids=department_ids, period=period)
            counted = dashboard_figures(department_ids=department_ids, period=period, source=Source(summary=False))
            assert patient_figures(kept.patients) == patient_figures(counted.patients)
        for filters in [{"outcome": "lost"}, {"outcome": "deceased"}, {"satisfaction": "basic"}, {"family": True}]:
            kept = dashboard_stays(user=head_nurse, **filters)
            counted = dashboard_stays(user=head_nurse, source=Source(summary=False), **filters)
            assert [(s.pk, s.completed_calls, s.rating) for s in kept] == [
                (s.pk, s.completed_calls, s.rating) for s in counted
            ]

    lost = [calls[0].pk for calls in stays[36:46]]
    reached = [calls[1].pk for calls in stays[300:420]]  # no complaint was raised on these
    # calls: reached at last, rated otherwise, a family member on the line, a death, a deletion
    FollowUpCall.objects.filter(pk__in=lost).update(status=S.COMPLETED, satisfaction="basic")
    FollowUpCall.objects.filter(pk__in=reached[:50]).update(satisfaction="unsatisfied", answered_by="family")
    FollowUpCall.objects.filter(pk__in=reached[50:60]).update(status=S.CANCELLED, cancel_reason="deceased")
    FollowUpCall.objects.filter(pk__in=reached[60:70]).update(summary="notes only: nothing counted changes")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM calls_followupcall WHERE id = ANY(%s)", [reached[70:80]])
    check()
    # stays: moved to another ward, cancelled, recoded, a new one with no call yet, one removed
    Discharge.objects.filter(calls__pk__in=reached[80:90]).update(department=onco)
    Discharge.objects.filter(calls__pk__in=reached[90:95]).update(archived=True)
    Discharge.objects.filter(calls__pk__in=reached[95:100]).update(icd10="I63.9", discharged_on=dt.date(2012, 1, 1))
    newcomer = Patient.objects.create(mrn="NEW-1", name="New", sex="F", birth_date=dt.date(1940, 2, 29))
    Discharge.objects.create(
        patient=newcomer, department=onco, admitted_on=dt.date(2012, 2, 20), discharged_on=dt.date(2012, 2, 28)
    )
    check()
    # patients: sex and birth date corrected
    Patient.objects.filter(discharges__calls__pk__in=reached[100:106]).update(sex="U", birth_date=None)
    Patient.objects.filter(pk=newcomer.pk).update(birth_date=dt.date(1950, 1, 1))
    check()
    stays_rebuild()
    check()
