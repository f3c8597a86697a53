"""The nurse's work on a call: attempts, completion, the deceased path,
clinical alerts and reassignment.

Every write to a call is a conditional update on its ``version``
(optimistic locking): the caller passes the version it showed the nurse and
the update happens only if nobody changed the call since; otherwise
``CallChanged`` tells who changed it and when, and nothing is written.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup.audit import audit_change, audit_changes
from followup.dates import check_date
from followup.models import AuditEvent, User
from followup.services import notify

from .. import notices
from ..models import (
    CallAnswer,
    CallAttempt,
    ClinicalAlert,
    FollowUpCall,
    ItemScore,
    Patient,
    Question,
    RuleStep,
    SatisfactionItem,
    ScriptVersion,
)
from ..phones import normalise_phone
from .cancellation import patient_decline_calls, patient_mark_deceased
from .drafts import draft_after_attempt, drafts_discard

CREATE = AuditEvent.Action.CREATE
# A callback further ahead than this is a typing slip, or a call to book at the end of this one.
CALLBACK_HORIZON_DAYS = 30
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


@dataclass(frozen=True)
class AttemptPolicy:
    """When a call that nobody answers becomes "lost to follow-up": after
    ``attempts`` unanswered dials falling on at least ``days`` different days
    (hospital time), counting only dials made between ``dial_from`` and
    ``dial_until`` (no limit when None). Three dials within minutes on one
    day therefore never lose a patient (docs/call-queue.md)."""

    attempts: int
    days: int
    dial_from: dt.time | None
    dial_until: dt.time | None

    @property
    def has_hours(self) -> bool:
        return self.dial_from is not None and self.dial_until is not None

    def in_hours(self, moment: dt.datetime) -> bool:
        """Whether ``moment`` is inside the dialling hours, to the minute:
        "not after 20:00" lets 20:00 pass, not 20:01."""
        if not self.has_hours:
            return True
        local = timezone.localtime(moment).time().replace(second=0, microsecond=0)
        return self.dial_from <= local <= self.dial_until

    def tally(self, dials: Iterable[dt.datetime]) -> tuple[int, int]:
        """(unanswered dials that count, different days they fall on)."""
        counted = [moment for moment in dials if self.in_hours(moment)]
        return len(counted), len({timezone.localdate(moment) for moment in counted})

    def is_lost(self, dials: Iterable[dt.datetime]) -> bool:
        count, days = self.tally(dials)
        return count >= self.attempts and days >= self.days


def _step_default(name: str):
    return RuleStep._meta.get_field(name).default


# The policy of a call booked by a nurse (no rule step): a new step's defaults
# (3 dials on 2 days, 08:00-20:00).
DEFAULT_POLICY = AttemptPolicy(
    attempts=_step_default("max_attempts"),
    days=_step_default("attempt_days"),
    dial_from=_step_default("dial_from"),
    dial_until=_step_default("dial_until"),
)


def attempt_policy_of(call: FollowUpCall) -> AttemptPolicy:
    """The call's rule step's policy; a booked call's is DEFAULT_POLICY."""
    if not call.step_id:
        return DEFAULT_POLICY
    step = call.step
    return AttemptPolicy(
        attempts=step.max_attempts,
        days=max(1, min(step.attempt_days, step.max_attempts)),
        dial_from=step.dial_from if step.dial_until is not None else None,
        dial_until=step.dial_until if step.dial_from is not None else None,
    )


def callback_problems(
    *, at: dt.datetime, policy: AttemptPolicy, now: dt.datetime | None = None
) -> list[tuple[str, str]]:
    """What is wrong with calling back at ``at``, as (part, message) pairs,
    part being "day" or "time": it must be later than now, at most
    CALLBACK_HORIZON_DAYS ahead, and inside the dialling hours."""
    now = now or timezone.now()
    if at <= now:
        return [
            (
                "time",
                _("That time has passed: choose a time later than now (%(now)s).")
                % {"now": f"{timezone.localtime(now):%Y-%m-%d %H:%M}"},
            )
        ]
    latest = timezone.localdate(now) + dt.timedelta(days=CALLBACK_HORIZON_DAYS)
    problems = []
    if timezone.localdate(at) > latest:
        problems.append(
            (
                "day",
                _("A callback can be at most %(days)s days ahead: on %(date)s at the latest.")
                % {"days": CALLBACK_HORIZON_DAYS, "date": latest.isoformat()},
            )
        )
    if not policy.in_hours(at):
        problems.append(
            (
                "time",
                _("This ward does not dial before %(start)s or after %(end)s: choose a time between them.")
                % {"start": f"{policy.dial_from:%H:%M}", "end": f"{policy.dial_until:%H:%M}"},
            )
        )
    return problems


def number_dialled(*, patient: Patient, dialled: str, other_number: str = "") -> str:
    """The number behind the nurse's choice: the patient's phone, the family
    contact's, or another number she typed (normalised to E.164)."""
    if dialled == CallAttempt.Dialled.PATIENT:
        if not patient.phone:
            raise ValidationError(_("The patient has no phone number on record: choose the number you dialled."))
        return patient.phone
    if dialled == CallAttempt.Dialled.FAMILY:
        if not patient.family_phone:
            raise ValidationError(_("No family contact's phone is on record: choose the number you dialled."))
        return patient.family_phone
    if dialled == CallAttempt.Dialled.OTHER:
        number = normalise_phone(other_number)
        if not number:
            raise ValidationError(_("Type the number you dialled."))
        return number
    raise ValidationError(_("Choose the number you dialled."))


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
    dialled: str = CallAttempt.Dialled.PATIENT,
    other_number: str = "",
    callback_at: dt.datetime | None = None,
    callback_asked_by: str = "",
) -> CallAttempt:
    """Record one dial of ``dialled`` (the patient's phone, the family
    contact's or ``other_number``). Unanswered: the call stays in the queue
    with the next try suggested on another calling day, or is lost to
    follow-up once the step's attempt policy is met (AttemptPolicy). Asked to
    call back: the call is planned for ``callback_at`` (later than now, within
    CALLBACK_HORIZON_DAYS and the dialling hours), asked by the patient or the
    family. A wrong number flags the patient's phone when that was dialled.
    A refusal closes this call, and every call of the patient when they ask
    for no more."""
    now = timezone.now()
    today = timezone.localdate(now)
    policy = attempt_policy_of(call)
    patient = call.discharge.patient
    errors: dict[str, list] = {}
    if result not in CallAttempt.Result.values:
        errors["result"] = [_("Unknown attempt result.")]
    try:
        number = number_dialled(patient=patient, dialled=dialled, other_number=other_number)
    except ValidationError as error:
        errors["dialled"] = error.messages
    if result == CallAttempt.Result.CALLBACK:
        if callback_at is None:
            errors["callback_at"] = [_("Say when to call back: a day and a time.")]
        else:
            problems = [message for _part, message in callback_problems(at=callback_at, policy=policy, now=now)]
            if problems:
                errors["callback_at"] = problems
        if callback_asked_by not in FollowUpCall.AnsweredBy.values:
            errors["callback_asked_by"] = [_("Say who asked to be called back: the patient or a family member.")]
    elif callback_at is not None or callback_asked_by:
        errors["callback_at"] = [_("A callback time goes only with the result “Asked to call back”.")]
    if errors:
        raise ValidationError(errors)

    attempts = call.attempt_count + 1
    values: dict[str, Any] = {"attempt_count": attempts}
    if call.callback_at is not None or result == CallAttempt.Result.CALLBACK:
        values["callback_at"] = callback_at  # a new dial settles the callback agreed before
    if result == CallAttempt.Result.ANSWERED:
        values.update(status=FollowUpCall.Status.IN_PROGRESS, next_attempt_on=None)
        if script_version is not None and call.script_version_id is None:
            values["script_version"] = script_version
    elif result == CallAttempt.Result.CALLBACK:
        values.update(status=FollowUpCall.Status.SCHEDULED, next_attempt_on=timezone.localdate(callback_at))
    elif result in UNANSWERED_RESULTS:
        earlier = call.attempts.filter(result__in=UNANSWERED_RESULTS).values_list("started_at", flat=True)
        if policy.is_lost([*earlier, now]):
            values.update(status=FollowUpCall.Status.UNREACHABLE, next_attempt_on=None)
        else:
            next_try = next_calling_day(call=call, after=today)
            values.update(status=FollowUpCall.Status.SCHEDULED, next_attempt_on=next_try)
    elif result == CallAttempt.Result.REFUSED:
        values.update(
            status=FollowUpCall.Status.CANCELLED, cancel_reason=FollowUpCall.CancelReason.DECLINED, next_attempt_on=None
        )
    # Which kind of number, never the number itself: the audit trail names, it does not copy.
    audit_note = f"attempt: {result}; dialled: {dialled}"
    _locked_update(call=call, by=by, expected_version=expected_version, note=audit_note, **values)
    attempt = CallAttempt.objects.create(
        call=call,
        nurse=by,
        started_at=now,
        result=result,
        dialled=dialled,
        dialled_number=number,
        callback_at=callback_at,
        callback_asked_by=callback_asked_by if result == CallAttempt.Result.CALLBACK else "",
        note=note,
    )
    if result == CallAttempt.Result.WRONG_NUMBER and dialled == CallAttempt.Dialled.PATIENT:
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


RELATION_MAX_CHARS = FollowUpCall._meta.get_field("family_member_relation").max_length
MEMBER_NAME_MAX_CHARS = FollowUpCall._meta.get_field("family_member_name").max_length


def _one_line_problem(value: str, limit: int) -> str | None:
    if any(ord(ch) < 32 or ch == "\x7f" for ch in value):
        return _("This text contains control characters: type it again or paste it as plain text.")
    if len(value) > limit:
        return _("This text is longer than %(limit)s characters.") % {"limit": limit}
    return None


def respondent_check(*, answered_by: str, relation: str, name: str) -> tuple[str, str, dict[str, list[str]]]:
    """Who answered: the family member's relation (required when a family
    member spoke) and name (optional), trimmed, one line each; both empty
    when only the patient spoke. Returns (relation, name, errors by field)."""
    errors: dict[str, list[str]] = {}
    if answered_by not in FollowUpCall.AnsweredBy.values:
        errors["answered_by"] = [_("Say who answered the phone.")]
        return "", "", errors
    if answered_by not in FollowUpCall.FAMILY_SPOKE:
        return "", "", errors
    relation, name = " ".join((relation or "").split()), " ".join((name or "").split())
    problem = _one_line_problem(relation or "", RELATION_MAX_CHARS)
    if problem:
        errors["family_member_relation"] = [problem]
    elif not relation:
        errors["family_member_relation"] = [_("Say which family member spoke: daughter, son, wife...")]
    problem = _one_line_problem(name or "", MEMBER_NAME_MAX_CHARS)
    if problem:
        errors["family_member_name"] = [problem]
    return relation, name, errors


def validate_death_date(day: dt.date | None, *, discharged_on: dt.date) -> None:
    """A date of death, when known, is no later than today and no earlier
    than the discharge (the family is called after it)."""
    if day is None:
        return
    check_date(day, future_message=_("The date of death cannot be in the future."))
    if day < discharged_on:
        raise ValidationError(_("The date of death cannot be before the discharge."), code="before_discharge")


def outcome_errors(
    *,
    questions: list[Question],
    answers: Mapping[int, Any],
    answered_by: str,
    satisfaction: str,
    item_scores: Mapping[int, int],
    family_member_relation: str = "",
    family_member_name: str = "",
) -> dict[str, list]:
    """What is wrong with a call's outcome, by field (empty: nothing): the
    checks a nurse's completion and a patient's self-report share (who
    answered, with which family member when one spoke)."""
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
    family_member_relation, family_member_name, respondent_errors = respondent_check(
        answered_by=answered_by, relation=family_member_relation, name=family_member_name
    )
    errors.update(respondent_errors)
    if satisfaction not in FollowUpCall.Satisfaction.values:
        errors["satisfaction"] = [_("Choose the overall satisfaction.")]
    if any(not 1 <= int(score) <= 10 for score in item_scores.values()):
        errors["item_scores"] = [_("Item scores go from 1 to 10.")]
    return errors


def record_answers(
    *,
    call: FollowUpCall,
    questions: list[Question],
    answers: Mapping[int, Any],
    item_scores: Mapping[int, int],
    actor: "User | str",
    now: dt.datetime,
) -> ClinicalAlert | None:
    """Save a completed call's answers and item scores; red-flag answers
    raise a clinical alert due within CLINICAL_ALERT_HOURS (returned). The
    second half of a completion, shared with the patient's self-report; the
    caller holds the transaction and has closed the call."""
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
    if not flagged:
        return None
    alert = ClinicalAlert.objects.create(
        call=call,
        raised_at=now,
        due_at=now + dt.timedelta(hours=settings.CLINICAL_ALERT_HOURS),
        reason="\n".join(flagged),
    )
    audit_change(
        actor=actor,
        action=CREATE,
        object_type="alert",
        object_id=alert.pk,
        fields=["reason"],
        patient_id=call.discharge.patient_id,
    )
    return alert


def booked_call_create(
    *, after: FollowUpCall, due: dt.date, assigned_to: User | None, changed_by: User | None = None
) -> FollowUpCall:
    """A call booked from ``after`` (no rule step) for ``due``, open for a
    week, in its stay's ward and readmission-risk tier, as every call
    carries them. The caller records it in the audit trail."""
    return FollowUpCall.objects.create(
        discharge=after.discharge,
        department_id=after.discharge.department_id,
        risk_tier=after.discharge.risk_tier,
        step=None,
        booked_from=after,
        due_date=due,
        earliest_on=due,
        latest_on=due + dt.timedelta(days=7),
        assigned_to=assigned_to,
        changed_by=changed_by,
    )


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
    family_member_relation: str = "",
    family_member_name: str = "",
) -> FollowUpCall:
    """Record the call's outcome: who answered (the patient, a family member
    or both, with which family member), the answers, satisfaction, item
    scores, summary and duration. Red-flag answers raise a clinical alert
    due within CLINICAL_ALERT_HOURS; a next call date books that call. A
    number outside its question's range is refused, or saved with a range
    warning, as the question says (docs/scripts.md)."""
    version = script_version or call.script_version
    questions = list(version.questions.all()) if version else []
    errors = outcome_errors(
        questions=questions,
        answers=answers,
        answered_by=answered_by,
        satisfaction=satisfaction,
        item_scores=item_scores,
        family_member_relation=family_member_relation,
        family_member_name=family_member_name,
    )
    if not 0 < duration_seconds <= MAX_DURATION_SECONDS:
        errors["duration_seconds"] = [_("The duration must be more than 0 and at most 3 hours.")]
    try:
        validate_next_call_on(next_call_on)
    except ValidationError as error:
        errors["next_call_on"] = error.messages
    if errors:
        raise ValidationError(errors)
    family_member_relation, family_member_name, _errors = respondent_check(
        answered_by=answered_by, relation=family_member_relation, name=family_member_name
    )

    now = timezone.now()
    attempt_count = call.attempt_count
    last_result = call.attempts.order_by("-started_at", "-pk").values_list("result", flat=True).first()
    if last_result != CallAttempt.Result.ANSWERED:
        attempt_count += 1
    # A callback agreed earlier is settled by the call being made.
    settled = {"callback_at": None} if call.callback_at is not None else {}
    _locked_update(
        call=call,
        by=by,
        expected_version=expected_version,
        **settled,
        status=FollowUpCall.Status.COMPLETED,
        answered_by=answered_by,
        family_member_relation=family_member_relation,
        family_member_name=family_member_name,
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

    record_answers(call=call, questions=questions, answers=answers, item_scores=item_scores, actor=by, now=now)
    patient_id = call.discharge.patient_id
    if next_call_on is not None:
        booked = booked_call_create(after=call, due=next_call_on, assigned_to=call.assigned_to or by, changed_by=by)
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
def call_record_death(
    *, call: FollowUpCall, by: User, died_on: dt.date | None, expected_version: int, note: str = ""
) -> int:
    """A family member says the patient has died: record it (``died_on``
    None: she did not say when) and cancel every open call of the patient.
    Returns the number of calls cancelled."""
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
    cancelled = patient_mark_deceased(patient=call.discharge.patient, died_on=died_on, actor=by, call=call, note=note)
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
    rows = list(targets.order_by("pk").values_list("pk", "discharge__patient_id", "due_date"))
    moved = FollowUpCall.objects.filter(
        pk__in=[pk for pk, _patient, _due in rows], status__in=FollowUpCall.OPEN_STATUSES
    ).update(assigned_to=to, changed_by=by, version=F("version") + 1, updated_at=timezone.now())
    audit_changes(
        actor=by,
        object_type="call",
        objects=[(pk, patient) for pk, patient, _due in rows],
        fields=["assigned_to"],
        note="reassigned",
    )
    if moved and to.pk != by.pk:
        # She is told, in her own language when she reads it.
        link = (
            reverse("calls:call_detail", args=[rows[0][0]])
            if len(rows) == 1
            else f"{reverse('calls:worklist')}?tab=all"
        )
        notify(
            users=[to],
            link=link,
            message_key=notices.CALLS_REASSIGNED,
            message_params={"by": str(by), "count": moved, "due": min(due for *_, due in rows).isoformat()},
            email=False,
        )
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
