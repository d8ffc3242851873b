"""Which certificates a student holds on a day, for the eligibility check (DESIGN §13).

Certificates are document types of the catalog (BLS, ACLS, HIPAA and OSHA training,
``catalog.CERTIFICATE_CODES``). A student holds one on a day when their document of that
type is approved and still counts on that day by its type's rule (documents.validity,
judged for a rotation that starts and ends that day): a BLS or ACLS card must carry an
expiry on or after it, a HIPAA or OSHA training must be issued within the year before it.
Registered with rotations.certificates in ``DocumentsConfig.ready``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from django.db import connection
from django.db.models import Exists, Q, TextField
from django.db.models.expressions import RawSQL

from documents.catalog import CATALOG, CERTIFICATE_CODES
from documents.models import Document, DocumentStatus, DocumentType, Validity
from documents.validity import expired_for, one_year_before

TYPES = [(entry[0], entry[1]) for entry in CATALOG if entry[0] in CERTIFICATE_CODES]


def held(students: Sequence, on: date) -> dict[int, set[str]]:
    """``{student id: certificate codes held on ``on``}`` in one query."""
    if not students:
        return {}
    documents = Document.objects.filter(
        organization_id=students[0].organization_id,
        student_id__in=[student.pk for student in students],
        status=DocumentStatus.APPROVED,
        document_type__code__in=CERTIFICATE_CODES,
    ).values_list(
        "student_id",
        "document_type__code",
        "document_type__validity",
        "issued_on",
        "expires_on",
    )
    answer: dict[int, set[str]] = defaultdict(set)
    for student_id, code, validity, issued_on, expires_on in documents:
        if not expired_for(validity, issued_on, expires_on, start=on, end=on):
            answer[student_id].add(code)
    return dict(answer)


def held_sql(student_id: int, code: str, on: date) -> Exists:
    """``held`` as SQL for one student and certificate: an approved document of that type
    that ``documents.validity.expired_for`` would keep for a rotation starting and ending
    ``on`` (no expiry before it; issued within the year before it when the type says so;
    an expiry at all when the type must be valid through the end)."""
    return Exists(
        Document.objects.filter(
            student_id=student_id,
            status=DocumentStatus.APPROVED,
            document_type__code=code,
        ).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=on),
            ~Q(document_type__validity=Validity.ISSUED_WITHIN_YEAR)
            | Q(issued_on__gte=one_year_before(on)),
            ~Q(document_type__validity=Validity.VALID_THROUGH_END) | Q(expires_on__isnull=False),
        )
    )


def held_codes_sql(student_id: int, on: date) -> RawSQL:
    """``held`` for one student as one SQL value: the codes of the certificates held on
    ``on``, joined by commas (NULL when none), by the same rules as ``held_sql``. Search
    annotates the page's profiles with it: one value written as plain SQL costs a
    fraction of four ``Exists`` built through the ORM on every request."""
    document, kind = Document._meta, DocumentType._meta

    def column(meta, name: str) -> str:
        return connection.ops.quote_name(meta.get_field(name).column)

    joined = "string_agg" if connection.vendor == "postgresql" else "group_concat"
    placeholders = ", ".join(["%s"] * len(CERTIFICATE_CODES))
    code, validity = column(kind, "code"), column(kind, "validity")
    expires, issued = column(document, "expires_on"), column(document, "issued_on")
    sql = (
        f"SELECT {joined}(t.{code}, ',') "
        f"FROM {connection.ops.quote_name(document.db_table)} d "
        f"JOIN {connection.ops.quote_name(kind.db_table)} t "
        f"ON t.{column(kind, 'id')} = d.{column(document, 'document_type')} "
        f"WHERE d.{column(document, 'student')} = %s AND d.{column(document, 'status')} = %s "
        f"AND t.{code} IN ({placeholders}) "
        f"AND (d.{expires} IS NULL OR d.{expires} >= %s) "
        f"AND (t.{validity} <> %s OR d.{issued} >= %s) "
        f"AND (t.{validity} <> %s OR d.{expires} IS NOT NULL)"
    )
    params = [
        student_id,
        DocumentStatus.APPROVED.value,
        *sorted(CERTIFICATE_CODES),
        on,
        Validity.ISSUED_WITHIN_YEAR.value,
        one_year_before(on),
        Validity.VALID_THROUGH_END.value,
    ]
    return RawSQL(sql, params, output_field=TextField())
