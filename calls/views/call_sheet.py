"""The call sheet: a day's calls with the full phone numbers, to print for a
ward that phones from paper. Every patient on it is named in the audit trail,
since the sheet discloses their numbers (docs/call-screen.md)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from followup import access
from followup.roles import Role, role_required

from ..forms.call_sheet import CallSheetForm
from ..models import CallAttempt, Patient
from ..selectors.call_sheet import call_sheet_calls, sheet_sees_the_ward


@role_required(Role.NURSE, Role.HEAD_NURSE)
def call_sheet(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    ward = sheet_sees_the_ward(request.user)
    nurses = access.ward_staff(access.department_ids(request.user)) if ward else None
    form = CallSheetForm(request.GET or None, today=today, nurses=nurses)
    choice = form.choice()
    day, nurse = choice or (today, None)
    calls = list(call_sheet_calls(user=request.user, day=day, today=today, nurse=nurse)) if choice else []
    needs = dict(Patient.CommunicationNeed.choices)
    for call in calls:
        patient = call.discharge.patient
        call.age = patient.age_on(today)
        call.needs = [needs.get(code, code) for code in patient.communication_needs or []]
    # The full numbers of every patient listed are disclosed: one audit row each.
    request.audit_objects = [("call", call.pk, call.discharge.patient_id) for call in calls]
    context = {
        "form": form,
        "day": day,
        "nurse": nurse,
        "ward_sheet": ward,
        "calls": calls,
        "departments": [name for _pk, name in access.departments_of(request.user)],
        "results": CallAttempt.Result.choices,
        "printed_at": timezone.localtime(),
    }
    return render(request, "calls/call_sheet.html", context, status=200 if choice else 400)
