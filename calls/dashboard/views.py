"""The head nurse's dashboard, its CSV/XLSX export and the spot-check list.
Head nurses only (others get 403), scoped to her departments."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from followup.exports import Table, spreadsheet_response
from followup.roles import Role, role_required

from ..selectors.spot_checks import dashboard_calls as dashboard_calls_selector
from ..selectors.spot_checks import spot_checks_for
from ..services.spot_checks import spot_check_review as review_service
from .forms import (
    DashboardCallsFilterForm,
    DashboardFilterForm,
    DashboardStaysFilterForm,
    SpotCheckFilterForm,
    SpotCheckReviewForm,
)
from .presentation import (
    complaint_group_rows,
    dashboard_chart_data,
    dashboard_tables,
    departments_label,
    export_filename,
    figures_json,
    nurse_rows,
    patient_breakdowns,
    week_rows,
)
from .selectors import dashboard_departments, dashboard_figures, dashboard_stay, dashboard_stays


def _filtered(request: HttpRequest):
    departments = dashboard_departments(request.user)
    form = DashboardFilterForm(request.GET, departments=departments)
    if not form.is_valid():
        return form, None
    shown = form.departments_shown()
    figures = dashboard_figures(department_ids=[d.pk for d in shown], period=form.period(), departments=shown)
    return form, figures


def _list_query(form: DashboardFilterForm) -> str:
    """The call-list filters behind every figure (plain GET names)."""
    params = {"due_from": form.cleaned_data["start"], "due_to": form.cleaned_data["end"]}
    if form.cleaned_data["department"]:
        params["department"] = form.cleaned_data["department"].pk
    return urlencode(params)


def _patient_query(form: DashboardFilterForm) -> str:
    """The patient-list filters behind every patient figure: the stays discharged in the period."""
    params = {"discharged_from": form.cleaned_data["start"], "discharged_to": form.cleaned_data["end"]}
    if form.cleaned_data["department"]:
        params["department"] = form.cleaned_data["department"].pk
    return urlencode(params)


def _errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _complaint_query(form: DashboardFilterForm) -> str:
    params = {"view": "all", "received_from": form.cleaned_data["start"], "received_to": form.cleaned_data["end"]}
    if form.cleaned_data["department"]:
        params["department"] = form.cleaned_data["department"].pk
    return urlencode(params)


@role_required(Role.HEAD_NURSE)
def dashboard(request: HttpRequest) -> HttpResponse:
    """The page; with ``format=json`` its figures as the dashboard_figures
    command prints them (docs/dashboard.md, "Figures as JSON")."""
    form, figures = _filtered(request)
    if request.GET.get("format") == "json":
        if figures is None:
            return JsonResponse({"error": _errors(form)}, status=400)
        return JsonResponse(figures_json(figures), json_dumps_params={"ensure_ascii": False})
    context = {"form": form, "figures": figures}
    if figures is not None:
        list_query, complaint_query = _list_query(form), _complaint_query(form)
        worklist_url, complaints_url = reverse("calls:dashboard_calls"), reverse("complaints:list")
        department_id = form.cleaned_data["department"].pk if form.cleaned_data["department"] else None
        context.update(
            list_query=list_query,
            patient_query=_patient_query(form),
            patients_url=reverse("calls:dashboard_patients"),
            patient_breakdowns=patient_breakdowns(figures),
            departments_label=departments_label(figures),
            json_query=urlencode({**request.GET.dict(), "format": "json"}),
            complaint_query=complaint_query,
            complaints_url=complaints_url,
            export_query=request.GET.urlencode(),
            chart_data=dashboard_chart_data(figures),
            worklist_url=worklist_url,
            min_n=settings.DASHBOARD_MIN_N,
            week_rows=week_rows(figures, worklist_url=worklist_url, department_id=department_id),
            nurse_rows=nurse_rows(figures, worklist_url=worklist_url, list_query=list_query),
            complaint_groups=complaint_group_rows(
                figures, complaints_url=complaints_url, complaint_query=complaint_query
            ),
        )
    return render(request, "calls/dashboard.html", context, status=200 if figures else 400)


@role_required(Role.HEAD_NURSE)
def dashboard_export(request: HttpRequest, fmt: str) -> HttpResponse:
    form, figures = _filtered(request)
    if figures is None:
        return HttpResponse(_errors(form), status=400, content_type="text/plain")
    tables = [
        Table(title=title, headers=headers, rows=rows, sheet=f"{index} {title}")
        for index, (title, headers, rows) in enumerate(dashboard_tables(figures), start=1)
    ]
    return spreadsheet_response(tables=tables, fmt=fmt, filename=export_filename(figures, fmt))


@role_required(Role.HEAD_NURSE)
def spot_check_list(request: HttpRequest) -> HttpResponse:
    form = SpotCheckFilterForm(request.GET or None)
    state, week = "", None
    if form.is_valid():
        state, week = form.cleaned_data["state"], form.cleaned_data["week"]
    checks = spot_checks_for(user=request.user, state=state, week=week)
    page = Paginator(checks, 25).get_page(request.GET.get("page"))
    return render(request, "calls/spot_checks.html", {"form": form, "page": page})


@role_required(Role.HEAD_NURSE)
def spot_check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    spot_check = get_object_or_404(spot_checks_for(user=request.user), pk=pk)
    patient_id = spot_check.call.discharge.patient_id
    request.audit_objects = [("spot_check", spot_check.pk, patient_id), ("call", spot_check.call_id, patient_id)]
    initial = {"verdict": spot_check.verdict, "comment": spot_check.comment}
    form = SpotCheckReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        review_service(
            spot_check=spot_check,
            by=request.user,
            verdict=form.cleaned_data["verdict"],
            comment=form.cleaned_data["comment"],
        )
        messages.success(request, _("Verdict saved."))
        return redirect("calls:spot_checks")
    return render(
        request,
        "calls/spot_check_detail.html",
        {"spot_check": spot_check, "form": form, "today": timezone.localdate()},
    )


@role_required(Role.HEAD_NURSE)
def dashboard_calls(request: HttpRequest) -> HttpResponse:
    """The calls behind a dashboard figure (the worklist holds open calls only)."""
    form = DashboardCallsFilterForm(request.GET or None, departments=dashboard_departments(request.user))
    if form.is_bound and not form.is_valid():
        # A malformed or implausible filter: the form says why, no list.
        page = Paginator([], 50).get_page(1)
        return render(request, "calls/dashboard_calls.html", {"form": form, "page": page}, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    calls = dashboard_calls_selector(
        user=request.user,
        department=filters.get("department"),
        status=filters.get("status", ""),
        due_from=filters.get("due_from"),
        due_to=filters.get("due_to"),
        nurse=filters.get("nurse"),
        cancel_reason=filters.get("cancel_reason", ""),
        satisfaction=filters.get("satisfaction", ()),
        family=filters.get("family", ""),
    )
    page = Paginator(calls, 50).get_page(request.GET.get("page"))
    return render(request, "calls/dashboard_calls.html", {"form": form, "page": page})


@role_required(Role.HEAD_NURSE)
def dashboard_patients(request: HttpRequest) -> HttpResponse:
    """The patients (stays) behind a dashboard patient figure."""
    form = DashboardStaysFilterForm(request.GET or None, departments=dashboard_departments(request.user))
    if form.is_bound and not form.is_valid():
        page = Paginator([], 50).get_page(1)
        return render(request, "calls/dashboard_patients.html", {"form": form, "page": page}, status=400)
    filters = form.cleaned_data if form.is_bound else {}
    stays = dashboard_stays(
        user=request.user,
        department=filters.get("department"),
        discharged_from=filters.get("discharged_from"),
        discharged_to=filters.get("discharged_to"),
        outcome=filters.get("outcome", ""),
        satisfaction=filters.get("satisfaction", ""),
        family=filters.get("family", False),
        sex=filters.get("sex", ""),
        age_band=filters.get("age_band", ""),
        icd10=filters.get("icd10"),
        chapter=filters.get("chapter", ""),
        complaint_category=filters.get("complaint_category"),
    )
    page = Paginator(stays, 50).get_page(request.GET.get("page"))
    return render(request, "calls/dashboard_patients.html", {"form": form, "page": page})


@role_required(Role.HEAD_NURSE)
def dashboard_patient_stay(request: HttpRequest, pk: int) -> HttpResponse:
    """One stay behind a patient figure: the patient, the stay, every call
    (a deceased patient's too, which the call screen no longer opens) and the
    complaints raised on them."""
    stay, calls, complaints = dashboard_stay(user=request.user, pk=pk)
    request.audit_objects = [("stay", stay.pk, stay.patient_id)]
    return render(
        request,
        "calls/dashboard_stay.html",
        {"stay": stay, "calls": calls, "complaints": complaints, "age": stay.age},
    )
