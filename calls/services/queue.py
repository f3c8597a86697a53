"""Generating the week's follow-up calls from the discharges and the rules.

``generate_calls(week=...)`` creates every missing call whose due date falls
in that ISO week (Monday-Sunday in the hospital's time zone), plus the calls
of the earlier weeks (up to ``CATCH_UP_DAYS`` back) that were never created:
those still inside their lateness limit are scheduled, those past it are
recorded as missed so nothing is silently dropped.

Safe to run twice and concurrently: the unique constraint
``call_unique_discharge_step`` and an insert that ignores conflicts make
duplicates impossible; on PostgreSQL a transaction-scoped advisory lock per
department also serialises overlapping runs so each run's counts are exact.

Each department is generated in its own transaction (a savepoint inside a
caller's): a broken rule -- a step whose calling days are not 0-6, say --
rolls back that department's calls and is logged, the other departments go
on, and the result names the departments that failed (``failed_departments``).

The work is done per rule step in SQL (only discharges still missing that
step's call are read, so an immediate re-run reads nothing) and the rows are
streamed in chunks to the server, where each department's new calls are
written with one statement (``_CallWriter``), so memory stays flat in the
number of discharges and the cost grows linearly.
"""

import datetime as dt
import heapq
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import NamedTuple

from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from followup import access
from followup.audit import audit_change, audit_changes
from followup.bulk import refresh_statistics
from followup.dates import week_bounds
from followup.models import AuditEvent, User
from followup.roles import Role

from ..models import Department, Discharge, FollowUpCall, FollowUpRule, RuleStep
from ..risk import RiskTier

CATCH_UP_DAYS = 42  # how far back a run looks for calls that were never created
CHUNK_SIZE = 2000
ANALYZE_AFTER = 10_000  # calls created in one run before the table's statistics are refreshed (PostgreSQL)
_LOCK_NAMESPACE = 73_301  # first key of pg_advisory_xact_lock(int, int)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerationResult:
    """``created``: new scheduled calls; ``missed``: new calls recorded as
    missed (past their lateness limit); ``already_present``: calls that
    existed before this run."""

    created: int = 0
    already_present: int = 0
    missed: int = 0
    failed_departments: tuple[str, ...] = ()  # codes of the departments whose generation failed

    def __add__(self, other: "GenerationResult") -> "GenerationResult":
        return GenerationResult(
            self.created + other.created,
            self.already_present + other.already_present,
            self.missed + other.missed,
            self.failed_departments + other.failed_departments,
        )


def parse_iso_week(text: str) -> dt.date:
    """``2026-W48`` -> the Monday of that week. Raises ValueError."""
    year, _sep, week = text.strip().upper().partition("-W")
    return dt.date.fromisocalendar(int(year), int(week), 1)


def rule_match_q(match: str) -> Q:
    """A rule's diagnosis match fits when the diagnosis text contains it or
    the ICD-10 code starts with it (case-insensitive)."""
    return Q(diagnosis__icontains=match) | Q(icd10__istartswith=match)


def rules_in_precedence(rules: Iterable[FollowUpRule]) -> list[tuple[FollowUpRule, Q]]:
    """Each active rule of one department with the discharges it applies to.

    A rule with a diagnosis match beats one without (longer matches first,
    then the older rule); the first empty-match rule takes the rest.
    """
    specific = sorted((r for r in rules if r.diagnosis_match.strip()), key=lambda r: (-len(r.diagnosis_match), r.pk))
    generic = [r for r in rules if not r.diagnosis_match.strip()]
    ordered: list[tuple[FollowUpRule, Q]] = []
    taken: list[Q] = []
    for rule in specific:
        fits = rule_match_q(rule.diagnosis_match.strip())
        ordered.append((rule, fits & ~reduce(or_, taken) if taken else fits))
        taken.append(fits)
    if generic:
        ordered.append((generic[0], ~reduce(or_, taken) if taken else Q()))
    return ordered


def place_call(*, step: RuleStep, due: dt.date, not_before: dt.date) -> dt.date:
    """The day a call is planned for: the first calling-window weekday on or
    after max(due date, ``not_before``) while still within the lateness limit;
    failing that the last window day between the earliest allowed day and the
    due date (when calling early is allowed); failing that the first window
    day on or after max(due date, ``not_before``), late as it is."""
    weekdays = set(step.weekdays or range(7))
    if not weekdays <= set(range(7)):
        raise ValueError(f"rule step {step.pk} has calling days other than 0-6: {step.weekdays!r}")
    one = dt.timedelta(days=1)
    start = max(due, not_before)
    latest = due + dt.timedelta(days=step.late_days)
    day = start
    while day <= latest:
        if day.weekday() in weekdays:
            return day
        day += one
    day, earliest = due - one, max(due - dt.timedelta(days=step.early_days), not_before)
    while day >= earliest:
        if day.weekday() in weekdays:
            return day
        day -= one
    day = start
    while day.weekday() not in weekdays:
        day += one
    return day


class _Plan(NamedTuple):
    """When the calls of one step for one discharge date fall, and the same
    as COPY text (``step, due, earliest, latest``)."""

    due: dt.date
    earliest: dt.date
    latest: dt.date
    day: dt.date
    status: str
    copy_text: str


class _Planner:
    """Caches the calendar arithmetic of one step: many discharges share a
    discharge date, and many calls the same day and time."""

    def __init__(self, *, step: RuleStep, today: dt.date):
        self.step = step
        self.today = today
        self.zone = timezone.get_default_timezone()
        self._plans: dict[dt.date, _Plan] = {}
        self._moments: dict[tuple[dt.date, dt.time], tuple[dt.datetime, str]] = {}

    def plan(self, discharged_on: dt.date) -> _Plan:
        found = self._plans.get(discharged_on)
        if found is None:
            step = self.step
            due = discharged_on + dt.timedelta(days=step.offset_days)
            earliest, latest = due - dt.timedelta(days=step.early_days), due + dt.timedelta(days=step.late_days)
            missed = latest < self.today
            found = self._plans[discharged_on] = _Plan(
                due=due,
                earliest=earliest,
                latest=latest,
                day=place_call(step=step, due=due, not_before=due if missed else self.today),
                status=(FollowUpCall.Status.MISSED if missed else FollowUpCall.Status.SCHEDULED).value,
                copy_text=f"{step.pk}\t{due.isoformat()}\t{earliest.isoformat()}\t{latest.isoformat()}",
            )
        return found

    def moment(self, day: dt.date, preferred: dt.time | None) -> tuple[dt.datetime, str]:
        """The call's planned moment, and the same as COPY text."""
        step = self.step
        at = preferred if preferred is not None and step.window_start <= preferred < step.window_end else None
        at = at or step.window_start
        found = self._moments.get((day, at))
        if found is None:
            moment = dt.datetime.combine(day, at, tzinfo=self.zone)
            found = self._moments[(day, at)] = (moment, moment.isoformat())
        return found


class _Assigner:
    """Responsible nurse if active, else the department's least-loaded active
    nurse by calls due that week (ties: lowest id), else nobody.

    The least-loaded nurse is the top of a heap of (load, id); a responsible
    nurse's call raises her load without touching the heap, so her entry may
    be too low until it reaches the top, where it is corrected first."""

    def __init__(self, *, department: Department, monday: dt.date, sunday: dt.date):
        # Each nurse's calls due that week, read from the (nurse, status, due
        # date) index one status at a time: only that week's entries, not
        # every call she ever had (counted from there, the load grew with the
        # calls table, and an import generating chunk after chunk turned
        # quadratic).
        week = (
            FollowUpCall.objects.filter(
                assigned_to=OuterRef("pk"),
                status__in=FollowUpCall.Status.values,
                due_date__range=(monday, sunday),
            )
            .order_by()
            .values("assigned_to")
            .annotate(calls=Count("pk"))
            .values("calls")
        )
        nurses = (
            access.ward_staff([department.pk], roles=[Role.NURSE])
            .order_by()
            .annotate(load=Coalesce(Subquery(week), 0))
            .values_list("pk", "load")
        )
        self.load = dict(nurses)
        self._heap = [(load, pk) for pk, load in self.load.items()]
        heapq.heapify(self._heap)

    def pick(self, responsible_id: int | None, responsible_active: bool | None) -> int | None:
        if responsible_id is not None and responsible_active:
            if responsible_id in self.load:
                self.load[responsible_id] += 1
            return responsible_id
        heap = self._heap
        if not heap:
            return None
        load, chosen = heap[0]
        while load != self.load[chosen]:
            heapq.heapreplace(heap, (self.load[chosen], chosen))
            load, chosen = heap[0]
        self.load[chosen] = load + 1
        heapq.heapreplace(heap, (load + 1, chosen))
        return chosen


def _lock_department(department_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, department_id])


def _callable_discharges(discharge_ids: list[int] | None, *, if_alive: bool = False):
    """Stays that get calls: not archived, of a patient not archived, alive
    and not asking for no more calls, and not superseded by a later stay.
    ``if_alive``: leave the death out of the question (what reversing a
    death record would give)."""
    later_admission = Discharge.objects.filter(patient=OuterRef("patient"), admitted_on__gt=OuterRef("admitted_on"))
    base = Discharge.objects.filter(
        archived=False,
        patient__archived=False,
        patient__declined_calls_on__isnull=True,
    ).exclude(Exists(later_admission))
    if not if_alive:
        base = base.filter(patient__deceased=False)
    if discharge_ids is not None:
        base = base.filter(pk__any=discharge_ids)
    return base


_COPY_NULL = "\\N"
# COPY's text format: a backslash, tab, newline or carriage return in a value is written escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_TIERS = frozenset(RiskTier.values)  # written as they are


def _copy_text(value: str) -> str:
    return value if value in _TIERS else value.translate(_COPY_ESCAPES)


_INSERT_COLUMNS = (
    "discharge_id",
    "step_id",
    "due_date",
    "earliest_on",
    "latest_on",
    "scheduled_for",
    "assigned_to_id",
    "status",
    "risk_tier",
)


class _CallWriter:
    """Writes one department's new calls (tuples in ``_INSERT_COLUMNS``
    order); a call that already exists for the discharge and step is skipped
    by the unique constraint ``call_unique_discharge_step``, never duplicated.

    On PostgreSQL every chunk is streamed with COPY into a temporary table
    and ``flush()`` moves them all with one ``INSERT ... SELECT ... ON
    CONFLICT DO NOTHING`` after the department's candidates were read:

    - the Python side of ``bulk_create`` (model instances, per-value
      adaptation, client-side quoting) costs several times the database's own
      work at 100,000 calls;
    - the calls table is not written while the server-side cursor still
      reads the candidates: a cursor planned when the table's statistics said
      "empty" checks each discharge for an existing call with a scan of the
      whole table, and a table growing under it made that quadratic (100,000
      discharges: minutes);
    - the dashboard summary's statement-level triggers run once, over all of
      the department's new calls.

    Memory stays flat: the rows wait on the server, not in Python. Elsewhere
    (SQLite) each chunk goes in with ``bulk_create(ignore_conflicts=True)``.
    """

    def __init__(self, *, department_id: int):
        self.copying = connection.vendor == "postgresql"  # rows come as COPY text lines, else as tuples
        self.pending = 0
        self.department_id = department_id  # every call of a stay of this department carries it

    def add(self, rows: list) -> None:
        if not rows:
            return
        if not self.copying:
            FollowUpCall.objects.bulk_create(
                [
                    FollowUpCall(**dict(zip(_INSERT_COLUMNS, row, strict=True)), department_id=self.department_id)
                    for row in rows
                ],
                ignore_conflicts=True,
            )
            return
        with connection.cursor() as cursor:
            if not self.pending:
                cursor.execute(
                    "CREATE TEMPORARY TABLE IF NOT EXISTS calls_new_call (discharge_id bigint, step_id bigint, "
                    "due_date date, earliest_on date, latest_on date, scheduled_for timestamptz, "
                    "assigned_to_id bigint, status varchar(20), risk_tier varchar(10)) ON COMMIT DELETE ROWS"
                )
            with cursor.cursor.copy(f"COPY calls_new_call ({', '.join(_INSERT_COLUMNS)}) FROM STDIN") as copy:
                copy.write("".join(rows))
        self.pending += len(rows)

    def flush(self) -> None:
        if not self.pending:
            return
        table = FollowUpCall._meta.db_table
        quote = connection.ops.quote_name
        defaults, params = _column_defaults(department_id=self.department_id)
        columns = ", ".join(quote(c) for c in (*_INSERT_COLUMNS, *defaults))
        placeholders = ", ".join(["%s"] * len(params))
        with connection.cursor() as cursor:
            # Identifiers come from the model; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608  # nosec B608
                f"SELECT {', '.join(_INSERT_COLUMNS)}, {placeholders} FROM calls_new_call ON CONFLICT DO NOTHING",
                params,
            )
            cursor.execute("TRUNCATE calls_new_call")
        self.pending = 0


def _column_defaults(*, department_id: int) -> tuple[list[str], list]:
    """The other columns of a new call and their values, from the model (so a
    field added later with a default is filled in too); the department the
    writer's stays are in."""
    now = timezone.now()
    names, values = [], []
    for field in FollowUpCall._meta.concrete_fields:
        if field.primary_key or field.attname in _INSERT_COLUMNS:
            continue
        names.append(field.column)
        if field.attname == "department_id":
            values.append(department_id)
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values.append(now)
        else:
            values.append(field.get_db_prep_save(field.get_default(), connection))
    return names, values


def _generate_step(
    *,
    step: RuleStep,
    applies: Q,
    department: Department,
    scope,
    low: dt.date,
    high: dt.date,
    planner: _Planner,
    assigner: _Assigner,
    discharge_ids: list[int] | None,
    writer: _CallWriter,
) -> GenerationResult:
    offset = dt.timedelta(days=step.offset_days)
    candidates = scope.filter(applies, department=department, discharged_on__range=(low - offset, high - offset))
    if step.risk_tiers:  # a step for some readmission risk tiers only (docs/risk.md)
        candidates = candidates.filter(risk_tier__in=step.risk_tiers)
    existing_call = FollowUpCall.objects.filter(discharge=OuterRef("pk"), step=step)
    present = FollowUpCall.objects.filter(step=step, due_date__range=(low, high))
    if discharge_ids is not None:
        present = present.filter(discharge_id__any=discharge_ids)
    present = present.count()
    rows = (
        candidates.filter(~Exists(existing_call))
        .order_by("pk")
        .values_list(
            "pk",
            "discharged_on",
            "responsible_nurse_id",
            "responsible_nurse__is_active",
            "patient__preferred_call_time",
            "risk_tier",  # the stay's, carried by its calls (FollowUpCall.risk_tier)
        )
    )
    # A few discharges (one registered or imported now) in one round trip;
    # the weekly run's thousands streamed through a server-side cursor.
    small = discharge_ids is not None and len(discharge_ids) <= CHUNK_SIZE
    rows = list(rows) if small else rows.iterator(chunk_size=CHUNK_SIZE)
    created = missed = 0
    batch: list = []
    copying, missed_status = writer.copying, FollowUpCall.Status.MISSED
    # The rows come from a server-side cursor (PostgreSQL): it is closed here,
    # also when planning a call fails, before the department's savepoint is
    # rolled back -- closed later, it would abort the caller's transaction.
    try:
        for pk, discharged_on, nurse_id, nurse_active, preferred, tier in rows:
            plan = planner.plan(discharged_on)
            moment, moment_text = planner.moment(plan.day, preferred)
            nurse = assigner.pick(nurse_id, nurse_active)
            if copying:  # one text line per call (digits, ISO dates and fixed words; the tier escaped all the same)
                batch.append(
                    f"{pk}\t{plan.copy_text}\t{moment_text}\t{_COPY_NULL if nurse is None else nurse}\t{plan.status}"
                    f"\t{_copy_text(tier)}\n"
                )
            else:
                batch.append((pk, step.pk, plan.due, plan.earliest, plan.latest, moment, nurse, plan.status, tier))
            if plan.status == missed_status:
                missed += 1
            else:
                created += 1
            if len(batch) >= CHUNK_SIZE:
                writer.add(batch)
                batch = []
        writer.add(batch)
    finally:
        if not small:
            rows.close()
    return GenerationResult(created=created, already_present=present, missed=missed)


def _audit_generation(
    *, actor: "User | str", department: Department, monday: dt.date, result: GenerationResult
) -> None:
    if result.created or result.missed:
        audit_change(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            object_type="call",
            object_id="",
            note=f"generated {result.created} calls and {result.missed} missed for the week of {monday.isoformat()} "
            f"in department {department.pk}",
        )


@transaction.atomic
def _generate_department(
    *,
    department: Department,
    scope,
    low: dt.date,
    monday: dt.date,
    sunday: dt.date,
    today: dt.date,
    ids,
    actor: "User | str",
) -> GenerationResult:
    """One department's calls, in one transaction (a savepoint inside a
    caller's): all of them or none."""
    _lock_department(department.pk)
    rules = list(department.rules.filter(is_active=True).prefetch_related("steps"))
    assigner = _Assigner(department=department, monday=monday, sunday=sunday)
    writer = _CallWriter(department_id=department.pk)
    result = GenerationResult()
    for rule, applies in rules_in_precedence(rules):
        for step in rule.steps.all():
            result += _generate_step(
                step=step,
                applies=applies,
                department=department,
                scope=scope,
                low=low,
                high=sunday,
                planner=_Planner(step=step, today=today),
                assigner=assigner,
                discharge_ids=ids,
                writer=writer,
            )
    writer.flush()
    _audit_generation(actor=actor, department=department, monday=monday, result=result)
    return result


def generate_calls(
    *,
    week: dt.date,
    discharges: Iterable[Discharge | int] | None = None,
    department_ids: Iterable[int] | None = None,
    catch_up_days: int = CATCH_UP_DAYS,
    today: dt.date | None = None,
    actor: "User | str" = "system",
) -> GenerationResult:
    """Create the missing calls due in the ISO week holding ``week`` (any day
    of it) and catch up on the earlier ones; limited to ``discharges`` when
    given (a list of discharges or their ids) and to the departments of
    ``department_ids`` when given. Idempotent.

    ``today`` (default: today in the hospital's time zone) decides which
    calls are already past their lateness limit; the demo data passes the
    Monday of each past week to replay the weekly runs.

    The audit trail gets one row per department that got new calls, naming
    ``actor`` (the weekly task, the feed or the user who registered the
    discharge) and the counts; each call's ``created_at`` says when it came."""
    monday, sunday = week_bounds(week)
    # A discharge registered or imported late gets every past call recorded
    # (missed or still in time) however old; the weekly run over all
    # discharges looks back ``catch_up_days``.
    low = dt.date(1900, 1, 1) if discharges is not None else monday - dt.timedelta(days=catch_up_days)
    today = today or timezone.localdate()
    ids = None if discharges is None else [d.pk if isinstance(d, Discharge) else d for d in discharges]
    scope = _callable_discharges(ids)
    result = GenerationResult()
    departments = Department.objects.filter(rules__is_active=True)
    if discharges is not None:
        departments = departments.filter(discharges__in=scope)
    if department_ids is not None:
        departments = departments.filter(pk__in=list(department_ids))
    departments = departments.distinct().order_by("pk")
    unanalyzed = 0
    for department in departments:
        try:
            done = _generate_department(
                department=department,
                scope=scope,
                low=low,
                monday=monday,
                sunday=sunday,
                today=today,
                ids=ids,
                actor=actor,
            )
        except (OperationalError, InterfaceError):
            raise  # the database went away: every department would fail; the run stops and is run again
        except Exception:
            # A broken rule stops its own department only (its calls are
            # rolled back with its savepoint); the others go on.
            logger.exception("Call generation failed for department %s (id %s)", department.code, department.pk)
            result += GenerationResult(failed_departments=(department.code,))
            continue
        result += done
        unanalyzed += done.created + done.missed
        if connection.vendor == "postgresql" and unanalyzed >= ANALYZE_AFTER:
            # Fresh statistics, so the next department's anti-join, the next
            # run's and the worklist's queries are planned for the rows just
            # added, not for an empty table; autovacuum may not analyze a
            # large table again before a tenth of it changes.
            refresh_statistics(FollowUpCall)
            unanalyzed = 0
    return result


def calls_follow_stays(*, discharge_ids: Iterable[int]) -> int:
    """The calls of these stays take their stay's department where it is no
    longer theirs (the stay was moved to another ward): a call's department
    (FollowUpCall.department) is always its stay's. Returns how many moved.
    Call it after saving a change of a stay's department."""
    ids = list(discharge_ids)
    if not ids:
        return 0
    stay_department = Discharge.objects.filter(pk=OuterRef("discharge_id")).values("department_id")[:1]
    return (
        FollowUpCall.objects.filter(discharge_id__any=ids)
        .exclude(department_id=F("discharge__department_id"))
        .update(department_id=Subquery(stay_department))
    )


@transaction.atomic
def calls_reopen(*, discharge: Discharge, actor: "User | str", today: dt.date | None = None) -> int:
    """The hospital sent a discharge it had cancelled (A11/A13) again: the
    calls cancelled with it are planned again, as a generation today would
    plan them from its (possibly corrected) discharge date: scheduled, or
    missed when already past their lateness limit, each assigned afresh.
    Calls cancelled for another reason (a death, a refusal, a readmission)
    stay cancelled, and so does everything when the stay no longer gets
    calls (the patient died or declined, a later stay superseded it).
    Returns how many calls were reopened; generate_calls then adds any the
    stay never had."""
    today = today or timezone.localdate()
    if not _callable_discharges([discharge.pk]).exists():
        return 0
    calls = list(
        FollowUpCall.objects.select_for_update(of=("self",))
        .filter(
            discharge=discharge,
            status=FollowUpCall.Status.CANCELLED,
            cancel_reason=FollowUpCall.CancelReason.DISCHARGE_CANCELLED,
            step__isnull=False,
            step__rule__is_active=True,
        )
        .select_related("step", "discharge__patient", "discharge__responsible_nurse")
        .order_by("pk")
    )
    if not calls:
        return 0
    monday, sunday = week_bounds(today)
    assigner = _Assigner(department=discharge.department, monday=monday, sunday=sunday)
    now = timezone.now()
    for call in calls:
        planner = _Planner(step=call.step, today=today)
        stay = call.discharge
        plan = planner.plan(stay.discharged_on)
        nurse = stay.responsible_nurse
        FollowUpCall.objects.filter(pk=call.pk).update(
            due_date=plan.due,
            earliest_on=plan.earliest,
            latest_on=plan.latest,
            scheduled_for=planner.moment(plan.day, stay.patient.preferred_call_time)[0],
            next_attempt_on=None,
            callback_at=None,
            assigned_to_id=assigner.pick(nurse.pk if nurse else None, nurse.is_active if nurse else None),
            status=plan.status,
            cancel_reason="",
            version=F("version") + 1,
            updated_at=now,
        )
    audit_changes(
        actor=actor,
        object_type="call",
        objects=[(call.pk, discharge.patient_id) for call in calls],
        fields=["status", "cancel_reason", "due_date", "scheduled_for", "assigned_to"],
        note="reopened: discharge sent again",
    )
    return len(calls)


__all__ = ["CATCH_UP_DAYS", "GenerationResult", "calls_reopen", "generate_calls", "parse_iso_week", "place_call"]
