"""The audit trail: every view of patient data, every export, every change and
every refused request, with who (a user, or a feed, task or import), when,
from which address, and which patient it concerns.

Two writers, one table (``followup.models.AuditEvent``, append-only: the
database refuses UPDATE and DELETE, see migration 0006):

- Services record their own changes with :func:`audit_change`, in the same
  transaction as the change, naming the changed fields (never their values).
  Inside a web request the row also carries the request's address, path,
  method and user, taken from the context :class:`AuditMiddleware` sets, so
  services need no request argument; outside one (tasks, feeds) they stay
  empty.
- :class:`AuditMiddleware` records what no service sees: page views and
  exports under the calls and complaints apps and the audited admin pages,
  and refused requests (403/404, and 401 on the FHIR endpoint). A POST under
  those pages for which no service recorded anything is recorded as a change
  (a fallback for admin pages that save without a service, such as a
  script's inline questions); a POST answered with the form and its errors
  changed nothing and is recorded as a view.

A view names the objects it shows by setting ``request.audit_objects`` to a
list of :class:`AuditObject` or plain tuples ``(type, id)`` /
``(type, id, patient_id)``; otherwise the URL's keyword arguments name them
(``<int:pk>`` under ``calls:call_...`` is a call, and so on) and the patient
is looked up. Log-ins are recorded from Django's auth signals.
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.apps import apps
from django.contrib.auth import user_logged_in, user_logged_out, user_login_failed
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from .bulk import COPY_FROM, insert_rows, row_of
from .dates import start_of_day
from .logs import hide_tokens
from .models import AuditEvent, User
from .net import client_ip
from .prepared import insert_one

AUDITED_NAMESPACES = {"calls", "complaints"}
AUDITED_ADMIN_APPS = ("calls", "complaints", "followup", "interop")
# Machines' endpoints: token auth, no user; their refusals are recorded with the feed as actor.
AUDITED_FEED_VIEWS = {"interop:fhir_bundle": "fhir"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
REFUSED_STATUSES = {403, 404}
REFUSED_FEED_STATUSES = {401, 403, 404}
# Fragments that show no patient or complaint data (the unread-notification badge).
NOT_AUDITED_VIEWS = {"complaints:notification_badge"}
# Writes whose service records what matters itself and whose every request would only add noise:
# the call screen's autosave (every few seconds while a nurse types; calls.services.drafts audits
# a draft's start and end). Their refusals are still recorded.
SERVICE_RECORDED_VIEWS = {"calls:call_draft"}

# What services name in audit_change. A new kind of object is added here.
OBJECT_TYPES = frozenset(
    {
        "patient",
        "stay",  # a calls.Discharge
        "call",
        "complaint",
        "script",
        "user",
        "alert",
        "message",  # an interop.InboundMessage
        "promise",
        "evidence",
        "spot_check",
        "death",  # a calls.DeathRecord
        "sender",  # an interop.FeedSender (a sending system's token)
        "visit",  # a calls.Visit (an emergency department visit)
        "self_report",  # a calls.SelfReportLink (a questionnaire link by text message)
        "draft",  # a calls.CallDraft: what a nurse typed on a call, not saved yet
    }
)

# Actor labels of non-user actors: "hl7:SENDER", "fhir:SENDER", "sms:GATEWAY",
# "task:calls.generate_weekly_queue", "import:FILENAME", "patient:self-report", "system".
LABEL_SOURCES = {
    "hl7": AuditEvent.Source.FEED,
    "fhir": AuditEvent.Source.FEED,
    "sms": AuditEvent.Source.FEED,  # an SMS gateway's receipts and the replies it passes on
    "patient": AuditEvent.Source.PATIENT,  # the patient, on the self-report form (no user)
    "task": AuditEvent.Source.TASK,
    "import": AuditEvent.Source.IMPORT,
    "system": AuditEvent.Source.SYSTEM,
}

# How to find the patient an object concerns: (app label, model, lookup to the patient's id).
PATIENT_OF: dict[str, tuple[str, str, str]] = {
    "patient": ("calls", "Patient", "pk"),
    "stay": ("calls", "Discharge", "patient_id"),
    "visit": ("calls", "Visit", "patient_id"),
    "call": ("calls", "FollowUpCall", "discharge__patient_id"),
    "callattempt": ("calls", "CallAttempt", "call__discharge__patient_id"),
    "alert": ("calls", "ClinicalAlert", "call__discharge__patient_id"),
    "spot_check": ("calls", "SpotCheck", "call__discharge__patient_id"),
    "death": ("calls", "DeathRecord", "patient_id"),
    "complaint": ("complaints", "Complaint", "patient_id"),
    "promise": ("complaints", "Promise", "complaint__patient_id"),
    "evidence": ("complaints", "ComplaintEvent", "complaint__patient_id"),
    "complaintevent": ("complaints", "ComplaintEvent", "complaint__patient_id"),
    "message": ("interop", "InboundMessage", "discharge__patient_id"),
    "self_report": ("calls", "SelfReportLink", "call__discharge__patient_id"),
}
# Admin pages of these models record the vocabulary's name; other models their model name.
ADMIN_OBJECT_TYPES = {
    "calls.patient": "patient",
    "calls.discharge": "stay",
    "calls.visit": "visit",
    "calls.followupcall": "call",
    "calls.clinicalalert": "alert",
    "calls.spotcheck": "spot_check",
    "calls.deathrecord": "death",
    "calls.scriptversion": "script",
    "complaints.complaint": "complaint",
    "complaints.promise": "promise",
    "interop.inboundmessage": "message",
    "followup.user": "user",
}
ADMIN_OBJECT_VIEWS = {"change", "history", "delete"}
# URL keyword arguments whose name is not the object type.
URL_KWARG_TYPES = {"version": "script", "event": "evidence"}
PK_TYPES = {"calls:spot_check_detail": "spot_check", "calls:dashboard_stay": "stay"}

FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
MAX_DB_INT = 2**63 - 1


class _LookUp:
    def __repr__(self) -> str:
        return "LOOK_UP"


LOOK_UP = _LookUp()


class AuditObject(NamedTuple):
    """What a page showed: ``request.audit_objects = [AuditObject("call", 4, 12)]``,
    or the plain tuple ``("call", 4, 12)``. ``patient_id`` None says the object
    concerns no patient; left out (``("call", 4)``) the middleware looks the
    patient up (one query)."""

    type: str
    id: object = ""
    patient_id: "int | _LookUp | None" = LOOK_UP


@dataclass
class _RequestContext:
    request: HttpRequest
    changes: int = 0  # rows audit_change wrote during the request


_current: ContextVar[_RequestContext | None] = ContextVar("followup_audit_request", default=None)
_batch: ContextVar[list["AuditEvent | dict[str, Any]"] | None] = ContextVar("followup_audit_batch", default=None)


@contextmanager
def audit_batch():
    """Collect the rows audit_change and audit_changes write inside the
    block and insert them with one INSERT when the block ends, none when it
    raises. Open it inside the transaction (or savepoint) whose changes the
    rows record, so they share its fate, and roll back no savepoint inside
    it while the block goes on. For paths that write several rows per unit
    of work: a hospital feed's message writes five. A batch inside a batch
    adds to the outer one."""
    if _batch.get() is not None:
        yield
        return
    events: list[AuditEvent | dict[str, Any]] = []
    token = _batch.set(events)
    try:
        yield
    except BaseException:
        _batch.reset(token)
        raise
    _batch.reset(token)
    _write(events)


def _write(events: list[AuditEvent | dict[str, Any]]) -> None:
    """Insert audit_change's instances (each gets its id, when a few go in
    together) and audit_changes' rows (dicts of column values)."""
    if not events:
        return
    if connection.vendor == "postgresql" and len(events) >= COPY_FROM:
        insert_rows(AuditEvent, [row_of(e) if isinstance(e, AuditEvent) else e for e in events], ids=False)
    else:
        instances = [e if isinstance(e, AuditEvent) else AuditEvent(**e) for e in events]
        AuditEvent.objects.bulk_create(instances, batch_size=500)


def current_request() -> HttpRequest | None:
    """The web request being answered, or None in a task, a feed or a shell."""
    context = _current.get()
    return context.request if context is not None else None


def _clean(text: object, limit: int) -> str:
    """Text as a column can hold it: no NUL (PostgreSQL refuses it), cut to size."""
    return str(text).replace("\x00", "")[:limit]


def _as_db_int(value: object) -> int | None:
    """An integer id from a URL or a caller, or None when it is not one a
    database column could hold (a hostile ``?patient=99999999999999999999``)."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        return None
    return number if 0 < number <= MAX_DB_INT else None


def _request_columns(request: HttpRequest | None) -> dict[str, Any]:
    if request is None:
        return {"ip_address": None, "url_name": "", "path": "", "method": ""}
    match = getattr(request, "resolver_match", None)
    return {
        "ip_address": client_ip(request),
        "url_name": _clean(match.view_name if match else "", 100),
        # A self-report token or the SMS gateway's key in the path never reaches the trail.
        "path": _clean(hide_tokens(request.get_full_path()), 500),
        "method": _clean(request.method or "", 10),
    }


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def audit_record(
    *,
    request: HttpRequest | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    user=None,
    status_code: int | None = None,
    patient_id: int | None = None,
    actor_name: str | None = None,
    source: str = AuditEvent.Source.USER,
) -> AuditEvent:
    """One row about a request (a page view, a refusal, a log-in): the
    middleware's and the auth signals' writer. Services use audit_change."""
    event = _request_event(
        request=request,
        action=action,
        object_type=object_type,
        object_id=object_id,
        user=user,
        status_code=status_code,
        patient_id=patient_id,
        actor_name=actor_name,
        source=source,
    )
    event.save(force_insert=True)
    return event


def _request_event(
    *,
    request: HttpRequest | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    user=None,
    status_code: int | None = None,
    patient_id: int | None = None,
    actor_name: str | None = None,
    source: str = AuditEvent.Source.USER,
) -> AuditEvent:
    """The unsaved row audit_record writes."""
    user = user if user is not None else getattr(request, "user", None)
    authenticated = _authenticated(user)
    if actor_name is None:
        actor_name = user.get_username() if authenticated else ""
    return AuditEvent(
        actor=user if authenticated else None,
        actor_name=_clean(actor_name, 150),
        source=source,
        action=action,
        object_type=_clean(object_type, 40),
        object_id=_clean(object_id, 64),
        patient_id=patient_id,
        status_code=status_code,
        **_request_columns(request),
    )


# --- the services' API -------------------------------------------------------------


def _actor_columns(actor: "User | str", request: HttpRequest | None) -> dict[str, Any]:
    if isinstance(actor, str):
        prefix, colon, rest = actor.partition(":")
        source = LABEL_SOURCES.get(prefix)
        if source is None or (source != AuditEvent.Source.SYSTEM and not (colon and rest.strip())):
            raise ValueError(
                f"unknown audit actor label {actor!r}: use hl7:, fhir:, sms:, task:, import:, patient: or system"
            )
        # A label acting inside a request (an admin's import) keeps the user who started it.
        request_user = getattr(request, "user", None)
        return {
            "actor": request_user if _authenticated(request_user) else None,
            "actor_name": _clean(actor, 150),
            "source": source,
        }
    if isinstance(actor, User) and actor.pk is not None:
        return {"actor": actor, "actor_name": _clean(actor.get_username(), 150), "source": AuditEvent.Source.USER}
    raise TypeError(f"an audit actor is a saved User or a label, not {actor!r}")


def _field_names(fields: Iterable[str]) -> str:
    if isinstance(fields, str):
        raise TypeError("fields is a list of field names, not one string")
    names: list[str] = []
    for name in fields:
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            # A value (a phone number, a name) must never reach the trail.
            raise ValueError(f"not a field name: {str(name)[:20]!r}")
        if name not in names:
            names.append(name)
    joined = ",".join(names)
    if len(joined) > AuditEvent._meta.get_field("fields").max_length:
        raise ValueError("too many changed field names for one audit row")
    return joined


def actor_of(by: "User | None", via: str = "") -> "User | str":
    """Who a service records as acting: the feed, task or import label
    ``via`` names, else the user ``by``, else "system"."""
    return via or by or "system"


def _checked_patient_id(object_type: str, object_id: object, patient_id: object) -> int | None:
    """The patient id a change row names (a patient's own id for a "patient"); a value that is not an id raises."""
    if patient_id is None and object_type == "patient":
        patient_id = _as_db_int(object_id)
    if patient_id is None:
        return None
    checked = _as_db_int(patient_id)
    if checked is None:
        raise ValueError(f"not a patient id: {patient_id!r}")
    return checked


def audit_change(
    *,
    actor: "User | str",
    object_type: str,
    object_id: object,
    action: str = AuditEvent.Action.CHANGE,
    fields: Iterable[str] = (),
    patient_id: int | None = None,
    note: str = "",
) -> AuditEvent:
    """Record a change a service made, in the caller's transaction.

    ``actor``: the User who acted, or a label for a non-user actor
    ("hl7:SENDER", "fhir:SENDER", "task:NAME", "import:FILENAME", "system").
    ``object_type``: one of OBJECT_TYPES. ``action``: CREATE or CHANGE.
    ``fields``: the NAMES of the changed fields (see changed_fields), never
    their values. ``patient_id``: the patient the object concerns (taken from
    object_id for a "patient"). ``note``: a fixed explanation written by the
    code ("readmitted"), never text a user typed or a feed sent."""
    [event] = _record_changes(
        actor=actor,
        object_type=object_type,
        objects=[(object_id, patient_id)],
        action=action,
        fields=fields,
        note=note,
        instances=True,
    )
    return event


def audit_changes(
    *,
    actor: "User | str",
    object_type: str,
    objects: Iterable[tuple[object, int | None]],
    action: str = AuditEvent.Action.CHANGE,
    fields: Iterable[str] = (),
    note: str = "",
) -> int:
    """audit_change for many objects changed the same way at once (open calls
    cancelled on a readmission): ``objects`` holds (object id, patient id)
    pairs. The rows go in together (followup.bulk.insert_rows); returns how
    many were written."""
    return len(
        _record_changes(
            actor=actor,
            object_type=object_type,
            objects=objects,
            action=action,
            fields=fields,
            note=note,
            instances=False,
        )
    )


def _record_changes(
    *,
    actor: "User | str",
    object_type: str,
    objects: Iterable[tuple[object, object]],
    action: str,
    fields: Iterable[str],
    note: str,
    instances: bool,
) -> list[AuditEvent] | list[dict[str, Any]]:
    """The rows, as AuditEvent instances or (cheaper, for many objects) as
    dicts of column values, written now or at the end of the batch."""
    if object_type not in OBJECT_TYPES:
        raise ValueError(f"unknown audit object type {object_type!r}")
    if action not in AuditEvent.Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    if isinstance(fields, str):
        raise TypeError("fields is a list of field names, not one string")
    context = _current.get()
    request = context.request if context is not None else None
    # What every row of the call shares, worked out once however many objects.
    shared = {
        **_actor_columns(actor, request),
        "action": action,
        "object_type": object_type,
        "fields": _field_names(fields),
        "note": _clean(note, 500),
        **_request_columns(request),
    }
    if instances:
        events = [
            AuditEvent(
                **shared,
                object_id=_clean(object_id, 64),
                patient_id=_checked_patient_id(object_type, object_id, patient_id),
            )
            for object_id, patient_id in objects
        ]
    else:
        actor_user = shared.pop("actor")
        shared["actor_id"] = actor_user.pk if actor_user is not None else None
        events = [
            {
                **shared,
                "object_id": _clean(object_id, 64),
                "patient_id": _checked_patient_id(object_type, object_id, patient_id),
            }
            for object_id, patient_id in objects
        ]
    batch = _batch.get()
    if batch is not None:
        batch.extend(events)
    else:
        _write(events)
    if context is not None:
        context.changes += len(events)
    return events


_MISSING = object()


def _value_of(source: Model | Mapping[str, Any], name: str) -> object:
    if isinstance(source, Mapping):
        return source.get(name, _MISSING)
    try:
        field = source._meta.get_field(name)
    except FieldDoesNotExist:  # a property or a plain attribute
        return getattr(source, name, _MISSING)
    if field.many_to_many:
        return frozenset(getattr(source, name).values_list("pk", flat=True)) if source.pk else frozenset()
    # A foreign key compares by its id, without loading the related row.
    return getattr(source, getattr(field, "attname", None) or name, _MISSING)


def field_values(instance: Model, names: Iterable[str]) -> dict[str, Any]:
    """The current values of some fields, to compare after a change:
    ``before = field_values(patient, FIELDS)`` ... ``changed_fields(before, patient, FIELDS)``."""
    return {name: _value_of(instance, name) for name in names}


def changed_fields(
    before: Model | Mapping[str, Any], after: Model | Mapping[str, Any], names: Iterable[str]
) -> list[str]:
    """The names (in the order given) whose value differs between ``before``
    and ``after``: each a model instance or a dict of values by field name.
    Foreign keys compare by id. Only names are returned, never values."""
    return [name for name in names if _value_of(before, name) != _value_of(after, name)]


# --- the middleware ------------------------------------------------------------------


@cache
def _admin_models() -> dict[str, type[Model]]:
    return {f"{model._meta.app_label}_{model._meta.model_name}": model for model in apps.get_models()}


def _admin_page(url_name: str) -> tuple[type[Model] | None, str]:
    """admin:calls_patient_change -> (Patient, "change")."""
    for prefix, model in _admin_models().items():
        if url_name.startswith(prefix + "_"):
            return model, url_name[len(prefix) + 1 :]
    return None, ""


def _admin_type(model: type[Model]) -> str:
    return ADMIN_OBJECT_TYPES.get(model._meta.label_lower, model._meta.model_name)


def _patient_of(object_type: str, object_id: object) -> int | None:
    """The patient an object concerns (None if none, or no such object), in one query."""
    where = PATIENT_OF.get(object_type)
    pk = _as_db_int(object_id)
    if where is None or pk is None:
        return None
    app_label, model_name, path = where
    rows = apps.get_model(app_label, model_name)._default_manager.filter(pk=pk).values_list(path, flat=True)[:1]
    return next(iter(rows), None)


def _url_objects(request: HttpRequest) -> list[AuditObject]:
    match = request.resolver_match
    if match.namespace == "admin":
        model, view = _admin_page(match.url_name or "")
        if model is None:
            return [AuditObject("")]
        object_id = match.kwargs.get("object_id", "")
        return [AuditObject(_admin_type(model), object_id if view in ADMIN_OBJECT_VIEWS else "")]
    if not match.kwargs:
        return [AuditObject("")]
    objects = []
    for key, value in match.kwargs.items():
        if key == "fmt":  # an export's format, not an object
            continue
        kind = key.removesuffix("_id").removesuffix("_pk")
        if kind == "pk":
            # calls:call_detail -> "call"; complaints:detail -> "complaint"
            kind = PK_TYPES.get(match.view_name) or (
                match.url_name.split("_")[0] if "_" in match.url_name else match.namespace.rstrip("s")
            )
        objects.append(AuditObject(URL_KWARG_TYPES.get(kind, kind), value))
    return objects or [AuditObject("")]


def _objects_of(request: HttpRequest) -> list[AuditObject]:
    explicit = getattr(request, "audit_objects", None)
    if explicit:
        return [item if isinstance(item, AuditObject) else AuditObject(*item) for item in explicit]
    return _url_objects(request)


def _scope(request: HttpRequest) -> str | None:
    """Which kind of audited request this is: a page a user asked for
    ("page"), a machine's endpoint ("feed"), or none (None)."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name in NOT_AUDITED_VIEWS:
        return None
    if match.view_name in AUDITED_FEED_VIEWS:
        return "feed"
    if not _authenticated(getattr(request, "user", None)):
        return None
    if match.namespace in AUDITED_NAMESPACES or request.path.startswith(_audited_admin_paths()):
        return "page"
    return None


def _admin_refused(request: HttpRequest, response: HttpResponse) -> bool:
    """The admin refuses with a redirect, not a 403/404: to its log-in page
    for a user without entry to the admin site, and to its index ("... doesn't
    exist") for an object page whose object does not exist or lies outside
    the user's scope (followup.access.AdminScopeMixin). Both are refusals
    (someone tried a page or an id), never a view or a change. (Django also
    sends a delete to the index when the user may not change the model; no
    role here deletes what it may not change.)"""
    match = request.resolver_match
    if match.namespace != "admin" or not 300 <= response.status_code < 400:
        return False
    target = urlsplit(response.get("Location", "")).path
    if target == reverse("admin:login"):
        return True
    return target == reverse("admin:index") and _admin_page(match.url_name or "")[1] in ADMIN_OBJECT_VIEWS


@cache
def _audited_admin_paths() -> tuple[str, ...]:
    """Where the admin pages of the audited apps live (reversed once)."""
    return tuple(reverse("admin:app_list", kwargs={"app_label": label}) for label in AUDITED_ADMIN_APPS)


def _record_response(request: HttpRequest, response: HttpResponse, context: _RequestContext) -> None:
    scope = _scope(request)
    if scope is None:
        return
    status = response.status_code
    if scope == "feed":
        if status in REFUSED_FEED_STATUSES:
            # The sender its token named (set by the view), never a header the caller wrote.
            sender = getattr(request, "feed_sender", "") or "unknown"
            kind = AUDITED_FEED_VIEWS[request.resolver_match.view_name]
            audit_record(
                request=request,
                action=AuditEvent.Action.REFUSED,
                status_code=status,
                actor_name=f"{kind}:{sender}",
                source=AuditEvent.Source.FEED,
            )
        return
    if status in REFUSED_STATUSES or _admin_refused(request, response):
        action = AuditEvent.Action.REFUSED
    elif status >= 400 or request.resolver_match.view_name in SERVICE_RECORDED_VIEWS:
        return
    elif request.method in WRITE_METHODS:
        if context.changes:
            return  # the services recorded what changed, field by field
        # A form sent back with its errors changed nothing but showed the
        # page again; a redirect after a write no service recorded is the
        # fallback change (e.g. an admin inline).
        action = AuditEvent.Action.CHANGE if 300 <= status < 400 else AuditEvent.Action.VIEW
    elif "attachment" in response.get("Content-Disposition", ""):
        action = AuditEvent.Action.EXPORT
    else:
        action = AuditEvent.Action.VIEW
    events = []
    for item in _objects_of(request):
        patient_id = item.patient_id
        if patient_id is LOOK_UP:
            patient_id = _patient_of(item.type, item.id) if item.type and item.id != "" else None
        events.append(
            _request_event(
                request=request,
                action=action,
                object_type=item.type,
                object_id=item.id,
                patient_id=_as_db_int(patient_id) if patient_id is not None else None,
                status_code=status,
            )
        )
    # One INSERT however many objects the page showed (a call sheet names each
    # of its calls); one page's one object without bulk_create's transaction
    # (BEGIN and COMMIT were two more round trips on every page view), by a
    # statement written once (followup.prepared.insert_one).
    if len(events) == 1:
        insert_one(events[0])
    else:
        AuditEvent.objects.bulk_create(events, batch_size=500)


class AuditMiddleware:
    """Sets the request context audit_change reads, then records the page
    view, export, refusal or (fallback) change of an audited page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = _RequestContext(request)
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        _record_response(request, response, context)
        return response


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(request=request, action=AuditEvent.Action.LOGIN, user=user)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(request=request, action=AuditEvent.Action.LOGOUT, user=user)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The name someone typed, written once: the trail refuses updates.
    audit_record(
        request=request,
        action=AuditEvent.Action.LOGIN_FAILED,
        user=None,
        actor_name=str(credentials.get("username", "")),
    )


# --- reading the trail ---------------------------------------------------------------


def _merged_ids(patient_id: int) -> list[int]:
    """The patient and the records merged into her (calls.Patient.merged_into)."""
    patients = apps.get_model("calls", "Patient")._default_manager
    return [patient_id, *patients.filter(merged_into_id=patient_id).order_by("pk").values_list("pk", flat=True)]


def audit_events_for_patient(*, patient_id: int, call_ids: Iterable[int] = ()) -> QuerySet[AuditEvent]:
    """Who looked at or changed this patient, newest first: every row that
    names the patient or a record merged into hers (the trail cannot be
    rewritten, so a merge is followed when reading), plus rows written
    before rows carried a patient (the patient's page or one of their calls
    by object id)."""
    ids = _merged_ids(patient_id)
    return AuditEvent.objects.filter(
        Q(patient_id__in=ids)
        | Q(object_type="patient", object_id__in=[str(pk) for pk in ids])
        | Q(object_type="call", object_id__in=[str(pk) for pk in call_ids])
    ).order_by("-at", "-pk")


def audit_events_filtered(
    events: QuerySet[AuditEvent],
    *,
    actor: User | None = None,
    action: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Narrow a trail by who, what and the days (inclusive, local time)."""
    if actor is not None:
        events = events.filter(actor=actor)
    if action:
        events = events.filter(action=action)
    if since is not None:
        events = events.filter(at__gte=start_of_day(since))
    if until is not None and until < dt.date.max:
        events = events.filter(at__lt=start_of_day(until + dt.timedelta(days=1)))
    return events


def audit_patient_ids(term: str) -> list[int]:
    """The patients a search term names: an id, or an MRN (exact; with the
    records merged with hers). Hostile input (NUL, a number no column
    holds) names nobody."""
    term = _clean(term, 64).strip()
    if not term:
        return []
    patients = apps.get_model("calls", "Patient")._default_manager
    ids = []
    for pk, merged_into in patients.filter(mrn=term).values_list("pk", "merged_into_id"):
        # The person behind the MRN: her surviving record and every record merged into it.
        ids.extend(pk for pk in _merged_ids(merged_into or pk) if pk not in ids)
    number = _as_db_int(term) if term.isascii() and term.isdigit() else None
    if number is not None and number not in ids:
        ids.append(number)
    return ids
