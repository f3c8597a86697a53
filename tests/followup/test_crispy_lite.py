"""{% crispy_lite form %} renders the call screen's forms as {% crispy form %}
does (followup/crispy_lite.py): the same elements, attributes and text, with
white space between two tags where crispy has some, unbound, bound with
errors and with values, in English and Chinese; each widget exactly as
Django renders it. Forms it does not know are
left to crispy."""

import datetime as dt
import re

import pytest
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Layout, Submit
from django import forms
from django.http import QueryDict
from django.template import Context, Template
from django.utils import translation

from calls.forms.call_work import AttemptForm, CompleteForm, DeceasedForm
from calls.forms.script_answers import CallAnswersForm
from calls.models import Question
from calls.services.call_work import AttemptPolicy
from followup.crispy_lite import render_form
from tests.factories import PatientFactory, QuestionFactory, SatisfactionItemFactory, ScriptVersionFactory

pytestmark = pytest.mark.django_db

CRISPY = Template("{% load crispy_forms_tags %}{% crispy form %}")
LITE = Template("{% load fields %}{% crispy_lite form %}")


def seen(html) -> str:
    """What a browser makes of the markup's white space: runs of it are one
    space, none inside a tag between its attributes and its end, none
    between a tag and text; a space between two tags is kept."""
    html = re.sub(r"\s+", " ", str(html)).strip()
    html = re.sub(r"<([^<>]*)>", lambda m: "<" + re.sub(r"\s*(/?)$", r"\1", m.group(1).strip()) + ">", html)
    html = re.sub(r"> ([^<\s])", r">\1", html)
    return re.sub(r"([^>\s]) <", r"\1<", html)


def both(make, data=None):
    """The form rendered by crispy and by crispy_lite, each from its own instance."""
    html = []
    for template in (CRISPY, LITE):
        form = make(QueryDict(data, mutable=True) if data is not None else None)
        if form.is_bound:
            form.is_valid()
        html.append(template.render(Context({"form": form, "csrf_token": "tok<en>"})))
    return html


def questions():
    version = ScriptVersionFactory(script__language="zh-hans")
    made = [
        QuestionFactory(version=version, kind=Question.Kind.YES_NO),
        QuestionFactory(version=version, kind=Question.Kind.SCORE, help_text="1 worst <b>10</b> best"),
        QuestionFactory(version=version, kind=Question.Kind.SINGLE, choices=["好", "一般 & 差", 3]),
        QuestionFactory(version=version, kind=Question.Kind.MULTIPLE, choices=["头痛", "发热"], required=False),
        QuestionFactory(
            version=version, kind=Question.Kind.NUMBER, unit="mmHg", min_value=60, max_value=200, out_of_range="refuse"
        ),
        QuestionFactory(version=version, kind=Question.Kind.NUMBER, help_text="kg"),
        QuestionFactory(version=version, kind=Question.Kind.TEXT, text="<i>Anything</i> else?", required=False),
    ]
    return list(Question.objects.filter(pk__in=[q.pk for q in made]).select_related("version").order_by("order"))


def test_forms_render_as_crispy_renders_them():
    patient = PatientFactory()
    policy = AttemptPolicy(attempts=3, days=2, dial_from=dt.time(8), dial_until=dt.time(20))
    items = [SatisfactionItemFactory(code="nursing", name="护理 <态度>"), SatisfactionItemFactory(code="fees")]
    asked = questions()
    makers = {
        "attempt": lambda data: AttemptForm(data, patient=patient, policy=policy),
        "complete": lambda data: CompleteForm(data, items=items),
        "deceased": lambda data: DeceasedForm(data, discharged_on=dt.date(2026, 11, 1)),
        "answers": lambda data: CallAnswersForm(data, questions=asked),
    }
    posts = {
        "attempt": [
            "",
            "attempt-result=callback&attempt-dialled=other&attempt-other_number=x&attempt-no_more_calls=on"
            "&attempt-callback_time=25:00",
            "attempt-expected_version=3&attempt-result=busy&attempt-note=<b>&attempt-callback_asked_by=family",
        ],
        "complete": [
            "",
            f"outcome-answered_by=family&outcome-duration=abc&outcome-item_{items[0].pk}=11",
            "outcome-answered_by=patient&outcome-satisfaction=basic&outcome-summary=ok&outcome-duration=7",
        ],
        "deceased": ["", "deceased-died_on=2020-01-01&deceased-date_unknown=on", "deceased-date_unknown=on"],
        "answers": [
            "",
            "&".join(f"q_{q.pk}={v}" for q, v in zip(asked, ["yes", "11", "nope", "头痛", "999"], strict=False)),
            "&".join(
                f"q_{q.pk}={v}"
                for q, v in zip(
                    asked[:4] + asked[3:], ["no", "7", "3", "头痛", "发热", "120", "1.5", "<text>"], strict=True
                )
            ),
        ],
    }
    compared = 0
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for name, make in makers.items():
                assert render_form(make(None)) is not None, name  # not left to crispy
                for data in [None, *posts[name]]:
                    crispy_html, lite_html = both(make, data)
                    assert seen(lite_html) == seen(crispy_html), (language, name, data)
                    compared += 1
                    if data == posts[name][1]:
                        assert "is-invalid" in lite_html
    assert compared == 2 * 4 * 4


class TaggedForm(forms.Form):
    name = forms.CharField(label="Name", help_text="<b>escaped</b>")
    sure = forms.BooleanField(label="Sure?")
    pick = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], label="Pick")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "tagged"
        self.helper.form_class = "row g-2"
        self.helper.form_action = "/somewhere/"
        self.helper.error_text_inline = False
        self.helper.add_input(Submit("save", "Save it"))
        self.helper.add_input(Submit("save and go", "Save & go", css_class="btn-secondary"))

    def clean(self):
        raise forms.ValidationError(["Not <now>.", "Not ever."])


@pytest.mark.parametrize("data", [None, "", "name=x&sure=on&pick=b"])
def test_a_form_tag_buttons_and_form_errors_are_as_crispy_renders_them(data):
    crispy_html, lite_html = both(TaggedForm, data)

    assert render_form(TaggedForm(None)) is not None
    assert seen(lite_html) == seen(crispy_html)
    assert lite_html.count('name="csrfmiddlewaretoken" value="tok&lt;en&gt;"') == 1


def test_a_layout_it_does_not_know_is_left_to_crispy():
    def make(data):
        form = TaggedForm(data)
        form.helper.layout = Layout("name", HTML("<p>{{ form.name.value }}</p>"))
        return form

    crispy_html, lite_html = both(make, "name=Li")

    assert render_form(make(None)) is None
    assert lite_html == crispy_html
    assert "<p>Li</p>" in lite_html
