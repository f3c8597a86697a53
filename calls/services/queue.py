"""Generating the week's follow-up calls from the discharges and the rules.

``generate_calls(week=...)`` creates every missing call whose due date falls
in that ISO week (Monday-Sunday in the hospital's time zone), plus the calls
of the earlier weeks (up to ``CATCH_UP_DAYS`` back) that were never created:
those still inside their lateness limit are scheduled, those past it are
recorded as missed so nothing is silently dropped.

Safe to run twice and concurrently: the unique constraint
``call_unique_discharge_step`` and a conflict-ignoring ``bulk_create`` make
duplicates impossible; on PostgreSQL a transaction-scoped advisory lock per
department also serialises overlapping runs so each run's counts are exact.

The work is done per rule step in SQL (only discharges still missing that
step's call are read, so an immediate re-run reads nothing) and the rows are
streamed in chunks, so memory stays flat in the number of discharges.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from followup import access
from followup.audit import audit_change, audit_changes
from followup.models import AuditEvent, User
from followup.roles import Role

from ..models import Department, Discharge, FollowUpCall, FollowUpRule, RuleStep

CATCH_UP_DAYS = 42  # how far back a run looks for calls that were never created
CHUNK_SIZE = 2000
SMALL_INSERT = 50  # calls inserted with one plain INSERT rather than through COPY (PostgreSQL)
ANALYZE_AFTER = 10_000  # calls created in one run before the table's statistics are refreshed (PostgreSQL)
_LOCK_NAMESPACE = 73_301  # first key of pg_advisory_xact_lock(int, int)


@dataclass(frozen=True)
class GenerationResult:
    """``created``: new scheduled calls; ``missed``: new calls recorded as
    missed (past their lateness limit); ``already_present``: calls that
    existed before this run."""

    created: int = 0
    already_present: int = 0
    missed: int = 0

    def __add__(self, other: "GenerationResult") -> "GenerationResult":
        return GenerationResult(
            self.created + other.created, self.already_present + other.already_present, self.missed + other.missed
        )


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the ISO week holding ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


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


class _Planner:
    """Caches the calendar arithmetic of one step: many discharges share a
    discharge date, and many calls the same day and time."""

    def __init__(self, *, step: RuleStep, today: dt.date):
        self.step = step
        self.today = today
        self.zone = timezone.get_default_timezone()
        self._days: dict[dt.date, tuple] = {}
        self._moments: dict[tuple[dt.date, dt.time], dt.datetime] = {}

    def dates(self, discharged_on: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date, bool]:
        found = self._days.get(discharged_on)
        if found is None:
            step = self.step
            due = discharged_on + dt.timedelta(days=step.offset_days)
            latest = due + dt.timedelta(days=step.late_days)
            missed = latest < self.today
            day = place_call(step=step, due=due, not_before=due if missed else self.today)
            found = (due, due - dt.timedelta(days=step.early_days), latest, day, missed)
            self._days[discharged_on] = found
        return found

    def moment(self, day: dt.date, preferred: dt.time | None) -> dt.datetime:
        step = self.step
        at = preferred if preferred is not None and step.window_start <= preferred < step.window_end else None
        at = at or step.window_start
        found = self._moments.get((day, at))
        if found is None:
            found = self._moments[(day, at)] = dt.datetime.combine(day, at, tzinfo=self.zone)
        return found


class _Assigner:
    """Responsible nurse if active, else the department's least-loaded active
    nurse by calls due that week (ties: lowest id), else nobody."""

    def __init__(self, *, department: Department, monday: dt.date, sunday: dt.date):
        self.department, self.monday, self.sunday = department, monday, sunday
        self._load: dict[int, int] | None = None

    @property
    def load(self) -> dict[int, int]:
        """Read when the first call needs a nurse (a re-run that creates none reads nothing)."""
        if self._load is None:
            # Counted per nurse over that week's calls only (the nurse's index),
            # not over every call she ever had: the cost stays flat as history grows.
            week = (
                FollowUpCall.objects.filter(assigned_to=OuterRef("pk"), due_date__range=(self.monday, self.sunday))
                .order_by()
                .values("assigned_to")
                .annotate(n=Count("pk"))
                .values("n")
            )
            nurses = (
                access.ward_staff([self.department.pk], roles=[Role.NURSE])
                .order_by()
                .annotate(load=Coalesce(Subquery(week), 0))
                .values_list("pk", "load")
            )
            self._load = dict(nurses)
        return self._load

    def pick(self, responsible_id: int | None, responsible_active: bool | None) -> int | None:
        if responsible_id is not None and responsible_active:
            chosen = responsible_id
        elif self.load:
            chosen = min(self.load, key=lambda pk: (self.load[pk], pk))
        else:
            return None
        if chosen in self.load:
            self.load[chosen] += 1
        return chosen


def _lock_department(department_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, department_id])


def _callable_discharges(discharge_ids: list[int] | None):
    later_admission = Discharge.objects.filter(patient=OuterRef("patient"), admitted_on__gt=OuterRef("admitted_on"))
    base = Discharge.objects.filter(
        archived=False,
        patient__archived=False,
        patient__deceased_on__isnull=True,
        patient__declined_calls_on__isnull=True,
    ).exclude(Exists(later_admission))
    if discharge_ids is not None:
        base = base.filter(pk__in=discharge_ids)
    return base


_INSERT_COLUMNS = (
    "discharge_id",
    "step_id",
    "due_date",
    "earliest_on",
    "latest_on",
    "scheduled_for",
    "assigned_to_id",
    "status",
)


def _insert_ignoring_conflicts(rows: list[tuple]) -> None:
    """Insert new calls (tuples in ``_INSERT_COLUMNS`` order); a call that
    already exists for the discharge and step is skipped by the unique
    constraint ``call_unique_discharge_step``, never duplicated.

    On PostgreSQL the rows are streamed with COPY into a temporary table and
    moved with one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: the
    Python side of ``bulk_create`` (model instances, per-value adaptation,
    client-side quoting) costs several times the database's own work at
    100,000 calls. Elsewhere (SQLite), and for the few calls of a discharge
    just registered (where the temporary table's three statements cost more
    than they save), ``bulk_create(ignore_conflicts=True)``.
    """
    if connection.vendor != "postgresql" or len(rows) <= SMALL_INSERT:
        FollowUpCall.objects.bulk_create(
            [FollowUpCall(**dict(zip(_INSERT_COLUMNS, row, strict=True))) for row in rows], ignore_conflicts=True
        )
        return
    table = FollowUpCall._meta.db_table
    quote = connection.ops.quote_name
    defaults, params = _column_defaults()
    columns = ", ".join(quote(c) for c in (*_INSERT_COLUMNS, *defaults))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS calls_new_call (discharge_id bigint, step_id bigint, "
            "due_date date, earliest_on date, latest_on date, scheduled_for timestamptz, assigned_to_id bigint, "
            "status varchar(20)) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy(f"COPY calls_new_call ({', '.join(_INSERT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        placeholders = ", ".join(["%s"] * len(params))
        # Identifiers come from the model; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {quote(table)} ({columns}) "  # noqa: S608  # nosec B608
            f"SELECT {', '.join(_INSERT_COLUMNS)}, {placeholders} FROM calls_new_call ON CONFLICT DO NOTHING",
            params,
        )
        cursor.execute("TRUNCATE calls_new_call")


def _column_defaults() -> tuple[list[str], list]:
    """The other columns of a new call and their values, from the model (so a
    field added later with a default is filled in too)."""
    now = timezone.now()
    names, values = [], []
    for field in FollowUpCall._meta.concrete_fields:
        if field.primary_key or field.attname in _INSERT_COLUMNS:
            continue
        names.append(field.column)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
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
) -> GenerationResult:
    offset = dt.timedelta(days=step.offset_days)
    candidates = scope.filter(applies, department=department, discharged_on__range=(low - offset, high - offset))
    existing_call = FollowUpCall.objects.filter(discharge=OuterRef("pk"), step=step)
    present = FollowUpCall.objects.filter(step=step, due_date__range=(low, high))
    if discharge_ids is not None:
        present = present.filter(discharge_id__in=discharge_ids)
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
        )
    )
    # A few discharges (one registered or imported now) in one round trip;
    # the weekly run's thousands streamed through a server-side cursor.
    small = discharge_ids is not None and len(discharge_ids) <= CHUNK_SIZE
    rows = list(rows) if small else rows.iterator(chunk_size=CHUNK_SIZE)
    created = missed = 0
    batch: list[tuple] = []
    scheduled, missed_status = FollowUpCall.Status.SCHEDULED, FollowUpCall.Status.MISSED
    for pk, discharged_on, nurse_id, nurse_active, preferred in rows:
        due, earliest, latest, day, is_missed = planner.dates(discharged_on)
        batch.append(
            (
                pk,
                step.pk,
                due,
                earliest,
                latest,
                planner.moment(day, preferred),
                assigner.pick(nurse_id, nurse_active),
                missed_status if is_missed else scheduled,
            )
        )
        if is_missed:
            missed += 1
        else:
            created += 1
        if len(batch) >= CHUNK_SIZE:
            _insert_ignoring_conflicts(batch)
            batch = []
    if batch:
        _insert_ignoring_conflicts(batch)
    return GenerationResult(created=created, already_present=present, missed=missed)


def _audit_generation(
    *, actor: "User | str", department: Department, monday: dt.date, before: GenerationResult, after: GenerationResult
) -> None:
    created, missed = after.created - before.created, after.missed - before.missed
    if created or missed:
        audit_change(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            object_type="call",
            object_id="",
            note=f"generated {created} calls and {missed} missed for the week of {monday.isoformat()} "
            f"in department {department.pk}",
        )


def generate_calls(
    *,
    week: dt.date,
    discharges: Iterable[Discharge | int] | None = None,
    catch_up_days: int = CATCH_UP_DAYS,
    today: dt.date | None = None,
    actor: "User | str" = "system",
) -> GenerationResult:
    """Create the missing calls due in the ISO week holding ``week`` (any day
    of it) and catch up on the earlier ones; limited to ``discharges`` when
    given (a list of discharges or their ids). Idempotent.

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
    # Every active rule with its department and steps, in two queries.
    active = FollowUpRule.objects.filter(is_active=True)
    if discharges is not None:  # the given stays' wards (each step's query checks which stays still get calls)
        active = active.filter(department__in=Discharge.objects.filter(pk__in=ids).values("department_id"))
    by_department: dict[int, list[FollowUpRule]] = {}
    for rule in active.select_related("department").prefetch_related("steps").order_by("department_id", "name"):
        by_department.setdefault(rule.department_id, []).append(rule)
    for rules in by_department.values():
        department = rules[0].department
        # Each department in a transaction of its own when run alone (the
        # weekly task); inside a caller's transaction (a discharge being
        # registered) no savepoint: nobody in between catches an error.
        with transaction.atomic(savepoint=False):
            _lock_department(department.pk)
            assigner = _Assigner(department=department, monday=monday, sunday=sunday)
            before = result
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
                    )
            _audit_generation(actor=actor, department=department, monday=monday, before=before, after=result)
    if connection.vendor == "postgresql" and result.created + result.missed >= ANALYZE_AFTER:
        # Fresh statistics, so the next run's anti-join (and the worklist's
        # queries) are planned for the rows just added, not for an empty
        # table; autovacuum would get there only a minute or so later.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(FollowUpCall._meta.db_table)}")
    return result


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
        due, earliest, latest, day, missed = planner.dates(stay.discharged_on)
        nurse = stay.responsible_nurse
        FollowUpCall.objects.filter(pk=call.pk).update(
            due_date=due,
            earliest_on=earliest,
            latest_on=latest,
            scheduled_for=planner.moment(day, stay.patient.preferred_call_time),
            next_attempt_on=None,
            assigned_to_id=assigner.pick(nurse.pk if nurse else None, nurse.is_active if nurse else None),
            status=FollowUpCall.Status.MISSED if missed else FollowUpCall.Status.SCHEDULED,
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


__all__ = [
    "CATCH_UP_DAYS",
    "GenerationResult",
    "calls_reopen",
    "generate_calls",
    "parse_iso_week",
    "place_call",
    "week_bounds",
]
