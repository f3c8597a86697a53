"""Queries built and compiled by the ORM once per shape, then run with each
view's values (the head nurse's dashboard: calls/dashboard/selectors.py;
the nurse's worklist: calls/selectors/worklist.py).

Every view of the dashboard sends the same statements with other dates and
departments. Building them (filters, conditional sums) and compiling them
to SQL cost the page more than PostgreSQL takes to answer most of them from
the summary tables, so a statement is built once per process and shape (the
query, the figures' source, the number of departments) with ``Slot``
placeholders where the values go, and kept as SQL text, parameters and the
ORM's converters of its columns. A view fills in its values and runs it
(``Params.rows``): the same SQL the ORM would send, the rows as
``QuerySet.values()`` gives them, or as model instances (``Params.objects``,
with their ``select_related`` relations and annotations).

A statement is the same for every user of a shape: whatever decides what a
user may see must be in the key or in a Slot (the worklist's key names the
user's scope, followup.access.calls_scope, and the number of her departments;
her id and her departments' ids are Slots).
"""

import copy
import datetime as dt
import functools
import re
from collections.abc import Callable
from typing import NamedTuple

from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import (
    CharField,
    DateField,
    DateTimeField,
    Expression,
    IntegerField,
    Model,
    QuerySet,
    Value,
)
from django.db.models.fields import AutoFieldMixin
from django.db.models.query import ModelIterable

_prepared: dict[tuple, "_Statement"] = {}


class _Statement(NamedTuple):
    sql: str
    params: tuple
    names: list[str]
    converters: list  # (position, (converters, expression)) of the columns that have any
    queryset: QuerySet
    compiler: object  # the compiler that wrote ``sql``: its select list and relations, for model instances


class _Named:
    """A parameter the view fills in: its value, prepared for the database as ``field`` prepares it."""

    __slots__ = ("field", "name")

    def __init__(self, name: str, field):
        self.name, self.field = name, field


class Slot(Expression):
    """A value given when the statement runs (``Params.values[name]``)."""

    def __init__(self, name: str, output_field):
        super().__init__(output_field=output_field)
        self.name = name

    def as_sql(self, compiler, connection):
        return "%s", [_Named(self.name, self.output_field)]

    def get_group_by_cols(self):
        return []


def _field(value):
    if isinstance(value, dt.datetime):
        return DateTimeField()
    if isinstance(value, dt.date):
        return DateField()
    if isinstance(value, str):
        return CharField()
    return IntegerField()  # an id or a number (None: no department, no id)


def _listed(name: str, ids) -> dict:
    """A list's values by the names of their Slots; an empty list one NULL."""
    return {f"{name}_{i}": v for i, v in enumerate(list(ids) or [None])}


class Params:
    """One view's values, and the Slots that stand for them in statements
    built once (``params["name"]``): a date, a datetime, a text or a number
    (an id); a list of ids gives a list of Slots (its length is part of a
    statement's shape). An empty list: one id of NULL, which matches nothing
    (an ``__in`` of no value is no statement at all). The Slots are made
    only when a statement is built: a view that runs statements built
    before makes none."""

    def __init__(self, **values):
        self.values, self._given, lengths = {}, values, []
        for name, value in values.items():
            if isinstance(value, list | tuple):
                listed = _listed(name, value)
                self.values |= listed
                lengths.append(len(listed))
            else:
                self.values[name] = value
        self.shape = (connection.alias, connection.vendor, *lengths)

    def __getitem__(self, name: str):
        value = self._given[name]
        if isinstance(value, list | tuple):
            return [Slot(slot, _field(v)) for slot, v in _listed(name, value).items()]
        return Slot(name, _field(value))

    def _statement(self, key: tuple, build: Callable[[], QuerySet]) -> _Statement:
        """The statement of ``key``, built by ``build()`` the first time.
        ``key`` names the statement among every caller's (begin it with the
        caller's name) with everything its SQL depends on but the Slots'
        values (the dashboard's source, the worklist's scope and filters):
        a statement is built for the first key of its kind and reused for
        the same key. The shapes are few (a head nurse has a few
        departments), so the statements are kept for the life of the
        process."""
        key = (*self.shape, *key)
        statement = _prepared.get(key)
        if statement is None:
            queryset = build()
            query = queryset.query
            if query.is_sliced:
                raise ValueError("a prepared statement takes its window when it runs (rows(window=...)), not sliced")
            compiler = query.get_compiler(connection=connection)
            sql, params = _constants_inlined(*compiler.as_sql())
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            converters = list(compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]).items())
            # The compiler gives its rows the converters worked out here, not anew each run.
            compiler.get_converters = lambda _expressions, found=dict(converters): found
            statement = _prepared[key] = _Statement(sql, tuple(params), names, converters, queryset, compiler)
        return statement

    def _bound(self, statement: _Statement, window: tuple[int, int] | None) -> tuple[str, list]:
        """The statement's SQL and this view's parameters; ``window``
        (offset, count): a page of the rows."""
        values = [
            p.field.get_db_prep_value(self.values[p.name], connection) if isinstance(p, _Named) else p
            for p in statement.params
        ]
        if window is None:
            return statement.sql, values
        offset, count = window
        return f"{statement.sql} LIMIT %s OFFSET %s", [*values, int(count), int(offset)]

    def _fetch(self, statement: _Statement, window: tuple[int, int] | None) -> list[tuple]:
        sql, values = self._bound(statement, window)
        with _cursor() as cursor:
            cursor.execute(sql, values)
            return cursor.fetchall()

    def rows(self, key: tuple, build: Callable[[], QuerySet], *, window: tuple[int, int] | None = None) -> list[dict]:
        """The rows of ``build()``, a ``values()`` query built from this
        object's Slots (``_statement`` says how ``key`` names it); ``window``
        (offset, count): only those rows, in the query's order."""
        statement = self._statement(key, build)
        found = self._fetch(statement, window)
        if statement.converters:
            found = [list(row) for row in found]
            for row in found:
                for pos, (convs, expression) in statement.converters:
                    for converter in convs:
                        row[pos] = converter(row[pos], expression, connection)
        return [dict(zip(statement.names, row, strict=True)) for row in found]

    def objects(self, key: tuple, build: Callable[[], QuerySet]) -> list[Model]:
        """The model instances of ``build()``, a query of model rows (with
        its ``select_related`` relations, ``only`` columns and annotations)
        built from this object's Slots, as iterating it would give them."""
        statement = self._statement(key, build)
        found = self._fetch(statement, None)
        if statement.compiler.has_extra_select:  # as Django's execute_sql trims them
            found = [row[: statement.compiler.col_count] for row in found]
        compiler = copy.copy(statement.compiler)  # this run's, with this view's rows
        compiler.execute_sql = lambda *args, **kwargs: [found]
        return list(ModelIterable(_Compiled(statement.queryset, compiler)))

    def total(self, key: tuple, queryset: Callable[[], QuerySet], **aggregates) -> dict:
        """``queryset().aggregate(**aggregates)``, prepared: the aggregates
        over every row (a constant group, which is no GROUP BY; no ordering,
        as aggregate() drops it)."""
        return self.rows(
            key, lambda: queryset().order_by().values(_all=Value(1)).annotate(**aggregates).values(*aggregates)
        )[0]


_PLACEHOLDER = re.compile(r"%[s%]")


def _constants_inlined(sql: str, params) -> tuple[str, list]:
    """On PostgreSQL, the statement with the query's own constants (texts,
    whole numbers, booleans: a status, a time zone, a 1 in EXISTS) written
    into its text as literals; the Slots and every other value stay
    parameters.

    A prepared statement may run on a plan made once for any values of its
    parameters (a generic plan, after five runs). Planned with the open
    statuses as unknown parameters, the head nurse's tab counts took
    PostgreSQL for "any status", walked every call of her ward through the
    department's index (200,000 rows for 4,000: 36 ms instead of 1.4) and
    kept that plan. With the statuses in the text, every plan knows them."""
    if connection.vendor != "postgresql" or not params:  # no parameter: the text is Django's, untouched
        return sql, list(params)
    from psycopg.sql import Literal

    connection.ensure_connection()
    values, kept = iter(params), []

    def put(match: re.Match) -> str:
        if match.group() == "%%":
            return "%%"
        value = next(values)
        if isinstance(value, str):  # a TextChoices member too: its text
            return Literal(str.__str__(value)).as_string(connection.connection).replace("%", "%%")
        if isinstance(value, int):  # an IntegerChoices member and a boolean too
            return Literal(value if type(value) is bool else int(value)).as_string(connection.connection)
        kept.append(value)
        return "%s"

    sql = _PLACEHOLDER.sub(put, sql)
    if next(values, _END) is not _END:
        raise ValueError("the statement has more parameters than placeholders")
    return sql, kept


_END = object()

_inserts: dict[tuple, tuple[str, list]] = {}


def insert_one(obj: Model) -> None:
    """Insert ``obj`` as a new row, as ``obj.save(force_insert=True)`` writes
    it (``auto_now`` and ``auto_now_add`` fields get the time now), by a
    statement written once per model and run prepared (the audit row of a
    page view: building and compiling its INSERT cost the page half a
    millisecond). The instance does not learn the new row's id, and no
    signal is sent; a model whose key is not numbered by the table, or with
    a database default, is refused."""
    model = type(obj)
    key = (connection.alias, connection.vendor, model)
    written = _inserts.get(key)
    if written is None:
        meta = model._meta
        if not isinstance(meta.pk, AutoFieldMixin):
            raise ValueError(f"{model.__name__}: insert_one needs a key the table numbers")
        fields = [f for f in meta.local_concrete_fields if not f.primary_key]
        if any(f.generated or f.has_db_default() for f in fields):
            raise ValueError(f"{model.__name__}: insert_one writes every column itself")
        quote = connection.ops.quote_name
        # Identifiers from the model; every value is a parameter.
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "  # noqa: S608  # nosec B608
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        written = _inserts[key] = (sql, fields)
    sql, fields = written
    values = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]
    with _cursor() as cursor:
        cursor.execute(sql, values)
    obj._state.adding, obj._state.db = False, connection.alias


def _cursor():
    """A cursor to run a statement with. On PostgreSQL, unless
    DB_PREPARED_STATEMENTS is off (settings: the connection's
    ``prepare_threshold`` is then None), one that binds the values on the
    server and has psycopg prepare the statement on the connection the
    first time it runs it: the text is the same for every view, and
    PostgreSQL may then keep its plan instead of planning it every time
    (the call screen's call: 2.2 ms to plan, 0.1 ms to run; prepared, 0.35
    ms in all). Django's own queries bind on the client and are never
    prepared. Django's query log records the statement as a client-side
    cursor would have sent it."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    if getattr(connection.connection, "prepare_threshold", None) is None:
        return connection.cursor()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        cursor = _preparing_cursor_class()(connection.connection)
    return _LoggedStatement(cursor, connection) if connection.queries_logged else connection.make_cursor(cursor)


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


class _LoggedStatement(CursorDebugWrapper):
    """Django's query log for a prepared statement: psycopg keeps no text of
    a statement it runs prepared, which Django's log reads; the log gets
    the statement with its values, as a client-side cursor sends it."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), None):
            return CursorWrapper.execute(self, sql, params)


class _Compiled:
    """What ModelIterable reads of a queryset, with a compiler whose SQL is
    already written."""

    def __init__(self, queryset: QuerySet, compiler):
        self.db, self.model, self._compiler = queryset.db, queryset.model, compiler
        self._known_related_objects = {}
        self.query = self

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self._compiler
