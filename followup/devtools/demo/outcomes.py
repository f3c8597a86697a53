"""Demo outcomes for the calls of past days, so the dashboard, the alerts and
the spot checks have something to show after ``make run``. Proportions follow
the cardiology report (DOMAIN.md section 5): about 3% deceased, 5.5% lost to
follow-up, family on the phone about half the time, 92% satisfied.

Everything goes through the services the nurses' pages use; only the times
are moved back to the day each call was due. A call is handled once (calls
with an attempt are left alone), so running it twice changes nothing."""

import datetime as dt
import random

from django.utils import timezone

from calls.models import CallAttempt, ClinicalAlert, FollowUpCall, Question, SatisfactionItem
from calls.selectors.scripts import script_version_for_call
from calls.services.call_work import attempt_policy_of, call_complete, call_record_attempt, call_record_death
from calls.services.spot_checks import previous_week, spot_checks_sample

SUMMARIES = {
    "zh-hans": [
        "恢复良好，按时服药，已提醒门诊复诊。",
        "饮食、活动已宣教，患者表示理解。",
        "睡眠欠佳，已建议门诊就诊。",
    ],
    "en": [
        "Recovering well, taking the medicines; reminded of the clinic visit.",
        "Diet and activity explained; the patient understood.",
        "Sleeping badly; advised a clinic visit.",
    ],
}


def _answer(question: Question, rng: random.Random, red: bool):
    """A plausible answer: a red-flag one only when ``red``."""
    flags = question.red_flag_answers
    if question.kind in (Question.Kind.YES_NO, Question.Kind.SINGLE):
        options = ["no", "yes"] if question.kind == Question.Kind.YES_NO else list(question.choices)
        if red and flags:
            return flags[0]
        return next((o for o in options if o not in flags), options[0])
    if question.kind == Question.Kind.MULTIPLE:
        return [c for c in question.choices if c not in flags][:1]
    if question.kind == Question.Kind.SCORE:
        flagged = {str(f) for f in flags}
        if red and flags:
            return int(flags[0])
        return rng.choice([n for n in range(1, 11) if str(n) not in flagged][:4])
    if question.kind == Question.Kind.NUMBER:
        if question.min_value is not None and question.max_value is not None:
            low, high = float(question.min_value), float(question.max_value)
            return int(low + (high - low) * rng.uniform(0.25, 0.45))  # systolic 60-250: 107-145
        return 1
    return "好" if question.version.language == "zh-hans" else "Fine"


def _satisfaction(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.92:
        return FollowUpCall.Satisfaction.SATISFIED
    return FollowUpCall.Satisfaction.BASIC if roll < 0.98 else FollowUpCall.Satisfaction.UNSATISFIED


def _move_back(call: FollowUpCall, moment: dt.datetime, *, attempts: bool = True) -> None:
    """Put the demo call's times on the day it was made."""
    FollowUpCall.objects.filter(pk=call.pk).update(completed_at=moment)
    if attempts:
        CallAttempt.objects.filter(call=call).update(started_at=moment)
    ClinicalAlert.objects.filter(call=call).update(raised_at=moment, due_at=moment + dt.timedelta(hours=24))


def _dial_until_lost(call: FollowUpCall, nurse, moment: dt.datetime) -> None:
    """Unanswered dials on the days before the call's moment, one a day, until
    the step's attempt policy makes the call lost to follow-up (one more dial
    than the policy needs: the dial of now counts only inside the dialling
    hours, the ones moved back always do)."""
    policy = attempt_policy_of(call)
    dials = max(policy.attempts, policy.days) + 1
    for n in range(dials):
        call.refresh_from_db()
        if call.status != FollowUpCall.Status.SCHEDULED:
            break
        attempt = call_record_attempt(
            call=call, by=nurse, result=CallAttempt.Result.NO_ANSWER, expected_version=call.version
        )
        CallAttempt.objects.filter(pk=attempt.pk).update(started_at=moment - dt.timedelta(days=dials - 1 - n))


def seed(stdout) -> None:
    today = timezone.localdate()
    rng = random.Random(20261123)  # noqa: S311 - demo data, not security
    items = list(SatisfactionItem.objects.filter(is_active=True))
    calls = (
        FollowUpCall.objects.filter(status=FollowUpCall.Status.SCHEDULED, attempt_count=0, due_date__lt=today)
        .exclude(assigned_to=None)
        .select_related("discharge__patient", "discharge__department", "step", "assigned_to")
        .order_by("due_date", "pk")
    )
    done = lost = died = 0
    for call in calls:
        call.refresh_from_db(fields=["status", "version", "attempt_count"])
        if call.status != FollowUpCall.Status.SCHEDULED:
            continue  # an earlier call of the same patient cancelled it (death)
        nurse = call.assigned_to
        moment = call.scheduled_for or timezone.make_aware(dt.datetime.combine(call.due_date, dt.time(16, 0)))
        roll = rng.random()
        if roll < 0.034:
            call_record_death(
                call=call,
                by=nurse,
                died_on=max(call.discharge.discharged_on, call.due_date - dt.timedelta(days=2)),
                expected_version=call.version,
                note="",
            )
            died += 1
            continue
        if roll < 0.09:
            _dial_until_lost(call, nurse, moment)
            _move_back(call, moment, attempts=False)
            lost += 1
            continue
        version = script_version_for_call(call=call)
        red = rng.random() < 0.03
        questions = list(version.questions.select_related("version__script")) if version else []
        language = version.language if version else "zh-hans"
        patient = call.discharge.patient
        answered_by = FollowUpCall.AnsweredBy.FAMILY if rng.random() < 0.55 else FollowUpCall.AnsweredBy.PATIENT
        if answered_by == FollowUpCall.AnsweredBy.FAMILY and call.pk % 3 == 0:  # the draws stay as they were
            answered_by = FollowUpCall.AnsweredBy.BOTH
        call_complete(
            call=call,
            by=nurse,
            expected_version=call.version,
            answered_by=answered_by,
            family_member_relation=patient.family_relation or "女儿",
            family_member_name=patient.family_name,
            answers={q.pk: _answer(q, rng, red) for q in questions},
            satisfaction=_satisfaction(rng),
            item_scores={item.pk: rng.choice([7, 8, 9, 9, 10, 10, 10]) for item in items},
            summary=rng.choice(SUMMARIES.get(language, SUMMARIES["en"])),
            duration_seconds=rng.randint(300, 600),
            script_version=version,
        )
        _move_back(call, moment)
        done += 1
    sampled = spot_checks_sample(week=previous_week(today))
    stdout.write(f"Call outcomes: {done} completed, {lost} lost to follow-up, {died} deceased; {sampled} spot checks.")
