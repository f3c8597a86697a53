"""The deceased path on the call screen (issue 17, item 5): a confirmation
page that says which calls will be cancelled before anything is recorded,
a date of death that may be unknown, and the calls of a deceased patient
readable afterwards (not 404) but never changed."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from calls.models import DeathRecord, FollowUpCall
from calls.services.cancellation import patient_mark_deceased
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def death_data(call, died_on=None, *, unknown=False, note="", **extra):
    data = {
        "deceased-expected_version": call.version,
        "deceased-died_on": died_on.isoformat() if died_on else "",
        "deceased-note": note,
        **extra,
    }
    if unknown:
        data["deceased-date_unknown"] = "on"
    return data


def post_death(client, call, died_on=None, **kwargs):
    return client.post(reverse("calls:call_deceased", args=[call.pk]), death_data(call, died_on, **kwargs))


def statuses(*calls):
    return [
        tuple(row)
        for row in FollowUpCall.objects.filter(pk__in=[c.pk for c in calls])
        .order_by("pk")
        .values_list("status", "cancel_reason")
    ]


@pytest.fixture
def two_calls(nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse, patient__name="Zhou Min")
    later = make_call(department=ward, nurse=nurse, discharge=call.discharge, offset=14, due=TODAY + dt.timedelta(7))
    return call, later


def test_the_first_post_only_shows_which_calls_will_be_cancelled(client_for, nurse, two_calls):
    call, later = two_calls

    response = post_death(client_for(nurse), call, TODAY - dt.timedelta(days=2), note="Daughter called")

    assert response.status_code == 200
    assert response.templates[0].name == "calls/death_confirm.html"
    assert [c.pk for c in response.context["cancelled"]] == [call.pk, later.pk]
    assert response.context["elsewhere"] == 0
    html = response.content.decode()
    assert "This cancels 2 open calls:" in html
    assert "2026-11-17" in html
    assert "Daughter called" in html
    assert statuses(call, later) == [("scheduled", ""), ("scheduled", "")]
    call.discharge.patient.refresh_from_db()
    assert (call.discharge.patient.deceased, DeathRecord.objects.count()) == (False, 0)


def test_confirming_records_the_death_cancels_the_calls_and_shows_the_call_read_only(client_for, nurse, two_calls):
    call, later = two_calls
    client = client_for(nurse)

    response = post_death(client, call, TODAY - dt.timedelta(days=2), confirm="yes")

    assert response.status_code == 302
    assert response["Location"] == reverse("calls:call_detail", args=[call.pk])
    patient = call.discharge.patient
    patient.refresh_from_db()
    assert (patient.deceased, patient.deceased_on) == (True, TODAY - dt.timedelta(days=2))
    assert statuses(call, later) == [("cancelled", "deceased"), ("cancelled", "deceased")]
    record = DeathRecord.objects.get()
    assert (record.died_on, record.recorded_by, record.call, record.reversed_at) == (
        TODAY - dt.timedelta(days=2),
        nurse,
        call,
        None,
    )
    assert sorted(record.cancelled_calls.values_list("pk", flat=True)) == [call.pk, later.pk]

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "The death of Zhou Min is recorded; 2 open call(s) cancelled." in html
    assert "Recorded as died" in html
    assert "Date of death: 2026-11-17." in html
    assert 'id="attempt-form"' not in html and 'id="deceased-form"' not in html
    assert "Reverse this death record" not in html  # a nurse does not reverse
    assert list(client.get(reverse("calls:worklist"), {"tab": "all"}).context["page"].object_list) == []


def test_a_death_whose_date_the_family_did_not_say_is_recorded_as_unknown(client_for, nurse, two_calls):
    call, _later = two_calls
    client = client_for(nurse)

    confirm = post_death(client, call, unknown=True)
    assert confirm.status_code == 200
    assert "unknown (the family did not say)" in confirm.content.decode()

    response = post_death(client, call, unknown=True, confirm="yes")

    assert response.status_code == 302
    patient = call.discharge.patient
    patient.refresh_from_db()
    assert (patient.deceased, patient.deceased_on) == (True, None)
    assert DeathRecord.objects.get().died_on is None
    assert "Date of death: unknown (the family did not say)." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({}, "died_on", "Give the date of death, or tick “Date unknown” when the family did not say."),
        (
            {"died_on": TODAY, "unknown": True},
            "date_unknown",
            "Give the date of death or tick “Date unknown”, not both.",
        ),
        ({"died_on": TODAY + dt.timedelta(days=1)}, "died_on", "The date of death cannot be in the future."),
        ({"died_on": TODAY - dt.timedelta(days=30)}, "died_on", "The date of death cannot be before the discharge."),
    ],
)
def test_a_date_of_death_is_given_or_said_unknown_and_plausible(client_for, nurse, two_calls, kwargs, field, message):
    call, _later = two_calls

    response = post_death(client_for(nurse), call, confirm="yes", **kwargs)

    assert response.status_code == 400
    assert response.context["deceased_form"].errors == {field: [message]}
    assert message in response.content.decode()
    assert statuses(call) == [("scheduled", "")]
    assert DeathRecord.objects.count() == 0


def test_go_back_and_change_brings_the_form_back_as_typed(client_for, nurse, two_calls):
    call, _later = two_calls

    response = post_death(client_for(nurse), call, TODAY, note="Son called", edit="yes")

    assert response.status_code == 200
    assert response.templates[0].name == "calls/call.html"
    form = response.context["deceased_form"]
    assert (form.cleaned_data["died_on"], form.cleaned_data["note"]) == (TODAY, "Son called")
    assert '<details class="card mb-4 deceased" open>' in response.content.decode()
    assert DeathRecord.objects.count() == 0


def test_the_confirmation_names_her_wards_calls_and_only_counts_another_wards(client_for, nurse, two_calls):
    call, later = two_calls
    oncology = ward_of(UserFactory(username="onco", roles=[Role.NURSE]), code="ONC")
    other = make_call(department=oncology, patient=call.discharge.patient, due=TODAY + dt.timedelta(days=3))

    response = post_death(client_for(nurse), call, TODAY)

    assert [c.pk for c in response.context["cancelled"]] == [call.pk, later.pk]
    assert response.context["elsewhere"] == 1
    assert "And 1 open call of another ward." in response.content.decode()
    assert "Ward ONC" not in response.content.decode()

    post_death(client_for(nurse), call, TODAY, confirm="yes")
    assert statuses(other) == [("cancelled", "deceased")]


@pytest.mark.parametrize(
    "note",
    ["<script>alert('x')</script><b>bold</b>", "很长的备注" * 3000],
    ids=["markup", "long"],
)
def test_a_hostile_note_is_kept_as_typed_and_shown_as_text(client_for, nurse, two_calls, note):
    call, _later = two_calls
    client = client_for(nurse)

    confirm = post_death(client, call, TODAY, note=note)
    assert confirm.status_code == 200
    assert "<script>alert" not in confirm.content.decode()
    assert "&lt;script&gt;" in confirm.content.decode() or len(note) > 1000

    response = post_death(client, call, TODAY, note=note, confirm="yes")
    assert response.status_code == 302
    assert DeathRecord.objects.get().note == note
    assert "<script>alert" not in client.get(response["Location"]).content.decode()


def test_a_note_too_long_is_refused_and_a_nul_refused_before_any_form(client_for, nurse, two_calls):
    call, _later = two_calls
    client = client_for(nurse)

    long = post_death(client, call, TODAY, note="x" * 20_001, confirm="yes")
    nul = post_death(client, call, TODAY, note="a\x00b", confirm="yes")

    assert long.status_code == 400
    assert long.context["deceased_form"].errors == {
        "note": ["This text is 20,001 characters long; the limit is 20,000. Shorten it and save again."]
    }
    assert nul.status_code == 400  # refused by followup.middleware: no database stores a NUL
    assert DeathRecord.objects.count() == 0


def test_the_calls_of_a_deceased_patient_open_read_only_for_the_ward_and_404_elsewhere(
    client_for, nurse, head_nurse, two_calls
):
    call, later = two_calls
    call.discharge.department.staff.add(head_nurse)
    patient_mark_deceased(patient=call.discharge.patient, died_on=None, actor="hl7:HIS")
    stranger = UserFactory(username="other-head", roles=[Role.HEAD_NURSE])
    ward_of(stranger, code="ONC")

    for user in (nurse, head_nurse):
        page = client_for(user).get(reverse("calls:call_detail", args=[later.pk]))
        assert page.status_code == 200
        assert "Recorded by hl7:HIS on" in page.content.decode()
        assert 'id="outcome"' not in page.content.decode()
    assert client_for(stranger).get(reverse("calls:call_detail", args=[later.pk])).status_code == 404


def test_nothing_can_be_recorded_on_a_deceased_patients_call(client_for, nurse, two_calls):
    call, _later = two_calls
    patient_mark_deceased(patient=call.discharge.patient, died_on=TODAY, actor="hl7:HIS")
    call.refresh_from_db()

    response = client_for(nurse).post(
        reverse("calls:call_attempt", args=[call.pk]),
        {"attempt-expected_version": call.version, "attempt-result": "no_answer", "attempt-note": ""},
    )

    assert response.status_code == 400
    assert "This call is already cancelled; nothing more can be recorded on it." in response.content.decode()
    assert statuses(call) == [("cancelled", "deceased")]


def test_the_dashboards_deceased_list_links_to_calls_that_open(client_for, head_nurse, nurse, two_calls):
    call, later = two_calls
    call.discharge.department.staff.add(head_nurse)
    post_death(client_for(nurse), call, TODAY, confirm="yes")
    client = client_for(head_nurse)

    listing = client.get(reverse("calls:dashboard_calls"), {"status": "cancelled"})
    links = [reverse("calls:call_detail", args=[c.pk]) for c in listing.context["page"]]

    assert sorted(links) == sorted(reverse("calls:call_detail", args=[c.pk]) for c in (call, later))
    for link in links:
        page = client.get(link)
        assert page.status_code == 200
        assert "Reverse this death record" in page.content.decode()
