"""Walking rows in ``(field, id)`` order, batch after batch (the sweeps, STYLE §6): each
batch starts after the last key the one before took, so it reads on through the index
instead of passing again the rows the batches before handled (and left behind there)."""

from __future__ import annotations

from django.db.models import Q


def after(field: str, key: tuple | None) -> Q:
    """The rows after ``key`` (a ``(field value, id)`` pair) in ``(field, id)`` order;
    every row when ``key`` is None. The ``>=`` adds nothing to the answer; it gives the
    database a bound on ``field`` to start its index scan from."""
    if key is None:
        return Q()
    value, pk = key
    return Q(**{f"{field}__gte": value}) & (
        Q(**{f"{field}__gt": value}) | Q(**{field: value, "pk__gt": pk})
    )


def last_key(rows, field: str) -> tuple:
    """The ``(field value, id)`` key of the last of ``rows``, for ``after``."""
    return getattr(rows[-1], field), rows[-1].pk
