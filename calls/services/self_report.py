"""Self-report by text message (docs/self-report.md): a rule step may send
the patient a personal questionnaire link some hours before the planned
call; the answers complete the call as the nurse's would, and a nurse
calls only those who do not answer, ask to be called or answer with a red
flag.

Sending happens in three steps so that no database transaction waits on the
gateway: ``self_report_link_claim`` (creates the link, or gives a pending
one a fresh token, and queues the message), the gateway call (in the task),
then ``self_report_message_sent`` or ``self_report_message_failed``.

The patient acts without a user: every change they make is audited with
the actor ``patient:self-report``; the token never reaches the trail."""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from followup.audit import audit_change
from followup.dates import start_of_day
from followup.forms import LONG_TEXT_MAX_CHARS
from followup.models import AuditEvent
from followup.sms import Receipt, Reply, SendResult, SmsError, SmsMessage, get_backend

from ..models import (
    FollowUpCall,
    Patient,
    SelfReportLink,
    SelfReportMessage,
    SelfReportOptOut,
)
from ..phones import normalise_phone
from ..self_report_tokens import new_token, token_hash
from .call_work import booked_call_create, outcome_errors, record_answers
from .drafts import drafts_discard

PATIENT = "patient:self-report"
CREATE = AuditEvent.Action.CREATE
LANGUAGES = ("zh-hans", "en")
# Replies that stop every later message (China's carriers expect TD and 退订).
STOP_WORDS = frozenset({"td", "t", "退订", "退", "stop", "unsubscribe", "n"})
# Compound Chinese family names (two characters); any other name's first character is the family name.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "西门",
        "南宫",
        "独孤",
    ]
)
CJK = re.compile(r"[\u3400-\u9fff]")
NOTE_MAX_CHARS = LONG_TEXT_MAX_CHARS
RETRY_PAUSE = dt.timedelta(minutes=30)
MAX_SENDS = 6


class LinkClosed(ValidationError):
    """The link no longer takes answers (answered, expired, the call closed)."""

    def __init__(self):
        super().__init__(_("This questionnaire is closed."), code="closed")


@dataclass
class Claim:
    """What ``self_report_link_claim`` decided: ``outcome`` says why nothing
    is to be sent, or ``link``, ``token`` and ``message`` are the message to send."""

    outcome: str
    link: SelfReportLink | None = None
    token: str = ""
    message: SelfReportMessage | None = None
    sms: SmsMessage | None = None


# --- reading ---------------------------------------------------------------------------------


def family_name(name: str) -> str:
    """王芳 -> 王, 欧阳娜娜 -> 欧阳, "Zhou Min" -> Zhou (names are written family name first)."""
    name = (name or "").strip()
    if not name:
        return ""
    if CJK.match(name):
        return name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]
    return name.split()[0][:50]


def addressed_as(patient: Patient, language: str) -> str:
    """How the form and the message greet the patient: 王女士, 李先生, Ms Wang."""
    family = family_name(patient.name)
    with translation.override(language):
        if patient.sex == Patient.Sex.FEMALE:
            return gettext("Ms %(family)s") % {"family": family}
        if patient.sex == Patient.Sex.MALE:
            return gettext("Mr %(family)s") % {"family": family}
        return gettext("Mx %(family)s") % {"family": family}


def link_url(token: str) -> str:
    return f"{settings.SITE_URL}/r/{token}"


def message_text(*, greeting: str, url: str, language: str) -> str:
    with translation.override(language):
        text = gettext(
            "%(name)s, the hospital would like to know how you are since you went home. "
            "Please answer a few questions: %(link)s Reply TD to stop these messages."
        ) % {"name": greeting, "link": url}
    sign = settings.SMS_SIGN_NAME.strip()
    return f"【{sign}】{text}" if sign else text


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    """settings.SELF_REPORT_QUIET_HOURS ("21:00-08:00") as two times, or None."""
    text = (settings.SELF_REPORT_QUIET_HOURS or "").strip()
    if not text:
        return None
    start, _dash, end = text.partition("-")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def in_quiet_hours(moment: dt.datetime) -> bool:
    hours = quiet_hours()
    if hours is None:
        return False
    start, end = hours
    now = timezone.localtime(moment).time()
    return (start <= now or now < end) if start > end else (start <= now < end)


def planned_at(call: FollowUpCall) -> dt.datetime:
    """When the nurse would call: the booked time, else the due day at the
    start of the step's calling window (hospital time)."""
    if call.scheduled_for:
        return call.scheduled_for
    start = call.step.window_start if call.step_id else dt.time(9, 0)
    return timezone.make_aware(dt.datetime.combine(call.due_date, start))


def send_after(call: FollowUpCall) -> dt.datetime | None:
    """From when the link may be sent (None: the step sends none)."""
    hours = call.step.send_self_report_hours_before if call.step_id else None
    if hours is None:
        return None
    return planned_at(call) - dt.timedelta(hours=hours)


def calls_due_a_link(*, now: dt.datetime) -> list[int]:
    """The calls whose link is due now: scheduled, not yet dialled, their
    step sends links, no link yet, and the planned call still ahead today or
    later (a link after the nurse's day is no use)."""
    today = timezone.localdate(now)
    # A link still pending (the gateway was busy, or quiet hours came) is
    # tried again, once its last try is RETRY_PAUSE old.
    recent_try = SelfReportMessage.objects.filter(link__call=OuterRef("pk"), created_at__gt=now - RETRY_PAUSE)
    candidates = (
        FollowUpCall.objects.filter(
            status=FollowUpCall.Status.SCHEDULED,
            attempt_count=0,
            step__send_self_report_hours_before__isnull=False,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=30),
        )
        .filter(
            Q(self_report__isnull=True)
            | Q(self_report__status=SelfReportLink.Status.PENDING, self_report__send_attempts__lt=MAX_SENDS)
        )
        .exclude(Exists(recent_try))
        .select_related("step")
        .order_by("due_date", "pk")
    )
    due = []
    for call in candidates:
        start = send_after(call)
        if start is not None and start <= now and today <= call.due_date:
            due.append(call.pk)
    return due


def link_is_open(link: SelfReportLink, *, now: dt.datetime | None = None) -> bool:
    """The link takes answers: not expired, not answered, its call still scheduled."""
    now = now or timezone.now()
    return (
        link.status != SelfReportLink.Status.SKIPPED
        and link.answered_at is None
        and now < link.expires_at
        and link.call.status == FollowUpCall.Status.SCHEDULED
    )


def _recipient(patient: Patient) -> tuple[str, str]:
    """(who, number): the patient's own number, else the family contact's."""
    if patient.phone and not patient.phone_needs_correction:
        return SelfReportLink.Recipient.PATIENT, patient.phone
    if patient.family_phone:
        return SelfReportLink.Recipient.FAMILY, patient.family_phone
    return "", ""


def _messages_today(patient: Patient, now: dt.datetime) -> int:
    return SelfReportMessage.objects.filter(
        patient=patient,
        kind=SelfReportMessage.Kind.LINK,
        created_at__gte=start_of_day(timezone.localdate(now)),
        status__in=[
            SelfReportMessage.Status.QUEUED,
            SelfReportMessage.Status.SENT,
            SelfReportMessage.Status.DELIVERED,
        ],
    ).count()


def patient_language(patient: Patient) -> str:
    """The language of the patient's last link (they may have switched on the form), else the default."""
    last = (
        SelfReportLink.objects.filter(call__discharge__patient=patient)
        .exclude(status=SelfReportLink.Status.SKIPPED)
        .order_by("-created_at", "-pk")
        .values_list("language", flat=True)
        .first()
    )
    return last or settings.SELF_REPORT_LANGUAGE


# --- sending ---------------------------------------------------------------------------------


def _skip(*, call: FollowUpCall, reason: str, actor: str, now: dt.datetime) -> Claim:
    """Record that this call gets no link (so it is not tried again) and why."""
    try:
        with transaction.atomic():
            link = SelfReportLink.objects.create(
                call=call,
                token_hash=token_hash(new_token()),  # a token nobody holds
                status=SelfReportLink.Status.SKIPPED,
                skip_reason=reason,
                expires_at=now,
            )
    except IntegrityError:
        return Claim(outcome="already")
    audit_change(
        actor=actor,
        action=CREATE,
        object_type="self_report",
        object_id=link.pk,
        fields=["status", "skip_reason"],
        patient_id=call.discharge.patient_id,
        note="not sent",
    )
    return Claim(outcome=f"skipped:{reason}", link=link)


@transaction.atomic
def self_report_link_claim(*, call: FollowUpCall, actor: str, now: dt.datetime | None = None) -> Claim:
    """Decide whether the call's link goes out now and, if so, create the
    link (or give a pending one a fresh token: only its hash is kept, so a
    retry needs a new one) and queue its message. Safe to run twice: a link
    already sent is never sent again."""
    now = now or timezone.now()
    call = FollowUpCall.objects.select_related("discharge__patient", "step").get(pk=call.pk)
    patient = call.discharge.patient
    link = SelfReportLink.objects.filter(call=call).first()
    if link is not None and link.status != SelfReportLink.Status.PENDING:
        return Claim(outcome="already", link=link)
    if call.status != FollowUpCall.Status.SCHEDULED or call.attempt_count:
        return Claim(outcome="call_not_waiting")
    if not patient.callable:
        return _skip(call=call, reason=SelfReportLink.SkipReason.NOT_CALLABLE, actor=actor, now=now)
    if SelfReportOptOut.objects.filter(patient=patient).exists():
        return _skip(call=call, reason=SelfReportLink.SkipReason.OPTED_OUT, actor=actor, now=now)
    recipient, phone = _recipient(patient)
    if not phone:
        return _skip(call=call, reason=SelfReportLink.SkipReason.NO_PHONE, actor=actor, now=now)
    if in_quiet_hours(now):
        return Claim(outcome="quiet_hours")
    if _messages_today(patient, now) >= settings.SELF_REPORT_DAILY_CAP:
        return Claim(outcome="daily_cap")

    token = new_token()
    if link is None:
        try:
            with transaction.atomic():
                link = SelfReportLink.objects.create(
                    call=call,
                    token_hash=token_hash(token),
                    recipient=recipient,
                    language=patient_language(patient),
                    expires_at=now + dt.timedelta(days=settings.SELF_REPORT_LINK_DAYS),
                    send_attempts=1,
                )
        except IntegrityError:
            return Claim(outcome="already")
        action, fields = CREATE, ["token_hash", "recipient", "language", "expires_at"]
    else:
        changed = SelfReportLink.objects.filter(
            pk=link.pk, status=SelfReportLink.Status.PENDING, send_attempts=link.send_attempts
        ).update(
            token_hash=token_hash(token),
            recipient=recipient,
            send_attempts=F("send_attempts") + 1,
            expires_at=now + dt.timedelta(days=settings.SELF_REPORT_LINK_DAYS),
        )
        if changed != 1:
            return Claim(outcome="already")
        link.refresh_from_db()
        action, fields = AuditEvent.Action.CHANGE, ["token_hash", "send_attempts", "expires_at"]
    message = SelfReportMessage.objects.create(
        link=link,
        patient=patient,
        kind=SelfReportMessage.Kind.LINK,
        status=SelfReportMessage.Status.QUEUED,
        backend=get_backend().name,
        phone_hint=phone[-4:],
    )
    audit_change(
        actor=actor,
        action=action,
        object_type="self_report",
        object_id=link.pk,
        fields=fields,
        patient_id=patient.pk,
        note="link queued",
    )
    greeting = addressed_as(patient, link.language)
    sms = SmsMessage(
        to=phone,
        template="self_report_link",
        language=link.language,
        params={"name": greeting, "code": token},
        text=message_text(greeting=greeting, url=link_url(token), language=link.language),
        reference=str(message.pk),
    )
    return Claim(outcome="send", link=link, token=token, message=message, sms=sms)


@transaction.atomic
def self_report_message_sent(*, message: SelfReportMessage, result: SendResult, actor: str) -> None:
    """The gateway took the message: keep its id; the link counts as sent."""
    now = timezone.now()
    SelfReportMessage.objects.filter(pk=message.pk).update(
        status=SelfReportMessage.Status.SENT, provider_id=result.provider_id[:64], sent_at=now
    )
    SelfReportLink.objects.filter(pk=message.link_id, status=SelfReportLink.Status.PENDING).update(
        status=SelfReportLink.Status.SENT, sent_at=now
    )
    audit_change(
        actor=actor,
        object_type="self_report",
        object_id=message.link_id,
        fields=["status", "sent_at"],
        patient_id=message.patient_id,
        note="link sent",
    )


@transaction.atomic
def self_report_message_failed(*, message: SelfReportMessage, error: SmsError, final: bool, actor: str) -> None:
    """The gateway refused the message. ``final``: no more tries (a
    permanent refusal, or the last retry): the link is marked failed and
    the nurse calls as usual; otherwise it stays pending for the retry."""
    SelfReportMessage.objects.filter(pk=message.pk).update(
        status=SelfReportMessage.Status.FAILED if final else SelfReportMessage.Status.RETRYING,
        error_code=error.code,
        error_message=error.message,
    )
    if final:
        SelfReportLink.objects.filter(pk=message.link_id, status=SelfReportLink.Status.PENDING).update(
            status=SelfReportLink.Status.FAILED, skip_reason=SelfReportLink.SkipReason.REFUSED
        )
    audit_change(
        actor=actor,
        object_type="self_report",
        object_id=message.link_id,
        fields=["status"] if final else ["send_attempts"],
        patient_id=message.patient_id,
        note="link refused" if final else "gateway busy",
    )


@transaction.atomic
def sms_receipts_record(*, receipts: Iterable[Receipt], actor: str) -> int:
    """Delivery receipts from the gateway: each message and its link is
    delivered or not. Returns how many of our messages they named."""
    matched = 0
    for receipt in receipts:
        rows = SelfReportMessage.objects.filter(kind=SelfReportMessage.Kind.LINK)
        if receipt.provider_id:
            rows = rows.filter(provider_id=receipt.provider_id)
        elif receipt.reference.isdigit():
            rows = rows.filter(pk=int(receipt.reference))
        else:
            continue
        message = rows.first()
        if message is None:
            continue
        matched += 1
        at = receipt.at or timezone.now()
        SelfReportMessage.objects.filter(pk=message.pk).update(
            status=SelfReportMessage.Status.DELIVERED if receipt.delivered else SelfReportMessage.Status.FAILED,
            error_code=receipt.code[:64],
            error_message=receipt.message[:255],
            receipt=receipt.raw,
            receipt_at=at,
        )
        link_rows = SelfReportLink.objects.filter(
            pk=message.link_id, status__in=[SelfReportLink.Status.SENT, SelfReportLink.Status.PENDING]
        )
        if receipt.delivered:
            link_rows.update(status=SelfReportLink.Status.DELIVERED, delivered_at=at)
        else:
            link_rows.update(status=SelfReportLink.Status.FAILED)
        audit_change(
            actor=actor,
            object_type="self_report",
            object_id=message.link_id,
            fields=["status"],
            patient_id=message.patient_id,
            note="receipt",
        )
    return matched


def is_stop_word(text: str) -> bool:
    return (text or "").strip().strip("。.!！ ").casefold() in STOP_WORDS


def _patients_with_phone(phone: str) -> list[Patient]:
    try:
        number = normalise_phone(phone)
    except ValidationError:
        return []
    return list(Patient.objects.filter(Q(phone=number) | Q(family_phone=number), archived=False))


@transaction.atomic
def sms_replies_record(*, replies: Iterable[Reply], actor: str) -> int:
    """Patients' replies: a stop word (TD, 退订...) stops every later message
    to the patients with that number. The text itself is not kept. Returns
    how many patients were opted out."""
    stopped = 0
    for reply in replies:
        patients = _patients_with_phone(reply.phone)
        stop = is_stop_word(reply.content)
        for patient in patients:
            SelfReportMessage.objects.create(
                patient=patient,
                kind=SelfReportMessage.Kind.REPLY,
                status=SelfReportMessage.Status.RECEIVED,
                backend=actor.partition(":")[2][:40],
                phone_hint=reply.phone[-4:],
                error_code="stop" if stop else "",
                receipt_at=reply.at or timezone.now(),
            )
            if stop and _opt_out(patient=patient, via=SelfReportOptOut.Via.REPLY, actor=actor):
                stopped += 1
            else:
                audit_change(actor=actor, object_type="patient", object_id=patient.pk, fields=["self_report_messages"])
    return stopped


def _opt_out(*, patient: Patient, via: str, actor: str) -> bool:
    """Record the opt-out once; True if it is new."""
    _row, created = SelfReportOptOut.objects.get_or_create(patient=patient, defaults={"via": via, "at": timezone.now()})
    if created:
        audit_change(
            actor=actor,
            action=CREATE,
            object_type="patient",
            object_id=patient.pk,
            fields=["self_report_opt_out"],
            note="messages stopped",
        )
    return created


# --- the patient on the form -------------------------------------------------------------


def _audit_link(link: SelfReportLink, fields: list[str], note: str) -> None:
    audit_change(
        actor=PATIENT,
        object_type="self_report",
        object_id=link.pk,
        fields=fields,
        patient_id=link.call.discharge.patient_id,
        note=note,
    )


@transaction.atomic
def self_report_link_open(*, link: SelfReportLink) -> None:
    """The patient opened the link (recorded the first time)."""
    if link.opened_at is not None:
        return
    now = timezone.now()
    if SelfReportLink.objects.filter(pk=link.pk, opened_at__isnull=True).update(opened_at=now):
        link.opened_at = now
        _audit_link(link, ["opened_at"], "opened")


@transaction.atomic
def self_report_language_set(*, link: SelfReportLink, language: str) -> None:
    """The patient chose the form's language; later messages use it too."""
    if language not in LANGUAGES or language == link.language:
        return
    SelfReportLink.objects.filter(pk=link.pk).update(language=language)
    link.language = language
    _audit_link(link, ["language"], "language chosen")


def _clean_draft(answers: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(int(pk)): value for pk, value in answers.items() if value not in (None, "", [])}


@transaction.atomic
def self_report_draft_save(*, link: SelfReportLink, answers: Mapping[int, Any]) -> bool:
    """Keep the answers given so far (the patient may come back later).
    Returns False when the link no longer takes answers."""
    if not link_is_open(link):
        return False
    draft = _clean_draft(answers)
    if draft == link.draft:
        return True
    SelfReportLink.objects.filter(pk=link.pk, answered_at__isnull=True).update(draft=draft)
    link.draft = draft
    _audit_link(link, ["draft"], "answers kept")
    return True


def _book_callback(*, link: SelfReportLink, call: FollowUpCall, now: dt.datetime) -> FollowUpCall:
    """A call for a nurse today, at the top of the worklist (a red flag of the
    stay, or the patient's request), on a self-reported call already closed."""
    today = timezone.localdate(now)
    callback = booked_call_create(after=call, due=today, assigned_to=call.assigned_to)
    audit_change(
        actor=PATIENT,
        action=CREATE,
        object_type="call",
        object_id=callback.pk,
        fields=["due_date"],
        patient_id=call.discharge.patient_id,
        note="callback after self-report",
    )
    SelfReportLink.objects.filter(pk=link.pk).update(callback_call=callback)
    link.callback_call = callback
    return callback


@transaction.atomic
def self_report_call_me(*, link: SelfReportLink, note: str) -> None:
    """The patient asks a nurse to call. An unanswered call goes to the top
    of the worklist with the note; after answering, a call back is booked
    for today."""
    note = (note or "").replace("\x00", "").strip()[:NOTE_MAX_CHARS]
    if link.call_me_at is not None and link.call_me_note == note:
        return
    now = timezone.now()
    SelfReportLink.objects.filter(pk=link.pk).update(call_me_at=now, call_me_note=note)
    link.call_me_at, link.call_me_note = now, note
    _audit_link(link, ["call_me_at", "call_me_note"], "asked for a call")
    if link.answered_at is not None and link.callback_call_id is None:
        _book_callback(link=link, call=link.call, now=now)


@transaction.atomic
def self_report_stop(*, link: SelfReportLink) -> None:
    """ "Stop these messages" on the form: no more text messages to this patient."""
    _opt_out(patient=link.call.discharge.patient, via=SelfReportOptOut.Via.LINK, actor=PATIENT)


@transaction.atomic
def self_report_submit(
    *,
    link: SelfReportLink,
    answered_by: str,
    answers: Mapping[int, Any],
    satisfaction: str,
    item_scores: Mapping[int, int],
) -> FollowUpCall:
    """The patient sends the form: the call is completed as self-reported
    (channel, who answered, answers, satisfaction, item scores) as a nurse's
    call would be; a red-flag answer raises the same clinical alert, and a
    red flag or an earlier "please call me" books a nurse's call back for
    today. Raises LinkClosed when the link no longer takes answers (the
    nurse reached the patient first, it expired), ValidationError when
    the answers are incomplete."""
    call = link.call
    version = call.script_version or link_script_version(link)
    questions = list(version.questions.all()) if version else []
    # The form asks no more than "patient or family": the family member is
    # the contact on record (the one the message went to when she has no phone).
    relation = ""
    if answered_by in FollowUpCall.FAMILY_SPOKE:
        relation = call.discharge.patient.family_relation or "family"
    errors = outcome_errors(
        questions=questions,
        answers=answers,
        answered_by=answered_by,
        satisfaction=satisfaction,
        item_scores=item_scores,
        family_member_relation=relation,
    )
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    if not link_is_open(link, now=now):
        raise LinkClosed()
    # Only a call nobody is working on: the nurse's open call screen wins.
    closed = FollowUpCall.objects.filter(pk=call.pk, status=FollowUpCall.Status.SCHEDULED, version=call.version).update(
        status=FollowUpCall.Status.COMPLETED,
        channel=FollowUpCall.Channel.SELF_REPORT,
        answered_by=answered_by,
        family_member_relation=relation[:50],
        satisfaction=satisfaction,
        next_attempt_on=None,
        completed_at=now,
        completed_by=None,
        script_version=version,
        version=F("version") + 1,
        changed_by=None,
        updated_at=now,
    )
    if closed != 1:
        raise LinkClosed()
    if not SelfReportLink.objects.filter(pk=link.pk, answered_at__isnull=True).update(answered_at=now, draft={}):
        raise LinkClosed()
    call.refresh_from_db()
    link.answered_at, link.draft = now, {}
    drafts_discard(calls=[call.pk], actor=PATIENT, reason="completed by self-report")
    audit_change(
        actor=PATIENT,
        object_type="call",
        object_id=call.pk,
        fields=["status", "channel", "answered_by", "satisfaction", "completed_at", "script_version"],
        patient_id=call.discharge.patient_id,
        note="self-reported",
    )
    alert = record_answers(
        call=call, questions=questions, answers=answers, item_scores=item_scores, actor=PATIENT, now=now
    )
    if alert is not None or link.call_me_at is not None:
        _book_callback(link=link, call=call, now=now)
    return call


def link_script_version(link: SelfReportLink):
    """The published script version the form shows, in the link's language
    when the script has one (else as the call screen would choose)."""
    from ..selectors.scripts import script_version_for_call

    call = link.call
    if call.script_version_id:
        return call.script_version
    with translation.override(link.language):
        return script_version_for_call(call=call)
