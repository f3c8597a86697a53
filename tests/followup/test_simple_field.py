"""simple_field renders a field as crispy-forms' as_crispy_field does
(followup/templatetags/fields.py, followup/crispy_lite.py): the same HTML,
with white space between two tags where crispy has some, for the
worklist's filters and reassignment, the dashboard's filter and the call
screen's fields (radios, check boxes, text areas, help texts), bound or not, with errors or not, in
English and Chinese; a field it does not know is left to crispy."""

import datetime as dt
import re

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms
from django.http import QueryDict
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from calls.dashboard.forms import DashboardFilterForm
from calls.forms.call_work import AttemptForm, CompleteForm, DeceasedForm, ReassignForm, WorklistFilter
from calls.models import Department, FollowUpCall
from followup.crispy_lite import render_field
from followup.models import User
from followup.templatetags.fields import simple_field
from tests.followup.test_crispy_lite import seen

pytestmark = pytest.mark.django_db


def squeezed(html: str) -> str:
    """The HTML without white space around tags (the partial and crispy's templates lay it out apart)."""
    html = re.sub(r"\s+", " ", str(html))
    return re.sub(r"\s*(<|>)\s*", r"\1", html).strip()


def worklist_filter(data: str):
    return WorklistFilter(
        QueryDict(data), queryset=FollowUpCall.objects.none(), departments=[(1, "心内科"), (2, "Oncology <b>")]
    ).form


def reassign_form(data: str):
    return ReassignForm(QueryDict(data), calls=FollowUpCall.objects.none(), nurses=User.objects.all())


def dashboard_filter(data: str):
    return DashboardFilterForm(QueryDict(data), departments=Department.objects.all())


FORMS = {
    "filters, unbound": lambda: worklist_filter(""),
    "filters, chosen": lambda: worklist_filter("department=2&status=scheduled&due_from=2026-11-01"),
    "filters, wrong": lambda: worklist_filter("department=9&step_day=x&due_to=2026-13-40"),
    "reassign, unbound": lambda: ReassignForm(calls=FollowUpCall.objects.none(), nurses=User.objects.all()),
    "reassign, refused": lambda: reassign_form("to=999"),
    "attempt, unbound": lambda: AttemptForm(initial={"expected_version": 1}),
    "attempt, wrong": lambda: AttemptForm(
        QueryDict("attempt-result=callback&attempt-dialled=other&attempt-no_more_calls=on&attempt-note=<b>")
    ),
    "outcome, unbound": lambda: CompleteForm(items=[]),
    "outcome, wrong": lambda: CompleteForm(QueryDict("outcome-answered_by=family&outcome-duration=x"), items=[]),
    "deceased, wrong": lambda: DeceasedForm(
        QueryDict("deceased-died_on=1900-01-01&deceased-date_unknown=on"), discharged_on=dt.date(2026, 11, 1)
    ),
    "dashboard, default": lambda: dashboard_filter(""),
    "dashboard, wrong": lambda: dashboard_filter("start=2026-11-40&department=999"),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("name", FORMS)
def test_simple_field_is_as_crispy_field(name, language):
    with translation.override(language):
        crispy_form, simple_form = FORMS[name](), FORMS[name]()
        crispy_form.is_bound and crispy_form.is_valid()
        simple_form.is_bound and simple_form.is_valid()
        pairs = [(as_crispy_field(crispy_form[f]), simple_field(simple_form[f])) for f in crispy_form.fields]
        assert all(render_field(simple_form[f]) is not None for f in simple_form.fields)  # not left to crispy

    for crispy_html, simple_html in pairs:
        assert seen(simple_html) == seen(crispy_html)
    assert any("is-invalid" in str(simple) for _crispy, simple in pairs) == name.endswith(("wrong", "refused"))


class UploadForm(forms.Form):
    scan = forms.FileField(label="Scan")


def test_a_field_it_does_not_know_is_left_to_crispy():
    assert render_field(UploadForm()["scan"]) is None
    assert simple_field(UploadForm()["scan"]) == as_crispy_field(UploadForm()["scan"])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("data", ["", "start=2026-11-20&end=2026-11-01", "start=2026-11-40&department=999"])
def test_dashboard_filter_is_the_crispy_form(data, language):
    """templates/calls/includes/_dash_filter.html: the dashboard's filter as
    {% crispy form %} renders it, errors of the form and of its fields too."""
    with translation.override(language):
        crispy_form, simple_form = dashboard_filter(data), dashboard_filter(data)
        crispy_form.is_valid()
        simple_form.is_valid()
        crispy_html = Template("{% load crispy_forms_tags %}{% crispy form %}").render(Context({"form": crispy_form}))
        simple_html = render_to_string("calls/includes/_dash_filter.html", {"form": simple_form})

    assert squeezed(simple_html) == squeezed(crispy_html).replace("btn btn-primary btn-primary", "btn btn-primary")
    assert ("alert-danger" in simple_html) == (data != "" and "end=" in data)
