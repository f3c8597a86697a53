"""On PostgreSQL the dashboard reads summary tables kept by triggers; here
every kind of change goes through them and the figures must equal those
counted from the calls themselves. (On SQLite both sources are the calls.)"""

import datetime as dt

import time_machine
from django.utils import timezone

from calls.dashboard.selectors import Period, Source, dashboard_figures
from calls.dashboard.summary import summary_rebuild
from calls.models import Discharge, FollowUpCall, ItemScore, SpotCheck
from calls.services.spot_checks import spot_check_review
from followup.roles import Role
from tests.factories import DepartmentFactory, SatisfactionItemFactory, UserFactory, bulk_calls

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
        call.answered_by = ("patient", "family")[i % 2]
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
