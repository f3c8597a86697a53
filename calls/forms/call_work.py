"""Forms of the worklist, the call screen and the clinical alert list."""

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from followup.dates import PeriodDateFilter
from followup.forms import LongTextField

from ..models import CallAttempt, ClinicalAlert, FollowUpCall, SatisfactionItem
from ..services.call_work import (
    parse_duration,
    respondent_check,
    validate_death_date,
    validate_next_call_on,
)


def _inline_helper(submit_label) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    if submit_label:
        helper.add_input(Submit("submit", submit_label))
    return helper


class WorklistFilter(django_filters.FilterSet):
    # Choices, not a queryset: the user's departments are read once per request.
    department = django_filters.ChoiceFilter(
        field_name="discharge__department",
        choices=[],
        label=_("Department"),
        empty_label=_("All departments"),
    )
    step_day = django_filters.NumberFilter(
        field_name="step__offset_days", label=_("Rule step (days after discharge)"), min_value=0
    )
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in FollowUpCall.OPEN_STATUSES],
        label=_("Status"),
        empty_label=_("Any status"),
    )
    due_from = PeriodDateFilter(
        field_name="due_date",
        lookup_expr="gte",
        label=_("Due from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_to = PeriodDateFilter(
        field_name="due_date",
        lookup_expr="lte",
        label=_("Due until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = FollowUpCall
        fields = ["department", "step_day", "status", "due_from", "due_to"]

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["department"].extra["choices"] = list(departments)
        self.form.helper = FormHelper()
        self.form.helper.form_tag = False
        self.form.helper.disable_csrf = True
        self.form.helper.form_show_labels = True


class ReassignForm(forms.Form):
    calls = forms.ModelMultipleChoiceField(
        queryset=FollowUpCall.objects.none(),
        label=_("Calls"),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Select at least one call.")},
    )
    to = forms.ModelChoiceField(queryset=None, label=_("Reassign selected calls to"), empty_label=_("Choose a nurse"))

    def __init__(self, *args, calls=None, nurses=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calls"].queryset = calls if calls is not None else FollowUpCall.objects.none()
        self.fields["to"].queryset = nurses


class AttemptForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    result = forms.ChoiceField(label=_("Result of this dial"), choices=CallAttempt.Result.choices)
    note = LongTextField(label=_("Note"), required=False)
    no_more_calls = forms.BooleanField(
        label=_("The patient asks for no more calls (cancels every remaining call)"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="attempt", **kwargs)
        self.helper = _inline_helper(_("Record attempt"))

    def clean(self):
        data = super().clean()
        if data.get("no_more_calls") and data.get("result") != CallAttempt.Result.REFUSED:
            self.add_error("no_more_calls", _('Tick this only when the result is "Refused".'))
        return data


class CompleteForm(forms.Form):
    """The outcome of an answered call; the script's answers come from the
    script's own form, the satisfaction item scores are added per item."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    answered_by = forms.ChoiceField(
        label=_("Who answered"), choices=FollowUpCall.AnsweredBy.choices, widget=forms.RadioSelect
    )
    # Not max_length: a longer text is refused with respondent_check's words
    # (a browser's maxlength would cut a paste without saying so).
    family_member_relation = forms.CharField(
        label=_("Family member who spoke: relation"),
        required=False,
        strip=False,
        help_text=_("When a family member answered: daughter, son, wife..."),
    )
    family_member_name = forms.CharField(
        label=_("Family member's name"), required=False, strip=False, help_text=_("If she or he gave it.")
    )
    satisfaction = forms.ChoiceField(
        label=_("Overall satisfaction"), choices=FollowUpCall.Satisfaction.choices, widget=forms.RadioSelect
    )
    summary = LongTextField(label=_("Summary"), rows=3)
    duration = forms.CharField(
        label=_("Duration"),
        max_length=8,
        help_text=_("Minutes (7) or minutes:seconds (7:30)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "7:30"}),
    )
    next_call_on = forms.DateField(
        label=_("Book the next call for"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional; creates that call."),
    )

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, prefix="outcome", **kwargs)
        self.items = list(items if items is not None else SatisfactionItem.objects.filter(is_active=True))
        for item in self.items:
            self.fields[f"item_{item.pk}"] = forms.IntegerField(
                label=item.label,
                required=False,
                min_value=1,
                max_value=10,
                help_text=_("1 to 10, 10 best; leave empty if not asked."),
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        self.helper = _inline_helper(None)
        outcome = [name for name in self.fields if not name.startswith("item_")]
        scores = [f"item_{item.pk}" for item in self.items]
        self.helper.layout = Layout(
            *outcome, *([Fieldset(_("Item scores"), *scores, css_class="item-scores")] if scores else [])
        )

    def clean_duration(self) -> int:
        return parse_duration(self.cleaned_data["duration"])

    def clean(self):
        data = super().clean()
        if "answered_by" in data:
            relation, name, errors = respondent_check(
                answered_by=data["answered_by"],
                relation=data.get("family_member_relation", ""),
                name=data.get("family_member_name", ""),
            )
            data["family_member_relation"], data["family_member_name"] = relation, name
            for field_name, messages in errors.items():
                for message in messages:
                    self.add_error(field_name, message)
        return data

    def clean_next_call_on(self):
        day = self.cleaned_data.get("next_call_on")
        validate_next_call_on(day)
        return day

    def item_scores(self) -> dict[int, int]:
        return {
            item.pk: self.cleaned_data[f"item_{item.pk}"]
            for item in self.items
            if self.cleaned_data.get(f"item_{item.pk}") is not None
        }


class DeceasedForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    died_on = forms.DateField(label=_("Date of death"), widget=forms.DateInput(attrs={"type": "date"}))
    note = LongTextField(label=_("Note"), required=False)

    def __init__(self, *args, discharged_on=None, **kwargs):
        super().__init__(*args, prefix="deceased", **kwargs)
        self.discharged_on = discharged_on
        self.helper = _inline_helper(_("Record the death and cancel all calls"))

    def clean_died_on(self):
        day = self.cleaned_data["died_on"]
        validate_death_date(day, discharged_on=self.discharged_on)
        return day


class AlertFilter(django_filters.FilterSet):
    department = django_filters.ChoiceFilter(
        field_name="call__discharge__department",
        choices=[],
        label=_("Department"),
        empty_label=_("All departments"),
    )

    class Meta:
        model = ClinicalAlert
        fields = ["department"]

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["department"].extra["choices"] = list(departments)


class AlertResolveForm(forms.Form):
    action = forms.ChoiceField(label=_("Action taken"), choices=[("", "---------"), *ClinicalAlert.Action.choices])
    note = LongTextField(label=_("What was done"))

    def __init__(self, *args, alert=None, **kwargs):
        prefix = f"alert{alert.pk}" if alert is not None else None
        super().__init__(*args, prefix=prefix, **kwargs)
        self.helper = _inline_helper(_("Resolve"))
