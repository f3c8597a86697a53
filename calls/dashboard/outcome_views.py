"""Did calling help: the outcome report page and its CSV/XLSX export (head
nurses, scoped to their departments: calls.dashboard.outcomes)."""

import datetime as dt

from crispy_forms.layout import Submit
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from followup.dates import PeriodDateField
from followup.exports import Table, spreadsheet_response
from followup.forms import filter_form_helper
from followup.roles import Role, role_required

from ..models import Department
from .outcomes import OUTCOMES, OutcomeReport, TierRow, outcome_report
from .selectors import dashboard_departments

MAX_REACH_DAYS = 30


class OutcomeFilterForm(forms.Form):
    """Discharges from ``start`` to ``end`` (default: the twelve months up to
    the last whose outcomes are complete), one of her departments or all,
    and the day by which a patient counts as reached."""

    start = PeriodDateField(label=gettext_lazy("Discharged from"), widget=forms.DateInput(attrs={"type": "date"}))
    end = PeriodDateField(label=gettext_lazy("Discharged until"), widget=forms.DateInput(attrs={"type": "date"}))
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my departments"),
    )
    reach_days = forms.IntegerField(
        label=gettext_lazy("Reached by day"),
        min_value=0,
        max_value=MAX_REACH_DAYS,
        help_text=gettext_lazy("A patient counts as reached when a call was completed by this day after discharge."),
    )

    def __init__(self, data=None, *, departments, today: dt.date | None = None):
        today = today or timezone.localdate()
        last = today - dt.timedelta(days=32)
        data = data.copy() if data is not None else {}
        data.setdefault("start", (last - dt.timedelta(days=364)).isoformat())
        data.setdefault("end", last.isoformat())
        data.setdefault("reach_days", "7")
        super().__init__(data)
        self.fields["department"].queryset = departments
        self.helper = filter_form_helper(Submit("show", gettext_lazy("Show"), css_class="btn-primary"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period is before its start."))
        return cleaned


def _report(request: HttpRequest) -> tuple[OutcomeFilterForm, OutcomeReport | None]:
    departments = dashboard_departments(request.user)
    form = OutcomeFilterForm(request.GET, departments=departments)
    if not form.is_valid():
        return form, None
    chosen = form.cleaned_data["department"]
    ids = [chosen.pk] if chosen else list(departments.values_list("pk", flat=True))
    report = outcome_report(
        user=request.user,
        department_ids=ids,
        start=form.cleaned_data["start"],
        end=form.cleaned_data["end"],
        reach_days=form.cleaned_data["reach_days"],
    )
    report.department_label = chosen.name if chosen else _("All my departments")
    return form, report


@role_required(Role.HEAD_NURSE)
def outcome_report_page(request: HttpRequest) -> HttpResponse:
    form, report = _report(request)
    context = {"form": form, "report": report, "outcomes": OUTCOMES, "query": request.GET.urlencode()}
    return render(request, "calls/outcomes.html", context, status=200 if report else 400)


def _tier_table_rows(department: str, rows: list[TierRow]):
    for row in rows:
        for name, label in OUTCOMES:
            comparison = row.comparisons[name]
            difference = comparison.difference
            yield [
                department,
                str(row.label),
                str(label),
                comparison.reached.n,
                comparison.reached.num,
                comparison.reached.percent,
                comparison.not_reached.n,
                comparison.not_reached.num,
                comparison.not_reached.percent,
                *(difference if difference else (None, None, None)),
            ]


@role_required(Role.HEAD_NURSE)
def outcome_report_export(request: HttpRequest, fmt: str) -> HttpResponse:
    form, report = _report(request)
    if report is None:
        return HttpResponse(
            " ".join(str(e) for errors in form.errors.values() for e in errors), status=400, content_type="text/plain"
        )
    headers = [
        _("Department"),
        _("Risk tier"),
        _("Outcome"),
        _("Reached: n"),
        _("Reached: with outcome"),
        _("Reached: percent"),
        _("Not reached: n"),
        _("Not reached: with outcome"),
        _("Not reached: percent"),
        _("Difference (points)"),
        _("CI low (95 percent)"),
        _("CI high (95 percent)"),
    ]
    rows = list(_tier_table_rows(report.department_label, report.rows))
    for name, department_rows in report.by_department.items():
        rows.extend(_tier_table_rows(name, department_rows))
    note = _(
        "Association, not a proven effect: patients reached and not reached differ in more than the call. "
        "Rates with fewer than %(n)s patients in a group are left out."
    ) % {"n": report.min_n}
    period = _("Discharged from %(start)s to %(end)s; reached by day %(days)s") % {
        "start": report.start.isoformat(),
        "end": min(report.end, report.closed_before).isoformat(),
        "days": report.reach_days,
    }
    tables = [
        Table(title=f"{report.department_label} · {period}", headers=headers, rows=rows, sheet=_("Outcomes")),
        Table(title=note, headers=[_("Note")], rows=[[note]], sheet=_("Note")),
    ]
    stem = slugify(f"outcomes-{report.department_label}-{report.start:%Y%m%d}-{report.end:%Y%m%d}") or "outcomes"
    return spreadsheet_response(tables=tables, fmt=fmt, filename=f"{stem}.{fmt}")
