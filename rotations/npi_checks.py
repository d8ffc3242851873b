"""Checking attendings' NPIs against the public NPPES registry (DESIGN §15).

The rules:

- A check compares the registry's record with the attending: the NPI must belong to an
  active individual (NPI-1); the registry's first and last name must both be in the
  attending's display name (letters compared without case, accents or punctuation;
  titles and credentials such as "Dr." and "MD" ignored); and one of the record's
  taxonomies must be one of our specialty's NUCC codes (``SPECIALTY_TAXONOMIES``).
- Verified → the attending's NPI is marked verified *by the registry*, dated now.
  Does not match → any mark is taken off (the registry answered, and it disagrees), and
  the reasons are kept for the admins; an admin who knows better may still mark it by
  hand. Unreachable → nothing about the attending changes: no new mark, and an existing
  one (dated) stays; the admins see "registry unreachable".
- An answer about a number the attending has since changed is kept on the check but
  says nothing about the attending.
- Calls never happen inside a transaction: asking for a check writes a ``pending``
  ``NpiCheck`` (at most one per attending), a task calls the registry after commit and
  records the outcome; a check already answered is never answered again, so a retried
  or repeated task changes nothing.
- Yearly: every attending whose NPI was last settled (the registry answered, or an admin
  marked it) more than a year ago is checked again (``queue_stale_checks``, daily).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from accounts.choices import Specialty
from accounts.models import Membership
from rotations import nppes
from rotations.choices import NpiCheckStatus, NpiVerifiedBy
from rotations.models import AttendingProfile, NpiCheck
from usdoctors.errors import Conflict, NotAllowed

logger = logging.getLogger(__name__)

RECHECK_AFTER = timedelta(days=365)
BATCH_SIZE = 500
# A pending check older than this lost its task (a broker outage): the sweep sends it again.
LOST_AFTER = timedelta(minutes=30)

# Our specialties as NUCC health care provider taxonomy codes (nucc.org, "Allopathic &
# Osteopathic Physicians", 207*/208*). A record matches when any of its taxonomies is
# listed for the attending's specialty: attendings often list a subspecialty first
# (an internist's primary taxonomy may be 207RC0000X, cardiovascular disease), so each
# specialty lists its general code and the subspecialties that practise it.
SPECIALTY_TAXONOMIES: dict[str, frozenset[str]] = {
    Specialty.INTERNAL_MEDICINE: frozenset(
        {
            "207R00000X",  # Internal Medicine
            "207RH0002X",  # Hospice and Palliative Medicine
            "207RG0300X",  # Geriatric Medicine
            "207RH0003X",  # Hematology & Oncology
            "207RC0000X",  # Cardiovascular Disease
            "207RG0100X",  # Gastroenterology
            "207RN0300X",  # Nephrology
            "207RP1001X",  # Pulmonary Disease
            "207RI0200X",  # Infectious Disease
            "207RC0200X",  # Critical Care Medicine
        }
    ),
    Specialty.FAMILY_MEDICINE: frozenset(
        {"207Q00000X", "207QA0505X", "207QG0300X", "207QS0010X", "207QH0002X"}
    ),
    Specialty.PEDIATRICS: frozenset({"208000000X", "2080P0216X", "2080N0001X", "2080A0000X"}),
    Specialty.PSYCHIATRY: frozenset(
        {"2084P0800X", "2084P0804X", "2084P0805X", "2084A0401X", "2084F0202X"}
    ),
    Specialty.NEUROLOGY: frozenset({"2084N0400X", "2084N0402X", "2084V0102X", "2084N0600X"}),
    Specialty.SURGERY: frozenset(
        {"208600000X", "2086S0122X", "2086S0127X", "2086S0129X", "2086X0206X", "208G00000X"}
    ),
    Specialty.EMERGENCY_MEDICINE: frozenset(
        {"207P00000X", "207PE0004X", "207PP0204X", "207PT0002X"}
    ),
    Specialty.RADIOLOGY: frozenset(
        {"2085R0202X", "2085R0204X", "2085N0700X", "2085P0229X", "2085R0001X"}
    ),
    Specialty.ANESTHESIOLOGY: frozenset({"207L00000X", "207LC0200X", "207LP2900X"}),
    Specialty.CARDIOLOGY: frozenset(
        {"207RC0000X", "207RI0011X", "207RC0001X", "207RA0001X", "207RA0002X"}
    ),
    Specialty.OB_GYN: frozenset({"207V00000X", "207VM0101X", "207VG0400X", "207VX0201X"}),
    Specialty.PATHOLOGY: frozenset({"207ZP0102X", "207ZP0101X", "207ZP0105X", "207ZH0000X"}),
    Specialty.GASTROENTEROLOGY: frozenset({"207RG0100X", "2080P0206X"}),
    Specialty.NEPHROLOGY: frozenset({"207RN0300X", "2080P0210X"}),
    Specialty.ONCOLOGY: frozenset({"207RH0003X", "207RH0000X", "207RX0202X", "2080P0207X"}),
    Specialty.PULMONOLOGY: frozenset({"207RP1001X", "207RC0200X", "2080P0214X"}),
    Specialty.DERMATOLOGY: frozenset({"207N00000X", "207ND0101X", "207NP0225X"}),
    Specialty.INFECTIOUS_DISEASE: frozenset({"207RI0200X", "2080P0208X"}),
}
# Words in a display name that are not part of the person's name.
TITLES = frozenset({"dr", "doctor", "md", "do", "mbbs", "phd", "facp", "facs", "mph", "jr", "sr"})


def name_words(value: str) -> list[str]:
    """``value`` as lower-case words without accents or punctuation ("Dr. José O'Neil,
    MD" → ["jose", "oneil"]): how names are compared."""
    plain = unicodedata.normalize("NFKD", value or "")
    plain = "".join(char for char in plain if not unicodedata.combining(char)).casefold()
    plain = re.sub(r"['’.]", "", plain)
    return [word for word in re.split(r"[^a-z0-9]+", plain) if word and word not in TITLES]


def judge(attending: AttendingProfile, answer: dict) -> list[str]:
    """Why the registry's ``answer`` does not match ``attending`` (empty: it matches)."""
    if answer.get("Errors"):
        said = "; ".join(str(error.get("description", "")) for error in answer["Errors"])
        return [f"The registry refused the number: {said}".strip()]
    results = answer.get("results") or []
    if not answer.get("result_count") or not results:
        return [f"The registry has no provider with NPI {attending.npi}."]
    record = results[0]
    basic = record.get("basic") or {}
    reasons = []
    if record.get("enumeration_type") and record["enumeration_type"] != "NPI-1":
        reasons.append("The NPI belongs to an organization, not to a physician.")
    if basic.get("status") and basic["status"] != "A":
        reasons.append("The registry lists this NPI as not active.")
    registry_name = " ".join(filter(None, [basic.get("first_name"), basic.get("last_name")]))
    ours = set(name_words(attending.display_name))
    theirs = name_words(basic.get("first_name", "")) + name_words(basic.get("last_name", ""))
    if not theirs or not set(theirs) <= ours:
        reasons.append(
            f"The name differs: the registry has “{registry_name.title() or 'no name'}”, "
            f"the profile says “{attending.display_name}”."
        )
    taxonomies = record.get("taxonomies") or []
    codes = {str(taxonomy.get("code", "")).upper() for taxonomy in taxonomies}
    if not codes & SPECIALTY_TAXONOMIES.get(attending.specialty, frozenset()):
        listed = ", ".join(
            f"{taxonomy.get('desc', '?')} ({taxonomy.get('code', '?')})" for taxonomy in taxonomies
        )
        reasons.append(
            f"The specialty differs: the profile says {attending.get_specialty_display()}, "
            f"the registry lists {listed or 'no taxonomy'}."
        )
    return reasons


# --- Asking -----------------------------------------------------------------------------


@transaction.atomic
def request_check(attending: AttendingProfile, *, by: Membership) -> NpiCheck:
    """An admin asks the registry about the attending's NPI ("Check in registry").

    Writes a pending check (or returns the one already pending) and sends the task
    after commit. Admins of the organization only; 409 without an NPI."""
    if not by.is_admin or by.organization_id != attending.organization_id:
        raise NotAllowed("Only this organization's admins check NPIs.", code="not_admin")
    attending = AttendingProfile.objects.select_for_update().get(pk=attending.pk)
    if not attending.npi:
        raise Conflict("This attending has not entered an NPI yet.", code="no_npi")
    check = NpiCheck.objects.filter(attending=attending, status=NpiCheckStatus.PENDING).first()
    if check is None:
        check = NpiCheck.objects.create(
            organization_id=attending.organization_id,
            attending=attending,
            npi=attending.npi,
            requested_by=by,
        )
    _send_after_commit(attending.organization_id, [check.pk])
    return check


def queue_stale_checks(organization, *, now=None) -> int:
    """Yearly re-check, set-based (§15, §9): pending checks for every attending whose NPI
    was last settled more than ``RECHECK_AFTER`` ago and who has none pending, in
    batches of ``BATCH_SIZE``; pending checks whose task was lost are sent again.
    Attendings never checked are not re-checks: admins check new NPIs from their page.
    Returns how many checks were sent."""
    now = now or timezone.now()
    pending = NpiCheck.objects.filter(attending=OuterRef("pk"), status=NpiCheckStatus.PENDING)
    sent = 0
    while True:
        with transaction.atomic():
            due = list(
                AttendingProfile.objects.select_for_update(skip_locked=True)
                .filter(organization=organization, npi_checked_at__lt=now - RECHECK_AFTER)
                .exclude(npi="")
                .exclude(Exists(pending))
                .order_by("npi_checked_at", "pk")
                .values_list("pk", "npi")[:BATCH_SIZE]
            )
            NpiCheck.objects.bulk_create(
                [
                    NpiCheck(organization=organization, attending_id=pk, npi=npi, requested_at=now)
                    for pk, npi in due
                ],
                ignore_conflicts=True,  # one pending per attending: a concurrent sweep won
            )
            ids = list(
                NpiCheck.objects.filter(
                    organization=organization,
                    attending_id__in=[pk for pk, _ in due],
                    status=NpiCheckStatus.PENDING,
                ).values_list("pk", flat=True)
            )
            _send_after_commit(organization.pk, ids)
        sent += len(ids)
        if len(due) < BATCH_SIZE:
            break
    lost = list(
        NpiCheck.objects.filter(
            organization=organization,
            status=NpiCheckStatus.PENDING,
            requested_at__lt=now - LOST_AFTER,
        ).values_list("pk", flat=True)[:BATCH_SIZE]
    )
    _send_after_commit(organization.pk, lost)
    return sent + len(lost)


def _send_after_commit(organization_id: int, check_ids: list[int]) -> None:
    from rotations.tasks import enqueue_npi_checks

    if check_ids:
        transaction.on_commit(lambda: enqueue_npi_checks(organization_id, check_ids))


# --- Answering ----------------------------------------------------------------------------


def run_check(check_id: int) -> str:
    """Ask the registry (outside any transaction) and record the outcome; a check
    already answered is left alone. Returns the check's status."""
    check = NpiCheck.objects.filter(pk=check_id).only("status", "npi").first()
    if check is None or check.status != NpiCheckStatus.PENDING:
        return check.status if check else "missing"
    try:
        answer = nppes.lookup(check.npi)
    except nppes.RegistryUnreachable as unreachable:
        return record_outcome(check_id, None, unreachable=unreachable.detail)
    return record_outcome(check_id, answer)


@transaction.atomic
def record_outcome(check_id: int, answer: dict | None, *, unreachable: str = "") -> str:
    """Record the registry's ``answer`` (None: unreachable, ``unreachable`` says why) on
    the pending check, and apply it to the attending (the module's rules)."""
    check = NpiCheck.objects.select_for_update().filter(pk=check_id).first()
    if check is None or check.status != NpiCheckStatus.PENDING:
        return check.status if check else "missing"
    attending = AttendingProfile.objects.select_for_update().get(pk=check.attending_id)
    now = timezone.now()
    check.checked_at = now
    check.answer = answer
    if answer is None:
        check.status = NpiCheckStatus.UNREACHABLE
        check.reasons = [f"The NPPES registry could not be reached ({unreachable})."]
    else:
        check.reasons = judge(attending, answer)
        check.status = NpiCheckStatus.MISMATCH if check.reasons else NpiCheckStatus.VERIFIED
    check.save(update_fields=["status", "reasons", "answer", "checked_at"])
    if answer is None or attending.npi != check.npi:
        return check.status
    if check.status == NpiCheckStatus.VERIFIED:
        attending.npi_verified_at = now
        attending.npi_verified_by = NpiVerifiedBy.REGISTRY
    else:
        attending.npi_verified_at = None
        attending.npi_verified_by = ""
    attending.npi_checked_at = now
    attending.save(update_fields=["npi_verified_at", "npi_verified_by", "npi_checked_at"])
    return check.status


def last_checks(attendings) -> dict[int, NpiCheck]:
    """Each attending's latest check, by attending id (one query, whatever their number)."""
    latest = (
        NpiCheck.objects.filter(attending=OuterRef("pk"))
        .order_by("-requested_at", "-pk")
        .values("pk")[:1]
    )
    ids = (
        AttendingProfile.objects.filter(pk__in=[attending.pk for attending in attendings])
        .annotate(last_check=Subquery(latest))
        .values("last_check")
    )
    return {check.attending_id: check for check in NpiCheck.objects.filter(pk__in=ids)}
