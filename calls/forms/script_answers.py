"""The form a nurse fills in during a call: one field per script question.

The question texts, the yes/no labels and the choices are in the script
version's language; the form's own messages (required, out of range) in the
nurse's UI language (docs/scripts.md)."""

import functools
from decimal import Decimal

from crispy_forms.bootstrap import AppendedText, InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from calls.models import Question
from followup.forms import LongTextField

YES_NO_CHOICES = [("yes", _("Yes")), ("no", _("No"))]
SCORE_CHOICES = [(n, str(n)) for n in range(1, 11)]
REQUIRED_MESSAGE = _("Please answer this question.")


def yes_no_choices(language: str | None) -> list[tuple[str, str]]:
    """Yes and No in the script's language (the UI language when None)."""
    language = language or translation.get_language()
    if not language:
        return [(value, str(label)) for value, label in YES_NO_CHOICES]
    return list(_yes_no_in(language))


@functools.lru_cache(maxsize=32)
def _yes_no_in(language: str) -> tuple[tuple[str, str], ...]:
    # Once per language and process (the catalogues do not change while it
    # runs): switching the language for each question of a script cost more
    # than the rest of its field.
    with translation.override(language):
        return tuple((value, str(label)) for value, label in YES_NO_CHOICES)


def _script_language(question: Question) -> str | None:
    version = Question.version.field.get_cached_value(question, default=None)
    return version.language if version is not None else None


def range_message(question: Question) -> str:
    """What the nurse is told when a value is refused as out of range."""
    return str(_("Outside the allowed range (%(range)s): check the value with the patient.")) % {
        "range": question.range_text
    }


def range_validator(question: Question):
    def validate(value):
        if question.is_out_of_range(value):
            raise ValidationError(range_message(question), code="out_of_range")

    return validate


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
        return forms.ChoiceField(choices=yes_no_choices(_script_language(question)), widget=forms.RadioSelect, **common)
    if kind == Question.Kind.SINGLE:
        return forms.ChoiceField(choices=_choices(question), widget=forms.RadioSelect, **common)
    if kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(choices=_choices(question), widget=forms.CheckboxSelectMultiple, **common)
    if kind == Question.Kind.SCORE:
        return forms.TypedChoiceField(
            choices=SCORE_CHOICES, coerce=int, empty_value=None, widget=forms.RadioSelect, **common
        )
    if kind == Question.Kind.NUMBER:
        if question.has_range:
            hint = _("Expected: %(range)s.") % {"range": question.range_text}
            common["help_text"] = f"{question.help_text} {hint}".strip()
        refuse = question.has_range and question.out_of_range == Question.OutOfRange.REFUSE
        return forms.DecimalField(
            max_digits=12,
            decimal_places=3,
            validators=[range_validator(question)] if refuse else [],
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            **common,
        )
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
            elif question.kind == Question.Kind.NUMBER and question.unit:
                layout.append(AppendedText(name, question.unit))
            else:
                layout.append(Field(name))
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(*layout)

    def answers(self) -> dict[int, object]:
        """Question pk -> the cleaned answer as a JSON-serialisable value."""
        return {q.pk: _json_value(self.cleaned_data.get(field_name(q))) for q in self.questions}

    def out_of_range(self) -> list[tuple[Question, str]]:
        """The accepted answers outside their question's range (flag policy),
        with the answer as shown: for the nurse's message on completion."""
        answers = self.answers()
        return [
            (question, question.format_answer(answers[question.pk]))
            for question in self.questions
            if question.is_out_of_range(answers[question.pk])
        ]

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
