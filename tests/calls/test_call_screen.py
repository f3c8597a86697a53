import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from calls.models import CallAnswer, FollowUpCall
from tests.calls.call_work_helpers import NOW, TODAY, make_call, scripted_version, ward_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_call_screen_shows_record_phones_script_and_earlier_calls(client_for, nurse):
    ward = ward_of(nurse)
    version, chest, _note = scripted_version(department=ward)
    call = make_call(
        department=ward,
        nurse=nurse,
        patient__phone="+8613812345678",
        patient__family_phone="+8613900001111",
        patient__communication_needs=["hearing"],
        patient__communication_notes="Call the daughter after 17:00",
        patient__preferred_call_time=dt.time(16, 30),
    )
    call.discharge.open_problems = "Wound not fully healed"
    call.discharge.save()
    earlier = make_call(
        department=ward,
        nurse=nurse,
        discharge=call.discharge,
        offset=3,
        due=TODAY - dt.timedelta(days=4),
        status=FollowUpCall.Status.COMPLETED,
        summary="Doing fine at day 3",
    )
    CallAnswer.objects.create(call=earlier, question=chest, value="no")

    response = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    for expected in (
        'href="tel:+8613812345678"',
        'href="tel:+8613900001111"',
        "Coronary heart disease",
        "Dr Zhang",
        "Wound not fully healed",
        "Hard of hearing or poor memory: repeat, speak slowly",
        "Call the daughter after 17:00",
        "16:30",
        "Good afternoon, I am your ward nurse.",
        f'name="q_{chest.pk}"',
        "Doing fine at day 3",
        f'href="/complaints/new/?call={call.pk}&amp;next=%2Fcalls%2F{call.pk}%2F"',
    ):
        assert expected in html
    assert response.context["script"].version == version


def test_answered_attempt_stores_the_script_version_on_the_call(client_for, nurse):
    ward = ward_of(nurse)
    version, _chest, _note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse)

    response = client_for(nurse).post(
        reverse("calls:call_attempt", args=[call.pk]), {"attempt-expected_version": "1", "attempt-result": "answered"}
    )

    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.script_version) == ("in_progress", version)


def test_wrong_number_is_shown_on_the_call_screen(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    client = client_for(nurse)

    client.post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-expected_version": "1", "attempt-result": "wrong_number"},
    )

    html = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert "The patient's phone number was reported wrong and needs correcting." in html


def test_no_more_calls_only_with_a_refusal(client_for, nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    response = client_for(nurse).post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-expected_version": "1", "attempt-result": "busy", "attempt-no_more_calls": "on"},
    )

    assert response.status_code == 400
    call.refresh_from_db()
    assert call.attempt_count == 0


def test_call_of_another_ward_is_not_found(client_for, nurse):
    ward_of(nurse)
    call = make_call(department=ward_of(code="ONCO"))
    assert client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).status_code == 404


def test_complaint_officer_is_refused_the_call_screen(client_for, officer):
    call = make_call(department=ward_of(officer))
    assert client_for(officer).get(reverse("calls:call_detail", args=[call.pk])).status_code == 403


def test_completed_call_shows_its_outcome_read_only(client_for, nurse):
    call = make_call(
        department=ward_of(nurse),
        nurse=nurse,
        status=FollowUpCall.Status.COMPLETED,
        satisfaction="satisfied",
        summary="All good",
    )
    response = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk]))
    html = response.content.decode()
    assert ("All good" in html, 'id="outcome"' in html) == (True, False)


def test_call_screen_speaks_chinese(client_for, nurse):
    ward = ward_of(nurse)
    scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse)

    with translation.override("en"):  # the middleware activates Chinese in this thread; undo it after
        html = (
            client_for(nurse)
            .get(reverse("calls:call_detail", args=[call.pk]), headers={"accept-language": "zh-hans"})
            .content.decode()
        )

    for chinese in ("出院记录", "既往随访", "记录拨打", "完成随访", "家属告知患者已去世", "登记投诉", "总体满意度"):
        assert chinese in html


@pytest.mark.parametrize("earlier", [1, 3])
def test_call_screen_queries_do_not_grow_with_earlier_calls(earlier, client_for, nurse, django_assert_num_queries):
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse, offset=30)
    for n in range(earlier):
        done = make_call(
            department=ward,
            nurse=nurse,
            discharge=call.discharge,
            offset=3 + n,
            due=call.discharge.discharged_on + dt.timedelta(days=3 + n),
            status="completed",
        )
        CallAnswer.objects.create(call=done, question=chest, value="no")
    client = client_for(nurse)

    # includes the audit-trail insert of the page view and her draft; none for the complaints
    # raised from the call, as there are none (the call's own query says so)
    with django_assert_num_queries(17):
        response = client.get(reverse("calls:call_detail", args=[call.pk]))

    assert len(response.context["earlier_calls"]) == earlier
