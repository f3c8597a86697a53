"""Forms of the head nurse's dashboard and spot-check list."""

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from followup.dates import PeriodDateField, add_years
from followup.forms import LongTextField, filter_form_helper

from ..models import Department, FollowUpCall, SpotCheck
from .selectors import Period, default_period

MAX_RANGE_DAYS = 2 * 366


class DashboardFilterForm(forms.Form):
    """Date range (default: the last four weeks, hospital time zone) and an
    optional department among the head nurse's own."""

    start = PeriodDateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = PeriodDateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ModelChoiceField(
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
        self.fields["department"].queryset = departments
        self.helper = filter_form_helper(Submit("show", _("Show"), css_class="btn-primary"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start date must be on or before the end date."))
            if (end - start).days > MAX_RANGE_DAYS or end > add_years(start, 2):
                raise forms.ValidationError(_("Choose a range of at most two years."))
        return cleaned

    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])


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
