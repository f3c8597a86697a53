"""Forms of the worklist, the call screen and the clinical alert list."""

import datetime as dt

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from followup.dates import PeriodDateFilter
from followup.forms import FetchedChoices, LongTextField
from followup.prepared import Params

from ..models import CallAttempt, ClinicalAlert, FollowUpCall, Patient, SatisfactionItem
from ..phones import normalise_phone
from ..services.call_work import (
    DEFAULT_POLICY,
    AttemptPolicy,
    callback_problems,
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


class IdChoiceField(django_filters.fields.ChoiceField):
    """A choice of ids, cleaned to the id as a number (the worklist's
    statements take the value as it is, calls.selectors.worklist.Worklist)."""

    def clean(self, value):
        value = super().clean(value)
        return int(value) if value not in self.empty_values else value


class IdChoiceFilter(django_filters.ChoiceFilter):
    field_class = IdChoiceField


class WorklistFilter(django_filters.FilterSet):
    # Choices, not a queryset: the user's departments are read once per request.
    department = IdChoiceFilter(
        field_name="department",  # the call's own (its stay's): no join
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

    def set_values(self) -> dict:
        """The valid filters that are set, by name (call is_valid() first)."""
        return {name: value for name, value in self.form.cleaned_data.items() if value not in EMPTY_VALUES}

    def apply(self, calls, values: dict):
        """``calls`` filtered by ``values`` (by name) as each filter filters,
        the values being placeholders too (calls.selectors.worklist.Worklist)."""
        for name, value in values.items():
            calls = self.filters[name].filter(calls, value)
        return calls


class ReassignForm(forms.Form):
    calls = forms.ModelMultipleChoiceField(
        queryset=FollowUpCall.objects.none(),
        label=_("Calls"),
        widget=forms.MultipleHiddenInput,
        error_messages={"required": _("Select at least one call.")},
    )
    to = forms.ModelChoiceField(queryset=None, label=_("Reassign selected calls to"), empty_label=_("Choose a nurse"))

    def __init__(self, *args, calls=None, nurses=None, nurse_list=None, **kwargs):
        """``nurses``: who may be chosen (a queryset, which checks the
        choice; none for a form only shown); ``nurse_list``: the same, read
        already, to show."""
        super().__init__(*args, **kwargs)
        self.fields["calls"].queryset = calls if calls is not None else FollowUpCall.objects.none()
        self.fields["to"].iterator = FetchedChoices  # before the queryset, which builds the widget's choices
        self.fields["to"].fetched = nurse_list
        self.fields["to"].queryset = nurses


class AttemptForm(forms.Form):
    """One dial: which number, the result, and for "asked to call back" when
    and who asked. static/js/attempt-form.js shows the other number and the
    callback fields only when they apply; without it they are always shown,
    and ignored unless they apply."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    # Pre-checked with the number a nurse dials first; a post without it means that number.
    dialled = forms.ChoiceField(
        label=_("Number dialled"), choices=CallAttempt.Dialled.choices, widget=forms.RadioSelect, required=False
    )
    other_number = forms.CharField(
        label=_("Other number"),
        required=False,
        max_length=40,
        help_text=_("As you dialled it; it is saved in international form."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    result = forms.ChoiceField(label=_("Result of this dial"), choices=CallAttempt.Result.choices)
    callback_on = forms.DateField(
        label=_("Call back on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    callback_time = forms.TimeField(
        label=_("Call back at (hospital time)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    callback_asked_by = forms.ChoiceField(
        label=_("Who asked to be called back"),
        choices=FollowUpCall.AnsweredBy.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    note = LongTextField(label=_("Note"), required=False)
    no_more_calls = forms.BooleanField(
        label=_("The patient asks for no more calls (cancels every remaining call)"), required=False
    )

    def __init__(self, *args, patient: Patient | None = None, policy: AttemptPolicy = DEFAULT_POLICY, **kwargs):
        super().__init__(*args, prefix="attempt", **kwargs)
        self.policy = policy
        on_record = {
            CallAttempt.Dialled.PATIENT: bool(patient and patient.phone),
            CallAttempt.Dialled.FAMILY: bool(patient and patient.family_phone),
            CallAttempt.Dialled.OTHER: True,
        }
        choices = [(value, label) for value, label in CallAttempt.Dialled.choices if on_record[value]]
        self.fields["dialled"].choices = choices
        prefers_family = patient is not None and Patient.CommunicationNeed.PREFERS_FAMILY in (
            patient.communication_needs or []
        )
        if prefers_family and on_record[CallAttempt.Dialled.FAMILY]:
            self.fields["dialled"].initial = CallAttempt.Dialled.FAMILY
        else:
            self.fields["dialled"].initial = choices[0][0]
        if policy.has_hours:
            self.fields["callback_time"].help_text = _("Between %(start)s and %(end)s.") % {
                "start": f"{policy.dial_from:%H:%M}",
                "end": f"{policy.dial_until:%H:%M}",
            }
        self.helper = _inline_helper(_("Record attempt"))
        self.helper.layout = Layout(
            "expected_version",
            "dialled",
            Div("other_number", css_class="attempt-other-number"),
            "result",
            Fieldset(
                _("Callback"),
                "callback_on",
                "callback_time",
                "callback_asked_by",
                css_class="attempt-callback",
            ),
            "note",
            "no_more_calls",
        )

    def clean(self):
        data = super().clean()
        result = data.get("result")
        if data.get("no_more_calls") and result != CallAttempt.Result.REFUSED:
            self.add_error("no_more_calls", _('Tick this only when the result is "Refused".'))
        if not data.get("dialled") and "dialled" not in self.errors:
            data["dialled"] = self.fields["dialled"].initial
        if data.get("dialled") == CallAttempt.Dialled.OTHER:
            self._clean_other_number(data)
        else:
            data["other_number"] = ""
        data["callback_at"] = None
        if result == CallAttempt.Result.CALLBACK:
            self._clean_callback(data)
        else:
            data["callback_asked_by"] = ""
        return data

    def _clean_other_number(self, data: dict) -> None:
        if "other_number" in self.errors:
            return
        if not data.get("other_number", "").strip():
            self.add_error("other_number", _("Type the number you dialled."))
            return
        try:
            data["other_number"] = normalise_phone(data["other_number"])
        except ValidationError as error:
            self.add_error("other_number", error)

    def _clean_callback(self, data: dict) -> None:
        day, at = data.get("callback_on"), data.get("callback_time")
        if day is None and "callback_on" not in self.errors:
            self.add_error("callback_on", _("Say on which day to call back."))
        if at is None and "callback_time" not in self.errors:
            self.add_error("callback_time", _("Say at what time to call back."))
        if not data.get("callback_asked_by"):
            self.add_error("callback_asked_by", _("Say who asked to be called back: the patient or a family member."))
        if day is None or at is None:
            return
        moment = dt.datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=timezone.get_current_timezone())
        problems = callback_problems(at=moment, policy=self.policy)
        for part, message in problems:
            self.add_error("callback_on" if part == "day" else "callback_time", message)
        if not problems:
            data["callback_at"] = moment


def active_satisfaction_items() -> list[SatisfactionItem]:
    """The satisfaction items asked on every call (compiled once, followup/prepared.py)."""
    return Params().objects(("satisfaction-items",), lambda: SatisfactionItem.objects.filter(is_active=True))


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
        self.items = list(items if items is not None else active_satisfaction_items())
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
    """A family member says the patient died: the date when she says it, or
    "date unknown" (families often do not say). Sent, it leads to a page
    that says what will be cancelled; nothing is recorded before that."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    died_on = forms.DateField(label=_("Date of death"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_unknown = forms.BooleanField(label=_("Date unknown: the family did not say"), required=False)
    note = LongTextField(label=_("Note"), required=False)

    def __init__(self, *args, discharged_on=None, **kwargs):
        super().__init__(*args, prefix="deceased", **kwargs)
        self.discharged_on = discharged_on
        self.helper = _inline_helper(_("Continue: see what will be cancelled"))

    def clean_died_on(self):
        day = self.cleaned_data["died_on"]
        validate_death_date(day, discharged_on=self.discharged_on)
        return day

    def clean(self):
        data = super().clean()
        day, unknown = data.get("died_on"), data.get("date_unknown")
        if day and unknown:
            self.add_error("date_unknown", _("Give the date of death or tick “Date unknown”, not both."))
        elif day is None and not unknown and not self.has_error("died_on"):
            self.add_error("died_on", _("Give the date of death, or tick “Date unknown” when the family did not say."))
        return data


class DeathReverseForm(forms.Form):
    reason = LongTextField(
        label=_("Why the death record is wrong"),
        rows=3,
        help_text=_(
            "Required; kept with the record and in the audit trail (for example: the family meant another patient)."
        ),
        error_messages={"required": _("Say why the death record is wrong.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="reverse", **kwargs)
        self.helper = _inline_helper(_("Reverse the death record"))


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
