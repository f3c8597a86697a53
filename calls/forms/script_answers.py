"""The form a nurse fills in during a call: one field per script question."""

from decimal import Decimal

from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from calls.models import Question
from followup.forms import LongTextField

YES_NO_CHOICES = [("yes", _("Yes")), ("no", _("No"))]
SCORE_CHOICES = [(n, str(n)) for n in range(1, 11)]
REQUIRED_MESSAGE = _("Please answer this question.")


def field_name(question: Question) -> str:
    return f"q_{question.pk}"


def _choices(question: Question) -> list[tuple[str, str]]:
    return [(str(choice), str(choice)) for choice in question.choices or []]


def _question_field(question: Question) -> forms.Field:
    common = {
        "label": question.text,
        "help_text": question.help_text,
        "required": question.required,
        "error_messages": {"required": REQUIRED_MESSAGE},
    }
    kind = question.kind
    if kind == Question.Kind.YES_NO:
        return forms.ChoiceField(choices=YES_NO_CHOICES, widget=forms.RadioSelect, **common)
    if kind == Question.Kind.SINGLE:
        return forms.ChoiceField(choices=_choices(question), widget=forms.RadioSelect, **common)
    if kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(choices=_choices(question), widget=forms.CheckboxSelectMultiple, **common)
    if kind == Question.Kind.SCORE:
        return forms.TypedChoiceField(
            choices=SCORE_CHOICES, coerce=int, empty_value=None, widget=forms.RadioSelect, **common
        )
    if kind == Question.Kind.NUMBER:
        return forms.DecimalField(max_digits=12, decimal_places=3, **common)
    return LongTextField(**common)


def _json_value(value):
    """Answers are stored as JSON: decimals become int or float, empties None."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if value in ("", [], None):
        return None
    return value


def _as_strings(value) -> set[str]:
    values = value if isinstance(value, list) else [value]
    return {str(v) for v in values if v is not None}


class CallAnswersForm(forms.Form):
    """Fields ``q_<question pk>`` in question order. Rendered with crispy,
    without a <form> tag: the call screen wraps it in its own form."""

    def __init__(self, *args, questions: list[Question], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        layout = []
        for question in self.questions:
            name = field_name(question)
            self.fields[name] = _question_field(question)
            if question.kind in (Question.Kind.YES_NO, Question.Kind.SCORE):
                layout.append(InlineRadios(name))
            else:
                layout.append(Field(name))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*layout)

    def answers(self) -> dict[int, object]:
        """Question pk -> the cleaned answer as a JSON-serialisable value."""
        return {q.pk: _json_value(self.cleaned_data.get(field_name(q))) for q in self.questions}

    def red_flags(self) -> list[Question]:
        """The questions whose answer is one of their red-flag answers (for a
        multiple choice: any chosen answer that is a red flag)."""
        answers = self.answers()
        flagged = []
        for question in self.questions:
            answer = answers[question.pk]
            if answer is None or not question.red_flag_answers:
                continue
            if _as_strings(answer) & _as_strings(list(question.red_flag_answers)):
                flagged.append(question)
        return flagged
