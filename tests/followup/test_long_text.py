"""Long free text: what a person could paste (20,000 characters, Chinese
included) is saved; more is refused with a message that says by how much, and
the form comes back with the text as typed. The request body limit leaves
room for it and answers a body over it with the readable "too large" page."""

import re
from urllib.parse import urlencode

import pytest
import time_machine
from django import forms
from django.urls import reverse

from calls.dashboard import forms as dashboard
from calls.forms import call_work, discharges
from calls.forms.script_answers import CallAnswersForm
from calls.models import CallAnswer, FollowUpCall
from complaints import forms as complaint_forms
from complaints import services
from complaints.models import Category, Complaint, ComplaintEvent
from followup.forms import LONG_TEXT_MAX_CHARS, LongTextField
from tests.calls.call_work_helpers import NOW, make_call, scripted_version, ward_of

TOO_LONG = "患者家属反映护士态度冷淡。" * 1946 + "未解释用药方法和复诊时间"
TOO_LONG_MESSAGE = "This text is 25,310 characters long; the limit is 20,000. Shorten it and save again."
AT_THE_LIMIT = "患" * 20_000


@pytest.fixture
def ward(officer):
    return ward_of(officer)


def form_encoded(data: dict) -> dict:
    """What a browser sends for a form without files: every Chinese character
    is 9 bytes once URL-encoded."""
    return {"data": urlencode(data, doseq=True), "content_type": "application/x-www-form-urlencoded"}


def complaint_data(ward, **overrides) -> dict:
    data = {
        "channel": Complaint.Channel.HOTLINE,
        "received_at": "2026-01-05T10:30",
        "complainant_name": "王女士",
        "complainant_relation": "patient",
        "category": Category.objects.get(code="attitude").pk,
        "severity": "general",
        "validity": "undetermined",
        "departments": [ward.pk],
        "description": "The nurse did not explain the discharge medicines.",
    }
    data.update(overrides)
    return data


def test_the_long_text_used_in_these_tests_has_the_length_the_message_states():
    assert (len(TOO_LONG), len(AT_THE_LIMIT), LONG_TEXT_MAX_CHARS) == (25_310, 20_000, 20_000)


def test_a_complaint_settled_on_the_spot_with_two_texts_at_the_limit_is_recorded(client_for, officer, ward):
    data = complaint_data(
        ward, description=AT_THE_LIMIT, settled_on_the_spot="on", measures="explanation", reply=AT_THE_LIMIT
    )
    response = client_for(officer).post(reverse("complaints:create"), **form_encoded(data))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert (complaint.description, complaint.events.get(kind="reply").text) == (AT_THE_LIMIT, AT_THE_LIMIT)


def test_a_longer_description_is_refused_and_shown_again_as_typed(client_for, officer, ward):
    data = complaint_data(ward, description=TOO_LONG)
    response = client_for(officer).post(reverse("complaints:create"), **form_encoded(data))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"description": [TOO_LONG_MESSAGE]}
    assert form["description"].value() == TOO_LONG
    assert f">\n{TOO_LONG}</textarea>" in response.content.decode()
    assert Complaint.objects.count() == 0


def test_the_text_area_has_no_maxlength_that_would_cut_a_paste_silently(client_for, officer):
    html = client_for(officer).get(reverse("complaints:create")).content.decode()
    text_area = re.search(r'<textarea[^>]*name="description"[^>]*>', html).group(0)
    assert 'rows="4"' in text_area
    assert "maxlength" not in text_area


def test_the_message_is_in_chinese_for_a_chinese_browser(client_for, officer, ward):
    response = client_for(officer).post(
        reverse("complaints:create"),
        **form_encoded(complaint_data(ward, description=TOO_LONG)),
        headers={"accept-language": "zh-hans"},
    )
    assert response.context["form"].errors["description"] == [
        "这段文字有 25310 个字，上限是 20000 个字。请删减后再保存。"
    ]


def test_a_long_note_on_a_complaint_is_refused_and_kept(client_for, officer, ward):
    complaint = services.complaint_create(
        by=officer,
        channel=Complaint.Channel.HOTLINE,
        category=Category.objects.get(code="attitude"),
        description="The nurse did not explain the discharge medicines.",
        complainant_name="王女士",
        departments=[ward],
        owner=officer,
    )
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "note"]), **form_encoded({"note-text": TOO_LONG})
    )
    assert response.status_code == 400
    form = response.context["forms"]["note"]
    assert (form.errors, form["text"].value()) == ({"text": [TOO_LONG_MESSAGE]}, TOO_LONG)
    assert ComplaintEvent.objects.filter(kind="note").count() == 0


@pytest.mark.django_db
def test_a_call_summary_and_a_text_answer_at_the_limit_are_saved_and_longer_ones_refused(client_for, nurse):
    ward = ward_of(nurse)
    _version, chest, note = scripted_version(department=ward, red_flag=False)
    call = make_call(department=ward, nurse=nurse)
    url = reverse("calls:call_complete", args=[call.pk])
    data = {
        f"q_{chest.pk}": "no",
        f"q_{note.pk}": TOO_LONG,
        "outcome-expected_version": call.version,
        "outcome-answered_by": "patient",
        "outcome-satisfaction": "satisfied",
        "outcome-summary": TOO_LONG,
        "outcome-duration": "7:30",
    }
    client = client_for(nurse)
    with time_machine.travel(NOW, tick=False):
        refused = client.post(url, **form_encoded(data))
        assert refused.status_code == 400
        answers, outcome = refused.context["answers_form"], refused.context["complete_form"]
        assert (answers.errors, outcome.errors) == (
            {f"q_{note.pk}": [TOO_LONG_MESSAGE]},
            {"summary": [TOO_LONG_MESSAGE]},
        )
        assert (answers[f"q_{note.pk}"].value(), outcome["summary"].value()) == (TOO_LONG, TOO_LONG)
        assert FollowUpCall.objects.get(pk=call.pk).status == FollowUpCall.Status.SCHEDULED

        at_the_limit = {**data, f"q_{note.pk}": AT_THE_LIMIT, "outcome-summary": AT_THE_LIMIT}
        saved = client.post(url, **form_encoded(at_the_limit))
    assert saved.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.summary) == (FollowUpCall.Status.COMPLETED, AT_THE_LIMIT)
    assert CallAnswer.objects.get(call=call, question=note).value == AT_THE_LIMIT


def _text_areas(form_class) -> dict[str, forms.Field]:
    return {name: field for name, field in form_class.base_fields.items() if isinstance(field.widget, forms.Textarea)}


@pytest.mark.parametrize(
    "form_class",
    [
        complaint_forms.ComplaintForm,
        complaint_forms.TransitionForm,
        complaint_forms.NoteForm,
        complaint_forms.ReplyForm,
        complaint_forms.EvidenceForm,
        complaint_forms.ReassignForm,
        complaint_forms.PauseForm,
        complaint_forms.ResumeForm,
        complaint_forms.PromiseForm,
        complaint_forms.DeliverForm,
        call_work.AttemptForm,
        call_work.CompleteForm,
        call_work.DeceasedForm,
        call_work.AlertResolveForm,
        dashboard.SpotCheckReviewForm,
        discharges.DischargeForm,
    ],
)
def test_every_text_area_of_the_complaint_and_call_forms_takes_twenty_thousand_characters(form_class):
    areas = _text_areas(form_class)
    assert areas
    assert {name: type(field) for name, field in areas.items()} == dict.fromkeys(areas, LongTextField)


@pytest.mark.django_db
def test_a_text_question_takes_twenty_thousand_characters(nurse):
    ward = ward_of(nurse)
    _version, chest, note = scripted_version(department=ward)
    form = CallAnswersForm({f"q_{chest.pk}": "no", f"q_{note.pk}": AT_THE_LIMIT}, questions=[chest, note])
    assert form.is_valid(), form.errors
    assert type(form.fields[f"q_{note.pk}"]) is LongTextField


def test_a_body_over_the_request_limit_gets_the_readable_413_page_not_a_bare_400(client_for, officer, ward, settings):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2_621_440
    data = complaint_data(ward, description="患" * 300_000)  # 2.7 MB URL-encoded
    response = client_for(officer).post(reverse("complaints:create"), **form_encoded(data))
    assert response.status_code == 413
    assert "What you sent was too large to save: a text was too long or a file too big." in response.content.decode()
    assert Complaint.objects.count() == 0
