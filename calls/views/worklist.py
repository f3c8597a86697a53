"""The nurse's worklist and the head nurse's reassignment of calls."""

import datetime as dt
from collections.abc import Callable
from functools import lru_cache

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import date as date_filter
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from followup import access
from followup.roles import Role, has_role, role_required

from ..forms.call_work import ReassignForm, WorklistFilter
from ..models import FollowUpCall
from ..selectors.patients import DONE_PERIODS, done_calls
from ..selectors.worklist import TABS, Worklist, worklist_rows
from ..services.call_work import calls_reassign

PAGE_SIZE = 25
TAB_LABELS = {
    "today": gettext_lazy("Due today or earlier"),
    "week": gettext_lazy("This week"),
    "overdue": gettext_lazy("Overdue"),
    "all": gettext_lazy("All open"),
}
# The calls completed today or this week: history, not work, so a tab of its own.
DONE_TAB = "done"
DONE_PERIOD_LABELS = {"today": gettext_lazy("Today"), "week": gettext_lazy("This week")}
FILTER_FIELDS_TEMPLATE = "calls/includes/_worklist_filter_fields.html"


def mask_phone(phone: str) -> str:
    """Every digit but the last four hidden: "+8613812345678" -> "••••••••••5678"."""
    if not phone:
        return ""
    visible = phone[-4:]
    return "•" * max(len(phone) - 4, 0) + visible


@lru_cache(maxsize=128)
def _id_url_parts(name: str, prefix: str) -> tuple[str, str]:
    marker = "2147483647"
    head, tail = reverse(name, args=[int(marker)]).split(marker)
    return head, tail


def id_url(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` at the cost of a dictionary lookup: the
    address with a marker in place of the id, reversed once per process
    (and script prefix), then the id put in (a page of 25 rows named 50
    addresses, 2 ms of {% url %}; the call screen names seven)."""
    head, tail = _id_url_parts(name, get_script_prefix())
    return lambda pk: f"{head}{int(pk)}{tail}"


@lru_cache(maxsize=512)
def _day_text(day: dt.date, language: str | None) -> str:
    """ "Thu 19/11/2026" in ``language`` (the active one when called): a page's
    rows fall on a few days, and Django's date formatting is not cheap."""
    return f"{date_filter(day, 'D')} {date_filter(day, 'SHORT_DATE_FORMAT')}"


def planned_text(call: FollowUpCall) -> str:
    """When the call is planned, as a row shows it: "Thu 19/11/2026 16:00"
    (the weekday, the day in the short format, the time if there is one)."""
    day, at = call.planned_on, call.planned_time
    text = _day_text(day, get_language())
    return f"{text} {at:%H:%M}" if at else text


def _filter_fields(filterset: WorklistFilter) -> str:
    """The list filters' fields, as the worklist shows them."""
    return render_to_string(FILTER_FIELDS_TEMPLATE, {"filter": filterset})


@lru_cache(maxsize=256)
def _blank_filter_fields(language: str | None, departments: tuple[tuple[int, str], ...]) -> str:
    """The list filters' fields with no filter set, in ``language`` (the
    active one when called) with the choice of ``departments`` ((id, name),
    the user's): the same for every such view, so built and rendered once
    per process, not on each of the nurse's visits to her worklist (1.7 ms
    of a page, "Nurse pages" in the README)."""
    return _filter_fields(WorklistFilter(QueryDict(), departments=departments))


def _reassign_form(request: HttpRequest, data=None) -> ReassignForm | None:
    if not (request.user.is_superuser or has_role(request.user, Role.HEAD_NURSE)):
        return None
    departments = access.department_ids(request.user)
    if data is None:  # to show: no call to check, the nurses read (if shown) by a statement compiled once
        return ReassignForm(nurse_list=SimpleLazyObject(lambda: access.ward_staff_list(departments)))
    return ReassignForm(
        data,
        calls=access.visible_calls(request.user).filter(status__in=FollowUpCall.OPEN_STATUSES),
        nurses=access.ward_staff(departments),
    )


@role_required(Role.NURSE, Role.HEAD_NURSE)
def worklist(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = timezone.localdate(now)
    tab = request.GET.get("tab", "today")
    if tab not in (*TABS, DONE_TAB):
        tab = "today"
    # The filter form checks the list filters; the worklist's own statements apply them.
    departments = access.departments_of(request.user)
    if any(name in request.GET for name in WorklistFilter.base_filters):
        filterset = WorklistFilter(request.GET, departments=departments)
        filterset.is_valid()
        filters, apply_filters, filter_fields = filterset.set_values(), filterset.apply, _filter_fields(filterset)
    else:
        filterset, filters, apply_filters = None, {}, None
        filter_fields = _blank_filter_fields(get_language(), tuple(departments))
    work = Worklist(user=request.user, today=today, now=now, filters=filters, apply_filters=apply_filters)
    counts = work.counts()
    done_period = ""
    if tab == DONE_TAB:
        done_period = request.GET.get("period", "today")
        if done_period not in DONE_PERIODS:
            done_period = "today"
        page = Paginator(done_calls(user=request.user, period=done_period, today=today), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    else:
        # Page through primary keys (no joins), then load that page's rows by key.
        page = Paginator(work.page_of(tab, counts[tab]), PAGE_SIZE).get_page(request.GET.get("page"))
        page.object_list = worklist_rows(ids=list(page.object_list), today=today, now=now)
        detail_url, patient_url = id_url("calls:call_detail"), id_url("calls:patient_detail")
        for call in page.object_list:
            patient = call.discharge.patient
            call.masked_phone = mask_phone(patient.phone)
            call.age = patient.age_on(today)
            call.days_since_discharge = (today - call.discharge.discharged_on).days
            call.detail_url, call.patient_url = detail_url(call.pk), patient_url(patient.pk)
            call.planned_text = planned_text(call)
    query = request.GET.copy()
    for name in ("page", "tab", "period"):
        query.pop(name, None)
    tabs = [{"key": key, "label": TAB_LABELS[key], "count": counts[key], "active": key == tab} for key in TABS]
    tabs.append({"key": DONE_TAB, "label": _("Done"), "count": None, "active": tab == DONE_TAB})
    return render(
        request,
        "calls/worklist.html",
        {
            "filter": filterset,  # None when no filter is set
            "filter_fields": filter_fields,
            "page": page,
            "tab": tab,
            "tabs": tabs,
            "done_period": done_period,
            # A head nurse's "done" tab holds her wards' calls, a nurse's her own.
            "done_of_wards": request.user.is_superuser or has_role(request.user, Role.HEAD_NURSE),
            "done_periods": [
                {"key": key, "label": label, "active": key == done_period} for key, label in DONE_PERIOD_LABELS.items()
            ],
            "filter_query": query.urlencode(),
            "reassign_form": _reassign_form(request),
            "today": today,
        },
    )


@require_POST
@role_required(Role.HEAD_NURSE)
def reassign(request: HttpRequest) -> HttpResponse:
    form = _reassign_form(request, request.POST)
    back = request.POST.get("next") or ""
    worklist = reverse("calls:worklist")
    if not back.startswith(worklist):  # only back to a worklist page, never elsewhere
        back = worklist
    if form is None or not form.is_valid():
        for errors in form.errors.values() if form else []:
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        moved = calls_reassign(calls=form.cleaned_data["calls"], to=form.cleaned_data["to"], by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(back)
    messages.success(
        request, _("%(count)d call(s) reassigned to %(nurse)s.") % {"count": moved, "nurse": form.cleaned_data["to"]}
    )
    return redirect(back)
