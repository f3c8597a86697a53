"""Receiving and processing what the hospital information system sends.

HL7 v2 (MLLP): ``hl7_message_receive`` decodes, parses and checks a message,
stores it (an ``InboundMessage``, before any acknowledgement is sent) and
answers with the ACK to send back; accepted messages are then processed by
the Celery task ``interop.process_message`` (``inbound_message_process``),
which is safe to run twice. A message with the same control id (MSH-10) from
the same sender is a duplicate: acknowledged again, never processed again.

FHIR: ``fhir_payload_receive`` stores a Bundle or NDJSON export and processes
it at once (the caller waits for the outcome): all of it or nothing.

Both paths register discharges through ``calls.services.intake`` (the intake
core's checks, then ``discharge_register``: readmission handling and this week's
calls generated at once) and record the source and its reference.
"""

import hashlib
import logging
import secrets
from dataclasses import dataclass, field

from celery import current_app
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import Department, Discharge, Patient
from calls.services.cancellation import patient_mark_deceased
from calls.services.intake import POLICIES, DischargeIntake, discharge_intake, visit_register
from calls.services.records import discharge_cancel, patient_create, patient_merge, patient_update
from followup.audit import audit_batch, audit_change, audit_changes
from followup.models import AuditEvent, User

from . import fhir, hl7v2
from .models import FeedSender, InboundMessage, Kind, StayVisit, WardMapping

logger = logging.getLogger(__name__)
PROCESS_MESSAGE_TASK = "interop.process_message"
_PATIENT_LOCK_NAMESPACE = 73_302  # first key of pg_advisory_xact_lock(int, int); calls.services.queue uses 73_301


# --- senders and their wards ----------------------------------------------------------------


class OutsideSenderScope(ValueError):
    """The message would change a stay or a patient of a ward its sender has
    no mapping for (kept as an error; nothing changes)."""


@dataclass(frozen=True)
class SenderRules:
    """What one sending system may send: its FeedSender row, or the defaults."""

    active: bool
    classes: tuple[str, ...]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


def feed_sender_by_token(token: str) -> FeedSender | None:
    """The active FHIR sending system this bearer token belongs to, or None.
    Tokens are random, so their SHA-256 is looked up directly: the lookup's
    timing tells nothing about any token."""
    if not token:
        return None
    return FeedSender.objects.filter(kind=Kind.FHIR, active=True, token_hash=_token_hash(token)).first()


@transaction.atomic
def feed_sender_issue_token(*, sender: FeedSender, by: User) -> str:
    """Give a FHIR sending system a new token (the previous one stops
    working) and return it: it is shown once and only its hash is kept."""
    token = secrets.token_urlsafe(32)
    FeedSender.objects.filter(pk=sender.pk).update(
        token_hash=_token_hash(token), token_hint=token[:6], updated_at=timezone.now()
    )
    sender.token_hash, sender.token_hint = _token_hash(token), token[:6]
    audit_change(actor=by, object_type="sender", object_id=sender.pk, fields=["token_hash"], note="token issued")
    return token


def sender_rules(*, kind: str, sender: str) -> SenderRules:
    row = FeedSender.objects.filter(kind=kind, name=sender).first()
    if row is None:
        return SenderRules(active=True, classes=FeedSender.DEFAULT_CLASSES[kind])
    return SenderRules(active=row.active, classes=row.classes())


def ward_department(*, kind: str, sender: str, codes: list[str]) -> Department | None:
    """The department for the first of ``codes`` that is mapped (a mapping
    for this sender before one for any sender), else the kind's default
    mapping (code ``*``). Only mappings: a sender files into the wards its
    mappings name and no other, whatever codes it sends."""
    codes = [c for c in codes if c]
    wanted = [*codes, WardMapping.DEFAULT_CODE]
    mappings = {
        (m.code, m.sender): m.department
        for m in WardMapping.objects.filter(kind=kind, code__in=wanted)
        .filter(Q(sender=sender) | Q(sender=""))
        .select_related("department")
    }
    for code in [*codes, WardMapping.DEFAULT_CODE]:
        for who in (sender, ""):
            if (code, who) in mappings:
                return mappings[(code, who)]
    return None


def sender_department_ids(*, kind: str, sender: str) -> set[int]:
    """The departments a sender's messages may write to: those its ward
    mappings (its own, and those for every sender) name."""
    return set(
        WardMapping.objects.filter(kind=kind)
        .filter(Q(sender=sender) | Q(sender=""))
        .values_list("department_id", flat=True)
    )


def _check_stay_scope(*, kind: str, sender: str, stay: Discharge | None) -> None:
    if stay is not None and stay.department_id not in sender_department_ids(kind=kind, sender=sender):
        raise OutsideSenderScope(
            _(
                "The stay of MRN %(mrn)s admitted on %(date)s is filed in a ward %(sender)s has no ward mapping "
                "for: not changed."
            )
            % {"mrn": stay.patient.mrn, "date": stay.admitted_on.isoformat(), "sender": sender or "?"}
        )


def _check_patient_scope(*, kind: str, sender: str, patient: Patient) -> None:
    """A patient's own details (an A08, a merge) may be changed by a sender
    that files into one of her wards; a patient with no stay yet by any."""
    departments = set(patient.discharges.values_list("department_id", flat=True))
    if departments and not departments & sender_department_ids(kind=kind, sender=sender):
        raise OutsideSenderScope(
            _("Patient MRN %(mrn)s has no stay in a ward %(sender)s has a ward mapping for: not changed.")
            % {"mrn": patient.mrn, "sender": sender or "?"}
        )


def _hl7_ward_lookup(sender: str, code: str) -> Department | None:
    return ward_department(kind=Kind.HL7, sender=sender, codes=[code])


def _fhir_ward_lookup(sender: str):
    return lambda codes: ward_department(kind=Kind.FHIR, sender=sender, codes=codes)


# --- the adapter to the calls services ------------------------------------------------------


def feed_actor(message: InboundMessage) -> str:
    """The audit trail's name for the system that sent ``message``:
    "hl7:SENDER" or "fhir:SENDER"."""
    return f"{message.kind}:{message.sender.strip() or 'unknown'}"


def _register(
    *,
    mrn: str,
    patient_data: dict,
    admitted_on,
    discharge_data: dict,
    source: str,
    reference: str,
    actor: str,
    warnings: list[str],
) -> Discharge:
    """One discharge through the desk's intake core (the same checks and
    words as the nurse's form, with the feeds' policy: no phone is a
    warning, not a refusal) and registration service: patient by MRN, stay
    by MRN + admission date, readmissions, this week's calls. The core's
    warnings are added to ``warnings``."""
    discharge = discharge_intake(
        intake=DischargeIntake(
            mrn=mrn,
            admitted_on=admitted_on,
            patient_data=patient_data,
            discharge_data={**discharge_data, "archived": False},
        ),
        policy=POLICIES[source],
        by=None,
        via=actor,
        reference=reference,
    )
    warnings.extend(discharge.intake_warnings)
    return discharge


# --- HL7 v2 ------------------------------------------------------------------------------------


@dataclass
class Receipt:
    """What ``hl7_message_receive`` did and the ACK to send back."""

    message: InboundMessage | None
    ack_code: str
    ack: str
    duplicate: bool = False
    text: str = ""
    encoding: str = "utf-8"  # of the ACK: the sender's MSH-18 character set


def hl7_message_receive(*, raw: bytes) -> Receipt:
    """Check and store one HL7 v2 message and return its ACK (AA accepted,
    AE content error, AR unreadable). The message is stored before this
    returns, whatever the verdict; accepted ADT^A03/A08/A11/A13 messages are
    queued for processing, other events stored as ignored."""
    encoding = hl7v2.ack_encoding(raw)
    receipt = _receive(raw, encoding)
    receipt.encoding = encoding
    return receipt


def _receive(raw: bytes, encoding: str) -> Receipt:
    header: hl7v2.Header | None = None
    payload = storable(raw.decode("utf-8", errors="replace").lstrip("\ufeff"))
    status, error, warnings, ignored = InboundMessage.Status.RECEIVED, None, [], ""
    patient_keys = ("", "")
    try:
        text = hl7v2.decode(raw)
        payload = text
        message, header = hl7v2.parse(text, warnings)
        rules = sender_rules(kind=Kind.HL7, sender=header.sender)
        if not rules.active:
            raise hl7v2.Hl7Error(
                _("Messages from %(sender)s are switched off here.") % {"sender": header.sender or "?"},
                ack_code="AR",
                location="MSH-3",
                condition=hl7v2.ERR_TABLE_VALUE,
            )
        if header.trigger in hl7v2.HANDLED_EVENTS:
            record = hl7v2.adt_record(message, header, ward_lookup=_hl7_ward_lookup, discharge_classes=rules.classes)
            warnings += record.warnings
            ignored = record.ignored
            patient_keys = (record.mrn, record.prior_mrn)
        if header.trigger not in hl7v2.HANDLED_EVENTS or ignored:
            status = InboundMessage.Status.IGNORED
    except hl7v2.Hl7Error as exc:
        error = exc
    except (DatabaseError, MemoryError):
        raise  # not stored, so not acknowledged: the sender sends it again
    except Exception as exc:  # a message shaped in a way we did not foresee: keep it, say so
        logger.exception("Checking an HL7 message failed")
        error = hl7v2.Hl7Error(_("The message could not be checked: %(reason)s") % {"reason": exc})
    if error is not None:
        status = InboundMessage.Status.ERROR
        header = header or hl7v2.header_guess(payload)
    row = InboundMessage(
        kind=Kind.HL7,
        sender=header.sender[:200] if header else "",
        control_id=header.control_id[:200] if header else "",
        event_type=header.event_type[:40] if header else "",
        payload=payload,
        status=status,
        error=str(error) if error else "",
        warnings="\n".join([*warnings, ignored] if ignored else warnings),
        processed_at=timezone.now() if status == InboundMessage.Status.IGNORED else None,
        patient_key=patient_keys[0] if status == InboundMessage.Status.RECEIVED else "",
        other_patient_key=patient_keys[1] if status == InboundMessage.Status.RECEIVED else "",
    )
    for attempt in range(3):
        try:
            with transaction.atomic():
                row.save()
                _audit_received(row)
            break
        except IntegrityError:
            # Accepted before (only a message not refused holds its control id):
            # the same answer, not processed again. Gone by the time we look
            # (refused by its processing meanwhile): store this one after all.
            row.pk = None
            original = _accepted_twin(row)
            if original is not None:
                return _duplicate_receipt(original, header, encoding)
            if attempt == 2:
                raise
    if error is not None:
        return Receipt(
            row,
            error.ack_code,
            hl7v2.build_ack(header=header, ack_code=error.ack_code, text=error.text, error=error, encoding=encoding),
            text=error.text,
        )
    if status == InboundMessage.Status.RECEIVED:
        _queue(row.pk)
        text = _("Accepted.")
    elif ignored:
        text = ignored
    else:
        text = _("Event %(event)s acknowledged; this desk does not act on it.") % {"event": header.event_type}
    return Receipt(row, "AA", hl7v2.build_ack(header=header, ack_code="AA", text=text, encoding=encoding), text=text)


def storable(text: str) -> str:
    """Received text as a database column can hold it: a NUL (which
    PostgreSQL refuses) becomes the replacement character, as undecodable
    bytes do, so the message is kept, refused, and never reprocessed."""
    return text.replace("\x00", "\ufffd")


def hl7_oversized_refuse(*, head: bytes, size: int, limit: int) -> Receipt:
    """Refuse (AR) a frame that grew past ``limit`` bytes while it arrived:
    store its first bytes as an error, so the inbox shows who sent what,
    and answer with the control id when the head names it."""
    encoding = hl7v2.ack_encoding(head)
    payload = storable(head.decode("utf-8", errors="replace").lstrip("\ufeff"))
    header = hl7v2.header_guess(payload)
    text = _("The message is larger than %(limit)s bytes (%(size)s bytes): refused.") % {"limit": limit, "size": size}
    error = hl7v2.Hl7Error(text, ack_code="AR", location="MSH", condition=hl7v2.ERR_SEGMENT_SEQUENCE)
    row = InboundMessage(
        kind=Kind.HL7,
        sender=header.sender[:200] if header else "",
        control_id=header.control_id[:200] if header else "",
        event_type=header.event_type[:40] if header else "",
        payload=payload,
        status=InboundMessage.Status.ERROR,
        error=str(error),
    )
    with transaction.atomic():
        row.save()
        _audit_received(row)
    ack = hl7v2.build_ack(header=header, ack_code="AR", text=text, error=error, encoding=encoding)
    return Receipt(row, "AR", ack, text=text, encoding=encoding)


def _audit_received(row: InboundMessage) -> None:
    audit_change(
        actor=feed_actor(row), action=AuditEvent.Action.CREATE, object_type="message", object_id=row.pk, patient_id=None
    )


def _duplicate_receipt(original: InboundMessage, header: hl7v2.Header | None, encoding: str) -> Receipt:
    text = _("Duplicate of message %(id)s, already received: not processed again.") % {"id": original.control_id}
    ack = hl7v2.build_ack(header=header, ack_code="AA", text=text, encoding=encoding)
    return Receipt(original, "AA", ack, duplicate=True, text=text)


def _accepted_twin(row: InboundMessage) -> InboundMessage | None:
    """The stored message, not refused, with ``row``'s sender and control id."""
    return (
        InboundMessage.objects.filter(kind=row.kind, sender=row.sender, control_id=row.control_id)
        .exclude(status=InboundMessage.Status.ERROR)
        .first()
    )


def _queue(message_id: int) -> None:
    def send() -> None:
        # The message is stored whatever happens: a broker that is down must
        # not turn the ACK into an error. It stays "received" until
        # reprocessed from the admin. The task (interop.tasks, which calls
        # this module) is found by its name, so neither module imports the other.
        try:
            current_app.tasks[PROCESS_MESSAGE_TASK].delay(message_id)
        except Exception:
            logger.exception("Broker unreachable: inbound message %s not queued; reprocess it in the admin", message_id)

    transaction.on_commit(send)


def _process_hl7(row: InboundMessage) -> tuple[str, Discharge | None, list[str]]:
    actor = feed_actor(row)
    if "\ufffd" in row.payload:  # stored with replacement characters: the bytes were not readable text
        raise hl7v2.Hl7Error(
            _("The message was not readable text when it arrived: ask the sender to resend it."), ack_code="AR"
        )
    warnings: list[str] = []
    message, header = hl7v2.parse(hl7v2.decode(row.payload.encode("utf-8")), warnings)
    if header.trigger not in hl7v2.HANDLED_EVENTS:
        return InboundMessage.Status.IGNORED, None, []
    rules = sender_rules(kind=Kind.HL7, sender=header.sender)
    record = hl7v2.adt_record(message, header, ward_lookup=_hl7_ward_lookup, discharge_classes=rules.classes)
    warnings += record.warnings
    if record.ignored:
        return InboundMessage.Status.IGNORED, None, [*warnings, record.ignored]
    if header.trigger in hl7v2.MERGE_EVENTS:
        return _merge(record, header.sender, actor, warnings)
    reference = f"{header.sender}:{header.control_id}" if header.sender else header.control_id
    if record.emergency_visit_on is not None:
        visit_register(
            mrn=record.mrn,
            patient_data=record.patient_data,
            visited_on=record.emergency_visit_on,
            source=Discharge.Source.HL7,
            source_reference=reference,
            actor=actor,
            warnings=warnings,
        )
        return InboundMessage.Status.PROCESSED, None, warnings
    patient_id, record.mrn = _patient_of_mrn(record.mrn)
    if header.trigger in (hl7v2.CANCEL_ADMIT, hl7v2.CANCEL_DISCHARGE):
        discharge = _stay_to_cancel(record, header.sender)
        if discharge is None:
            return InboundMessage.Status.IGNORED, None, [*warnings, _("No such discharge here: nothing to cancel.")]
        _check_stay_scope(kind=Kind.HL7, sender=header.sender, stay=discharge)
        discharge_cancel(discharge=discharge, by=None, via=actor)
        return InboundMessage.Status.PROCESSED, discharge, warnings
    if record.discharged_on is None:  # A08 without a discharge: the patient only
        patient = Patient.objects.filter(pk=patient_id).first() if patient_id else None
        if patient is None:
            return InboundMessage.Status.IGNORED, None, [*warnings, _("Patient not known here: nothing to update.")]
        _check_patient_scope(kind=Kind.HL7, sender=header.sender, patient=patient)
        patient_update(patient=patient, changes=record.patient_data, by=None, via=actor)
        _mark_deceased(patient, record.deceased_on, actor=actor)
        return InboundMessage.Status.PROCESSED, None, warnings
    admitted_on = record.admitted_on
    if admitted_on is None:
        admitted_on, how = _admission_without_pv1_44(record, header.sender)
        warnings.append(how)
    if patient_id is not None:  # a new patient has no stay to check
        _check_stay_scope(
            kind=Kind.HL7,
            sender=header.sender,
            stay=Discharge.objects.filter(patient_id=patient_id, admitted_on=admitted_on)
            .select_related("patient")
            .first(),
        )
    discharge = _register(
        mrn=record.mrn,
        patient_data=record.patient_data,
        admitted_on=admitted_on,
        discharge_data=record.discharge_data,
        source=Discharge.Source.HL7,
        reference=reference,
        actor=actor,
        warnings=warnings,
    )
    if record.visit_number:  # one INSERT ... ON CONFLICT DO UPDATE
        StayVisit.objects.bulk_create(
            [StayVisit(sender=header.sender[:200], visit_number=record.visit_number, discharge=discharge)],
            update_conflicts=True,
            unique_fields=["sender", "visit_number"],
            update_fields=["discharge"],
        )
    _mark_deceased(discharge.patient, record.deceased_on, actor=actor)
    return InboundMessage.Status.PROCESSED, discharge, warnings


def _patient_of_mrn(mrn: str) -> tuple[int | None, str]:
    """(id, MRN) of the patient a message's MRN names here, in one query:
    the surviving record for the MRN of a record merged into another (A40);
    (None, the MRN) for a patient new here."""
    found = Patient.objects.filter(mrn=mrn).values_list("pk", "merged_into_id", "merged_into__mrn").first()
    if found is None:
        return None, mrn
    pk, survivor, survivor_mrn = found
    return (survivor, survivor_mrn) if survivor else (pk, mrn)


def _current_mrn(mrn: str) -> str:
    """The MRN a patient goes by here: the MRN of a record merged into
    another (A40) answers to the surviving record's."""
    survivor = (
        Patient.objects.filter(mrn=mrn, merged_into__isnull=False).values_list("merged_into__mrn", flat=True).first()
    )
    return survivor or mrn


def _patient_by_mrn(mrn: str) -> Patient | None:
    patient = Patient.objects.filter(mrn=mrn).select_related("merged_into").first()
    return patient.merged_into if patient is not None and patient.merged_into_id else patient


def _merge(record: hl7v2.AdtRecord, sender: str, actor: str, warnings: list[str]):
    """A34/A40/A47: the record of MRG-1 joins the record of PID-3 (created
    from the message's PID when this desk has none under that MRN, as when
    an A47 gives a patient a new number)."""
    prior = _patient_by_mrn(record.prior_mrn)
    if prior is None:
        nothing = _("No patient with MRN %(mrn)s (MRG-1) here: nothing to merge.") % {"mrn": record.prior_mrn}
        return InboundMessage.Status.IGNORED, None, [*warnings, nothing]
    survivor = _patient_by_mrn(record.mrn)
    if survivor is not None and survivor.pk == prior.pk:
        done = _("MRN %(prior)s and %(mrn)s are one record here already: nothing to merge.") % {
            "prior": record.prior_mrn,
            "mrn": record.mrn,
        }
        return InboundMessage.Status.IGNORED, None, [*warnings, done]
    for patient in (prior, survivor):
        if patient is not None:
            _check_patient_scope(kind=Kind.HL7, sender=sender, patient=patient)
    if survivor is None:
        survivor = patient_create(data={"mrn": record.mrn, **record.patient_data}, by=None, via=actor)
    else:
        patient_update(patient=survivor, changes=record.patient_data, by=None, via=actor)
    patient_merge(survivor=survivor, merged=prior, by=None, via=actor)
    _mark_deceased(survivor, record.deceased_on, actor=actor)
    return InboundMessage.Status.PROCESSED, None, warnings


def _stay_by_visit(record: hl7v2.AdtRecord, sender: str) -> Discharge | None:
    if not record.visit_number:
        return None
    return (
        Discharge.objects.filter(
            visits__sender=sender, visits__visit_number=record.visit_number, patient__mrn=record.mrn
        )
        .select_related("patient")
        .first()
    )


def _stay_to_cancel(record: hl7v2.AdtRecord, sender: str) -> Discharge | None:
    """The stay an A11/A13 cancels: by its admission date (PV1-44), else by
    its visit number (PV1-19), else the patient's latest stay still live."""
    stays = Discharge.objects.filter(patient__mrn=record.mrn, archived=False).select_related("patient")
    if record.admitted_on:
        return stays.filter(admitted_on=record.admitted_on).first()
    by_visit = _stay_by_visit(record, sender)
    if by_visit is not None:
        return by_visit if not by_visit.archived else None
    return stays.order_by("-admitted_on").first()


def _admission_without_pv1_44(record: hl7v2.AdtRecord, sender: str) -> tuple:
    """The admission date that keys a stay sent without PV1-44, and how it
    was found (a warning for the message): the stay with the message's visit
    number (PV1-19), else the patient's stay with the same discharge date,
    else the discharge date itself (a new stay whose admission is unknown)."""
    by_visit = _stay_by_visit(record, sender)
    if by_visit is not None:
        return by_visit.admitted_on, _(
            "PV1-44 (admit date/time) is empty: the stay was found by its visit number (PV1-19) %(visit)s."
        ) % {"visit": record.visit_number}
    same_day = (
        Discharge.objects.filter(patient__mrn=record.mrn, discharged_on=record.discharged_on)
        .order_by("-admitted_on")
        .values_list("admitted_on", flat=True)
        .first()
    )
    if same_day is not None:
        return same_day, _("PV1-44 (admit date/time) is empty: the stay was found by its discharge date.")
    return record.discharged_on, _(
        "PV1-44 (admit date/time) is empty and no stay here has this visit number or discharge date: "
        "the admission date is recorded as the discharge date."
    )


def _mark_deceased(patient: Patient, died_on, *, actor: str) -> None:
    if died_on is not None and patient.deceased_on != died_on:
        patient_mark_deceased(patient=patient, died_on=died_on, actor=actor)


# --- processing (both kinds) -------------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    discharges: list[tuple[Discharge, bool]] = field(default_factory=list)  # (discharge, created)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def inbound_message_process(*, message_id: int) -> Outcome | None:
    """Process a stored message once: claimed (see _claim), so a second run
    (task retried, two workers) does nothing and returns None. A message
    that fails is marked ``error`` with the reason and changes nothing else.

    Messages about one patient are processed in the order received, however
    many workers take them: the earlier messages about the same patient
    (``patient_key``, a merge's ``other_patient_key`` too) still waiting are
    processed first, here, and each message is processed under a lock per
    patient (a PostgreSQL advisory lock for the transaction), so a worker
    that took the A13 never overtakes the one still registering the A03.
    (docs/hospital-feeds.md)"""
    own = InboundMessage.objects.filter(pk=message_id).order_by()
    keys = (
        own.exclude(patient_key="")
        .values("patient_key")
        .union(own.exclude(other_patient_key="").values("other_patient_key"))
    )
    waiting = InboundMessage.objects.filter(status=InboundMessage.Status.RECEIVED, pk__lt=message_id).filter(
        Q(patient_key__in=keys) | Q(other_patient_key__in=keys)
    )
    for earlier in waiting.order_by("pk").values_list("pk", flat=True):  # one query, usually empty
        inbound_message_process(message_id=earlier)
    return _process_one(message_id)


def _lock_patients(keys: list[str]) -> None:
    """Wait for, then hold until the transaction ends, the lock of each
    patient (always in the same order, so two workers never deadlock).
    SQLite has one writer at a time anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [_PATIENT_LOCK_NAMESPACE, key])


def _claim(message_id: int) -> InboundMessage | None:
    """The message, if still waiting, now this transaction's alone: on
    PostgreSQL its row is locked (a second worker waits, then finds it no
    longer waiting); elsewhere a conditional update marks it taken."""
    waiting = InboundMessage.objects.filter(pk=message_id, status=InboundMessage.Status.RECEIVED)
    if connection.vendor == "postgresql":
        return waiting.select_for_update().first()
    if not waiting.update(status=InboundMessage.Status.PROCESSED):
        return None
    return InboundMessage.objects.get(pk=message_id)


def _process_one(message_id: int) -> Outcome | None:
    with transaction.atomic():
        row = _claim(message_id)
        if row is None:
            return None
        # The message first, then its patients: whoever holds a patient's
        # lock never waits for a message row, so two workers cannot deadlock.
        _lock_patients(sorted({key for key in (row.patient_key, row.other_patient_key) if key}))
        try:
            # The audit rows of the changes in one INSERT, kept or dropped with them.
            with transaction.atomic(), audit_batch():
                outcome = _process_fhir(row) if row.kind == Kind.FHIR else _outcome(*_process_hl7(row))
        except (hl7v2.Hl7Error, fhir.FhirError, ValueError) as exc:
            outcome = Outcome(InboundMessage.Status.ERROR, errors=[_error_text(exc)])
        except OperationalError:
            raise  # the database went away: nothing is kept, the task retries
        except Exception as exc:  # ValidationError from the calls services, and anything unforeseen
            logger.exception("Inbound message %s failed", message_id)
            outcome = Outcome(InboundMessage.Status.ERROR, errors=[_error_text(exc)])
        first = outcome.discharges[0][0] if outcome.discharges else None
        InboundMessage.objects.filter(pk=message_id).update(
            status=outcome.status,
            error="\n".join(outcome.errors),
            warnings="\n".join(outcome.warnings),
            discharge=first,
            processed_at=timezone.now(),
        )
        audit_change(
            actor=feed_actor(row),
            object_type="message",
            object_id=row.pk,
            fields=["status", "discharge"],
            patient_id=first.patient_id if first else None,
            note=f"processed: {outcome.status}",
        )
    return outcome


def _outcome(status: str, discharge: Discharge | None, warnings: list[str]) -> Outcome:
    return Outcome(status, [(discharge, False)] if discharge else [], warnings=warnings)


def _error_text(exc: Exception) -> str:
    messages = getattr(exc, "messages", None)
    return "; ".join(messages) if messages else str(exc)


@transaction.atomic
def inbound_messages_reprocess(*, messages: QuerySet[InboundMessage], by: User) -> dict[str, int]:
    """Put messages that failed or were ignored back to ``received`` and
    process them again now (after an admin fixed a ward mapping); what they
    change is recorded as the feed's doing, the reprocessing as ``by``'s.
    Returns the count per resulting status."""
    # A refused message whose corrected resend was accepted stays as it is:
    # its control id belongs to the resend now.
    resent = InboundMessage.objects.filter(
        kind=OuterRef("kind"), sender=OuterRef("sender"), control_id=OuterRef("control_id")
    ).exclude(status=InboundMessage.Status.ERROR)
    rows = list(
        messages.filter(status__in=[InboundMessage.Status.ERROR, InboundMessage.Status.IGNORED])
        .exclude(Q(status=InboundMessage.Status.ERROR) & ~Q(control_id="") & Exists(resent))
        .order_by("received_at", "pk")
        .values_list("pk", "discharge__patient_id")
    )
    ids = [pk for pk, _patient in rows]
    InboundMessage.objects.filter(pk__in=ids).update(status=InboundMessage.Status.RECEIVED, error="")
    audit_changes(actor=by, object_type="message", objects=rows, fields=["status", "error"], note="reprocessed")
    counts: dict[str, int] = {}
    for pk in ids:
        inbound_message_process(message_id=pk)
    for status in InboundMessage.objects.filter(pk__in=ids).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- FHIR -----------------------------------------------------------------------------------------


def _process_fhir(row: InboundMessage) -> Outcome:
    resources = fhir.read_resources(row.payload)
    classes = sender_rules(kind=Kind.FHIR, sender=row.sender).classes
    reading = fhir.read_discharges(resources, ward_lookup=_fhir_ward_lookup(row.sender), classes=classes)
    if reading.errors:  # checked before anything is written: a bad input changes nothing
        return Outcome(InboundMessage.Status.ERROR, errors=reading.errors, warnings=reading.warnings)
    outcome = Outcome(InboundMessage.Status.PROCESSED, warnings=reading.warnings)
    for visit in sorted(reading.visits, key=lambda v: (v.visited_on, v.encounter_id)):
        visit_register(
            mrn=_current_mrn(visit.mrn),
            patient_data=visit.patient_data,
            visited_on=visit.visited_on,
            source=Discharge.Source.FHIR,
            source_reference=visit.encounter_id,
            actor=feed_actor(row),
            warnings=outcome.warnings,
        )
    if not reading.discharges and not reading.visits:
        return Outcome(
            InboundMessage.Status.IGNORED,
            warnings=[
                *reading.warnings,
                _("No finished encounter of class %(classes)s in the input: not an inpatient discharge.")
                % {"classes": ", ".join(classes)},
            ],
        )
    # Earlier stays first, so a readmission cancels the calls of the stay before it.
    for item in sorted(reading.discharges, key=lambda d: (d.admitted_on, d.encounter_id)):
        item.mrn = _current_mrn(item.mrn)
        stay = (
            Discharge.objects.filter(patient__mrn=item.mrn, admitted_on=item.admitted_on)
            .select_related("patient")
            .first()
        )
        _check_stay_scope(kind=Kind.FHIR, sender=row.sender, stay=stay)
        existed = stay is not None
        discharge = _register(
            mrn=item.mrn,
            patient_data=item.patient_data,
            admitted_on=item.admitted_on,
            discharge_data=item.discharge_data,
            source=Discharge.Source.FHIR,
            reference=item.encounter_id,
            actor=feed_actor(row),
            warnings=outcome.warnings,
        )
        _mark_deceased(discharge.patient, item.deceased_on, actor=feed_actor(row))
        outcome.discharges.append((discharge, not existed))
    return outcome


def fhir_payload_receive(*, payload: str, sender: str = "") -> tuple[InboundMessage, Outcome]:
    """Store a FHIR Bundle / NDJSON export and process it at once, all or
    nothing. An input that cannot be read is stored as an error too."""
    payload = storable(payload)  # a NUL from a file is kept as the replacement character, and refused
    row = InboundMessage.objects.create(
        kind=Kind.FHIR,
        sender=storable(sender)[:200],
        event_type=_fhir_event_type(payload),
        payload=payload,
    )
    _audit_received(row)
    outcome = inbound_message_process(message_id=row.pk)
    row.refresh_from_db()
    return row, outcome


def _fhir_event_type(payload: str) -> str:
    head = payload.lstrip("\ufeff").lstrip()[:2000]
    if head.startswith("{") and '"Bundle"' in head:
        return "Bundle"
    return "NDJSON" if "\n" in payload.strip() else "Resource"
