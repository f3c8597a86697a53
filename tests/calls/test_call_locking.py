import pytest
import time_machine
from django.urls import reverse

from calls.models import CallAttempt, FollowUpCall
from calls.services.call_work import CallChanged, call_record_attempt
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, make_call, scripted_version, ward_of
from tests.factories import SatisfactionItemFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_second_save_with_the_same_version_is_refused_and_writes_nothing(nurse):
    colleague = UserFactory(username="erin", display_name="Erin", roles=[Role.NURSE])
    call = make_call(department=ward_of(nurse, colleague), nurse=nurse)
    first, second = FollowUpCall.objects.get(pk=call.pk), FollowUpCall.objects.get(pk=call.pk)

    call_record_attempt(call=first, by=colleague, result="no_answer", note="", expected_version=1)
    with pytest.raises(CallChanged) as raised:
        call_record_attempt(call=second, by=nurse, result="busy", note="", expected_version=1)

    assert (raised.value.current.version, raised.value.current.changed_by) == (2, colleague)
    assert list(CallAttempt.objects.values_list("result", flat=True)) == ["no_answer"]


def test_second_nurse_completing_is_told_sees_both_versions_and_loses_nothing(client_for, nurse):
    colleague = UserFactory(username="erin", display_name="Erin Xu", roles=[Role.NURSE])
    ward = ward_of(nurse, colleague)
    _version, chest, note = scripted_version(department=ward)
    attitude = SatisfactionItemFactory(code="medicines_explained")
    call = make_call(department=ward, nurse=None)
    typed = {
        f"q_{chest.pk}": "no",
        f"q_{note.pk}": "Wants a diet leaflet",
        "outcome-expected_version": "1",
        "outcome-answered_by": "family",
        "outcome-family_member_relation": "daughter",
        "outcome-satisfaction": "basic",
        f"outcome-item_{attitude.pk}": "8",
        "outcome-summary": "Daughter says he is eating well.",
        "outcome-duration": "6",
    }
    url = reverse("calls:call_complete", args=[call.pk])
    client_for(colleague).post(
        reverse("calls:call_attempt", args=[call.pk]), {"attempt-expected_version": "1", "attempt-result": "answered"}
    )

    response = client_for(nurse).post(url, typed)

    assert response.status_code == 409
    html = response.content.decode()
    assert "This call was changed by Erin Xu at" in html
    assert response.context["conflict"].rows == [
        ("Status", "In progress", "–"),
        ("Attempts so far", "1", "–"),
        ("Who answered", "–", "Family member (daughter)"),
        ("Overall satisfaction", "–", "Basically satisfied"),
        ("Summary", "–", "Daughter says he is eating well."),
    ]
    for value in ("Daughter says he is eating well.", "Wants a diet leaflet", 'value="8"', 'value="6"'):
        assert value in html
    assert 'name="outcome-expected_version" value="2"' in html

    again = client_for(nurse).post(url, {**typed, "outcome-expected_version": "2"})

    assert again.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.summary, call.answered_by, call.version) == (
        "completed",
        "Daughter says he is eating well.",
        "family",
        3,
    )


def test_call_completed_by_a_colleague_meanwhile_still_shows_what_was_typed(client_for, nurse):
    colleague = UserFactory(username="erin", display_name="Erin Xu", roles=[Role.NURSE])
    ward = ward_of(nurse, colleague)
    _version, chest, _note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=None)
    typed = {
        f"q_{chest.pk}": "no",
        "outcome-expected_version": "1",
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        "outcome-summary": "My own notes of the call.",
        "outcome-duration": "5",
    }
    url = reverse("calls:call_complete", args=[call.pk])
    assert client_for(colleague).post(url, {**typed, "outcome-summary": "Erin's notes"}).status_code == 302

    response = client_for(nurse).post(url, typed)

    assert response.status_code == 409
    assert "My own notes of the call." in response.content.decode()
    again = client_for(nurse).post(url, {**typed, "outcome-expected_version": "2"})
    assert again.status_code == 400
    assert "This call is already completed; nothing more can be recorded on it." in again.content.decode()
    call.refresh_from_db()
    assert call.summary == "Erin's notes"
