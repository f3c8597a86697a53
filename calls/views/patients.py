from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from followup import access
from followup.audit import audit_events_filtered, audit_events_for_patient
from followup.forms import AuditFilterForm
from followup.models import User
from followup.roles import Role, role_required

from ..models import FollowUpCall


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
