"""Queries built and compiled by the ORM once per shape, then run with each
view's values (the head nurse's dashboard: calls/dashboard/selectors.py).

Every view of the dashboard sends the same statements with other dates and
departments. Building them (filters, conditional sums) and compiling them
to SQL cost the page more than PostgreSQL takes to answer most of them from
the summary tables, so a statement is built once per process and shape (the
query, the figures' source, the number of departments) with ``Slot``
placeholders where the values go, and kept as SQL text, parameters and the
ORM's converters of its columns. A view fills in its values and runs it
(``Params.rows``): the same SQL the ORM would send, the rows as
``QuerySet.values()`` gives them.
"""

import datetime as dt
from collections.abc import Callable

from django.db import connection
from django.db.models import DateField, DateTimeField, Expression, IntegerField, QuerySet, Value

_prepared: dict[tuple, tuple] = {}


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
    return IntegerField()  # an id (None: no department, no id)


class Params:
    """One view's values, and the Slots that stand for them in statements
    built once (``params["name"]``): a date, a datetime or an id; a list of
    ids gives a list of Slots (its length is part of a statement's shape).
    An empty list: one id of NULL, which matches nothing (an ``__in`` of no
    value is no statement at all)."""

    def __init__(self, **values):
        self.values, self.slots, lengths = {}, {}, []
        for name, value in values.items():
            if isinstance(value, list | tuple):
                ids = list(value) or [None]
                self.slots[name] = [Slot(f"{name}_{i}", _field(v)) for i, v in enumerate(ids)]
                self.values |= {f"{name}_{i}": v for i, v in enumerate(ids)}
                lengths.append(len(ids))
            else:
                self.slots[name] = Slot(name, _field(value))
                self.values[name] = value
        self.shape = (connection.alias, connection.vendor, *lengths)

    def __getitem__(self, name: str):
        return self.slots[name]

    def rows(self, key: tuple, build: Callable[[], QuerySet]) -> list[dict]:
        """The rows of ``build()``, a ``values()`` query built from this
        object's Slots. ``key`` names the statement among every caller's
        (begin it with the caller's name) with everything its SQL depends on
        but the Slots' values (the dashboard's source, for one): a statement
        is built for the first key of its kind and reused for the same key.
        The shapes are few (a head nurse has a few departments), so the
        statements are kept for the life of the process."""
        key = (*self.shape, *key)
        prepared = _prepared.get(key)
        if prepared is None:
            query = build().query
            compiler = query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
            converters = list(compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]).items())
            prepared = _prepared[key] = (sql, tuple(params), names, converters)
        sql, params, names, converters = prepared
        values = [
            p.field.get_db_prep_value(self.values[p.name], connection) if isinstance(p, _Named) else p for p in params
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            found = cursor.fetchall()
        if converters:
            found = [list(row) for row in found]
            for row in found:
                for pos, (convs, expression) in converters:
                    for converter in convs:
                        row[pos] = converter(row[pos], expression, connection)
        return [dict(zip(names, row, strict=True)) for row in found]

    def total(self, key: tuple, queryset: Callable[[], QuerySet], **aggregates) -> dict:
        """``queryset().aggregate(**aggregates)``, prepared: the aggregates
        over every row (a constant group, which is no GROUP BY; no ordering,
        as aggregate() drops it)."""
        return self.rows(
            key, lambda: queryset().order_by().values(_all=Value(1)).annotate(**aggregates).values(*aggregates)
        )[0]
