from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from followup import access
from followup.roles import Role, role_required

from ..forms.discharges import DischargeFilter, DischargeForm
from ..models import Discharge
from ..selectors.discharges import discharges_visible_to
from ..services.intake import POLICIES, discharge_intake

PAGE_SIZE = 25


@role_required(Role.NURSE, Role.HEAD_NURSE)
def discharge_new(request: HttpRequest) -> HttpResponse:
    """Register a discharge. ``?mrn=`` fills in a known patient's details."""
    if request.method == "POST":
        form = DischargeForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                discharge = discharge_intake(
                    intake=form.intake(), policy=POLICIES[Discharge.Source.MANUAL], by=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if discharge.calls_not_planned:
                    messages.warning(
                        request,
                        _(
                            "Discharge of %(patient)s registered, but its calls could not be planned: a follow-up "
                            "rule of %(department)s is broken. Tell the administrator: the first weekly run after "
                            "the rule is corrected plans them."
                        )
                        % {"patient": discharge.patient, "department": discharge.department},
                    )
                else:
                    messages.success(
                        request,
                        _("Discharge of %(patient)s registered; the calls due this week are in the queue.")
                        % {"patient": discharge.patient},
                    )
                if discharge.patient_details_kept:
                    messages.info(
                        request,
                        _(
                            "This patient is also registered by another ward: the details recorded there were "
                            "kept. Tell the ward that registered the patient if the phone or address has changed."
                        ),
                    )
                return redirect("calls:discharge_list")
    else:
        initial = {}
        mrn = request.GET.get("mrn", "").strip()
        if mrn:
            # Only patients already known to one of the nurse's departments are
            # filled in: another ward's patient record stays private.
            patient = access.patient_by_mrn(request.user, mrn)
            if patient is None:
                messages.info(
                    request,
                    _("No patient with MRN %(mrn)s in your departments yet: fill in the details.") % {"mrn": mrn},
                )
                initial = {"mrn": mrn}
            else:
                initial = DischargeForm.initial_for(patient)
        form = DischargeForm(initial=initial, user=request.user)
    return render(request, "calls/discharge_form.html", {"form": form})


@role_required(Role.NURSE, Role.HEAD_NURSE)
def discharge_list(request: HttpRequest) -> HttpResponse:
    filterset = DischargeFilter(request.GET, queryset=discharges_visible_to(request.user), user=request.user)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "calls/discharge_list.html", {"filter": filterset, "page": page})
