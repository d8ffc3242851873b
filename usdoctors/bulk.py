"""Writing many rows' own values in one statement.

Django's ``bulk_update`` (and any ``Case(When(pk=…))``) builds an ORM expression per row:
about a millisecond a row in Python, half a minute for a sweep's backlog of 100,000.
``update_each`` writes the same in one UPDATE whose SQL is put together directly: on
PostgreSQL an ``UPDATE … FROM (VALUES …)`` joined on the id, elsewhere (SQLite, for
``make run``) a ``CASE`` on the id, in chunks under SQLite's limit of bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import connection, models

SQLITE_ROWS_PER_STATEMENT = 500


def update_each(
    rows: Iterable[models.Model], fields: Iterable[str], *, same: Mapping | None = None
) -> int:
    """Write each of ``rows``' (instances of one model) own values of ``fields``, and the
    ``same`` values (field name → value) to all of them, in one UPDATE (a few on SQLite).
    Returns how many rows the database changed."""
    rows = list(rows)
    if not rows:
        return 0
    meta = type(rows[0])._meta
    own = [meta.get_field(name) for name in fields]
    shared = [(meta.get_field(name), value) for name, value in (same or {}).items()]
    if connection.vendor == "postgresql":
        return _update_from_values(meta, rows, own, shared)
    step = SQLITE_ROWS_PER_STATEMENT
    return sum(
        _update_by_case(meta, rows[start : start + step], own, shared)
        for start in range(0, len(rows), step)
    )


def _prepared(field, value):
    return field.get_db_prep_save(value, connection)


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _update_from_values(meta, rows, own, shared) -> int:
    quote = connection.ops.quote_name
    pk = meta.pk
    names = ["pk", *(f"v{n}" for n in range(len(own)))]
    assignments = [
        f"{quote(field.column)} = CAST(v.v{n} AS {field.db_type(connection)})"
        for n, field in enumerate(own)
    ] + [f"{quote(field.column)} = %s" for field, _ in shared]
    row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
    params = [_prepared(field, value) for field, value in shared]
    for row in rows:
        params.append(_prepared(pk, row.pk))
        params.extend(_prepared(field, getattr(row, field.attname)) for field in own)
    return _execute(
        f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(assignments)} "
        f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({', '.join(names)}) "
        f"WHERE t.{quote(pk.column)} = CAST(v.pk AS {pk.db_type(connection)})",
        params,
    )


def _update_by_case(meta, rows, own, shared) -> int:
    quote = connection.ops.quote_name
    pk = quote(meta.pk.column)
    assignments, params = [], []
    for field in own:
        assignments.append(
            f"{quote(field.column)} = CASE {pk} "
            + " ".join(["WHEN %s THEN %s"] * len(rows))
            + " END"
        )
        for row in rows:
            params += [row.pk, _prepared(field, getattr(row, field.attname))]
    for field, value in shared:
        assignments.append(f"{quote(field.column)} = %s")
        params.append(_prepared(field, value))
    params += [row.pk for row in rows]
    return _execute(
        f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} "
        f"WHERE {pk} IN ({', '.join(['%s'] * len(rows))})",
        params,
    )
