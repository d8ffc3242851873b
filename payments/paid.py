"""Who hears that an invoice is paid (DESIGN §6, §8): apps above payments act on a paid
invoice of their kind without payments importing them (STYLE §7), the way payments
subscribes to rotations' lifecycle.

``payments.settlement.mark_installment_paid`` calls ``announce(invoice)`` once, inside
its transaction, when the last open installment of ``invoice`` is paid. Apps subscribe
in their ``AppConfig.ready()``::

    paid.on(InvoiceKind.LOR_FEE, lor.services.release_after_payment)

A handler is called as ``handler(invoice)`` inside the payment's transaction: what it
writes commits or rolls back with the payment. Only the invoice's own kind is called.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

_handlers: dict[str, list[Callable]] = {}


def on(kind: str, handler: Callable) -> Callable:
    """Subscribe ``handler`` to invoices of ``kind`` becoming paid (once)."""
    handlers = _handlers.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)
    return handler


def announce(invoice) -> None:
    """Call every handler of ``invoice.kind`` with the invoice, inside the payment's
    transaction (a call outside one is a programming error)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("paid.announce() must run inside the payment's transaction.")
    for handler in tuple(_handlers.get(invoice.kind, ())):
        handler(invoice)
