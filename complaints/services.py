"""Every change to a complaint: one function per use case, each writing its
timeline event in the same transaction."""

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from followup import access
from followup.audit import audit_change
from followup.models import AuditEvent
from followup.roles import Role, roles_of
from followup.services import notify

from . import sla
from .models import (
    Category,
    Complaint,
    ComplaintEvent,
    Measure,
    Promise,
    ReferenceCounter,
    ResolutionMeasure,
    Severity,
    system_message,
)

logger = logging.getLogger(__name__)

Status = Complaint.Status
Kind = ComplaintEvent.Kind

# Where the status control may move each status next. "Replied" is reached by
# recording the reply (complaint_record_reply), from any open status; the
# settled-on-the-spot fast path (received -> closed) is only taken by
# complaint_create. A complainant who does not accept the reply reopens the
# complaint (replied -> reopened): unresolved complaints stay open.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.RECEIVED: (Status.INVESTIGATING,),
    Status.INVESTIGATING: (Status.RESOLVED,),
    Status.RESOLVED: (),
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
    event = ComplaintEvent.objects.create(
        complaint=complaint, kind=kind, by=by, at=at or timezone.now(), recorded_at=timezone.now(), **fields
    )
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
    due = sla.deadlines(
        received_at=complaint.received_at,
        severity=complaint.severity,
        channel=complaint.channel,
        coordinated=complaint.coordinated,
        paused_minutes=complaint.paused_minutes,
    )
    complaint.first_response_due, complaint.resolution_due, complaint.reply_due = due


# --- real times: when a step happened, not when it was typed in --------------------------

CLOCK_SKEW = dt.timedelta(minutes=1)  # a browser clock a little ahead is not "the future"


def _moment(complaint: Complaint | None, at: dt.datetime | None, *, what: str) -> dt.datetime:
    """``at`` (default now) if it is plausible for the complaint: not in the
    future, not before the complaint was received."""
    now = timezone.now()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise ValidationError(_("%(what)s cannot be in the future.") % {"what": what})
    if complaint is not None and at < complaint.received_at:
        received = timezone.localtime(complaint.received_at)
        raise ValidationError(
            _("%(what)s cannot be before the complaint was received (%(received)s).")
            % {"what": what, "received": f"{received:%Y-%m-%d %H:%M}"}
        )
    return min(at, now)


def _after(done: dt.datetime | None, due: dt.datetime | None) -> bool:
    return done is not None and due is not None and done > due


def _first_contact(complaint: Complaint, at: dt.datetime) -> None:
    """The first contact with the complainant is the first response: the
    earliest one recorded counts, and it is late exactly when it came after
    its deadline (a flag raised while nothing was recorded is corrected)."""
    if complaint.first_responded_at is None or at < complaint.first_responded_at:
        complaint.first_responded_at = at
    complaint.first_response_breached = _after(complaint.first_responded_at, complaint.first_response_due)


def _resolved(complaint: Complaint, at: dt.datetime) -> None:
    complaint.resolved_at = at
    complaint.resolution_breached = _after(at, complaint.resolution_due)


def _replied(complaint: Complaint, at: dt.datetime) -> None:
    if complaint.replied_at is None or at < complaint.replied_at:
        complaint.replied_at = at
    complaint.reply_breached = _after(complaint.replied_at, complaint.reply_due)


def _refuse_if_closed(complaint: Complaint) -> None:
    if complaint.status == Status.CLOSED:
        raise ValidationError(_("This complaint is closed: reopen it first."))


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
    coordinated: bool = False,
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
    """Record a complaint when it was really received (``received_at``, default
    now; the entry time stays on the timeline). One settled on the spot is
    closed at once, with how it was resolved and the reply given, and still
    counts in every report. More than one department involved means they
    must cooperate: the longer legal reply time applies. Officers are told of
    a complaint a nurse raised or one that arrives with no owner."""
    received_at = _moment(None, received_at, what=_("The time received"))
    measures = list(measures)
    departments = list(departments)
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
        coordinated=coordinated or len(departments) > 1,
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
        _first_contact(complaint, received_at)
        _resolved(complaint, received_at)
        _replied(complaint, received_at)
        complaint.closed_at = received_at
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
    _tell_officers_of_new(complaint, by)
    return complaint


def _tell_officers_of_new(complaint: Complaint, by) -> None:
    raised_by_ward = bool(roles_of(by) & {Role.NURSE, Role.HEAD_NURSE}) and Role.COMPLAINT_OFFICER not in roles_of(by)
    if not (raised_by_ward or complaint.owner_id is None):
        return
    officers = [u for u in _officers() if u.pk != getattr(by, "pk", None)]
    _notify_system(
        officers, "new_complaint", {"ref": complaint.reference, "channel": complaint.channel}, complaint=complaint
    )


def _refusal(complaint: Complaint, to: str) -> str | None:
    if to == Status.REPLIED and complaint.status != Status.REPLIED:
        return _("Record the reply given to the complainant: that moves the complaint to “Replied”.")
    allowed = TRANSITIONS.get(complaint.status, ())
    if to not in allowed:
        return _("A complaint that is “%(current)s” cannot become “%(to)s”; next allowed: %(allowed)s.") % {
            "current": _label(complaint.status),
            "to": _label(to),
            "allowed": ", ".join(_label(s) for s in allowed) or _("none"),
        }
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
    the same step; ``at`` says when the step was really taken (default now).
    Moving on inside the hospital is not a response to the complainant: only
    a recorded contact or reply is."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    now = _moment(complaint, at, what=_("The time of the step"))
    measures_changed = measures is not None and _apply_measures(complaint, measures, compensation_amount)
    if handling_satisfaction:
        complaint.handling_satisfaction = handling_satisfaction
    reason = _refusal(complaint, to)
    if reason:
        raise TransitionRefused(reason)
    from_status = complaint.status
    complaint.status = to
    if to == Status.RESOLVED:
        _resolved(complaint, now)
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
    coordinated: bool = False,
) -> Complaint:
    """Set the categories, severity, validity, dispute flag and who is
    involved; a new severity, or departments that now must cooperate, move
    the deadlines."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _refuse_if_closed(complaint)
    departments = list(departments)
    coordinated = coordinated or len(departments) > 1
    clock_changed = (complaint.severity, complaint.coordinated) != (severity, coordinated)
    complaint.category, complaint.severity, complaint.validity = category, severity, validity
    complaint.staff_involved_text, complaint.is_dispute = staff_involved_text, is_dispute
    complaint.coordinated = coordinated
    if clock_changed:
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
            "coordinated",
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
    _refuse_if_closed(complaint)
    _apply_measures(complaint, measures, compensation_amount)
    text = measures_text(complaint)
    _event(complaint, Kind.MEASURES, by, text=f"{text}. {note}".strip() if note else text, changed=["measures"])
    return complaint


@transaction.atomic
def complaint_add_note(*, complaint: Complaint, by, text: str) -> ComplaintEvent:
    _refuse_if_closed(complaint)
    return _event(complaint, Kind.NOTE, by, text=text)


@transaction.atomic
def complaint_add_evidence(*, complaint: Complaint, by, upload, text: str = "") -> ComplaintEvent:
    """Store an evidence file (checked by complaints.evidence) on the timeline."""
    _refuse_if_closed(complaint)
    return _event(complaint, Kind.EVIDENCE, by, text=text, file=upload, file_name=upload.name, file_size=upload.size)


@transaction.atomic
def complaint_record_contact(*, complaint: Complaint, by, text: str, at: dt.datetime | None = None) -> ComplaintEvent:
    """A contact with the complainant (a call back, a visit) when it really
    happened; the first one is the first response."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _refuse_if_closed(complaint)
    now = _moment(complaint, at, what=_("The time of the contact"))
    _first_contact(complaint, now)
    complaint.save(update_fields=["first_responded_at", "first_response_breached", "updated_at"])
    return _event(complaint, Kind.CONTACT, by, now, text=text, changed=["first_responded_at"])


# A reply from these moves the complaint to "replied" (resolving it on the way).
REPLY_MOVES_FROM = (Status.RECEIVED, Status.INVESTIGATING, Status.RESOLVED, Status.REOPENED)


@transaction.atomic
def complaint_record_reply(
    *, complaint: Complaint, by, text: str, handling_satisfaction: str = "", at: dt.datetime | None = None
) -> ComplaintEvent:
    """What the complainant was told of the handling (and whether they
    accept it), when it really happened. It is a contact (the first response
    if none came before), it stops the legal reply clock, and it moves the
    complaint to "replied": resolved at that moment if it was not yet."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _refuse_if_closed(complaint)
    now = _moment(complaint, at, what=_("The time of the reply"))
    _first_contact(complaint, now)
    _replied(complaint, now)
    if handling_satisfaction:
        complaint.handling_satisfaction = handling_satisfaction
    from_status = complaint.status
    if from_status in REPLY_MOVES_FROM:
        if complaint.resolved_at is None:
            _resolved(complaint, now)
        complaint.status = Status.REPLIED
    complaint.save()
    changed = ["first_responded_at", "replied_at", *(["handling_satisfaction"] if handling_satisfaction else [])]
    event = _event(complaint, Kind.REPLY, by, now, text=text, changed=changed)
    if complaint.status != from_status:
        _event(complaint, Kind.STATUS, by, now, from_status=from_status, to_status=complaint.status, changed=["status"])
    return event


@transaction.atomic
def complaint_reassign(*, complaint: Complaint, by, owner, note: str = "") -> Complaint:
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    _refuse_if_closed(complaint)
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
    if not complaint.is_open:
        raise ValidationError(_("A closed complaint has no clock to pause."))
    if complaint.waiting_on_complainant:
        raise ValidationError(_("The clock is already paused."))
    now = timezone.now()
    complaint.waiting_on_complainant, complaint.paused_since = True, now
    complaint.save(update_fields=["waiting_on_complainant", "paused_since", "updated_at"])
    _event(complaint, Kind.PAUSED, by, now, text=note, changed=["waiting_on_complainant"])
    return complaint


@transaction.atomic
def complaint_resume(*, complaint: Complaint, by, note: str = "") -> Complaint:
    """Restart the clock; the paused working time pushes the deadlines back."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if not complaint.waiting_on_complainant:
        raise ValidationError(_("The clock is not paused."))
    now = timezone.now()
    _end_pause(complaint, now)
    complaint.save()
    _event(complaint, Kind.RESUMED, by, now, text=note, changed=["waiting_on_complainant", "paused_minutes"])
    return complaint


# --- promises ------------------------------------------------------------------------------


def promise_owner_refusal(complaint: Complaint, owner) -> str | None:
    """Why ``owner`` cannot be the one to deliver a promise on the complaint
    (None when they can): they must be active, see the complaint and be
    allowed to record a delivery."""
    if owner is None:
        return None
    if not owner.is_active or not access.visible_complaints(owner).filter(pk=complaint.pk).exists():
        return _("%(name)s cannot see this complaint: choose someone of the departments involved or an officer.") % {
            "name": owner
        }
    if not may_deliver_promises(owner):
        return _("%(name)s cannot record deliveries.") % {"name": owner}
    return None


def may_deliver_promises(user) -> bool:
    """Officers, head nurses and nurses deliver the promises they own
    (officers and head nurses any promise they can see)."""
    return bool(roles_of(user) & {Role.COMPLAINT_OFFICER, Role.HEAD_NURSE, Role.NURSE}) or access.is_superuser(user)


@transaction.atomic
def promise_add(
    *,
    complaint: Complaint,
    by,
    what: str,
    due_on: dt.date,
    owner=None,
    owner_name: str = "",
    made_on: dt.date | None = None,
    note: str = "",
) -> Promise:
    """Record a promise to the complainant, made on ``made_on`` (default
    today; not before the complaint was received, not in the future), due on
    or after it, owned by a user who can see and deliver it or by a named
    person without a log-in (an officer records their delivery). The owner
    is notified. A promise made on a closed complaint reopens it: it is not
    finished while something is still owed."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    today = timezone.localdate()
    made_on = made_on or today
    received_on = timezone.localtime(complaint.received_at).date()
    owner_name = owner_name.strip()
    if owner is None and not owner_name:
        raise ValidationError(_("Say who delivers the promise."))
    if owner is not None and owner_name:
        raise ValidationError(_("Choose a user or write a name, not both."))
    reason = promise_owner_refusal(complaint, owner)
    if reason:
        raise ValidationError(reason)
    if made_on > today:
        raise ValidationError(_("A promise cannot be made in the future."))
    if made_on < received_on:
        raise ValidationError(
            _("A promise cannot be made before the complaint was received (%(day)s).") % {"day": received_on}
        )
    if due_on < made_on:
        raise ValidationError(_("A promise cannot be due before the day it was made."))
    if complaint.status == Status.CLOSED:
        complaint.status, complaint.closed_at = Status.REOPENED, None
        complaint.resolved_at = None
        complaint.save(update_fields=["status", "closed_at", "resolved_at", "updated_at"])
        _event(
            complaint,
            Kind.STATUS,
            by,
            from_status=Status.CLOSED,
            to_status=Status.REOPENED,
            text=_("Reopened: a promise to the complainant is still to be delivered."),
            changed=["status"],
        )
    promise = Promise.objects.create(
        complaint=complaint, what=what, owner=owner, owner_name=owner_name, made_on=made_on, due_on=due_on, note=note
    )
    at = timezone.now() if made_on == today else max(_start_of(made_on), complaint.received_at)
    _event(
        complaint,
        Kind.PROMISE_ADDED,
        by,
        at,
        text=_("%(what)s — %(owner)s, due %(due)s") % {"what": what, "owner": promise.owner_label, "due": due_on},
        audit_object=("promise", promise.pk),
        changed=["what", "owner" if owner else "owner_name", "made_on", "due_on"],
    )
    if owner is not None and owner.pk != getattr(by, "pk", None):
        _notify_system(
            [owner],
            "promise_owned",
            {"ref": complaint.reference, "what": what, "due": due_on.isoformat()},
            complaint=complaint,
        )
    return promise


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def promise_deliverer_refusal(promise: Promise, user) -> str | None:
    """Who may record a delivery: its owner; an officer or head nurse (who
    handle complaints) for any promise they can see, the named person's
    without a log-in included."""
    if promise.owner_id == user.pk or user.has_perm("complaints.change_promise"):
        return None
    return _("Only the person who delivers this promise, a head nurse or an officer can record its delivery.")


@transaction.atomic
def promise_deliver(*, promise: Promise, by, delivered_on: dt.date | None = None, note: str = "") -> Promise:
    promise = Promise.objects.select_for_update().select_related("complaint").get(pk=promise.pk)
    if promise.delivered_on is not None:
        raise ValidationError(_("This promise is already delivered."))
    delivered_on = delivered_on or timezone.localdate()
    if delivered_on > timezone.localdate():
        raise ValidationError(_("A promise cannot be delivered in the future."))
    if delivered_on < promise.made_on:
        raise ValidationError(
            _("A promise cannot be delivered before it was made (%(day)s).") % {"day": promise.made_on}
        )
    promise.delivered_on = delivered_on
    promise.delivered_by = by
    if note:
        promise.note = f"{promise.note}\n{note}".strip()
    promise.save(update_fields=["delivered_on", "delivered_by", "note"])
    on_behalf = "" if promise.owner_id else _(" (on behalf of %(name)s)") % {"name": promise.owner_name}
    _event(
        promise.complaint,
        Kind.PROMISE_DELIVERED,
        by,
        text=f"{promise.what}{on_behalf}. {note}".strip(),
        audit_object=("promise", promise.pk),
        changed=["delivered_on", "delivered_by", *(["note"] if note else [])],
    )
    return promise


# --- notifications -------------------------------------------------------------------------


def _officers() -> list:
    User = get_user_model()
    return list(User.objects.filter(groups__name=Role.COMPLAINT_OFFICER, is_active=True).distinct().order_by("pk"))


def _recipients(complaint: Complaint) -> list:
    users = _officers()
    if complaint.owner_id and complaint.owner.is_active and complaint.owner not in users:
        users.insert(0, complaint.owner)
    return users


def _flag_breach(complaint: Complaint, *, flag: str, message_key: str, due_field: str, now: dt.datetime) -> int:
    """Flag one late complaint and tell its people; 0 when another run did."""
    if not Complaint.objects.filter(pk=complaint.pk, **{flag: False}).update(**{flag: True}):
        return 0  # another run flagged it first
    due = timezone.localtime(getattr(complaint, due_field))
    params = {"ref": complaint.reference, "due": f"{due:%Y-%m-%d %H:%M}"}
    # Stored in the hospital's language; shown in the reader's.
    with translation.override(settings.LANGUAGE_CODE):
        text = system_message(message_key, params)
    _event(
        complaint,
        Kind.SLA_BREACH,
        None,
        now,
        text=text,
        changed=[flag],
        actor="task:complaints.check_sla_breaches",
        message_key=message_key,
        message_params=params,
    )
    _notify_system(_recipients(complaint), message_key, params, complaint=complaint)
    return 1


def _notify_system(users: Iterable, key: str, params: dict, *, complaint: Complaint) -> list:
    """A system message to each user: stored and e-mailed in the hospital's
    language, shown in each reader's own."""
    return notify(
        users=users,
        link=reverse("complaints:detail", args=[complaint.pk]),
        message_key=key,
        message_params=params,
    )


@transaction.atomic
def complaint_flag_sla_breaches(*, now: dt.datetime | None = None) -> int:
    """Flag each late first response, resolution or reply once (a
    conditional update: running twice flags nothing new) and tell the owner
    and the complaint officers. Returns the number of breaches flagged."""
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
        (
            "reply_breached",
            running.filter(replied_at__isnull=True, reply_due__lt=now, reply_breached=False),
            "reply_late",
            "reply_due",
        ),
    ]
    flagged = 0
    for flag, candidates, message_key, due_field in checks:
        for complaint in candidates.select_related("owner"):
            # Each complaint in its own savepoint: one that fails is logged
            # (its id only) and left unflagged for the next run; the rest go on.
            try:
                with transaction.atomic():
                    flagged += _flag_breach(complaint, flag=flag, message_key=message_key, due_field=due_field, now=now)
            except (OperationalError, InterfaceError):
                raise  # the database went away: the next run flags them all
            except Exception:
                logger.exception("SLA breach %s of complaint id %s could not be flagged", flag, complaint.pk)
    if flagged:
        logger.info("Flagged %d complaint SLA breaches", flagged)
    return flagged


@transaction.atomic
def promise_alert_overdue(*, today: dt.date | None = None) -> int:
    """Alert the owner (when they have a log-in), the complaint's owner and
    the officers once about each promise past its due day and not delivered
    (a conditional update: running twice alerts nobody twice). Returns the
    number of promises alerted."""
    today = today or timezone.localdate()
    overdue = Promise.objects.filter(delivered_on__isnull=True, due_on__lt=today, overdue_alerted_on__isnull=True)
    alerted = 0
    for promise in overdue.select_related("complaint", "complaint__owner", "owner"):
        if not Promise.objects.filter(pk=promise.pk, overdue_alerted_on__isnull=True).update(overdue_alerted_on=today):
            continue
        alerted += 1
        complaint = promise.complaint
        params = {
            "ref": complaint.reference,
            "what": promise.what,
            "owner": promise.owner_label,
            "due": promise.due_on.isoformat(),
        }
        audit_change(
            actor="task:complaints.alert_overdue_promises",
            action=AuditEvent.Action.CHANGE,
            object_type="promise",
            object_id=promise.pk,
            fields=["overdue_alerted_on"],
            patient_id=complaint.patient_id,
            note=f"complaint {complaint.pk}: promise overdue",
        )
        _notify_system([promise.owner, complaint.owner, *_officers()], "promise_overdue", params, complaint=complaint)
    if alerted:
        logger.info("Alerted %d overdue promises", alerted)
    return alerted
