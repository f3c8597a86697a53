import re

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from followup import access
from followup.errors import bad_parameter
from followup.exports import Table, spreadsheet_response
from followup.notifications import notification_for, notifications_for, unread_notification_count
from followup.roles import Role, role_required
from followup.services import notification_open as notification_open_service
from followup.services import notifications_mark_read
from followup.uploads import refused_uploads, upload_limit

from . import forms, selectors, services
from .models import Complaint, Promise

HANDLERS = (Role.COMPLAINT_OFFICER, Role.HEAD_NURSE, Role.NURSE)
PAGE_SIZE = 25


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@role_required(*HANDLERS)
def complaint_list(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view", "open")
    if view not in selectors.LIST_VIEWS:
        view = "open"
    complaints = selectors.complaint_list(user=request.user, view=view)
    filterset = forms.ComplaintFilter(request.GET or None, queryset=complaints, user=request.user)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/list.html",
        {
            "page": page,
            "filter": filterset,
            "view": view,
            "views": [
                ("open", _("Open, by due time")),
                ("mine", _("Mine")),
                ("breached", _("Late at some step")),
                ("all", _("All")),
            ],
            "now": timezone.now(),
        },
    )


def _call_in_scope(request: HttpRequest, call_id: str):
    calls = access.calls_to_complain_about(request.user).select_related("discharge__patient", "discharge__department")
    try:
        return get_object_or_404(calls, pk=int(call_id))
    except ValueError:
        raise Http404 from None


def _initial_from_call(call) -> dict:
    """The complaint form as the call fills it in: the person who spoke is
    the complainant (the family member when one spoke, alone or with the
    patient; the family contact on record when the call names nobody)."""
    patient = call.discharge.patient
    initial = {
        "channel": Complaint.Channel.FOLLOW_UP_CALL,
        "complainant_name": patient.name,
        "complainant_phone": patient.phone,
        "complainant_relation": Complaint.Relation.PATIENT,
        "patient_mrn": patient.mrn,
        "departments": [call.discharge.department],
    }
    if call.family_spoke:
        relation = call.family_member_relation.casefold()
        on_record = not relation or relation == patient.family_relation.casefold()
        initial.update(
            complainant_name=call.family_member_name or (patient.family_name if on_record else ""),
            complainant_phone=patient.family_phone or patient.phone,
            complainant_relation=Complaint.Relation.FAMILY,
        )
    return initial


def _next_url(request: HttpRequest) -> str:
    """Where to go after saving (``?next=``): a page of this site, else ""."""
    target = request.GET.get("next", "")
    if (
        not target.startswith("/")
        or len(target) > 500
        or any(ord(ch) < 32 or ch == "\x7f" for ch in target)
        or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return ""
    return target


@role_required(*HANDLERS)
def complaint_create(request: HttpRequest) -> HttpResponse:
    _need(request, "complaints.add_complaint")
    call = _call_in_scope(request, request.GET["call"]) if request.GET.get("call") else None
    initial = _initial_from_call(call) if call is not None else {}
    next_url = _next_url(request)
    form = forms.ComplaintForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = services.complaint_create(
                by=request.user,
                channel=data["channel"],
                category=data["category"],
                secondary_categories=data["secondary_categories"],
                is_dispute=data["is_dispute"],
                description=data["description"],
                complainant_name=data["complainant_name"],
                complainant_phone=data["complainant_phone"],
                complainant_relation=data["complainant_relation"],
                patient=data["patient_mrn"],
                received_at=data["received_at"],
                severity=data["severity"],
                validity=data["validity"],
                departments=data["departments"],
                coordinated=data["coordinated"],
                staff_involved=data["staff_involved"],
                staff_involved_text=data["staff_involved_text"],
                owner=data["owner"],
                source_call=call,
                settled_on_the_spot=data["settled_on_the_spot"],
                measures=data["measures"],
                compensation_amount=data["compensation_amount"],
                reply=data["reply"],
                handling_satisfaction=data["handling_satisfaction"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Complaint %(ref)s recorded.") % {"ref": complaint.reference})
            if next_url:
                return redirect(next_url)
            return redirect("complaints:detail", pk=complaint.pk)
    return render(request, "complaints/create.html", {"form": form, "call": call, "next_url": next_url})


# action -> (permission, form class, service call)
def _transition(request, complaint, data):
    services.complaint_transition(
        complaint=complaint,
        to=data["to"],
        by=request.user,
        note=data["note"],
        # Ticking nothing leaves the measures as they are.
        measures=data["measures"] or None,
        compensation_amount=data["compensation_amount"],
        handling_satisfaction=data["handling_satisfaction"],
        at=data["at"],
    )


def _classify(request, complaint, data):
    services.complaint_classify(complaint=complaint, by=request.user, **data)


def _measures(request, complaint, data):
    services.complaint_set_measures(complaint=complaint, by=request.user, **data)


def _note(request, complaint, data):
    services.complaint_add_note(complaint=complaint, by=request.user, text=data["text"])


def _evidence(request, complaint, data):
    services.complaint_add_evidence(complaint=complaint, by=request.user, upload=data["file"], text=data["text"])


def _contact(request, complaint, data):
    services.complaint_record_contact(complaint=complaint, by=request.user, text=data["text"], at=data["at"])


def _reply(request, complaint, data):
    services.complaint_record_reply(
        complaint=complaint,
        by=request.user,
        text=data["text"],
        handling_satisfaction=data["handling_satisfaction"],
        at=data["at"],
    )


def _reassign(request, complaint, data):
    services.complaint_reassign(complaint=complaint, by=request.user, owner=data["owner"], note=data["note"])


def _promise(request, complaint, data):
    services.promise_add(complaint=complaint, by=request.user, **data)


def _pause(request, complaint, data):
    services.complaint_pause(complaint=complaint, by=request.user, note=data["note"])


def _resume(request, complaint, data):
    services.complaint_resume(complaint=complaint, by=request.user, note=data["note"])


ACTIONS = {
    "transition": ("complaints.change_complaint", forms.TransitionForm, _transition),
    "classify": ("complaints.change_complaint", forms.ClassifyForm, _classify),
    "measures": ("complaints.change_complaint", forms.MeasuresForm, _measures),
    "note": ("complaints.add_complaintevent", forms.NoteForm, _note),
    "evidence": ("complaints.add_complaintevent", forms.EvidenceForm, _evidence),
    "contact": ("complaints.change_complaint", forms.ContactForm, _contact),
    "reply": ("complaints.change_complaint", forms.ReplyForm, _reply),
    "reassign": ("complaints.change_complaint", forms.ReassignForm, _reassign),
    "promise": ("complaints.add_promise", forms.PromiseForm, _promise),
    "pause": ("complaints.change_complaint", forms.PauseForm, _pause),
    "resume": ("complaints.change_complaint", forms.ResumeForm, _resume),
}


def _offered(complaint: Complaint, name: str) -> bool:
    """The actions the page offers: a closed complaint only reopening; the
    status control only when there is somewhere to go; pause or resume as
    the clock stands."""
    if complaint.status == Complaint.Status.CLOSED:
        return name == "transition"
    if name == "transition":
        return bool(services.TRANSITIONS.get(complaint.status))
    if name == "pause":
        return not complaint.waiting_on_complainant
    if name == "resume":
        return complaint.waiting_on_complainant
    return True


def _action_forms(request: HttpRequest, complaint: Complaint, bound: dict | None = None) -> dict:
    built = {}
    for name, (perm, form_class, _call) in ACTIONS.items():
        if not request.user.has_perm(perm):
            continue
        if bound and name in bound:
            built[name] = bound[name]
        elif _offered(complaint, name):
            built[name] = form_class(complaint=complaint, user=request.user, prefix=name)
    return built


def _deliverable(request: HttpRequest, complaint: Complaint) -> set[int]:
    """The open promises of the complaint whose delivery the user may record."""
    return {
        p.pk
        for p in complaint.promises.all()
        if p.delivered_on is None and services.promise_deliverer_refusal(p, request.user) is None
    }


def _render_detail(request, complaint, bound=None, status=200):
    deliver = (bound or {}).get("deliver") or forms.DeliverForm(
        prefix="deliver", initial={"delivered_on": timezone.localdate()}
    )
    return render(
        request,
        "complaints/detail.html",
        {
            "complaint": complaint,
            **selectors.complaint_links(user=request.user, complaint=complaint),
            "forms": _action_forms(request, complaint, bound),
            "deliver_form": deliver,
            "deliverable": _deliverable(request, complaint),
            "now": timezone.now(),
        },
        status=status,
    )


@role_required(*HANDLERS)
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = selectors.complaint_detail(user=request.user, pk=pk)
    request.audit_objects = [("complaint", complaint.pk, complaint.patient_id)]
    return _render_detail(request, complaint)


@upload_limit("EVIDENCE_MAX_BYTES")
@role_required(*HANDLERS)
@require_POST
def complaint_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    request.audit_objects = [("complaint", pk)]
    complaint = selectors.complaint_detail(user=request.user, pk=pk)
    request.audit_objects = [("complaint", complaint.pk, complaint.patient_id)]
    if action not in ACTIONS:
        raise PermissionDenied
    perm, form_class, call = ACTIONS[action]
    _need(request, perm)
    kwargs = {"complaint": complaint, "user": request.user}
    if action == "evidence":
        kwargs["refused_uploads"] = refused_uploads(request)
    form = form_class(request.POST, request.FILES, prefix=action, **kwargs)
    if form.is_valid():
        try:
            call(request, complaint, form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("complaints:detail", pk=complaint.pk)
    return _refused(request, complaint, action, form)


@role_required(*HANDLERS)
@require_POST
def promise_deliver(request: HttpRequest, pk: int, promise_pk: int) -> HttpResponse:
    request.audit_objects = [("complaint", pk), ("promise", promise_pk)]
    complaint = selectors.complaint_detail(user=request.user, pk=pk)
    request.audit_objects = [
        ("complaint", complaint.pk, complaint.patient_id),
        ("promise", promise_pk, complaint.patient_id),
    ]
    promise = get_object_or_404(Promise, pk=promise_pk, complaint=complaint)
    if services.promise_deliverer_refusal(promise, request.user):
        raise PermissionDenied
    form = forms.DeliverForm(request.POST, prefix="deliver")
    if form.is_valid():
        try:
            services.promise_deliver(
                promise=promise,
                by=request.user,
                delivered_on=form.cleaned_data["delivered_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Promise marked delivered."))
            return redirect("complaints:detail", pk=complaint.pk)
    return _refused(request, complaint, "deliver", form)


def _refused(request: HttpRequest, complaint, action: str, form) -> HttpResponse:
    """The complaint page again with the refused form and its reasons (400)."""
    messages.error(request, _("Nothing was saved: see the form below."))
    return _render_detail(request, complaint, bound={action: form}, status=400)


@role_required(*HANDLERS)
def evidence_download(request: HttpRequest, pk: int, event_pk: int) -> FileResponse:
    event = selectors.evidence_event(user=request.user, complaint_pk=pk, event_pk=event_pk)
    request.audit_objects = [
        ("complaint", pk, event.complaint.patient_id),
        ("evidence", event_pk, event.complaint.patient_id),
    ]
    return FileResponse(event.file.open("rb"), as_attachment=True, filename=event.file_name)


@role_required(*HANDLERS)
def promise_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.open_promises(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "complaints/promises.html", {"page": page, "today": timezone.localdate()})


@role_required(*HANDLERS)
def notification_list(request: HttpRequest) -> HttpResponse:
    """Everything the user was told (complaints, calls handed to her, spot
    checks of her calls), newest first; "Mark all as read" by POST."""
    if request.method == "POST":
        notifications_mark_read(user=request.user)
        return redirect("complaints:notifications")
    page = Paginator(notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "complaints/notifications.html",
        {"page": page, "unread": unread_notification_count(request.user)},
    )


@role_required(*HANDLERS)
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open one notification: it counts as read from now on, and she lands
    where it leads (the list itself when it leads nowhere)."""
    request.audit_objects = [("notification", pk, None)]  # names no patient
    link = notification_open_service(notification=notification_for(request.user, pk))
    return redirect(link or reverse("complaints:notifications"))


@role_required(*HANDLERS)
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the top bar, fetched by htmx after the page has
    loaded so that no page pays a query for it."""
    return render(
        request,
        "complaints/includes/_notification_badge.html",
        {"unread": unread_notification_count(request.user)},
    )


def _report_for(request: HttpRequest) -> tuple[forms.ReportFilterForm, dict | None]:
    _need(request, "complaints.view_complaint_report")
    form = forms.ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    department = data["department"]
    report = selectors.complaint_report(
        user=request.user,
        period=data["period"],
        valid_only=data["valid_only"],
        department_ids=[department.pk] if department else None,
    )
    if department:
        report["departments_label"] = department.name
    elif access.sees_all_complaints(request.user):
        report["departments_label"] = _("All departments")
    else:
        report["departments_label"] = ", ".join(name for _pk, name in access.departments_of(request.user))
    report["query"] = _report_query(data["period"], data["valid_only"], department)
    return form, report


def _report_query(period, valid_only: bool, department) -> str:
    params = dict(period.query)
    if valid_only:
        params["valid_only"] = "on"
    if department:
        params["department"] = department.pk
    return urlencode(params)


@role_required(Role.COMPLAINT_OFFICER, Role.HEAD_NURSE)
def report(request: HttpRequest) -> HttpResponse:
    form, data = _report_for(request)
    if data is None:
        return render(request, "complaints/report.html", {"form": form, "report": None}, status=400)

    def chart(rows):
        return [{"label": str(r["label"]), "count": r["count"]} for r in rows]

    period = data["period"]

    def link(p):
        return _report_query(p, data["valid_only"], form.cleaned_data["department"])

    return render(
        request,
        "complaints/report.html",
        {
            "form": form,
            "report": data,
            "period": period,
            "previous_link": link(period.previous),
            # No link into a period that has not started: it could only be empty.
            "next_link": link(period.next) if period.next.bounds()[0] <= timezone.now() else "",
            "chart_category": chart(data["by_category"]),
            "chart_department": chart(data["by_department"]),
        },
    )


def _export_header() -> list[str]:
    return [_("Section"), _("Item"), _("Count"), _("Share (%)")]


@role_required(Role.COMPLAINT_OFFICER, Role.HEAD_NURSE)
def report_export(request: HttpRequest, fmt: str) -> HttpResponse:
    form, data = _report_for(request)
    if data is None:
        return bad_parameter(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    rows = selectors.report_rows(data)
    department = form.cleaned_data["department"]
    stem = "-".join(
        part
        for part in (
            "complaints",
            re.sub(r"[^\w-]", "", department.code) if department else "",
            data["period"].slug,
            "valid" if data["valid_only"] else "",
        )
        if part
    )
    table = Table(title=str(data["period"]), headers=_export_header(), rows=rows)
    return spreadsheet_response(tables=[table], fmt=fmt, filename=f"{stem}.{fmt}")
