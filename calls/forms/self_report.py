"""The patient's self-report form: the script's questions in the patient's
wording and language, who is answering, overall satisfaction and the item
scores; and the "please call me" note."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from calls.models import FollowUpCall, Question, SatisfactionItem
from followup.forms import LongTextField

from .script_answers import SCORE_CHOICES, _choices, _json_value, field_name, range_validator, yes_no_choices

REQUIRED_MESSAGE = _("Please answer this question.")
ANSWERED_BY_CHOICES = [
    (FollowUpCall.AnsweredBy.PATIENT, pgettext_lazy("self-report", "I am the patient")),
    (FollowUpCall.AnsweredBy.FAMILY, pgettext_lazy("self-report", "I am answering for the patient (family)")),
]
SATISFACTION_CHOICES = [
    (FollowUpCall.Satisfaction.SATISFIED, _("Satisfied")),
    (FollowUpCall.Satisfaction.BASIC, _("Basically satisfied")),
    (FollowUpCall.Satisfaction.UNSATISFIED, _("Unsatisfied")),
]


def _field(question: Question, language: str) -> forms.Field:
    common = {
        "label": question.patient_wording,
        "required": question.required,
        "error_messages": {"required": REQUIRED_MESSAGE},
    }
    kind = question.kind
    if kind == Question.Kind.YES_NO:
        return forms.ChoiceField(choices=yes_no_choices(language), widget=forms.RadioSelect, **common)
    if kind == Question.Kind.SINGLE:
        return forms.ChoiceField(choices=_choices(question), widget=forms.RadioSelect, **common)
    if kind == Question.Kind.MULTIPLE:
        return forms.MultipleChoiceField(choices=_choices(question), widget=forms.CheckboxSelectMultiple, **common)
    if kind == Question.Kind.SCORE:
        return forms.TypedChoiceField(
            choices=SCORE_CHOICES, coerce=int, empty_value=None, widget=forms.RadioSelect, **common
        )
    if kind == Question.Kind.NUMBER:
        refuse = question.has_range and question.out_of_range == Question.OutOfRange.REFUSE
        if question.unit:
            common["help_text"] = question.unit
        return forms.DecimalField(
            max_digits=12,
            decimal_places=3,
            validators=[range_validator(question)] if refuse else [],
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            **common,
        )
    return LongTextField(rows=3, **common)


def _item_field_name(item: SatisfactionItem) -> str:
    return f"item_{item.pk}"


class SelfReportForm(forms.Form):
    answered_by = forms.ChoiceField(
        label=_("Who is answering?"),
        choices=ANSWERED_BY_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please say who is answering.")},
    )

    def __init__(self, *args, questions: list[Question], items: list[SatisfactionItem], language: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        self.items = list(items)
        for question in self.questions:
            self.fields[field_name(question)] = _field(question, language)
        self.fields["satisfaction"] = forms.ChoiceField(
            label=_("Overall, how satisfied were you with your stay?"),
            choices=SATISFACTION_CHOICES,
            widget=forms.RadioSelect,
            error_messages={"required": REQUIRED_MESSAGE},
        )
        for item in self.items:
            self.fields[_item_field_name(item)] = forms.TypedChoiceField(
                label=item.label,
                choices=SCORE_CHOICES,
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
            )
        self.fields["answered_by"] = self.fields.pop("answered_by")  # asked last, as on the page

    @property
    def question_fields(self):
        return [self[field_name(q)] for q in self.questions]

    @property
    def item_fields(self):
        return [self[_item_field_name(item)] for item in self.items]

    def answers(self) -> dict[int, object]:
        return {q.pk: _json_value(self.cleaned_data.get(field_name(q))) for q in self.questions}

    def item_scores(self) -> dict[int, int]:
        scores = {item.pk: self.cleaned_data.get(_item_field_name(item)) for item in self.items}
        return {pk: score for pk, score in scores.items() if score is not None}

    def partial_answers(self) -> dict[int, object]:
        """The answers given so far, each checked on its own (a half-filled
        form is kept without its invalid or empty values)."""
        kept: dict[int, object] = {}
        for question in self.questions:
            name = field_name(question)
            field = self.fields[name]
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            try:
                value = field.clean(raw)
            except forms.ValidationError:
                continue
            value = _json_value(value)
            if value is not None:
                kept[question.pk] = value
        return kept


def draft_initial(draft: dict, questions: list[Question]) -> dict[str, object]:
    """The form's initial values from the kept answers."""
    return {field_name(q): draft[str(q.pk)] for q in questions if str(q.pk) in draft}


class CallMeForm(forms.Form):
    note = LongTextField(
        label=_("What would you like to talk about? (optional)"),
        required=False,
        rows=3,
    )
