"""One row of a model with the rows joined to it, read by a fixed statement.

The ORM builds and compiles a queryset on every call: for the few statements a hot path
runs on every request (an enrolment's course and child, the signed-in user, the session)
that compiling was a third of the request's Python (issue 20). ``Rows`` writes the
statement once, prepares it once per connection (``portal.prepared``; the parameters'
types are those of the columns they are compared with) and makes the model instances as
``select_related`` would.
"""

from django.db import connection

from portal import prepared


class Rows:
    """A fixed statement that reads one row of a model with rows joined to it, and makes
    the model instances as ``select_related`` would (from_db, each field's converters from
    the database, the relations cached), without building and compiling a queryset on
    every call (issue 20: a third of an enrolment's Python was the ORM compiling the same
    few queries). ``tables``: [(alias, model, join)], the first the row's own ("FROM"),
    then a join each ("JOIN ... ON ..."/"LEFT JOIN ..."; a left join's missing row is
    None); ``links``: [(alias, field name, alias)], the relation of the first alias's
    instance to cache as the second's (a reverse one-to-one by its related name);
    ``extra``: [(name, sql)] more columns, set as attributes of the first instance;
    ``where``: the condition (the parameters given to ``get``: the extra columns', then
    the condition's). A table without a model is joined only (a many-to-many's)."""

    def __init__(self, tables, links, where, extra=()):
        self.tables, self.links, self.extra = tables, links, list(extra)
        self.where = where
        self._sql = None

    def _prepare(self):
        # built in locals and published together, the statement last: a thread that sees
        # ``_sql`` set sees the shapes and links made with it (a threaded server's first
        # requests may prepare at once; each then publishes the same)
        select, shapes = [], []
        for alias, model, _join in self.tables:
            if model is None:  # a join only (a many-to-many's table)
                continue
            fields = model._meta.concrete_fields
            select += [f'{alias}."{f.column}"' for f in fields]
            converters = _converters(fields, alias)
            names = [f.attname for f in fields]
            pk_at = names.index(model._meta.pk.attname)
            shapes.append((alias, model, names, converters, pk_at))
        # the relations to cache, looked up once: (alias, field or reverse rel, alias)
        models = {alias: model for alias, model, _join in self.tables}
        links = [(alias, models[alias]._meta.get_field(name), other)
                 for alias, name, other in self.links]  # fmt: skip
        select += [sql for _name, sql in self.extra]
        joins = " ".join(join for _alias, _model, join in self.tables)
        self._shapes, self._links = shapes, links
        self._sql = f"SELECT {', '.join(select)} FROM {joins} WHERE {self.where}"

    def get(self, params):
        """The first instance with the others cached on it; None when no row matches."""
        if self._sql is None:
            self._prepare()
        # prepared once per connection: PostgreSQL plans a statement of several joins
        # and subqueries in about as long as it runs it (portal.prepared)
        row = prepared.fetch(self._sql, params, one=True)
        return None if row is None else self.make(row)

    def make(self, row):
        """The instances of one row of the statement (``get``), the first returned; a left
        join's missing row (its primary key NULL) is None, and no instance is made of it."""
        made, at, alias_db = {}, 0, connection.alias
        for alias, model, names, converters, pk_at in self._shapes:
            values = row[at : at + len(names)]
            at += len(names)
            if values[pk_at] is None:
                made[alias] = None
                continue
            made[alias] = model.from_db(alias_db, names, _converted(values, converters))
        for alias, field, other in self._links:  # a field, or a reverse one-to-one's rel
            if made[alias] is not None:  # a left join's missing row has nothing to cache
                field.set_cached_value(made[alias], made[other])
        first = made[self.tables[0][0]]
        for (name, _sql), value in zip(self.extra, row[at:], strict=True):
            setattr(first, name, value)
        return first


def _converters(fields, alias: str) -> list:
    """[(index, [(converter, column)])] of the fields that have any: what the ORM applies
    to a value read from the database (the backend's and the field's own, e.g. a JSON
    field's text)."""
    out = []
    for i, f in enumerate(fields):
        col = f.get_col(alias)
        convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if convs:
            out.append((i, [(convert, col) for convert in convs]))
    return out


def _converted(values, converters):
    if not converters:
        return values
    values = list(values)
    for i, convs in converters:
        for convert, col in convs:
            values[i] = convert(values[i], col, connection)
    return values


_INSTANCE_SHAPES = {}


def instance(model, fields, values):
    """An instance of ``model`` from the values of ``fields`` (concrete fields, in the order
    of ``values``) as one row of a raw statement read them, converted as the ORM converts
    them; a field left out is deferred. For a statement that reads more than ``Rows``
    writes (a page's one query with its aggregates: institutions.selectors.public_detail)."""
    key = (model, tuple(f.attname for f in fields))
    shape = _INSTANCE_SHAPES.get(key)
    if shape is None:
        shape = _INSTANCE_SHAPES[key] = ([f.attname for f in fields], _converters(fields, "t"))
    names, converters = shape
    return model.from_db(connection.alias, names, _converted(values, converters))
