"""Inserting many new rows at once, for the services that write thousands
(a discharge file, the audit rows of a batch).

The rows are plain dicts of column values by attribute name
(``department_id``), not model instances: building a Django instance costs
more than the database spends storing the row. On PostgreSQL they go in with
one ``COPY``, their ids taken from the table's sequence beforehand (one
query); Django's ``bulk_create`` would spend several times the database's
own work in Python (each value prepared, each list of values adapted as an
array), which at 200,000 rows is minutes. Elsewhere (SQLite), and below
``COPY_FROM`` rows, the rows become instances and go in with
``bulk_create``. Either way what ``save()`` would do beyond the row (signals)
does not happen, as with ``bulk_create``; the ``auto_now`` and
``auto_now_add`` fields get the time of the insert.
"""

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Field, JSONField, Model
from django.utils import timezone

COPY_FROM = 100  # fewer rows go in with bulk_create: one statement, no sequence query
# Values psycopg writes as they are (str, int, bool, date, time, aware datetime, None).
_PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "ForeignKey",
    "GenericIPAddressField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
    "TimeField",
}


def defaults(model: type[Model]) -> dict[str, Any]:
    """The value of every concrete field of a new ``model`` row by attribute
    name, as ``model()`` would have it now (a callable default is called
    once for all the rows that share the dict: they replace such a value,
    never change it in place)."""
    return {f.attname: f.get_default() for f in model._meta.concrete_fields}


def _stamped(model: type[Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]


def _adapt(field: Field):
    if field.get_internal_type() in _PLAIN:
        return None
    if isinstance(field, JSONField) and connection.vendor == "postgresql":
        return _json_text(field)
    return lambda value: field.get_db_prep_save(value, connection)  # as the backend adapts it


class JsonText(dict):
    """A JSON object that knows its text: written by insert_rows and
    update_rows without encoding it again (for a value many rows share and a
    cache keeps). Never to be changed in place."""

    __slots__ = ("text",)

    def __init__(self, value: dict, text: str | None = None):
        """``text``: the JSON of ``value`` when the caller has it (else encoded here)."""
        super().__init__(value)
        self.text = json.dumps(value) if text is None else text


def _json_text(field: JSONField):
    """A JSON value as the text PostgreSQL reads into a jsonb column. Rows
    that share one value object (a risk detail many stays have in common)
    have it written once: the text is kept by the object's id, with the
    object, for as long as this adapter lives (one statement)."""
    written: dict[int, tuple[Any, str | None]] = {}

    def adapt(value):
        if type(value) is JsonText and field.encoder is None:
            return value.text
        kept = written.get(id(value))
        if kept is None:
            text = None if value is None else json.dumps(value, cls=field.encoder)
            kept = written[id(value)] = (value, text)
        return kept[1]

    return adapt


def insert_rows(model: type[Model], rows: Sequence[dict[str, Any]], *, ids: bool = True) -> None:
    """Insert ``rows`` (dicts by attribute name; a missing column takes its
    default, keys that are no column are left out). With ``ids`` each dict
    gets the new row's id under the primary key's attribute name; without,
    the table numbers the rows itself."""
    if not rows:
        return
    now = timezone.now()
    stamped = _stamped(model)
    for row in rows:
        for name in stamped:
            row[name] = now
    pk = model._meta.pk
    base = defaults(model)
    if connection.vendor != "postgresql" or len(rows) < COPY_FROM:
        objs = [model(**{name: row.get(name, value) for name, value in base.items()}) for row in rows]
        model._default_manager.bulk_create(objs, batch_size=500)
        if ids:
            for row, obj in zip(rows, objs, strict=True):
                row[pk.attname] = obj.pk
        return
    fields = [f for f in model._meta.concrete_fields if ids or not f.primary_key]
    table, quote = model._meta.db_table, connection.ops.quote_name
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk.column, len(rows)],
            )
            for row, (value,) in zip(rows, cursor.fetchall(), strict=True):
                row[pk.attname] = value
        names = [(f.attname, base[f.attname], _adapt(f)) for f in fields]
        columns = ", ".join(quote(f.column) for f in fields)
        # Identifiers from the model; the values travel as COPY data.
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        row.get(name, default) if adapt is None else adapt(row.get(name, default))
                        for name, default, adapt in names
                    ]
                )


def row_of(obj: Model) -> dict[str, Any]:
    """An instance's column values as insert_rows takes them."""
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


UPDATE_ROWS = 1000  # rows per UPDATE statement


def update_rows(model: type[Model], rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    """Set ``fields`` (attribute names) of the rows whose ids the dicts
    hold, to the dicts' values: one ``UPDATE ... FROM (VALUES ...)`` per
    ``UPDATE_ROWS`` rows. Its cost grows with the rows; Django's
    ``bulk_update`` writes a ``CASE`` with one branch per row, which the
    database tries for every row: quadratic in the batch."""
    if not rows or not fields:
        return
    meta, quote = model._meta, connection.ops.quote_name
    pk = meta.pk
    columns = [pk, *(meta.get_field(name) for name in fields)]
    adapters = [(f.attname, _adapt(f)) for f in columns]
    casts = "(" + ", ".join(f"CAST(%s AS {f.cast_db_type(connection)})" for f in columns) + ")"
    names = ", ".join(quote(f.column) for f in columns)
    table = quote(meta.db_table)
    assign = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPDATE_ROWS):
            part = rows[start : start + UPDATE_ROWS]
            params = [row[name] if adapt is None else adapt(row[name]) for row in part for name, adapt in adapters]
            # Identifiers and types from the model; the values are parameters.
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {', '.join([casts] * len(part))}) "  # noqa: S608  # nosec B608
                f"UPDATE {table} SET {assign} FROM v WHERE {table}.{quote(pk.column)} = v.{quote(pk.column)}",
                params,
            )


# Statistics target of the ANALYZE a long write runs between its steps
# (300 x 10 = 3,000 rows sampled a table, not 30,000): the planner needs the
# tables' sizes and the spread of the keys just written. On a table of 1.4
# million calls the default took 230 ms, this 21 ms. Such statistics are too
# coarse for the pages: with them the head nurse's worklist took 113 ms
# instead of 15, and autovacuum may not analyze a large table again for a
# long while (not before a tenth of it changes). A long write ends with full
# ones.
QUICK_STATISTICS = 10


def refresh_statistics(*models: type[Model], quick: bool = False) -> None:
    """ANALYZE the tables of ``models`` on PostgreSQL after a service wrote
    many rows, so the next statements are planned for them, not for the
    tables before; nothing elsewhere. ``quick``: from a small sample, for a
    step of a long write that ends with full statistics."""
    if connection.vendor != "postgresql":
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if quick:
            cursor.execute(f"SET LOCAL default_statistics_target = {QUICK_STATISTICS}")
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        if quick:
            # SET LOCAL lasts to the end of the outermost transaction: back to the default for the rest of it.
            cursor.execute("SET LOCAL default_statistics_target TO DEFAULT")
