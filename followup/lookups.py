"""``field__any=ids``: the field's value is one of ``ids`` (a list).

The same rows as ``__in``, written for the long lists of ids the bulk
services pass (a chunk of a file, the stays an import registered): on
PostgreSQL the list travels as one array parameter, ``col = ANY(%s)``,
where ``__in`` writes one placeholder per value. At 10,000 ids Django then
prepares 10,000 parameters and psycopg splits a query string of 10,000
placeholders, for every such query. Elsewhere (SQLite) it is ``IN (...)``.
"""

from django.db.models import Field, ForeignObject, Lookup


class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if not values:
            return "1 = 0", []  # nothing is one of no value
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return f"{lhs} IN ({', '.join(['%s'] * len(values))})", [*lhs_params, *values]


Field.register_lookup(Any)
ForeignObject.register_lookup(Any)  # relations keep their own lookups: ``discharge_id__any=ids``
