"""Who answered a call (issue 17, item 7): the patient, a family member, or
both, with which family member (relation and name, one line of free text
each). The dashboard's family figure counts every call a family member spoke on."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from calls.dashboard.selectors import Period, Source, dashboard_figures
from calls.models import FollowUpCall
from calls.services.call_work import call_complete, respondent_check
from followup.figures import Rate
from followup.models import AuditEvent
from tests.calls.call_work_helpers import NOW, TODAY, make_call, scripted_version, ward_of
from tests.factories import bulk_calls
from tests.followup.test_bad_requests import NUL_PAGE
from tests.followup.test_error_summary import summary_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def scripted(nurse):
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    call = make_call(
        department=ward,
        nurse=nurse,
        patient__name="张建国",
        patient__family_name="张丽",
        patient__family_relation="女儿",
        patient__family_phone="+8613900001111",
    )
    return call, chest


def outcome(call, chest, **overrides):
    data = {
        f"q_{chest.pk}": "no",
        "outcome-expected_version": call.version,
        "outcome-answered_by": "both",
        "outcome-family_member_relation": "daughter",
        "outcome-family_member_name": "Zhang Li",
        "outcome-satisfaction": "satisfied",
        "outcome-summary": "He and his daughter say he walks daily.",
        "outcome-duration": "6",
    }
    data.update(overrides)
    return data


def complete(client, call, chest, **overrides):
    return client.post(reverse("calls:call_complete", args=[call.pk]), outcome(call, chest, **overrides))


def test_a_call_answered_by_patient_and_daughter_records_both_and_shows_them(client_for, nurse, scripted):
    call, chest = scripted
    client = client_for(nurse)

    response = complete(client, call, chest)

    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.answered_by, call.family_member_relation, call.family_member_name) == (
        "both",
        "daughter",
        "Zhang Li",
    )
    page = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert '<dd class="col-sm-8 call-respondent">Patient and a family member (daughter, Zhang Li)</dd>' in page
    event = AuditEvent.objects.filter(object_type="call", object_id=str(call.pk), note="completed").get()
    assert "family_member_relation" in event.fields.split(",")


def test_the_outcome_form_offers_the_family_contact_on_record(client_for, nurse, scripted):
    call, _chest = scripted

    form = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).context["complete_form"]

    assert (form.initial["family_member_relation"], form.initial["family_member_name"]) == ("女儿", "张丽")
    assert [value for value, _label in form.fields["answered_by"].choices] == ["patient", "family", "both"]


def test_a_family_member_without_a_relation_is_refused_with_a_linked_message(client_for, nurse, scripted):
    call, chest = scripted

    response = complete(
        client_for(nurse), call, chest, **{"outcome-answered_by": "family", "outcome-family_member_relation": "  "}
    )

    assert response.status_code == 400
    _tag, _heading, items = summary_of(response.content.decode())
    assert items == [
        (
            "id_outcome-family_member_relation",
            "Family member who spoke: relation: Say which family member spoke: daughter, son, wife...",
        )
    ]
    call.refresh_from_db()
    assert (call.status, call.answered_by) == ("scheduled", "")


def test_when_only_the_patient_spoke_the_prefilled_family_member_is_not_recorded(client_for, nurse, scripted):
    call, chest = scripted

    complete(client_for(nurse), call, chest, **{"outcome-answered_by": "patient"})

    call.refresh_from_db()
    assert (call.answered_by, call.family_member_relation, call.family_member_name, call.respondent_display) == (
        "patient",
        "",
        "",
        "Patient",
    )


@pytest.mark.parametrize(
    ("relation", "name", "field", "message"),
    [
        ("daughter", "Li\x1b[31m", "family_member_name", "This text contains control characters"),
        ("d" * 51, "", "family_member_relation", "This text is longer than 50 characters."),
        ("daughter", "n" * 101, "family_member_name", "This text is longer than 100 characters."),
    ],
)
def test_hostile_relation_and_name_are_refused_and_nothing_is_saved(
    client_for, nurse, scripted, relation, name, field, message
):
    call, chest = scripted

    response = complete(
        client_for(nurse),
        call,
        chest,
        **{"outcome-family_member_relation": relation, "outcome-family_member_name": name},
    )

    assert response.status_code == 400
    errors = response.context["complete_form"].errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    call.refresh_from_db()
    assert call.status == "scheduled"


def test_a_nul_in_the_family_member_answers_the_nul_page_and_saves_nothing(client_for, nurse, scripted):
    call, chest = scripted

    response = complete(client_for(nurse), call, chest, **{"outcome-family_member_name": "Zhang\x00Li"})

    assert (response.status_code, NUL_PAGE in response.content.decode()) == (400, True)
    call.refresh_from_db()
    assert (call.status, call.family_member_name) == ("scheduled", "")


def test_markup_in_the_relation_is_saved_as_text_and_shown_escaped(client_for, nurse, scripted):
    call, chest = scripted
    client = client_for(nurse)

    complete(client, call, chest, **{"outcome-family_member_relation": "<script>alert(1)</script>"})

    call.refresh_from_db()
    assert call.family_member_relation == "<script>alert(1)</script>"
    page = client.get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "(&lt;script&gt;alert(1)&lt;/script&gt;, Zhang Li)" in page


def test_the_service_trims_the_family_member_and_refuses_an_unknown_respondent():
    assert respondent_check(answered_by="family", relation="  son \t", name=" Wang  Wei ") == ("son", "Wang Wei", {})
    assert respondent_check(answered_by="patient", relation="son", name="Wang Wei") == ("", "", {})
    assert respondent_check(answered_by="neighbour", relation="", name="") == (
        "",
        "",
        {"answered_by": ["Say who answered the phone."]},
    )


def test_call_complete_refuses_a_family_answer_without_the_relation(nurse, scripted):
    call, chest = scripted

    with pytest.raises(ValidationError) as refused:
        call_complete(
            call=call,
            by=nurse,
            expected_version=call.version,
            answered_by="both",
            answers={chest.pk: "no"},
            satisfaction="basic",
            item_scores={},
            summary="ok",
            duration_seconds=300,
        )

    assert refused.value.message_dict == {
        "family_member_relation": ["Say which family member spoke: daughter, son, wife..."]
    }


def test_the_family_figure_counts_calls_a_family_member_spoke_on_alone_or_with_the_patient(head_nurse):
    ward = ward_of(head_nurse)
    day = TODAY - dt.timedelta(days=1)
    bulk_calls(
        department=ward,
        rows=[
            {"due_date": day, "status": "completed", "answered_by": answered_by}
            for answered_by in ("patient", "family", "both", "patient")
        ],
    )

    figures = dashboard_figures(
        department_ids=[ward.pk], period=Period(day, TODAY), today=TODAY, source=Source(summary=False)
    )

    family = next(h for h in figures.headlines if h.key == "family")
    assert family.current == Rate(2, 4)


def test_existing_patient_and_family_answers_keep_their_meaning(nurse, scripted):
    call, _chest = scripted
    FollowUpCall.objects.filter(pk=call.pk).update(answered_by="family")
    call.refresh_from_db()

    assert (call.family_spoke, call.family_member, call.respondent_display) == (True, "", "Family member")
