"""Refusals show at the top (issue 17, item 3): every form page puts an error
summary above its form, role="alert" and focusable, each message linking to
its field (followup/templatetags/error_summary.py; the browser side is in
tests/browser/test_error_summary.py)."""

import re

import pytest
import time_machine
from django import forms
from django.template import Context, Template
from django.urls import reverse

from calls.forms.call_work import CompleteForm, DeceasedForm
from followup.templatetags.error_summary import ErrorItem, error_items
from tests.calls.call_work_helpers import NOW, TODAY, make_call, scripted_version, ward_of

pytestmark = pytest.mark.django_db

SUMMARY = re.compile(r'<div class="alert alert-danger error-summary"[^>]*>(.*?)</div>', re.S)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def summary_of(html: str) -> tuple[str, str, list[tuple[str, str]]]:
    """The summary's opening tag, its heading and its (link target, text) items."""
    match = re.search(r'(<div class="alert alert-danger error-summary"[^>]*>)(.*?)</div>', html, re.S)
    assert match, "no error summary on the page"
    tag, body = match.groups()
    heading = re.search(r"<h2[^>]*>(.*?)</h2>", body, re.S).group(1).strip()
    items = [
        (target or "", re.sub(r"<[^>]+>", "", text).strip())
        for target, text in re.findall(r'<li>(?:<a [^>]*href="#([^"]+)"[^>]*>)?(.*?)</li>', body, re.S)
    ]
    return tag, heading, items


class Sample(forms.Form):
    hidden = forms.IntegerField(widget=forms.HiddenInput)
    when = forms.DateField(label="When")
    who = forms.ChoiceField(label="Who", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    what = forms.MultipleChoiceField(
        label="What", choices=[("x", "X")], widget=forms.CheckboxSelectMultiple, required=True
    )

    def clean(self):
        raise forms.ValidationError("The whole form is wrong.")


def test_items_follow_the_page_order_and_link_each_field_to_its_first_input():
    form = Sample({"s-hidden": "x", "s-when": "tomorrow"}, prefix="s")
    assert error_items(None, form, Sample()) == [
        ErrorItem(message="The whole form is wrong."),
        ErrorItem(message="Enter a whole number."),
        ErrorItem(message="Enter a valid date.", label="When", target="id_s-when"),
        ErrorItem(message="This field is required.", label="Who", target="id_s-who_0"),
        ErrorItem(message="This field is required.", label="What", target="id_s-what_0"),
    ]


def test_lists_and_dicts_of_forms_count_as_their_forms():
    refused = DeceasedForm({"deceased-died_on": "soon"}, discharged_on=TODAY)
    one = [item.target for item in error_items(refused)]
    assert one == ["", "id_deceased-died_on"]  # the hidden version, then the date
    assert [item.target for item in error_items([refused], {"d": refused}, None)] == one * 2


def test_no_summary_on_a_page_nothing_was_refused(client_for, nurse, frozen):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    html = client_for(nurse).get(reverse("calls:call_detail", args=[call.pk])).content.decode()
    assert 'class="alert alert-danger error-summary"' not in html


@pytest.mark.parametrize(
    ("language", "heading", "required"),
    [
        ("en", "Nothing was saved. Please correct these 5 things:", "This field is required."),
        ("zh-hans", "未保存任何内容。请更正以下 5 处：", "这个字段是必填项。"),
    ],
)
def test_a_refused_call_lists_every_mistake_at_the_top_with_links(
    client_for, nurse, frozen, language, heading, required
):
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    call = make_call(department=ward, nurse=nurse)
    client = client_for(nurse)
    client.cookies.load({"django_language": language})

    response = client.post(
        reverse("calls:call_complete", args=[call.pk]),
        {"outcome-expected_version": call.version, "outcome-duration": "99:99"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    tag, shown_heading, items = summary_of(html)
    assert 'role="alert"' in tag
    assert 'tabindex="-1"' in tag
    assert shown_heading == heading
    targets = [target for target, _text in items]
    assert targets == [
        f"id_q_{chest.pk}_0",
        "id_outcome-answered_by_0",
        "id_outcome-satisfaction_0",
        "id_outcome-summary",
        "id_outcome-duration",
    ]
    assert all(f'id="{target}"' in html for target in targets)
    assert items[3][1].endswith(required)
    # Above the forms: before the dial section and the outcome form.
    assert html.index('class="alert alert-danger error-summary"') < html.index('id="attempt-form"')


def test_a_refused_discharge_form_shows_the_summary_above_the_form(client_for, nurse):
    ward = ward_of(nurse)
    response = client_for(nurse).post(
        reverse("calls:discharge_new"),
        {"mrn": "", "name": "张伟", "sex": "F", "phone": "138 1234 5678", "department": ward.pk},
    )
    html = response.content.decode()
    _tag, heading, items = summary_of(html)
    assert heading == "Nothing was saved. Please correct these 4 things:"
    assert items == [
        ("id_mrn", "Inpatient number (MRN): This field is required."),
        ("id_admitted_on", "Admitted on: This field is required."),
        ("id_discharged_on", "Discharged on: This field is required."),
        ("id_diagnosis", "Diagnosis: This field is required."),
    ]
    assert html.index('class="alert alert-danger error-summary"') < html.index('id="id_mrn"')


def test_a_wrong_password_is_told_in_the_summary(client, nurse):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    _tag, heading, items = summary_of(response.content.decode())
    assert heading == "Nothing was saved. Please correct this 1 thing:"
    assert [target for target, _text in items] == [""]


def test_a_bad_filter_is_told_without_saying_nothing_was_saved(client_for, head_nurse):
    response = client_for(head_nurse).get(reverse("calls:alerts"), {"department": "nonsense"})
    _tag, heading, items = summary_of(response.content.decode())
    assert heading == "Please correct this 1 thing:"
    assert items[0][0] == "id_department"


def test_item_forms_use_their_own_field_ids():
    form = CompleteForm({"outcome-expected_version": "1"}, items=[])
    assert [item.target for item in error_items(form)] == [
        "id_outcome-answered_by_0",
        "id_outcome-satisfaction_0",
        "id_outcome-summary",
        "id_outcome-duration",
    ]


def test_the_summary_escapes_a_question_typed_by_an_administrator(client_for, nurse, frozen):
    ward = ward_of(nurse)
    _version, chest, _note = scripted_version(department=ward)
    chest.text = '<img src=x onerror="alert(1)">Chest pain?'
    chest.save()
    call = make_call(department=ward, nurse=nurse)

    response = client_for(nurse).post(
        reverse("calls:call_complete", args=[call.pk]), {"outcome-expected_version": call.version}
    )

    html = response.content.decode()
    summary = SUMMARY.search(html).group(1)
    assert "<img" not in summary
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;Chest pain?: Please answer this question." in summary


def test_outside_a_request_the_summary_only_asks_to_correct():
    form = DeceasedForm({"deceased-died_on": ""}, discharged_on=TODAY)
    html = Template("{% load error_summary %}{% error_summary form %}").render(Context({"form": form}))
    assert "Please correct these 2 things:" in html
