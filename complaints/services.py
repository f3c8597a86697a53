"""Every change to a complaint: one function per use case, each writing its
timeline event in the same transaction."""

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from followup.audit import audit_change
from followup.models import AuditEvent
from followup.roles import Role

from . import sla
from .models import (
    Category,
    Complaint,
    ComplaintEvent,
    Measure,
    Notification,
    Promise,
    ReferenceCounter,
    ResolutionMeasure,
    Severity,
    system_message,
)

logger = logging.getLogger(__name__)

Status = Complaint.Status
Kind = ComplaintEvent.Kind

# Where each status may go next; the settled-on-the-spot fast path
# (received -> closed) is only taken by complaint_create. A complainant who
# does not accept the reply reopens the complaint (replied -> reopened):
# unresolved complaints stay open.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RECEIVED: (Status.INVESTIGATING,),
    Status.INVESTIGATING: (Status.RESOLVED,),
    Status.RESOLVED: (Status.REPLIED,),
    Status.REPLIED: (Status.CLOSED, Status.REOPENED),
    Status.CLOSED: (Status.REOPENED,),
    Status.REOPENED: (Status.INVESTIGATING,),
}


class TransitionRefused(ValidationError):
    """A status change the workflow does not allow; the message says why."""


def _event(
    complaint: Complaint,
    kind: str,
    by,
    at: dt.datetime | None = None,
    *,
    changed: Iterable[str] = (),
    audit_object: tuple[str, object] | None = None,
    actor: str = "system",
    **fields,
) -> ComplaintEvent:
    """Add a step to the complaint's timeline and audit it: ``changed`` names
    the complaint's fields the step changed; ``audit_object`` ("promise", id)
    names another object it concerns (default: the complaint); ``actor`` acts
    when ``by`` is None (a task)."""
    event = ComplaintEvent.objects.create(complaint=complaint, kind=kind, by=by, at=at or timezone.now(), **fields)
    object_type, object_id = audit_object or ("complaint", complaint.pk)
    if kind == Kind.EVIDENCE:
        object_type, object_id = "evidence", event.pk
    created = kind in (Kind.CREATED, Kind.EVIDENCE, Kind.PROMISE_ADDED)
    audit_change(
        actor=by if by is not None else actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.CHANGE,
        object_type=object_type,
        object_id=object_id,
        fields=changed,
        patient_id=complaint.patient_id,
        note=f"complaint {complaint.pk}: {kind}",
    )
    return event


def _label(status: str) -> str:
    return str(Status(status).label)


@transaction.atomic
def reference_allocate(*, year: int) -> str:
    """The next free "TS-<year>-<5 digits>". The year's counter row is
    incremented *before* it is read: the UPDATE locks the row (PostgreSQL) or
    the database (SQLite) until commit, so concurrent complaints queue up and
    never share a number. The first number of a year creates the row; a race
    to create it falls back to the increment."""
    bump = ReferenceCounter.objects.filter(year=year)
    if not bump.update(last_number=F("last_number") + 1):
        try:
            with transaction.atomic():
                ReferenceCounter.objects.create(year=year, last_number=1)
        except IntegrityError:
            bump.update(last_number=F("last_number") + 1)
    number = bump.values_list("last_number", flat=True).get()
    return f"TS-{year}-{number:05d}"


def _measures_refusal(measures: Iterable[str], compensation_amount: Decimal | None) -> str | None:
    measures = set(measures)
    unknown = measures - set(Measure.values)
    if unknown:
        return _("Unknown resolution measure: %(kinds)s.") % {"kinds": ", ".join(sorted(unknown))}
    if Measure.COMPENSATION in measures and compensation_amount is None:
        return _("Give the amount of the compensation.")
    if compensation_amount is not None and Measure.COMPENSATION not in measures:
        return _("An amount is only recorded with compensation.")
    if compensation_amount is not None and compensation_amount <= 0:
        return _("The compensation must be more than 0 yuan.")
    return None


def _apply_measures(complaint: Complaint, measures: Iterable[str], compensation_amount: Decimal | None) -> bool:
    """Make the complaint's measures exactly ``measures`` (the amount on the
    compensation); True when anything changed."""
    measures = list(measures)
    reason = _measures_refusal(measures, compensation_amount)
    if reason:
        raise ValidationError(reason)
    measures = [m for m in Measure.values if m in set(measures)]
    wanted = {kind: (compensation_amount if kind == Measure.COMPENSATION else None) for kind in measures}
    current = {m.kind: m.amount for m in complaint.measures.all()}
    if current == wanted:
        return False
    complaint.measures.exclude(kind__in=measures).delete()
    for kind, amount in wanted.items():
        ResolutionMeasure.objects.update_or_create(complaint=complaint, kind=kind, defaults={"amount": amount})
    return True


def measures_text(complaint: Complaint) -> str:
    """The measures in one line, in the active language ("Apology; Compensation 2,000.00")."""
    return "; ".join(str(m) for m in complaint.measures.all()) or str(_("none"))


def _set_deadlines(complaint: Complaint) -> None:
    complaint.first_response_due, complaint.resolution_due = sla.deadlines(
        received_at=complaint.received_at, severity=complaint.severity, paused_minutes=complaint.paused_minutes
    )


@transaction.atomic
def complaint_create(
    *,
    by,
    channel: str,
    category: Category,
    description: str,
    complainant_name: str,
    secondary_categories: Iterable[Category] = (),
    is_dispute: bool = False,
    complainant_phone: str = "",
    complainant_relation: str = Complaint.Relation.PATIENT,
    patient=None,
    received_at: dt.datetime | None = None,
    severity: str = Severity.GENERAL,
    validity: str = Complaint.Validity.UNDETERMINED,
    departments: Iterable = (),
    staff_involved: Iterable = (),
    staff_involved_text: str = "",
    owner=None,
    source_call=None,
    settled_on_the_spot: bool = False,
    measures: Iterable[str] = (),
    compensation_amount: Decimal | None = None,
    reply: str = "",
    handling_satisfaction: str = "",
) -> Complaint:
    """Record a complaint. One settled on the spot is closed at once, with
    how it was resolved and the reply given, and still counts in every report."""
    now = timezone.now()
    received_at = received_at or now
    measures = list(measures)
    if settled_on_the_spot and not (measures and reply.strip()):
        raise ValidationError(_("A complaint settled on the spot needs how it was resolved and the reply given."))
    complaint = Complaint(
        reference=reference_allocate(year=timezone.localtime(received_at).year),
        channel=channel,
        category=category,
        description=description,
        complainant_name=complainant_name,
        complainant_phone=complainant_phone,
        complainant_relation=complainant_relation,
        patient=patient,
        received_at=received_at,
        received_by=by,
        severity=severity,
        validity=validity,
        staff_involved_text=staff_involved_text,
        owner=owner,
        source_call=source_call,
        settled_on_the_spot=settled_on_the_spot,
        is_dispute=is_dispute,
        handling_satisfaction=handling_satisfaction,
    )
    _set_deadlines(complaint)
    if settled_on_the_spot:
        complaint.status = Status.CLOSED
        complaint.first_responded_at = complaint.resolved_at = complaint.closed_at = received_at
    complaint.save()
    complaint.departments.set(departments)
    complaint.staff_involved.set(staff_involved)
    complaint.secondary_categories.set([c for c in secondary_categories if c.pk != category.pk])
    if measures or compensation_amount is not None:
        _apply_measures(complaint, measures, compensation_amount)
    _event(
        complaint,
        Kind.CREATED,
        by,
        received_at,
        to_status=Status.RECEIVED,
        text=description,
        changed=["channel", "category", "description", "complainant_name", "patient", "severity", "departments"],
    )
    if settled_on_the_spot:
        _event(complaint, Kind.REPLY, by, received_at, text=reply)
        _event(
            complaint,
            Kind.STATUS,
            by,
            received_at,
            from_status=Status.RECEIVED,
            to_status=Status.CLOSED,
            text=_("Settled on the spot."),
            changed=["status", "measures"],
        )
    return complaint


def _refusal(complaint: Complaint, to: str) -> str | None:
    allowed = TRANSITIONS.get(complaint.status, ())
    if to not in allowed:
        return _("A complaint that is “%(current)s” cannot become “%(to)s”; next allowed: %(allowed)s.") % {
            "current": _label(complaint.status),
            "to": _label(to),
            "allowed": ", ".join(_label(s) for s in allowed) or _("none"),
        }
    if to == Status.REPLIED and not complaint.events.filter(kind=Kind.REPLY).exists():
        return _("Record the reply given to the complainant first.")
    if to == Status.CLOSED:
        if not complaint.measures.exists():
            return _("Record how the complaint was resolved before closing.")
        if not complaint.events.filter(kind=Kind.REPLY).exists():
            return _("Record the reply given to the complainant before closing.")
        open_promises = complaint.promises.filter(delivered_on__isnull=True).count()
        if open_promises:
            return _("%(count)d promise(s) to the complainant are not delivered yet; deliver them before closing.") % {
                "count": open_promises
            }
    return None


def _end_pause(complaint: Complaint, at: dt.datetime) -> None:
    if complaint.waiting_on_complainant and complaint.paused_since:
        complaint.paused_minutes += sla.business_minutes_between(complaint.paused_since, at, sla.load_calendar())
        _set_deadlines(complaint)
    complaint.waiting_on_complainant = False
    complaint.paused_since = None


@transaction.atomic
def complaint_transition(
    *,
    complaint: Complaint,
    to: str,
    by,
    note: str = "",
    measures: Iterable[str] | None = None,
    compensation_amount: Decimal | None = None,
    handling_satisfaction: str = "",
    at: dt.datetime | None = None,
) -> Complaint:
    """Move the complaint along an allowed edge, or raise TransitionRefused
    saying why not. ``measures`` (when given) records how it was resolved in
    the same step; ``at`` back-dates a step taken earlier (default now)."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    measures_changed = measures is not None and _apply_measures(complaint, measures, compensation_amount)
    if handling_satisfaction:
        complaint.handling_satisfaction = handling_satisfaction
    reason = _refusal(complaint, to)
    if reason:
        raise TransitionRefused(reason)
    now = at or timezone.now()
    from_status = complaint.status
    complaint.status = to
    if from_status == Status.RECEIVED and complaint.first_responded_at is None:
        complaint.first_responded_at = now
    if to == Status.RESOLVED:
        complaint.resolved_at = now
    elif to == Status.CLOSED:
        complaint.closed_at = now
        _end_pause(complaint, now)
    elif to == Status.REOPENED:
        complaint.closed_at = complaint.resolved_at = None
    complaint.save()
    _event(
        complaint,
        Kind.STATUS,
        by,
        now,
        from_status=from_status,
        to_status=to,
        text=note,
        changed=[
            "status",
            *(["measures"] if measures_changed else []),
            *(["handling_satisfaction"] if handling_satisfaction else []),
        ],
    )
    return complaint


@transaction.atomic
def complaint_classify(
    *,
    complaint: Complaint,
    by,
    category: Category,
    severity: str,
    validity: str,
    departments: Iterable,
    staff_involved: Iterable,
    staff_involved_text: str = "",
    secondary_categories: Iterable[Category] = (),
    is_dispute: bool = False,
) -> Complaint:
    """Set the categories, severity, validity, dispute flag and who is
    involved; a new severity moves the SLA deadlines."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    severity_changed = complaint.severity != severity
    complaint.category, complaint.severity, complaint.validity = category, severity, validity
    complaint.staff_involved_text, complaint.is_dispute = staff_involved_text, is_dispute
    if severity_changed:
        _set_deadlines(complaint)
    complaint.save()
    complaint.departments.set(departments)
    complaint.staff_involved.set(staff_involved)
    complaint.secondary_categories.set([c for c in secondary_categories if c.pk != category.pk])
    _event(
        complaint,
        Kind.NOTE,
        by,
        text=_("Classified: %(category)s, %(severity)s, %(validity)s.")
        % {
            "category": category,
            "severity": complaint.get_severity_display(),
            "validity": complaint.get_validity_display(),
        },
        changed=[
            "category",
            "secondary_categories",
            "severity",
            "validity",
            "is_dispute",
            "departments",
            "staff_involved",
            "staff_involved_text",
        ],
    )
    return complaint


@transaction.atomic
def complaint_set_measures(
    *, complaint: Complaint, by, measures: Iterable[str], compensation_amount: Decimal | None = None, note: str = ""
) -> Complaint:
    """Record how the complaint was resolved (several measures at once; the
    compensation with its amount)."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _apply_measures(complaint, measures, compensation_amount)
    text = measures_text(complaint)
    _event(complaint, Kind.MEASURES, by, text=f"{text}. {note}".strip() if note else text, changed=["measures"])
    return complaint


@transaction.atomic
def complaint_add_note(*, complaint: Complaint, by, text: str) -> ComplaintEvent:
    return _event(complaint, Kind.NOTE, by, text=text)


@transaction.atomic
def complaint_add_evidence(*, complaint: Complaint, by, upload, text: str = "") -> ComplaintEvent:
    """Store an evidence file (checked by complaints.evidence) on the timeline."""
    return _event(complaint, Kind.EVIDENCE, by, text=text, file=upload, file_name=upload.name, file_size=upload.size)


@transaction.atomic
def complaint_record_reply(
    *, complaint: Complaint, by, text: str, handling_satisfaction: str = "", at: dt.datetime | None = None
) -> ComplaintEvent:
    """What the complainant was told (and whether they accept it). The first
    reply also counts as the first response."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    now = at or timezone.now()
    if complaint.first_responded_at is None:
        complaint.first_responded_at = now
    if handling_satisfaction:
        complaint.handling_satisfaction = handling_satisfaction
    complaint.save(update_fields=["first_responded_at", "handling_satisfaction", "updated_at"])
    changed = ["first_responded_at", *(["handling_satisfaction"] if handling_satisfaction else [])]
    return _event(complaint, Kind.REPLY, by, now, text=text, changed=changed)


@transaction.atomic
def complaint_reassign(*, complaint: Complaint, by, owner, note: str = "") -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    before = complaint.owner
    complaint.owner = owner
    complaint.save(update_fields=["owner", "updated_at"])
    _event(
        complaint,
        Kind.REASSIGNED,
        by,
        text=(
            _("From %(before)s to %(after)s. %(note)s")
            % {"before": before or _("nobody"), "after": owner, "note": note}
        ).strip(),
        changed=["owner"],
    )
    return complaint


@transaction.atomic
def complaint_pause(*, complaint: Complaint, by, note: str) -> Complaint:
    """Stop the SLA clock while the complaint waits on the complainant."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if complaint.waiting_on_complainant:
        raise ValidationError(_("The clock is already paused."))
    if not complaint.is_open:
        raise ValidationError(_("A closed complaint has no clock to pause."))
    now = timezone.now()
    complaint.waiting_on_complainant, complaint.paused_since = True, now
    complaint.save(update_fields=["waiting_on_complainant", "paused_since", "updated_at"])
    _event(complaint, Kind.PAUSED, by, now, text=note, changed=["waiting_on_complainant"])
    return complaint


@transaction.atomic
def complaint_resume(*, complaint: Complaint, by, note: str = "") -> Complaint:
    """Restart the clock; the paused working time pushes both deadlines back."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if not complaint.waiting_on_complainant:
        raise ValidationError(_("The clock is not paused."))
    now = timezone.now()
    _end_pause(complaint, now)
    complaint.save()
    _event(complaint, Kind.RESUMED, by, now, text=note, changed=["waiting_on_complainant", "paused_minutes"])
    return complaint


@transaction.atomic
def promise_add(*, complaint: Complaint, by, what: str, owner, due_on: dt.date, note: str = "") -> Promise:
    promise = Promise.objects.create(complaint=complaint, what=what, owner=owner, due_on=due_on, note=note)
    _event(
        complaint,
        Kind.PROMISE_ADDED,
        by,
        text=_("%(what)s — %(owner)s, due %(due)s") % {"what": what, "owner": owner, "due": due_on.isoformat()},
        audit_object=("promise", promise.pk),
        changed=["what", "owner", "due_on"],
    )
    return promise


@transaction.atomic
def promise_deliver(*, promise: Promise, by, delivered_on: dt.date | None = None, note: str = "") -> Promise:
    promise = Promise.objects.select_for_update().get(pk=promise.pk)
    if promise.delivered_on is not None:
        raise ValidationError(_("This promise is already delivered."))
    promise.delivered_on = delivered_on or timezone.localdate()
    promise.delivered_by = by
    if note:
        promise.note = f"{promise.note}\n{note}".strip()
    promise.save(update_fields=["delivered_on", "delivered_by", "note"])
    _event(
        promise.complaint,
        Kind.PROMISE_DELIVERED,
        by,
        text=f"{promise.what}. {note}".strip(),
        audit_object=("promise", promise.pk),
        changed=["delivered_on", "delivered_by", *(["note"] if note else [])],
    )
    return promise


def _recipients(complaint: Complaint) -> list:
    User = get_user_model()
    users = list(User.objects.filter(groups__name=Role.COMPLAINT_OFFICER, is_active=True).distinct())
    if complaint.owner_id and complaint.owner.is_active and complaint.owner not in users:
        users.insert(0, complaint.owner)
    return users


def notify(
    *, users: Iterable, text: str, link: str, message_key: str = "", message_params: dict | None = None
) -> list[Notification]:
    """In-app notification for each user, plus an e-mail to those who have
    an address (sent after the transaction commits). The in-app link stays
    relative; the e-mail's is made absolute with SITE_URL. A system message
    (``message_key``, see SYSTEM_MESSAGES) is shown in each reader's language."""
    message = {"message_key": message_key, "message_params": message_params or {}}
    created = [Notification.objects.create(recipient=u, text=text, link=link, **message) for u in users]
    emails = [u.email for u in users if u.email]
    if emails:
        body = f"{text}\n{settings.SITE_URL}{link}" if link else text
        transaction.on_commit(lambda: send_mail(text, body, None, emails, fail_silently=True))
    return created


@transaction.atomic
def complaint_flag_sla_breaches(*, now: dt.datetime | None = None) -> int:
    """Flag each late first response or resolution once (a conditional
    update: running twice flags nothing new) and tell the owner and the
    complaint officers. Returns the number of breaches flagged."""
    now = now or timezone.now()
    running = Complaint.objects.filter(status__in=Complaint.OPEN_STATUSES, waiting_on_complainant=False)
    checks = [
        (
            "first_response_breached",
            running.filter(first_responded_at__isnull=True, first_response_due__lt=now, first_response_breached=False),
            "first_response_late",
            "first_response_due",
        ),
        (
            "resolution_breached",
            running.filter(resolved_at__isnull=True, resolution_due__lt=now, resolution_breached=False),
            "resolution_late",
            "resolution_due",
        ),
    ]
    flagged = 0
    for flag, candidates, message_key, due_field in checks:
        for complaint in candidates.select_related("owner"):
            if not Complaint.objects.filter(pk=complaint.pk, **{flag: False}).update(**{flag: True}):
                continue  # another run flagged it first
            flagged += 1
            due = timezone.localtime(getattr(complaint, due_field))
            params = {"ref": complaint.reference, "due": f"{due:%Y-%m-%d %H:%M}"}
            # Stored and e-mailed in the hospital's language; shown in the reader's.
            with translation.override(settings.LANGUAGE_CODE):
                text = system_message(message_key, params)
            message = {"message_key": message_key, "message_params": params}
            _event(
                complaint,
                Kind.SLA_BREACH,
                None,
                now,
                text=text,
                changed=[flag],
                actor="task:complaints.check_sla_breaches",
                **message,
            )
            notify(
                users=_recipients(complaint),
                text=text,
                link=reverse("complaints:detail", args=[complaint.pk]),
                **message,
            )
    if flagged:
        logger.info("Flagged %d complaint SLA breaches", flagged)
    return flagged


@transaction.atomic
def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
