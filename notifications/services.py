"""Writing and delivering outbox emails (DESIGN §9).

``notify`` writes a row inside the caller's transaction and asks Celery to deliver it
once that transaction commits. If the broker is unreachable the row simply waits:
``retry_unsent`` (a periodic sweep) delivers it later. ``deliver`` locks the row and
sends only rows still pending, so a retried task never sends the same email twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.email_types import check_context
from notifications.models import OutboundEmail
from usdoctors.links import organization_url

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def notify(
    organization,
    recipient: str,
    template: str,
    context: dict | None = None,
    *,
    dedupe_key: str = "",
) -> OutboundEmail:
    """Queue ``emails/<template>`` for ``recipient``; with a dedupe key, at most once ever.

    ``context`` must be JSON: ids, strings and URLs, never model instances. The template
    must be registered in ``notifications.email_types`` and the context carry every key
    it lists, else ValueError (a programming error, raised before anything is written).
    """
    context = context or {}
    check_context(template, context)
    if dedupe_key:
        existing = OutboundEmail.objects.filter(
            organization=organization, dedupe_key=dedupe_key
        ).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                organization=organization,
                recipient=recipient,
                template=template,
                context=context,
                dedupe_key=dedupe_key,
            )
    except IntegrityError:  # a concurrent writer queued the same dedupe key first
        return OutboundEmail.objects.get(organization=organization, dedupe_key=dedupe_key)
    transaction.on_commit(lambda: enqueue_delivery(email.organization_id, email.pk))
    return email


def notify_many(organization, rows: Iterable[tuple[str, str, dict, str]]) -> list[int]:
    """Queue many emails at once, for sweeps (DESIGN §9: a bounded number of queries per
    batch): ``rows`` are ``(recipient, template, context, dedupe_key)``, each dedupe key
    non-empty. One INSERT … ON CONFLICT DO NOTHING writes them (a key already queued is
    skipped) and names the rows it wrote; only when some key was queued before does one
    SELECT find which of those are still pending. One task per batch delivers them all
    after commit. Returns the ids of the pending rows for those keys."""
    rows = list(rows)
    for _, template, context, dedupe_key in rows:
        check_context(template, context)  # no query: a programming error, raised first
        if not dedupe_key:
            raise ValueError("notify_many needs a dedupe key on every row.")
    if not rows:
        return []
    written = _insert_skipping_duplicates(organization, rows)
    ids = list(written.values())
    queued_before = {key for _, _, _, key in rows if key not in written}
    if queued_before:  # a run repeated, or a task lost: deliver what is still pending
        ids += (
            queued_with_keys(organization, queued_before)
            .filter(status=OutboundEmail.Status.PENDING)
            .values_list("pk", flat=True)
        )
    if ids:
        transaction.on_commit(lambda: enqueue_batch_delivery(organization.pk, ids))
    return ids


def queued_with_keys(organization, keys: Iterable[str]):
    """The organization's outbox rows with any of these dedupe keys. The unique index on
    (organization, dedupe_key) holds only rows with a key, and PostgreSQL sees that it
    answers a long list of keys only when the query says so too (``dedupe_key <> ''``):
    thousands of keys are then read off that index instead of every row."""
    return OutboundEmail.objects.filter(organization=organization, dedupe_key__in=keys).exclude(
        dedupe_key=""
    )


def _insert_skipping_duplicates(
    organization, rows: list[tuple[str, str, dict, str]]
) -> dict[str, int]:
    """One INSERT … ON CONFLICT DO NOTHING of the outbox rows; ``{dedupe key: id}`` of the
    rows it wrote. On PostgreSQL the values go straight to the driver (``execute_values``):
    a sweep writes thousands per batch, and building model instances for them cost more
    than the insert itself. SQLite (``make run``) does not say which rows a skipping
    insert wrote: ``{}``, and ``notify_many`` reads back every key's pending row."""
    if connection.vendor != "postgresql":
        OutboundEmail.objects.bulk_create(
            [
                OutboundEmail(
                    organization=organization,
                    recipient=recipient,
                    template=template,
                    context=context,
                    dedupe_key=dedupe_key,
                )
                for recipient, template, context, dedupe_key in rows
            ],
            ignore_conflicts=True,
        )
        return {}
    from psycopg2.extras import Json, execute_values

    now = timezone.now()
    table = OutboundEmail._meta.db_table
    with connection.cursor() as cursor:
        written = execute_values(
            cursor.cursor,
            f"INSERT INTO {table} (organization_id, recipient, template, context, dedupe_key, "
            "status, attempts, last_error, created_at) VALUES %s ON CONFLICT DO NOTHING "
            "RETURNING dedupe_key, id",
            [
                (
                    organization.pk,
                    recipient,
                    template,
                    Json(context),
                    dedupe_key,
                    "pending",
                    0,
                    "",
                    now,
                )
                for recipient, template, context, dedupe_key in rows
            ],
            page_size=len(rows),
            fetch=True,
        )
    return dict(written)


def enqueue_batch_delivery(organization_id: int, email_ids: list[int]) -> None:
    from notifications.tasks import deliver_emails

    try:
        deliver_emails.delay(organization_id, email_ids)
    except Exception:  # broker down: the rows stay pending for the retry sweep
        logger.warning(
            "Could not enqueue %s emails; the retry sweep will send them.", len(email_ids)
        )


# Who an organization's admins are is accounts' knowledge, and notifications sits below
# accounts (STYLE §1): accounts hands over its lookup in AccountsConfig.ready().
AdminsLookup = Callable[[Any], Iterable[tuple[int, str]]]  # organization -> (id, email)s
_admins_lookup: AdminsLookup | None = None


def register_admins_lookup(lookup: AdminsLookup) -> None:
    """Called once by accounts at start-up: each admin's membership id and email."""
    global _admins_lookup
    _admins_lookup = lookup


def notify_admins(organization, template: str, context: dict, *, dedupe_key: str) -> list:
    """Queue one email per admin of the organization, each deduplicated on its own."""
    check_context(template, context)  # also when the organization has no admin yet
    return [
        notify(organization, email, template, context, dedupe_key=key)
        for email, template, context, key in admin_rows(
            admin_recipients(organization), template, context, dedupe_key=dedupe_key
        )
    ]


def admin_recipients(organization) -> list[tuple[int, str]]:
    """The organization's admins as ``(membership id, email)``, in one query: what a
    sweep looks up once per run to write its admin emails in bulk (``admin_rows``)."""
    if _admins_lookup is None:
        raise ImproperlyConfigured(
            "No admins lookup registered: accounts registers it in AccountsConfig.ready()."
        )
    return list(_admins_lookup(organization))


def admin_rows(admins, template: str, context: dict, *, dedupe_key: str) -> list[tuple]:
    """``notify_many`` rows for one email to each of ``admins`` (``admin_recipients``),
    each deduplicated on its own exactly as ``notify_admins`` does."""
    return [
        (email, template, context, f"{dedupe_key}:admin:{membership_id}")
        for membership_id, email in admins
    ]


def enqueue_delivery(organization_id: int, email_id: int) -> None:
    from notifications.tasks import deliver_email

    try:
        deliver_email.delay(organization_id, email_id)
    except Exception:  # broker down: the row stays pending for the retry sweep
        logger.warning("Could not enqueue email %s; the retry sweep will send it.", email_id)


def render(email: OutboundEmail) -> EmailMultiAlternatives:
    context = {
        **email.context,
        "organization_name": email.organization.name,
        "site_url": organization_url(email.organization),
    }
    prefix = f"emails/{email.template}"
    subject = " ".join(render_to_string(f"{prefix}.subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{prefix}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.recipient],
        headers={"X-USDoctors-Email-Id": str(email.pk)},
    )
    message.attach_alternative(render_to_string(f"{prefix}.html", context), "text/html")
    return message


def deliver(email_id: int) -> bool:
    """Send one pending email. Returns True if this call sent it."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update()
            .select_related("organization")
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return False
        email.attempts += 1
        try:
            render(email).send()
        except Exception as error:  # SMTP or template trouble: keep it for the sweep
            logger.exception("Sending email %s failed", email.pk)
            email.last_error = repr(error)[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
            email.save(update_fields=["attempts", "last_error", "status"])
            return False
        email.status = OutboundEmail.Status.SENT
        email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "status", "sent_at"])
        return True


def retry_unsent(organization, *, batch_size: int = 200) -> int:
    """Deliver the organization's emails still pending after the grace period.

    The grace period leaves freshly written rows to the task enqueued at commit.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.OUTBOX_RETRY_AFTER_SECONDS)
    pending = (
        OutboundEmail.objects.filter(
            organization=organization, status=OutboundEmail.Status.PENDING, created_at__lte=cutoff
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    return sum(deliver(email_id) for email_id in list(pending))
