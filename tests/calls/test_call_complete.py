import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from calls.models import CallAnswer, ClinicalAlert, FollowUpCall, ItemScore
from calls.services.call_work import call_complete, parse_duration
from tests.calls.call_work_helpers import NOW, TODAY, make_call, scripted_version, ward_of
from tests.factories import SatisfactionItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scripted(nurse):
    ward = ward_of(nurse)
    version, chest, note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse)
    attitude = SatisfactionItemFactory(code="medicines_explained", name="Medicines explained clearly")
    return call, version, chest, note, attitude


def outcome_post(call, chest, attitude, **overrides):
    data = {
        f"q_{chest.pk}": "no",
        "outcome-expected_version": call.version,
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        f"outcome-item_{attitude.pk}": "9",
        "outcome-summary": "Recovering well, taking medicines.",
        "outcome-duration": "7:30",
        "outcome-next_call_on": "",
    }
    data.update(overrides)
    return data


def test_completing_records_answers_satisfaction_scores_and_duration(client_for, nurse, scripted):
    call, version, chest, _note, attitude = scripted

    url = reverse("calls:call_complete", args=[call.pk])

    response = client_for(nurse).post(url, outcome_post(call, chest, attitude))

    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.answered_by, call.satisfaction, call.duration_seconds, call.script_version_id) == (
        "completed",
        "patient",
        "satisfied",
        450,
        version.pk,
    )
    assert (call.completed_by, call.attempt_count, call.version) == (nurse, 1, 2)
    assert list(CallAnswer.objects.values_list("question_id", "value", "is_red_flag")) == [(chest.pk, "no", False)]
    assert list(ItemScore.objects.values_list("item__code", "score")) == [("medicines_explained", 9)]
    assert ClinicalAlert.objects.count() == 0


def test_missing_required_answer_keeps_everything_typed(client_for, nurse, scripted):
    call, _version, chest, note, attitude = scripted
    data = outcome_post(call, chest, attitude, **{f"q_{chest.pk}": "", f"q_{note.pk}": "Asked about diet"})

    response = client_for(nurse).post(reverse("calls:call_complete", args=[call.pk]), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Please answer this question." in html
    assert "Recovering well, taking medicines." in html
    assert "Asked about diet" in html
    assert 'value="7:30"' in html
    call.refresh_from_db()
    assert call.status == "scheduled"


@pytest.mark.parametrize(("duration", "seconds"), [("7", 420), ("7:05", 425), (" 12:00 ", 720)])
def test_duration_accepts_minutes_or_minutes_and_seconds(duration, seconds):
    assert parse_duration(duration) == seconds


@pytest.mark.parametrize("duration", ["", "0", "7:75", "abc", "181"])
def test_duration_refuses_nonsense(duration):
    with pytest.raises(ValidationError):
        parse_duration(duration)


def test_next_call_date_books_a_call_for_the_same_nurse(nurse, scripted):
    call, _version, chest, _note, _attitude = scripted

    call_complete(
        call=call,
        by=nurse,
        expected_version=1,
        answered_by="family",
        family_member_relation="son",
        answers={chest.pk: "no"},
        satisfaction="basic",
        item_scores={},
        summary="ok",
        duration_seconds=300,
        next_call_on=TODAY + dt.timedelta(days=14),
    )

    booked = FollowUpCall.objects.get(booked_from=call)
    assert (booked.step, booked.due_date, booked.assigned_to, booked.discharge) == (
        None,
        TODAY + dt.timedelta(days=14),
        nurse,
        call.discharge,
    )


def test_next_call_date_must_be_in_the_future(client_for, nurse, scripted):
    call, _version, chest, _note, attitude = scripted
    data = outcome_post(call, chest, attitude, **{"outcome-next_call_on": TODAY.isoformat()})

    response = client_for(nurse).post(reverse("calls:call_complete", args=[call.pk]), data)

    assert response.status_code == 400
    assert "The next call must be booked for a day after today." in response.content.decode()
    assert FollowUpCall.objects.count() == 1


def test_item_score_outside_1_to_10_is_refused(client_for, nurse, scripted):
    call, _version, chest, _note, attitude = scripted
    data = outcome_post(call, chest, attitude, **{f"outcome-item_{attitude.pk}": "11"})

    response = client_for(nurse).post(reverse("calls:call_complete", args=[call.pk]), data)

    assert response.status_code == 400
    assert ItemScore.objects.count() == 0


def test_red_flag_answer_raises_a_clinical_alert_due_in_the_configured_hours(client_for, nurse, scripted, settings):
    settings.CLINICAL_ALERT_HOURS = 6
    call, _version, chest, _note, attitude = scripted

    client_for(nurse).post(
        reverse("calls:call_complete", args=[call.pk]), outcome_post(call, chest, attitude, **{f"q_{chest.pk}": "yes"})
    )

    alert = ClinicalAlert.objects.get()
    assert (alert.call_id, alert.due_at - alert.raised_at, alert.reason, alert.resolved_at) == (
        call.pk,
        dt.timedelta(hours=6),
        "Any chest pain since discharge?: Yes",
        None,
    )
    assert CallAnswer.objects.get().is_red_flag is True
