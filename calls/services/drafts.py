"""Drafts of the call screen: what a nurse has typed and not saved yet
(issue 17, "nothing typed is lost"; docs/forms.md).

The page sends the forms' content here as she types (static/js/call-draft.js);
the call screen puts it back when she opens the call again. These functions
are the only writers of ``CallDraft``.

Audit: a draft holds patient answers, so its life is in the trail, but not
every keystroke: the row that starts a draft (``create``), and the one that
ends it (``change`` noted "discarded: ..." when the call is completed,
cancelled or closed, or "purged: ..." by the nightly task). Saves in between
replace the typed values of a draft the trail already names, and are not
recorded one by one (a nurse typing for twenty minutes would write hundreds
of rows that say nothing more). AuditMiddleware leaves out the autosave's
page-level row for the same reason (followup.audit.SERVICE_RECORDED_VIEWS).
"""

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from followup.audit import audit_change, audit_changes
from followup.forms import LONG_TEXT_MAX_CHARS
from followup.models import AuditEvent, User

from ..models import CallDraft, FollowUpCall

# The call screen's form fields a draft keeps: the dial form ("attempt-"), the
# outcome form ("outcome-") and the script's answers ("q_<question id>"). The
# hidden versions, the CSRF token and anything else posted are left out.
DRAFT_FIELD = re.compile(r"(?:attempt|outcome)-[a-z][a-z0-9_]{0,40}|q_[0-9]{1,12}")
NOT_KEPT = frozenset({"attempt-expected_version", "outcome-expected_version"})
MAX_FIELDS = 200
MAX_VALUES_PER_FIELD = 50
MAX_TOTAL_CHARS = 200_000
# A browser clock this far from the server's is not believed: the server's time is kept instead.
MAX_CLOCK_SKEW = dt.timedelta(days=1)
# Drafts nobody touched for this long are purged by the nightly task (calls.purge_call_drafts).
KEEP_DAYS = 7
PURGE_ACTOR = "task:calls.purge_call_drafts"


class DraftRefused(ValidationError):
    """What was sent cannot be kept as a draft; the message says why."""


def draft_fields_from(data: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The values a draft keeps, from posted form data (a QueryDict's
    ``lists()`` or a plain mapping of name -> values): only the call screen's
    field names; every value a string; refused when too many or too long."""
    items = data.lists() if hasattr(data, "lists") else data.items()
    kept: dict[str, list[str]] = {}
    total = 0
    for name, values in items:
        if name in NOT_KEPT or not isinstance(name, str) or not DRAFT_FIELD.fullmatch(name):
            continue
        values = [values] if isinstance(values, str) else list(values)
        if len(values) > MAX_VALUES_PER_FIELD or not all(isinstance(value, str) for value in values):
            raise DraftRefused(_("This draft has a field with too many values."), code="too_many_values")
        for value in values:
            if "\x00" in value:
                raise DraftRefused(_("This draft holds a character that cannot be saved."), code="nul")
            if len(value) > LONG_TEXT_MAX_CHARS:
                raise DraftRefused(
                    _("A text of this draft is %(length)s characters long; the limit is %(limit)s. Shorten it."),
                    code="too_long",
                    params={
                        "length": number_format(len(value), force_grouping=True),
                        "limit": number_format(LONG_TEXT_MAX_CHARS, force_grouping=True),
                    },
                )
            total += len(value)
        kept[name] = values
    if len(kept) > MAX_FIELDS or total > MAX_TOTAL_CHARS:
        raise DraftRefused(_("This draft is too large to be saved."), code="too_large")
    return kept


def _believable(typed_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if typed_at is None or abs(typed_at - now) > MAX_CLOCK_SKEW:
        return now
    return typed_at


def _check_open(call: FollowUpCall) -> None:
    if not call.is_open:
        raise DraftRefused(
            _("This call is already %(status)s; nothing more can be recorded on it.")
            % {"status": call.get_status_display().lower()},
            code="not_open",
        )


@transaction.atomic
def call_draft_save(
    *,
    call: FollowUpCall,
    by: User,
    fields: Mapping[str, list[str]],
    call_version: int | None = None,
    typed_at: dt.datetime | None = None,
) -> CallDraft:
    """Keep what ``by`` has typed on ``call`` (``fields``: from
    draft_fields_from), replacing her earlier draft of it. ``call_version``:
    the version her forms were shown with (the call's own when None);
    ``typed_at``: when her browser saw her type, by its clock. The first save
    of a draft is audited; later ones are not (see the module's docstring)."""
    _check_open(call)
    fields = draft_fields_from(fields)
    now = timezone.now()
    if call_version is None or call.changed_by_id == by.pk:
        # Her typing started before her own last change (a dial she recorded, the save sent as
        # the page left): that change is no conflict for her. Anyone else's still is.
        call_version = call.version
    values = {
        "fields": fields,
        "call_version": max(0, min(call_version, call.version)),
        "typed_at": _believable(typed_at, now),
        "updated_at": now,
    }
    mine = CallDraft.objects.filter(call=call, nurse=by)
    if not mine.update(**values):
        try:
            with transaction.atomic():
                draft = CallDraft.objects.create(call=call, nurse=by, **values)
        except IntegrityError:
            # Two saves of her first draft at once (two tabs): the other one created it.
            mine.update(**values)
        else:
            audit_change(
                actor=by,
                action=AuditEvent.Action.CREATE,
                object_type="draft",
                object_id=draft.pk,
                fields=["fields"],
                patient_id=call.discharge.patient_id,
                note=f"call {call.pk}",
            )
            return draft
    return mine.get()


@transaction.atomic
def drafts_discard(*, calls: Iterable[int], actor: "User | str", reason: str) -> int:
    """Delete every draft of the calls ``calls`` (ids), auditing each as
    discarded for ``reason`` (a fixed word: "completed", "cancelled: deceased").
    Runs inside the caller's transaction: the services that close calls call
    it (a savepoint then). Returns how many drafts were deleted."""
    rows = list(
        CallDraft.objects.filter(call_id__in=list(calls))
        .order_by("pk")
        .values_list("pk", "call__discharge__patient_id")
    )
    if not rows:
        return 0
    CallDraft.objects.filter(pk__in=[pk for pk, _patient in rows]).delete()
    audit_changes(actor=actor, object_type="draft", objects=rows, fields=["fields"], note=f"discarded: {reason}")
    return len(rows)


@transaction.atomic
def draft_after_attempt(*, call: FollowUpCall, by: User) -> None:
    """After ``by`` recorded a dial on ``call`` (inside that transaction): a
    closed call loses its drafts; on an open one her draft forgets the dial
    form (recorded now) and takes the call's new version, so her own change is
    not shown to her as someone else's. Not audited by itself: the dial is."""
    if not call.is_open:
        drafts_discard(calls=[call.pk], actor=by, reason=call.status)
        return
    draft = CallDraft.objects.filter(call=call, nurse=by).first()
    if draft is None:
        return
    kept = {name: values for name, values in draft.fields.items() if not name.startswith("attempt-")}
    CallDraft.objects.filter(pk=draft.pk).update(fields=kept, call_version=call.version)


@transaction.atomic
def call_drafts_purge(*, now: dt.datetime | None = None) -> int:
    """The nightly clean-up: drafts of calls no longer open (closed by a path
    that does not discard them, such as an administrator's correction) and
    drafts nobody touched for KEEP_DAYS days. Returns how many were deleted."""
    now = now or timezone.now()
    stale = CallDraft.objects.filter(
        Q(updated_at__lt=now - dt.timedelta(days=KEEP_DAYS)) | ~Q(call__status__in=FollowUpCall.OPEN_STATUSES)
    )
    rows = [
        (pk, patient, status not in FollowUpCall.OPEN_STATUSES)
        for pk, patient, status in stale.order_by("pk").values_list("pk", "call__discharge__patient_id", "call__status")
    ]
    if not rows:
        return 0
    CallDraft.objects.filter(pk__in=[pk for pk, _patient, _closed in rows]).delete()
    for closed, note in ((True, "purged: call closed"), (False, f"purged: untouched for {KEEP_DAYS} days")):
        objects = [(pk, patient) for pk, patient, call_closed in rows if call_closed is closed]
        if objects:
            audit_changes(actor=PURGE_ACTOR, object_type="draft", objects=objects, fields=["fields"], note=note)
    return len(rows)
