"""Forms of the head nurse's dashboard and spot-check list."""

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from followup.dates import PeriodDateField, add_years
from followup.forms import LongTextField, filter_form_helper

from ..models import Department, FollowUpCall, Patient, SpotCheck
from . import patients as pt
from .selectors import Period, default_period

MAX_RANGE_DAYS = 2 * 366


def period_problem(start: dt.date, end: dt.date) -> str | None:
    """What is wrong with a dashboard period, in plain words (the page and
    the dashboard_figures command say the same)."""
    if start > end:
        return str(_("The start date must be on or before the end date."))
    if (end - start).days > MAX_RANGE_DAYS or end > add_years(start, 2):
        return str(_("Choose a range of at most two years."))
    return None


class _ListedChoices(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for department in self.field.listed:
            yield self.choice(department)

    def __len__(self):
        return len(self.field.listed) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self):
        return self.field.empty_label is not None or bool(self.field.listed)


class ListedDepartmentField(forms.ModelChoiceField):
    """A ModelChoiceField over departments already read (``listed``): the
    select and the check of a choice need no query of their own."""

    iterator = _ListedChoices
    listed: list[Department] = []

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            pk = Department._meta.pk.to_python(value)
        except ValidationError:
            pk = None
        for department in self.listed:
            if department.pk == pk:
                return department
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})


class DashboardFilterForm(forms.Form):
    """Date range (default: the last four weeks, hospital time zone) and an
    optional department among the head nurse's own. ``departments``: hers,
    read once (by name) for the select, the check of a choice and, with
    none chosen, the figures (``departments_shown``)."""

    start = PeriodDateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = PeriodDateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    department = ListedDepartmentField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All my departments"),
    )

    def __init__(self, data=None, *, departments, today: dt.date | None = None, **kwargs):
        default = default_period(today)
        data = data.copy() if data is not None else {}
        data.setdefault("start", default.start.isoformat())
        data.setdefault("end", default.end.isoformat())
        super().__init__(data, **kwargs)
        self.departments = list(departments.order_by("name", "pk"))
        self.fields["department"].queryset = departments
        self.fields["department"].listed = self.departments
        self.helper = filter_form_helper(Submit("show", _("Show"), css_class="btn-primary"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            problem = period_problem(start, end)
            if problem:
                raise forms.ValidationError(problem)
        return cleaned

    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])

    def departments_shown(self) -> list[Department]:
        """The chosen department, or all of hers."""
        chosen = self.cleaned_data["department"]
        return [chosen] if chosen else self.departments


class SpotCheckFilterForm(forms.Form):
    STATE_CHOICES = [("", _("All")), ("pending", _("Pending review")), ("done", _("Reviewed"))]

    state = forms.ChoiceField(label=_("Review"), choices=STATE_CHOICES, required=False)
    week = PeriodDateField(
        label=_("Week of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Any day of the week."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = filter_form_helper(Submit("filter", _("Filter"), css_class="btn-primary"))


class SpotCheckReviewForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=SpotCheck.Verdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose good or needs improvement.")},
    )
    comment = LongTextField(label=_("Comment"), required=False, rows=3)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", _("Save verdict"), css_class="btn-primary"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("verdict") == SpotCheck.Verdict.NEEDS_IMPROVEMENT and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("Say what should be improved."))
        return cleaned


class DashboardCallsFilterForm(forms.Form):
    """The calls behind a dashboard figure: the same plain GET names the
    dashboard links carry (status, department, due_from, due_to, nurse)."""

    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *FollowUpCall.Status.choices]
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All my departments"),
    )
    due_from = PeriodDateField(label=_("Due from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    due_to = PeriodDateField(label=_("Due until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cancel_reason = forms.ChoiceField(
        label=_("Cancel reason"),
        required=False,
        choices=[("", _("Any reason")), *FollowUpCall.CancelReason.choices],
    )
    satisfaction = forms.MultipleChoiceField(
        label=_("Overall satisfaction"),
        required=False,
        choices=FollowUpCall.Satisfaction.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    family = forms.ChoiceField(
        label=_("Who took part"),
        required=False,
        choices=[
            ("", _("Anyone")),
            ("family", _("Family took part")),
            ("patient_and_family", _("Patient and family together")),
        ],
    )
    nurse = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.helper = filter_form_helper(Submit("filter", _("Filter"), css_class="btn-primary"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("due_from"), cleaned.get("due_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        return cleaned


class DashboardStaysFilterForm(forms.Form):
    """The patients (stays) behind a dashboard patient figure: the plain GET
    names the dashboard links carry."""

    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("All my departments"),
    )
    discharged_from = PeriodDateField(
        label=_("Discharged from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    discharged_to = PeriodDateField(
        label=_("Discharged until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    outcome = forms.ChoiceField(
        label=_("Follow-up"),
        required=False,
        choices=[
            ("", _("Any")),
            ("reached", _("Reached")),
            ("deceased", _("Deceased")),
            ("lost", _("Lost to follow-up")),
        ],
    )
    satisfaction = forms.ChoiceField(
        label=_("Last overall rating"),
        required=False,
        choices=[("", _("Any")), *FollowUpCall.Satisfaction.choices],
    )
    family = forms.BooleanField(label=_("Family took part"), required=False)
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", _("Any")), *Patient.Sex.choices])
    age_band = forms.ChoiceField(
        label=_("Age at discharge"),
        required=False,
        choices=lambda: [("", _("Any")), *((code, pt.age_band_label(code)) for code in pt.AGE_BAND_CODES)],
    )
    chapter = forms.ChoiceField(
        label=_("ICD-10 chapter"),
        required=False,
        choices=lambda: [("", _("Any")), *((number, pt.chapter_label(number)) for number in pt.CHAPTER_CODES)],
    )
    icd10 = forms.CharField(label=_("ICD-10 code"), required=False, max_length=16)
    complaint_category = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, departments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.helper = filter_form_helper(Submit("filter", _("Filter"), css_class="btn-primary"))

    def clean_icd10(self):
        """Empty: any code; the list's value for "no code" (pt.BLANK_CODE) stays."""
        return self.cleaned_data["icd10"].strip() or None

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("discharged_from"), cleaned.get("discharged_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must be on or before the end date."))
        return cleaned
