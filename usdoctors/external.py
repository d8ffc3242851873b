"""Calls to services outside our walls (PayPal, the NPPES registry)."""

from django.db import connections


def refuse_inside_transaction(service: str, rule: str) -> None:
    """No call to ``service`` while a database transaction (and its locks) is open:
    ``rule`` records it after commit and a task calls it. Test-case transactions
    (pytest-django's ``db``) are not ours and are ignored."""
    for connection in connections.all(initialized_only=True):
        if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
            raise RuntimeError(
                f"{service} is called after commit ({rule}), never inside a transaction."
            )
