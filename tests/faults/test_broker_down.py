"""The broker (our own redis-server) stops: the nurse's pages and call logging
keep working, /healthz says the broker is down, a message that cannot be
queued is logged instead of failing the request that stored it, and the
first generation after Redis returns creates the calls the missed weekly run
should have created."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.models import CallAttempt, FollowUpCall
from calls.tasks import generate_weekly_queue
from followup.health import check_broker
from interop.services import _queue
from tests.calls.call_work_helpers import make_call, scripted_version, ward_of
from tests.factories import DischargeFactory, RuleStepFactory
from tests.faults.helpers import attempt_post, completion_post

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Thursday of week 47: the broker has been down since the weekend, so the
# Monday run of week 47 never reached a worker.
THURSDAY_W47 = dt.datetime(2026, 11, 19, 16, 10, tzinfo=SHANGHAI)
MONDAY_W48 = dt.datetime(2026, 11, 23, 0, 30, tzinfo=SHANGHAI)


def test_with_the_broker_stopped_pages_render_and_a_nurse_logs_and_completes_a_call(own_broker, client_for, nurse):
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    with time_machine.travel(THURSDAY_W47, tick=False):
        call = make_call(department=ward, nurse=nurse, due=THURSDAY_W47.date())
        assert check_broker() is None
        own_broker.stop()
        client = client_for(nurse)

        assert client.get(reverse("calls:worklist")).status_code == 200
        assert client.get(reverse("calls:call_detail", args=[call.pk])).status_code == 200
        response = client.post(reverse("calls:call_attempt", args=[call.pk]), attempt_post(call, "no_answer"))
        assert response.status_code == 302
        call.refresh_from_db()
        response = client.post(reverse("calls:call_attempt", args=[call.pk]), attempt_post(call, "answered"))
        assert response.status_code == 302
        call.refresh_from_db()
        response = client.post(reverse("calls:call_complete", args=[call.pk]), completion_post(call, chest))
        assert response.status_code == 302

        health = client.get("/healthz")
    call.refresh_from_db()
    assert (call.status, call.attempt_count, call.summary) == ("completed", 2, "Recovering well, taking medicines.")
    assert list(CallAttempt.objects.filter(call=call).values_list("result", flat=True).order_by("pk")) == [
        "no_answer",
        "answered",
    ]
    assert health.status_code == 503
    assert health.json() == {"status": "unavailable", "problems": ["broker unreachable: OperationalError"]}


def test_a_message_that_cannot_be_queued_is_logged_not_raised(own_broker, caplog, django_capture_on_commit_callbacks):
    own_broker.stop()
    with (
        caplog.at_level(logging.ERROR, logger="interop.services"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        _queue(4242)
    assert len(callbacks) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "Broker unreachable: inbound message 4242 not queued; reprocess it in the admin"
    ]


def test_the_first_generation_after_the_broker_returns_creates_the_missed_calls(own_broker, client):
    step = RuleStepFactory(offset_days=7, late_days=3, weekdays=list(range(7)))
    # Due in week 47 (the run that never happened) and past their 3 days of
    # lateness by Monday: recorded as missed. Due in week 48: scheduled.
    for day in (9, 10, 11, 16, 17, 18):
        DischargeFactory(department=step.rule.department, discharged_on=dt.date(2026, 11, day))
    own_broker.stop()
    assert client.get("/healthz").status_code == 503
    own_broker.start()
    assert client.get("/healthz").status_code == 200

    with time_machine.travel(MONDAY_W48, tick=False):
        result = generate_weekly_queue.apply().get()

    assert result == {"created": 3, "already_present": 0, "missed": 3, "failed_departments": []}
    assert sorted(FollowUpCall.objects.values_list("due_date", "status")) == [
        (dt.date(2026, 11, 16), "missed"),
        (dt.date(2026, 11, 17), "missed"),
        (dt.date(2026, 11, 18), "missed"),
        (dt.date(2026, 11, 23), "scheduled"),
        (dt.date(2026, 11, 24), "scheduled"),
        (dt.date(2026, 11, 25), "scheduled"),
    ]
