"""Which certificates a student holds, told by the app that reviews them (DESIGN §13).

Certificates (BLS, ACLS, HIPAA and OSHA training) are document types that the documents
app reviews; rotations never imports documents (STYLE §7). Instead documents registers,
in its ``AppConfig.ready()``, the certificate types (code and name, fixed: no query) and
one function that answers, for a list of students and a day, the codes each holds on
that day: ``register(types, held)``.

``held(students, on) -> {student id: set of codes}`` must cost one query whatever the
number of students. A student it leaves out holds none. ``held_sql(student_id, code, on)``
answers the same as a condition (an ``Exists``) that SQL can use without a query of its
own: search puts it in its filter and in the query that loads a page. Without a
registration nobody holds any certificate and the list of types is empty, so a
requirement can name none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date

from django.core.exceptions import ValidationError

Held = Callable[[Sequence, date], dict[int, set[str]]]
HeldSql = Callable[[int, str, date], object]

_types: dict[str, str] = {}
_held: list[Held] = []
_held_sql: list[HeldSql] = []
_held_codes_sql: list[Callable[[int, date], object]] = []


def register(
    types: Iterable[tuple[str, str]],
    held: Held,
    held_sql: HeldSql,
    held_codes_sql: Callable[[int, date], object] | None = None,
) -> None:
    """Declare the certificate types (code, name) and who holds them (module docstring).
    ``held_codes_sql(student_id, on)``, optional: the codes held as one SQL value, joined
    by commas (NULL for none)."""
    _types.update(dict(types))
    if held not in _held:
        _held.append(held)
    if held_sql not in _held_sql:
        _held_sql.append(held_sql)
    if held_codes_sql is not None and held_codes_sql not in _held_codes_sql:
        _held_codes_sql.append(held_codes_sql)


def held_codes(student_id: int, on: date):
    """SQL: the codes the student holds on ``on``, joined by commas, as one value (the
    first source that can say it in one value; NULL without one)."""
    from django.db.models import TextField, Value

    if _held_codes_sql:
        return _held_codes_sql[0](student_id, on)
    return Value(None, output_field=TextField())


def held_condition(student_id: int, code: str, on: date):
    """SQL: the student holds ``code`` on ``on`` (a condition for ``filter`` or an
    annotation); never, without a registered source."""
    from django.db.models import Q

    condition = Q(pk__isnull=True)  # false
    for source in _held_sql:
        condition |= Q(source(student_id, code, on))
    return condition


def choices() -> list[tuple[str, str]]:
    """The certificate types as (code, name), in the order registered."""
    return list(_types.items())


def name(code: str) -> str:
    return _types.get(code, code.upper())


def held_by(students: Sequence, on: date) -> dict[int, frozenset[str]]:
    """``{student id: codes held on ``on``}`` for every student given (one query per
    registered source)."""
    answer: dict[int, set[str]] = {student.pk: set() for student in students}
    for source in tuple(_held):
        for student_id, codes in source(students, on).items():
            answer.setdefault(student_id, set()).update(codes)
    return {student_id: frozenset(codes) for student_id, codes in answer.items()}


def validate_certificates(values) -> None:
    """A list of registered certificate codes, each once."""
    known = set(_types)
    if (
        not isinstance(values, list)
        or any(value not in known for value in values)
        or len(set(values)) != len(values)
    ):
        raise ValidationError(
            f"Choose certificates from: {', '.join(known) or 'none are defined'}.",
            code="invalid_certificate",
        )
