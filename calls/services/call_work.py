"""The nurse's work on a call: attempts, completion, the deceased path,
clinical alerts and reassignment.

Every write to a call is a conditional update on its ``version``
(optimistic locking): the caller passes the version it showed the nurse and
the update happens only if nobody changed the call since; otherwise
``CallChanged`` tells who changed it and when, and nothing is written.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.audit import audit_change, audit_changes
from followup.dates import check_date
from followup.models import AuditEvent, User

from ..models import (
    CallAnswer,
    CallAttempt,
    ClinicalAlert,
    FollowUpCall,
    ItemScore,
    Patient,
    Question,
    SatisfactionItem,
    ScriptVersion,
)
from .cancellation import patient_decline_calls, patient_mark_deceased
from .drafts import draft_after_attempt, drafts_discard

CREATE = AuditEvent.Action.CREATE
DEFAULT_MAX_ATTEMPTS = 3
MAX_DURATION_SECONDS = 3 * 60 * 60
UNANSWERED_RESULTS = frozenset(
    {
        CallAttempt.Result.NO_ANSWER,
        CallAttempt.Result.BUSY,
        CallAttempt.Result.SWITCHED_OFF,
        CallAttempt.Result.WRONG_NUMBER,
    }
)


class CallChanged(Exception):
    """Someone saved the call after the nurse opened it. ``current`` is the
    call as saved now (with ``changed_by`` loaded)."""

    def __init__(self, current: FollowUpCall):
        self.current = current
        super().__init__(f"call {current.pk} is at version {current.version}")


class CallNotOpen(ValidationError):
    def __init__(self, call: FollowUpCall):
        super().__init__(
            _("This call is already %(status)s; nothing more can be recorded on it.")
            % {"status": call.get_status_display().lower()},
            code="not_open",
        )


def _locked_update(
    *, call: FollowUpCall, by: User, expected_version: int, open_only: bool = True, note: str = "", **values
) -> None:
    """Update the call only if it is still at ``expected_version`` (and open);
    refresh ``call`` with what was saved and audit it (``note``: a fixed
    word such as "attempt: busy"), or raise CallChanged/CallNotOpen."""
    rows = FollowUpCall.objects.filter(pk=call.pk, version=expected_version)
    if open_only:
        rows = rows.filter(status__in=FollowUpCall.OPEN_STATUSES)
    changed = rows.update(**values, version=F("version") + 1, changed_by=by, updated_at=timezone.now())
    if changed != 1:
        current = FollowUpCall.objects.select_related("changed_by").get(pk=call.pk)
        if current.version != expected_version:
            raise CallChanged(current)
        raise CallNotOpen(current)
    call.refresh_from_db()
    audit_change(
        actor=by,
        object_type="call",
        object_id=call.pk,
        fields=list(values),
        patient_id=call.discharge.patient_id,
        note=note,
    )


def max_attempts_of(call: FollowUpCall) -> int:
    return call.step.max_attempts if call.step_id else DEFAULT_MAX_ATTEMPTS


def next_calling_day(*, call: FollowUpCall, after: dt.date) -> dt.date:
    """The first calling day after ``after``: one of the step's weekdays, or
    Monday to Friday for a booked call."""
    weekdays = set(call.step.weekdays) if call.step_id and call.step.weekdays else {0, 1, 2, 3, 4}
    day = after + dt.timedelta(days=1)
    while day.weekday() not in weekdays:
        day += dt.timedelta(days=1)
    return day


@transaction.atomic
def call_record_attempt(
    *,
    call: FollowUpCall,
    by: User,
    result: str,
    note: str = "",
    expected_version: int,
    no_more_calls: bool = False,
    script_version: ScriptVersion | None = None,
) -> CallAttempt:
    """Record one dial. Unanswered: the call stays in the queue with the next
    try suggested on another calling day, or becomes unreachable once the
    maximum attempts are used. A wrong number flags the patient's phone. A
    refusal closes this call, and every call of the patient when they ask for
    no more."""
    today = timezone.localdate()
    attempts = call.attempt_count + 1
    values: dict[str, Any] = {"attempt_count": attempts}
    if result == CallAttempt.Result.ANSWERED:
        values.update(status=FollowUpCall.Status.IN_PROGRESS, next_attempt_on=None)
        if script_version is not None and call.script_version_id is None:
            values["script_version"] = script_version
    elif result in UNANSWERED_RESULTS:
        if attempts >= max_attempts_of(call):
            values.update(status=FollowUpCall.Status.UNREACHABLE, next_attempt_on=None)
        else:
            next_try = next_calling_day(call=call, after=today)
            values.update(status=FollowUpCall.Status.SCHEDULED, next_attempt_on=next_try)
    elif result == CallAttempt.Result.REFUSED:
        values.update(
            status=FollowUpCall.Status.CANCELLED, cancel_reason=FollowUpCall.CancelReason.DECLINED, next_attempt_on=None
        )
    else:
        raise ValidationError(_("Unknown attempt result."), code="invalid")
    _locked_update(call=call, by=by, expected_version=expected_version, note=f"attempt: {result}", **values)
    attempt = CallAttempt.objects.create(call=call, nurse=by, started_at=timezone.now(), result=result, note=note)
    patient = call.discharge.patient
    if result == CallAttempt.Result.WRONG_NUMBER:
        Patient.objects.filter(pk=patient.pk).update(phone_needs_correction=True)
        patient.phone_needs_correction = True
        audit_change(actor=by, object_type="patient", object_id=patient.pk, fields=["phone_needs_correction"])
    if result == CallAttempt.Result.REFUSED and no_more_calls:
        patient_decline_calls(patient=patient, on=today, actor=by)
    draft_after_attempt(call=call, by=by)
    return attempt


def is_red_flag(question: Question, value: Any) -> bool:
    flags = {str(v).strip().lower() for v in question.red_flag_answers or []}
    if not flags or value in (None, "", []):
        return False
    values = value if isinstance(value, list | tuple) else [value]
    return any(str(v).strip().lower() in flags for v in values)


def parse_duration(text: str) -> int:
    """ "7" (minutes) or "7:30" (minutes:seconds) -> seconds."""
    text = (text or "").strip()
    try:
        if ":" in text:
            minutes, seconds = text.split(":", 1)
            minutes_i, seconds_i = int(minutes), int(seconds)
            if not 0 <= seconds_i < 60:
                raise ValueError
        else:
            minutes_i, seconds_i = int(text), 0
    except ValueError:
        raise ValidationError(
            _("Write the duration as minutes (7) or minutes:seconds (7:30)."), code="invalid"
        ) from None
    total = minutes_i * 60 + seconds_i
    if not 0 < total <= MAX_DURATION_SECONDS:
        raise ValidationError(_("The duration must be more than 0 and at most 3 hours."), code="out_of_range")
    return total


def validate_next_call_on(day: dt.date | None) -> None:
    if day is not None and day <= timezone.localdate():
        raise ValidationError(_("The next call must be booked for a day after today."), code="not_future")
    check_date(day, future=True)


def validate_death_date(day: dt.date, *, discharged_on: dt.date) -> None:
    check_date(day, future_message=_("The date of death cannot be in the future."))
    if day < discharged_on:
        raise ValidationError(_("The date of death cannot be before the discharge."), code="before_discharge")


@transaction.atomic
def call_complete(
    *,
    call: FollowUpCall,
    by: User,
    expected_version: int,
    answered_by: str,
    answers: Mapping[int, Any],
    satisfaction: str,
    item_scores: Mapping[int, int],
    summary: str,
    duration_seconds: int,
    next_call_on: dt.date | None = None,
    script_version: ScriptVersion | None = None,
) -> FollowUpCall:
    """Record the call's outcome: who answered, the answers, satisfaction,
    item scores, summary and duration. Red-flag answers raise a clinical alert
    due within CLINICAL_ALERT_HOURS; a next call date books that call. A
    number outside its question's range is refused, or saved with a range
    warning, as the question says (docs/scripts.md)."""
    version = script_version or call.script_version
    questions = list(version.questions.all()) if version else []
    errors: dict[str, list] = {}
    missing = [q for q in questions if q.required and answers.get(q.pk) in (None, "", [])]
    if missing:
        errors["answers"] = [
            _("Answer every required question: %(questions)s") % {"questions": "; ".join(q.text for q in missing)}
        ]
    for question in questions:
        value = answers.get(question.pk)
        if question.kind != Question.Kind.NUMBER or value in (None, ""):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.setdefault("answers", []).append(_("“%(question)s” needs a number.") % {"question": question.text})
        elif question.out_of_range == Question.OutOfRange.REFUSE and question.is_out_of_range(value):
            errors.setdefault("answers", []).append(
                _("“%(question)s”: %(value)s is outside the allowed range (%(range)s).")
                % {"question": question.text, "value": question.format_answer(value), "range": question.range_text}
            )
    if answered_by not in FollowUpCall.AnsweredBy.values:
        errors["answered_by"] = [_("Say who answered the phone.")]
    if satisfaction not in FollowUpCall.Satisfaction.values:
        errors["satisfaction"] = [_("Choose the overall satisfaction.")]
    if any(not 1 <= int(score) <= 10 for score in item_scores.values()):
        errors["item_scores"] = [_("Item scores go from 1 to 10.")]
    if not 0 < duration_seconds <= MAX_DURATION_SECONDS:
        errors["duration_seconds"] = [_("The duration must be more than 0 and at most 3 hours.")]
    try:
        validate_next_call_on(next_call_on)
    except ValidationError as error:
        errors["next_call_on"] = error.messages
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    attempt_count = call.attempt_count
    last_result = call.attempts.order_by("-started_at", "-pk").values_list("result", flat=True).first()
    if last_result != CallAttempt.Result.ANSWERED:
        attempt_count += 1
    _locked_update(
        call=call,
        by=by,
        expected_version=expected_version,
        status=FollowUpCall.Status.COMPLETED,
        answered_by=answered_by,
        satisfaction=satisfaction,
        summary=summary,
        duration_seconds=duration_seconds,
        next_call_on=next_call_on,
        next_attempt_on=None,
        completed_at=now,
        completed_by=by,
        script_version=version,
        attempt_count=attempt_count,
        note="completed",
    )
    if last_result != CallAttempt.Result.ANSWERED:
        CallAttempt.objects.create(call=call, nurse=by, started_at=now, result=CallAttempt.Result.ANSWERED)
    drafts_discard(calls=[call.pk], actor=by, reason="completed")

    by_pk = {q.pk: q for q in questions}
    rows = []
    flagged = []
    for pk, value in answers.items():
        question = by_pk.get(int(pk))
        if question is None or value in (None, "", []):
            continue
        red = is_red_flag(question, value)
        rows.append(
            CallAnswer(
                call=call,
                question=question,
                value=value,
                is_red_flag=red,
                is_out_of_range=question.is_out_of_range(value),
            )
        )
        if red:
            # In the script's language, as the nurse read it: "有无胸痛？: 是".
            flagged.append(f"{question.text}: {question.format_answer(value)}")
    CallAnswer.objects.bulk_create(rows)

    active_items = set(SatisfactionItem.objects.filter(is_active=True).values_list("pk", flat=True))
    ItemScore.objects.bulk_create(
        [
            ItemScore(call=call, item_id=int(pk), score=int(score))
            for pk, score in item_scores.items()
            if int(pk) in active_items and score is not None
        ]
    )
    patient_id = call.discharge.patient_id
    if flagged:
        alert = ClinicalAlert.objects.create(
            call=call,
            raised_at=now,
            due_at=now + dt.timedelta(hours=settings.CLINICAL_ALERT_HOURS),
            reason="\n".join(flagged),
        )
        audit_change(
            actor=by, action=CREATE, object_type="alert", object_id=alert.pk, fields=["reason"], patient_id=patient_id
        )
    if next_call_on is not None:
        booked = FollowUpCall.objects.create(
            discharge=call.discharge,
            step=None,
            booked_from=call,
            due_date=next_call_on,
            earliest_on=next_call_on,
            latest_on=next_call_on + dt.timedelta(days=7),
            assigned_to=call.assigned_to or by,
            changed_by=by,
        )
        audit_change(
            actor=by,
            action=CREATE,
            object_type="call",
            object_id=booked.pk,
            fields=["due_date"],
            patient_id=patient_id,
            note="booked",
        )
    return call


@transaction.atomic
def call_record_death(*, call: FollowUpCall, by: User, died_on: dt.date, expected_version: int, note: str = "") -> int:
    """A family member says the patient has died: record the date and cancel
    every open call of the patient. Returns the number of calls cancelled."""
    try:
        validate_death_date(died_on, discharged_on=call.discharge.discharged_on)
    except ValidationError as error:
        raise ValidationError({"died_on": error.messages}) from None
    _locked_update(
        call=call,
        by=by,
        expected_version=expected_version,
        answered_by=FollowUpCall.AnsweredBy.FAMILY,
        attempt_count=call.attempt_count + 1,
        note="death reported",
    )
    CallAttempt.objects.create(
        call=call, nurse=by, started_at=timezone.now(), result=CallAttempt.Result.ANSWERED, note=note
    )
    cancelled = patient_mark_deceased(patient=call.discharge.patient, died_on=died_on, actor=by)
    call.refresh_from_db()
    return cancelled


@transaction.atomic
def calls_reassign(*, calls: QuerySet[FollowUpCall], to: User, by: User) -> int:
    """Give open calls to another nurse of their department. Every call must
    belong to a department ``to`` works in. Returns how many moved."""
    targets = calls.filter(status__in=FollowUpCall.OPEN_STATUSES)
    her_departments = set(to.departments.values_list("pk", flat=True))
    outside = targets.exclude(discharge__department__in=her_departments)
    if outside.exists():
        raise ValidationError(
            _("%(nurse)s does not work in the department of every selected call.") % {"nurse": to},
            code="wrong_department",
        )
    rows = list(targets.order_by("pk").values_list("pk", "discharge__patient_id"))
    moved = FollowUpCall.objects.filter(
        pk__in=[pk for pk, _patient in rows], status__in=FollowUpCall.OPEN_STATUSES
    ).update(assigned_to=to, changed_by=by, version=F("version") + 1, updated_at=timezone.now())
    audit_changes(actor=by, object_type="call", objects=rows, fields=["assigned_to"], note="reassigned")
    return moved


@transaction.atomic
def alert_resolve(*, alert: ClinicalAlert, by: User, action: str, note: str) -> ClinicalAlert:
    """Record the action taken on a red flag; only then the alert leaves the
    head nurse's list."""
    errors = {}
    if action not in ClinicalAlert.Action.values:
        errors["action"] = [_("Choose the action taken.")]
    if not (note or "").strip():
        errors["note"] = [_("Write what was done.")]
    if errors:
        raise ValidationError(errors)
    changed = ClinicalAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
        action=action, action_note=note.strip(), resolved_at=timezone.now(), resolved_by=by
    )
    if changed != 1:
        raise ValidationError(_("This alert was already resolved."), code="resolved")
    alert.refresh_from_db()
    audit_change(
        actor=by,
        object_type="alert",
        object_id=alert.pk,
        fields=["action", "action_note", "resolved_at", "resolved_by"],
        patient_id=alert.call.discharge.patient_id,
    )
    return alert
