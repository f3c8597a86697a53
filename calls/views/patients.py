"""The patient search, the patient page, and the head nurse's record of who
opened a patient's record."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from followup import access
from followup.audit import audit_events_filtered, audit_events_for_patient
from followup.forms import AuditFilterForm
from followup.models import User
from followup.roles import Role, has_role, role_required

from ..forms.patients import PatientSearchForm
from ..models import FollowUpCall, Patient
from ..selectors.patients import (
    patient_alerts,
    patient_calls,
    patient_complaints,
    patient_stays,
)
from ..selectors.patients import (
    patient_search as search_selector,
)
from .worklist import mask_phone

NURSES = (Role.NURSE, Role.HEAD_NURSE)
PAGE_SIZE = 25
CALLS_PER_PAGE = 20


@role_required(*NURSES)
def patient_search(request: HttpRequest) -> HttpResponse:
    """One box: a name, a phone number in any format or an inpatient number
    finds the patients of her wards (nobody else's)."""
    form = PatientSearchForm(request.GET or None)
    text = form.text()
    page = Paginator(search_selector(user=request.user, text=text), PAGE_SIZE).get_page(request.GET.get("page"))
    for patient in page.object_list:
        patient.masked_phone = mask_phone(patient.phone)
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "calls/patient_search.html", {"form": form, "text": text, "page": page}, status=status)


@role_required(*NURSES)
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything her wards know of one patient: contacts, stays, every call
    with its answers, clinical alerts and complaints. Recorded in the audit
    trail as a view of the patient (the head nurse's "who opened")."""
    patient = access.patient_for(request.user, pk)
    request.audit_objects = [("patient", patient.pk, patient.pk)]
    calls = Paginator(patient_calls(user=request.user, patient=patient), CALLS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    needs = dict(Patient.CommunicationNeed.choices)
    return render(
        request,
        "calls/patient_detail.html",
        {
            "patient": patient,
            "age": patient.age_on(timezone.localdate()),
            "communication_needs": [needs.get(code, code) for code in patient.communication_needs or []],
            "stays": patient_stays(user=request.user, patient=patient),
            "page": calls,
            "alerts": patient_alerts(user=request.user, patient=patient),
            "complaints": patient_complaints(user=request.user, patient=patient),
            "sees_access_log": request.user.is_superuser or has_role(request.user, Role.HEAD_NURSE),
        },
    )


@role_required(Role.HEAD_NURSE)
def patient_access(request: HttpRequest, pk: int) -> HttpResponse:
    """The head nurse sees who looked at a patient of her departments, by
    whom, what and when she chooses."""
    patient = access.patient_for(request.user, pk)
    request.audit_objects = [("patient", patient.pk, patient.pk)]
    call_ids = list(FollowUpCall.objects.filter(discharge__patient=patient).values_list("pk", flat=True))
    events = audit_events_for_patient(patient_id=patient.pk, call_ids=call_ids)
    actors = User.objects.filter(pk__in=events.values("actor")).order_by("display_name", "username")
    form = AuditFilterForm(request.GET or None, actors=actors)
    shown = audit_events_filtered(events, **form.filters()).select_related("actor")
    page = Paginator(shown, 50).get_page(request.GET.get("page"))
    return render(request, "calls/patient_access.html", {"patient": patient, "page": page, "form": form})
