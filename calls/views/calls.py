"""The call screen (record, script, attempts, outcome, deceased path) and the
head nurse's clinical alert list."""

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from followup import access
from followup.roles import Role, role_required
from followup.sessions import return_after_login, typing_sent

from ..forms.call_work import (
    AlertFilter,
    AlertResolveForm,
    AttemptForm,
    CompleteForm,
    DeathReverseForm,
    DeceasedForm,
)
from ..forms.script_answers import CallAnswersForm
from ..models import CallAttempt, FollowUpCall, Patient, SatisfactionItem, ScriptVersion, SpotCheck
from ..selectors.drafts import call_draft_of, put_back
from ..selectors.scripts import script_render, script_version_for_call
from ..selectors.worklist import (
    alert_for_user,
    alerts_open_for,
    call_attempts,
    call_for_user,
    calls_a_death_cancels,
    complaints_raised_on,
    death_records_of,
    earlier_calls,
)
from ..services.call_work import (
    UNANSWERED_RESULTS,
    CallChanged,
    CallNotOpen,
    alert_resolve,
    attempt_policy_of,
    call_complete,
    call_record_attempt,
    call_record_death,
)
from ..services.cancellation import death_record_reverse, death_reversal_plan
from .worklist import PAGE_SIZE, id_url

NURSES = (Role.NURSE, Role.HEAD_NURSE)
LOST_CONNECTION = gettext_lazy(
    "The connection to the database was lost while saving: nothing was saved. Check the form and save again."
)
logger = logging.getLogger(__name__)


@dataclass
class Conflict:
    """Someone saved the call while this nurse was typing: what is saved now
    next to what she typed."""

    current: FollowUpCall
    rows: list[tuple[str, str, str]] = field(default_factory=list)


def _display(form: Form, name: str) -> str:
    value = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
    if value in (None, "", []):
        return "–"
    choices = dict(getattr(form.fields[name], "choices", []) or [])
    if isinstance(value, list):
        return ", ".join(str(choices.get(v, v)) for v in value)
    return str(choices.get(value, value))


def _typed_respondent(form: Form) -> str:
    """Who answered, as the nurse typed it: "Patient and a family member (daughter, 李华)"."""
    label = _display(form, "answered_by")
    data = getattr(form, "cleaned_data", {})
    member = ", ".join(v for v in (data.get("family_member_relation"), data.get("family_member_name")) if v)
    if not member or label == "–":
        return label
    return pgettext("who answered, and which family member", "%(who)s (%(member)s)") % {"who": label, "member": member}


def _saved_rows(current: FollowUpCall) -> list[tuple[str, str]]:
    return [
        (_("Status"), current.get_status_display()),
        (_("Attempts so far"), str(current.attempt_count)),
        (_("Who answered"), current.respondent_display or "–"),
        (_("Overall satisfaction"), current.get_satisfaction_display() or "–"),
        (_("Summary"), current.summary or "–"),
    ]


def _rebind(form_class, request: HttpRequest, current: FollowUpCall, prefix: str, **kwargs):
    """The same typed data, now on top of the saved version."""
    data = request.POST.copy()
    data[f"{prefix}-expected_version"] = str(current.version)
    form = form_class(data, **kwargs)
    form.is_valid()
    return form


def _call_context(
    request: HttpRequest,
    call: FollowUpCall,
    *,
    attempt_form: AttemptForm | None = None,
    complete_form: CompleteForm | None = None,
    answers_form: CallAnswersForm | None = None,
    deceased_form: DeceasedForm | None = None,
    conflict: Conflict | None = None,
    version: ScriptVersion | None = None,
) -> dict:
    version = version or script_version_for_call(call=call)
    script = script_render(version=version) if version else None
    questions = script.questions if script else []
    patient = call.discharge.patient
    initial = {"expected_version": call.version}
    # The family contact on record is the likeliest family member to answer.
    outcome_initial = {
        **initial,
        "family_member_relation": patient.family_relation,
        "family_member_name": patient.family_name,
    }
    needs = dict(Patient.CommunicationNeed.choices)
    attempts = call_attempts(call=call)
    policy = attempt_policy_of(call)
    unanswered, unanswered_days = policy.tally(a.started_at for a in attempts if a.result in UNANSWERED_RESULTS)
    # The callback agreed on the last dial, with who asked for it.
    callback = attempts[-1] if call.callback_at and attempts and attempts[-1].callback_at else None
    call_url = reverse("calls:call_detail", args=[call.pk])
    handed_back = conflict is not None or any(
        form is not None for form in (attempt_form, complete_form, answers_form, deceased_form)
    )
    answers_form = answers_form or CallAnswersForm(questions=questions)
    attempt_form = attempt_form or AttemptForm(initial=initial, patient=patient, policy=policy)
    complete_form = complete_form or CompleteForm(initial=outcome_initial)
    # Her draft (what she typed and had not sent before a reload, a lost connection or a new
    # log-in) fills the forms she is not sending now; only she sees it (docs/forms.md).
    draft = call_draft_of(call=call, user=request.user)
    if draft is not None:
        for form in (answers_form, attempt_form, complete_form):
            if not form.is_bound:
                put_back(form, draft)
    return {
        "call": call,
        "patient": patient,
        # The screen's addresses, each pattern reversed once per process (id_url).
        "urls": {
            name: id_url(f"calls:{view}")(pk)
            for name, view, pk in (
                ("attempt", "call_attempt", call.pk),
                ("complete", "call_complete", call.pk),
                ("draft", "call_draft", call.pk),
                ("deceased", "call_deceased", call.pk),
                ("patient", "patient_detail", patient.pk),
                ("patient_access", "patient_access", patient.pk),
            )
        },
        "discharge": call.discharge,
        "age": patient.age_on(timezone.localdate()),
        "communication_needs": [needs.get(code, code) for code in patient.communication_needs or []],
        "earlier_calls": earlier_calls(call=call, user=request.user),
        "attempts": attempts,
        "policy": policy,
        "unanswered": unanswered,
        "unanswered_days": unanswered_days,
        "outside_dialling_hours": not policy.in_hours(timezone.now()),
        "callback": callback,
        # An open call has no outcome yet: skip those two queries.
        "saved_answers": []
        if call.is_open
        else list(call.answers.select_related("question__version").order_by("question__order", "pk")),
        "saved_scores": []
        if call.is_open
        else list(call.item_scores.select_related("item").order_by("item__order", "item__code")),
        "script": script,
        "answers_form": answers_form,
        "attempt_form": attempt_form,
        "complete_form": complete_form,
        "deceased_form": deceased_form or DeceasedForm(initial=initial, discharged_on=call.discharge.discharged_on),
        # The complaints app serves this form; the call prefills it, and
        # saving it brings the nurse back here.
        "complaint_url": f"{reverse('complaints:create')}?{urlencode({'call': call.pk, 'next': call_url})}",
        "complaints_raised": complaints_raised_on(call=call, user=request.user),
        "conflict": conflict,
        # A closed call shows its outcome, unless this nurse's typing is being
        # handed back to her (a conflict or an error): then her forms stay.
        "show_forms": call.is_open or handed_back,
        # A head nurse's verdict on this call (a spot check), once given.
        "spot_check": _reviewed_spot_check(call),
        # Who recorded the death, when; whether this user may reverse it.
        "death": _standing_death(request, patient),
        "draft": draft,
        "draft_key": draft_key(request, call),
        "draft_shown": draft is not None and request.method == "GET",
        # By the clock of the browser that saved it: call-draft.js compares it with its own copy.
        "draft_typed_at": int(draft.typed_at.timestamp() * 1000) if draft else 0,
    }


def _standing_death(request: HttpRequest, patient: Patient) -> dict | None:
    if not patient.deceased:
        return None  # no query for the living
    records = death_records_of(patient_id=patient.pk)
    record = records[0] if records and records[0].is_standing else None
    if record is None:
        return None
    may_reverse = access.visible_death_records(request.user).filter(pk=record.pk).exists()
    return {"record": record, "may_reverse": may_reverse}


def _reviewed_spot_check(call: FollowUpCall) -> SpotCheck | None:
    if call.status != FollowUpCall.Status.COMPLETED:
        return None  # only completed calls are sampled (calls.services.spot_checks): no query
    spot_check = getattr(call, "spot_check", None)  # None when never sampled
    return spot_check if spot_check is not None and spot_check.reviewed_at else None


def draft_key(request: HttpRequest, call: FollowUpCall) -> str:
    """How the page names her typing of this call in the browser (data-draft-key)."""
    return f"{request.user.pk}:{call.pk}"


def _shown_version(request: HttpRequest) -> int | None:
    """The script version the nurse's form was rendered with (a hidden field);
    None when missing or not a number."""
    value = request.POST.get("script_version", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


def _render_call(request: HttpRequest, call: FollowUpCall, status: int = 200, **forms) -> HttpResponse:
    return render(request, "calls/call.html", _call_context(request, call, **forms), status=status)


def _conflict(current: FollowUpCall, typed: list[tuple[str, str]]) -> Conflict:
    saved = _saved_rows(current)
    labels = [label for label, _value in saved] + [label for label, _value in typed if label not in dict(saved)]
    saved_map, typed_map = dict(saved), dict(typed)
    return Conflict(
        current=current,
        rows=[(label, saved_map.get(label, "–"), typed_map.get(label, "–")) for label in labels],
    )


@return_after_login(keeps_typing=True)
@role_required(*NURSES)
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_for_user(user=request.user, pk=pk, screen=True)
    request.audit_objects = [("call", call.pk, call.discharge.patient_id)]
    return _render_call(request, call)


@return_after_login("calls:call_detail", keeps_typing=True)
@require_POST
@role_required(*NURSES)
def call_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_for_user(user=request.user, pk=pk)
    patient, policy = call.discharge.patient, attempt_policy_of(call)
    form = AttemptForm(request.POST, patient=patient, policy=policy)
    if not form.is_valid():
        return _render_call(request, call, status=400, attempt_form=form)
    data = form.cleaned_data
    try:
        attempt = call_record_attempt(
            call=call,
            by=request.user,
            result=data["result"],
            note=data["note"],
            expected_version=data["expected_version"],
            no_more_calls=data["no_more_calls"],
            script_version=script_version_for_call(call=call),
            dialled=data["dialled"],
            other_number=data["other_number"],
            callback_at=data["callback_at"],
            callback_asked_by=data["callback_asked_by"],
        )
    except CallChanged as changed:
        current = call_for_user(user=request.user, pk=pk)
        typed = [(_("Result of this dial"), _display(form, "result")), (_("Note"), data["note"] or "–")]
        return _render_call(
            request,
            current,
            status=409,
            attempt_form=_rebind(AttemptForm, request, changed.current, "attempt", patient=patient, policy=policy),
            conflict=_conflict(changed.current, typed),
        )
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _render_call(request, call, status=400, attempt_form=form)
    except (OperationalError, InterfaceError):
        logger.exception("Database error while recording an attempt on call %s", pk)
        form.add_error(None, LOST_CONNECTION)
        return _render_call(request, call, status=503, attempt_form=form)
    call.refresh_from_db()
    if not call.is_open:
        typing_sent(request, draft_key(request, call))
    if call.status == FollowUpCall.Status.IN_PROGRESS:
        messages.success(request, _("Answered: go through the script and record the outcome."))
        return redirect(reverse("calls:call_detail", args=[call.pk]) + "#outcome")
    if not policy.in_hours(attempt.started_at) and attempt.result in UNANSWERED_RESULTS:
        messages.warning(
            request,
            _(
                "This dial was outside the dialling hours (%(start)s-%(end)s): "
                "it does not count towards lost to follow-up."
            )
            % {"start": f"{policy.dial_from:%H:%M}", "end": f"{policy.dial_until:%H:%M}"},
        )
    if attempt.result == CallAttempt.Result.CALLBACK:
        moment = timezone.localtime(attempt.callback_at)
        messages.success(
            request,
            _("Callback agreed for %(day)s at %(time)s, asked by: %(who)s. The call is on the worklist for then.")
            % {
                "day": date_format(moment.date(), "SHORT_DATE_FORMAT"),
                "time": f"{moment:%H:%M}",
                "who": attempt.get_callback_asked_by_display().lower(),
            },
        )
    elif call.status == FollowUpCall.Status.SCHEDULED:
        messages.info(
            request,
            _("Attempt %(n)d recorded (%(result)s). Next try suggested on %(day)s.")
            % {
                "n": call.attempt_count,
                "result": CallAttempt.Result(data["result"]).label,
                "day": call.next_attempt_on.isoformat(),
            },
        )
    else:
        messages.info(
            request, _("Attempt recorded. The call is now: %(status)s.") % {"status": call.get_status_display()}
        )
    return redirect("calls:worklist")


@return_after_login("calls:call_detail", keeps_typing=True)
@require_POST
@role_required(*NURSES)
def call_complete_view(request: HttpRequest, pk: int) -> HttpResponse:
    call = call_for_user(user=request.user, pk=pk)
    version = script_version_for_call(call=call, shown=_shown_version(request))
    questions = script_render(version=version).questions if version else []
    items = list(SatisfactionItem.objects.filter(is_active=True))
    answers_form = CallAnswersForm(request.POST, questions=questions)
    complete_form = CompleteForm(request.POST, items=items)
    answers_ok, outcome_ok = answers_form.is_valid(), complete_form.is_valid()
    forms = {"answers_form": answers_form, "complete_form": complete_form, "version": version}
    if not (answers_ok and outcome_ok):
        return _render_call(request, call, status=400, **forms)
    data = complete_form.cleaned_data
    try:
        call_complete(
            call=call,
            by=request.user,
            expected_version=data["expected_version"],
            answered_by=data["answered_by"],
            family_member_relation=data["family_member_relation"],
            family_member_name=data["family_member_name"],
            answers=answers_form.answers(),
            satisfaction=data["satisfaction"],
            item_scores=complete_form.item_scores(),
            summary=data["summary"],
            duration_seconds=data["duration"],
            next_call_on=data["next_call_on"],
            script_version=version,
        )
    except CallChanged as changed:
        current = call_for_user(user=request.user, pk=pk)
        typed = [
            (_("Who answered"), _typed_respondent(complete_form)),
            (_("Overall satisfaction"), _display(complete_form, "satisfaction")),
            (_("Summary"), data["summary"]),
        ]
        return _render_call(
            request,
            current,
            status=409,
            answers_form=answers_form,
            complete_form=_rebind(CompleteForm, request, changed.current, "outcome", items=items),
            conflict=_conflict(changed.current, typed),
            version=version,
        )
    except ValidationError as error:
        complete_form.add_error(None, error.messages)
        return _render_call(request, call, status=400, **forms)
    except (OperationalError, InterfaceError):
        # The connection dropped mid-save: the transaction was rolled back
        # and the connection closed, so nothing was saved. Show the nurse's
        # form as typed so one more click saves it.
        logger.exception("Database error while completing call %s", pk)
        complete_form.add_error(None, LOST_CONNECTION)
        return _render_call(request, call, status=503, **forms)
    call.refresh_from_db()
    typing_sent(request, draft_key(request, call))
    if hasattr(call, "clinical_alert"):
        messages.warning(request, _("Red-flag answers: the head nurse has been alerted to act."))
    for question, value in answers_form.out_of_range():
        messages.warning(
            request,
            _("“%(question)s”: %(value)s is outside %(range)s; it is saved with a range warning.")
            % {"question": question.text, "value": value, "range": question.range_text},
        )
    messages.success(request, _("Call with %(name)s completed.") % {"name": call.discharge.patient.name})
    return redirect("calls:worklist")


def _death_confirm(request: HttpRequest, call: FollowUpCall, form: DeceasedForm) -> HttpResponse:
    """The second step: what recording the death will do, before it is done."""
    shown, elsewhere = calls_a_death_cancels(call=call, user=request.user)
    return render(
        request,
        "calls/death_confirm.html",
        {
            "call": call,
            "patient": call.discharge.patient,
            "form": form,
            "died_on": form.cleaned_data["died_on"],
            "note": form.cleaned_data["note"],
            "cancelled": shown,
            "elsewhere": elsewhere,
        },
    )


@require_POST
@role_required(*NURSES)
def call_deceased(request: HttpRequest, pk: int) -> HttpResponse:
    """Recording a death takes two steps, without JavaScript: the call
    screen's form is checked and answered with a page saying which calls
    will be cancelled; only its "Record the death" button records it, and
    its "Change" button brings the form back as typed."""
    call = call_for_user(user=request.user, pk=pk)
    form = DeceasedForm(request.POST, discharged_on=call.discharge.discharged_on)
    if not form.is_valid():
        return _render_call(request, call, status=400, deceased_form=form)
    if "edit" in request.POST:
        return _render_call(request, call, deceased_form=form)
    if not call.is_open:
        form.add_error(None, CallNotOpen(call))
        return _render_call(request, call, status=400, deceased_form=form)
    if request.POST.get("confirm") != "yes":
        return _death_confirm(request, call, form)
    data = form.cleaned_data
    try:
        cancelled = call_record_death(
            call=call,
            by=request.user,
            died_on=data["died_on"],
            expected_version=data["expected_version"],
            note=data["note"],
        )
    except CallChanged as changed:
        typed = [(_("Date of death"), data["died_on"].isoformat() if data["died_on"] else _("unknown"))]
        return _render_call(
            request,
            call_for_user(user=request.user, pk=pk),
            status=409,
            deceased_form=_rebind(
                DeceasedForm, request, changed.current, "deceased", discharged_on=call.discharge.discharged_on
            ),
            conflict=_conflict(changed.current, typed),
        )
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _render_call(request, call, status=400, deceased_form=form)
    typing_sent(request, draft_key(request, call))
    messages.success(
        request,
        _("The death of %(name)s is recorded; %(count)d open call(s) cancelled. No more calls will be made.")
        % {"name": call.discharge.patient.name, "count": cancelled},
    )
    return redirect("calls:call_detail", pk=call.pk)


@role_required(Role.HEAD_NURSE)
def death_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """A head nurse reverses a death recorded by mistake: the page says
    which calls come back and which do not; the reason is required."""
    record = access.death_record_for(request.user, pk)
    request.audit_objects = [("death", record.pk, record.patient_id)]
    if not record.is_standing:
        raise Http404
    form = DeathReverseForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = death_record_reverse(record=record, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "The death record of %(name)s is reversed. Calls scheduled again: %(restored)d; "
                        "recorded as missed: %(missed)d; left cancelled: %(kept)d; newly planned: %(new)d."
                    )
                    % {
                        "name": record.patient.name,
                        "restored": result.restored,
                        "missed": result.missed,
                        "kept": result.kept,
                        "new": result.generated.created,
                    },
                )
                return redirect(_after_reversal(request, record))
        status = 400
    plan = death_reversal_plan(record=record)
    mine = set(access.visible_discharges(request.user).filter(patient=record.patient).values_list("pk", flat=True))
    groups = [
        (_("Scheduled again"), [c for c in plan.restore if c.discharge_id in mine]),
        (_("Recorded as missed: their time passed"), [c for c in plan.miss if c.discharge_id in mine]),
        (_("Left cancelled: the stay gets no calls any more"), [c for c in plan.keep if c.discharge_id in mine]),
    ]
    elsewhere = sum(1 for c in plan.restore + plan.miss + plan.keep if c.discharge_id not in mine)
    return render(
        request,
        "calls/death_reverse.html",
        {"record": record, "patient": record.patient, "form": form, "groups": groups, "elsewhere": elsewhere},
        status=status,
    )


def _after_reversal(request: HttpRequest, record) -> str:
    """Back to the call the death was reported on, when she may open it; else the dashboard."""
    if record.call_id and access.visible_calls(request.user).filter(pk=record.call_id).exists():
        return reverse("calls:call_detail", args=[record.call_id])
    return reverse("calls:dashboard")


def _alerts_page(
    request: HttpRequest, forms: dict | None = None, status: int = 200, list_url: str = ""
) -> HttpResponse:
    """The alert list with the filters and page of request.GET. Re-rendered by
    a refused resolve (a POST to another URL), ``list_url`` makes the pager
    links lead back to the list rather than to that URL."""
    filterset = AlertFilter(
        request.GET, queryset=alerts_open_for(user=request.user), departments=access.departments_of(request.user)
    )
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    forms = forms or {}
    for alert in page.object_list:
        alert.is_overdue = alert.due_at < now
        alert.form = forms.get(alert.pk) or AlertResolveForm(alert=alert)
    # A refused resolve: its form's messages go to the error summary too.
    context = {"filter": filterset, "page": page, "list_url": list_url, "refused_forms": list(forms.values())}
    return render(request, "calls/alerts.html", context, status=status)


@role_required(Role.HEAD_NURSE)
def alerts(request: HttpRequest) -> HttpResponse:
    return _alerts_page(request)


@require_POST
@role_required(Role.HEAD_NURSE)
def alert_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    alert = alert_for_user(user=request.user, pk=pk)
    form = AlertResolveForm(request.POST, alert=alert)
    if form.is_valid():
        try:
            alert_resolve(
                alert=alert, by=request.user, action=form.cleaned_data["action"], note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Alert for %(name)s resolved.") % {"name": alert.call.discharge.patient.name})
            # Back to the same filters and page the head nurse was working on.
            query = request.GET.urlencode()
            return redirect(reverse("calls:alerts") + (f"?{query}" if query else ""))
    return _alerts_page(request, forms={alert.pk: form}, status=400, list_url=reverse("calls:alerts"))
