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

from django.db.models import Exists, Q

from documents.catalog import CATALOG, CERTIFICATE_CODES
from documents.models import Document, DocumentStatus, Validity
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
