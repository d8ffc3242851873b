"""May this student take this rotation type with this attending? (DESIGN §13)

``check_eligibility`` answers it; search (``qualifying``) asks the same in SQL. Both start
from the same ``StudentFacts`` so that they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast

from accounts.choices import Step1Result, StudentKind, VerificationStatus, VisaStatus
from accounts.models import Membership
from rotations import certificates
from rotations.choices import (
    HANDS_ON_TYPES,
    TYPES_FOR_KIND,
    CurrentStudents,
    Graduates,
    RotationType,
)
from rotations.models import STEP2CK_PASSING_SCORE, AttendingProfile, Requirement
from rotations.requirements import choose, requirements_for, rows_for
from usdoctors.dates import next_monday
from usdoctors.errors import NotAllowed

# Statuses under which the built-in rule lets nothing hands-on: visitors (§13).
VISITOR_STATUSES = frozenset({VisaStatus.B1_B2})


@dataclass(frozen=True)
class UnmetItem:
    """One thing the student lacks: a stable ``code``, the words for the student, and
    what is needed against what they have."""

    code: str
    message: str
    needed: str
    have: str


@dataclass(frozen=True)
class Eligibility:
    """The answer for one rotation type: eligible when nothing is unmet."""

    rotation_type: str
    on: date
    unmet: tuple[UnmetItem, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.unmet

    @property
    def type_label(self) -> str:
        return RotationType(self.rotation_type).label.split(" (")[0]

    @property
    def messages(self) -> list[str]:
        return [item.message for item in self.unmet]


@dataclass(frozen=True)
class StudentFacts:
    """What the check holds against a requirement: the student's profile, the
    certificates they hold approved on ``on``, and that day."""

    student_id: int | None
    verified: bool
    verification_label: str
    kind: str
    graduation_year: int | None
    step1_result: str
    step2ck_score: int | None
    toefl_score: int | None
    visa_status: str
    certificates: frozenset[str] = field(default_factory=frozenset)
    on: date = field(default_factory=date.today)

    @property
    def final_year(self) -> bool:
        """A current student is in the final year for a rotation when they graduate by
        the end of the year after the one the rotation starts in: graduation year ≤
        start year + 1 (the profile knows the year only)."""
        return (
            self.kind == StudentKind.IMS
            and self.graduation_year is not None
            and self.graduation_year <= self.on.year + 1
        )

    @property
    def years_since_graduation(self) -> int | None:
        """Start year − graduation year, for graduates (None without a graduation year)."""
        if self.graduation_year is None:
            return None
        return self.on.year - self.graduation_year

    @property
    def step1_passed(self) -> bool:
        return self.step1_result == Step1Result.PASS

    @property
    def step2ck_passed(self) -> bool:
        return self.step2ck_score is not None and self.step2ck_score >= STEP2CK_PASSING_SCORE


def student_facts(student: Membership, *, on: date | None = None) -> StudentFacts:
    """The facts of ``student`` for a rotation starting ``on`` (default: next Monday):
    their profile as it stands and the certificates they hold on that day (one query
    for the profile unless loaded, one for the certificates)."""
    on = on or next_monday()
    return facts_from(student, on=on, held=certificates.held_by([student], on)[student.pk])


def held_annotations(facts: StudentFacts) -> dict:
    """``{"held_certificates": codes}``: annotate any query's rows with the certificates
    the student holds, one comma-joined value (search adds it to the page's profiles,
    sparing a query of its own)."""
    return {"held_certificates": certificates.held_codes(facts.student_id, facts.on)}


def with_held_from(facts: StudentFacts, row) -> StudentFacts:
    """``facts`` with the certificates a row annotated by ``held_annotations`` says."""
    from dataclasses import replace

    held = {code for code in (row.held_certificates or "").split(",") if code}
    return replace(facts, certificates=frozenset(held))


def facts_from(student: Membership, *, on: date, held: Iterable[str]) -> StudentFacts:
    profile = getattr(student, "profile", None)
    return StudentFacts(
        student_id=student.pk,
        verified=student.verification_status == VerificationStatus.VERIFIED,
        verification_label=student.get_verification_status_display() or "not submitted",
        kind=getattr(profile, "kind", "") or "",
        graduation_year=getattr(profile, "graduation_year", None),
        step1_result=getattr(profile, "step1_result", Step1Result.NOT_TAKEN),
        step2ck_score=getattr(profile, "step2ck_score", None),
        toefl_score=getattr(profile, "toefl_score", None),
        visa_status=getattr(profile, "visa_status", "") or "",
        certificates=frozenset(held),
        on=on,
    )


def check_eligibility(
    student: Membership,
    attending: AttendingProfile,
    rotation_type: str,
    *,
    on: date | None = None,
    facts: StudentFacts | None = None,
) -> Eligibility:
    """Whether ``student`` may take ``rotation_type`` with ``attending``, for a rotation
    starting ``on`` (default: next Monday), and if not, every unmet item (§13).

    The requirement is the one that applies (rotations.requirements: the attending's,
    else the organization's default, else none). Each rule below that fails adds one
    item (each missing certificate one item), in this order:

    1. ``profile_not_verified``: only a verified profile counts.
    2. ``type_not_for_kind``: electives are for current students (IMS), externships for
       graduates (IMG); clerkships and observerships for both (§5). A profile without a
       kind fits no type.
    3. ``visa_not_hands_on`` (built in): a graduate whose visa status is B-1/B-2 may
       book observerships only; clerkships, electives and externships are hands-on and
       need a status that allows clinical work. The organization relaxes this only by
       writing a reason (``Organization.b1_b2_relaxation_reason``; blank = the rule
       applies). Whatever the mode: a tele-rotation of a hands-on type counts as one.
    4. Who may come. Current students: ``current_students_not_accepted`` when the
       requirement takes none; ``not_final_year`` when it takes the final year only and
       the student graduates after the year following the start's year (graduation
       year > start year + 1). Graduates: ``graduates_not_accepted`` when it takes none;
       ``graduated_too_long_ago`` when it takes graduates within N years and start year
       − graduation year > N (or no graduation year is known).
    5. ``step1_needed``: Step 1 required and the profile's result is not "pass".
    6. ``step2ck_needed``: Step 2 CK required and no score, or a score below the pass
       mark (214) or below the requirement's minimum score when it has one.
    7. ``toefl_needed``: a TOEFL iBT minimum and no score or a lower one (the total
       score: the profile holds one TOEFL score, so there are no per-section minimums).
       It applies to everyone the requirement names, native speakers included.
    8. ``certificate_missing``: for each certificate asked for that the student does not
       hold on ``on``: an approved document of that type still valid on that day
       (documents tells which, rotations.certificates).
    9. ``visa_not_accepted``: the requirement lists visa statuses and the student's is
       not among them (an empty list accepts every status, and a profile without one).

    Eligible when no item is left. Reads the requirement rows (one query) and, unless
    ``facts`` are given, the student's facts (``student_facts``).
    """
    on = on or (facts.on if facts else None) or next_monday()
    facts = facts or student_facts(student, on=on)
    requirement = requirements_for(attending, rotation_type)
    return judge(facts, requirement, rotation_type, attending.organization.b1_b2_relaxation_reason)


def judge(
    facts: StudentFacts, requirement: Requirement, rotation_type: str, relaxation_reason: str
) -> Eligibility:
    """The rules of ``check_eligibility`` over facts and a requirement: no query."""
    items = [
        *_built_in_items(facts, rotation_type, relaxation_reason),
        *_requirement_items(facts, requirement),
    ]
    return Eligibility(rotation_type=rotation_type, on=facts.on, unmet=tuple(items))


def _type_label(rotation_type: str) -> str:
    return RotationType(rotation_type).label.split(" (")[0]


def _visa_label(status: str) -> str:
    return VisaStatus(status).label if status in VisaStatus.values else "no visa status given"


def _built_in_items(facts: StudentFacts, rotation_type: str, relaxation_reason: str):
    label = _type_label(rotation_type)
    if not facts.verified:
        yield UnmetItem(
            "profile_not_verified",
            f"A verified profile is needed; yours is {facts.verification_label.lower()}.",
            needed="a verified profile",
            have=facts.verification_label.lower(),
        )
    if rotation_type not in TYPES_FOR_KIND.get(facts.kind, ()):
        who = {
            StudentKind.IMS: "current students",
            StudentKind.IMG: "graduates",
        }.get(facts.kind, "students who have not said whether they graduated")
        open_to = (
            "current students only"
            if rotation_type == RotationType.ELECTIVE
            else "graduates only"
            if rotation_type == RotationType.EXTERNSHIP
            else "students who say on their profile whether they graduated"
        )
        yield UnmetItem(
            "type_not_for_kind",
            f"{label} rotations are open to {open_to}; your profile says {who}.",
            needed=open_to,
            have=who,
        )
    if (
        facts.kind == StudentKind.IMG
        and facts.visa_status in VISITOR_STATUSES
        and rotation_type in HANDS_ON_TYPES
        and not relaxation_reason.strip()
    ):
        yield UnmetItem(
            "visa_not_hands_on",
            f"Graduates on a B-1/B-2 visa may book observerships only: a {label.lower()} is "
            "hands-on and needs a status that allows clinical work (such as J-1, H-1B or a "
            "green card); you have B1/B2 visitor.",
            needed="a visa status that allows hands-on clinical work",
            have=_visa_label(facts.visa_status),
        )


def _requirement_items(facts: StudentFacts, requirement: Requirement):
    start_year = facts.on.year
    if facts.kind == StudentKind.IMS:
        if requirement.current_students == CurrentStudents.NONE:
            yield UnmetItem(
                "current_students_not_accepted",
                "Graduates only: current students are not accepted for this rotation.",
                needed="a graduate",
                have="a current student",
            )
        elif requirement.current_students == CurrentStudents.FINAL_YEAR and not facts.final_year:
            have = (
                f"graduating in {facts.graduation_year}"
                if facts.graduation_year
                else "no graduation year given"
            )
            yield UnmetItem(
                "not_final_year",
                f"Final-year students only (graduating by {start_year + 1} for a start in "
                f"{start_year}) needed, you have {have}.",
                needed=f"graduating by {start_year + 1}",
                have=have,
            )
    elif facts.kind == StudentKind.IMG:
        if requirement.graduates == Graduates.NONE:
            yield UnmetItem(
                "graduates_not_accepted",
                "Current students only: graduates are not accepted for this rotation.",
                needed="a current student",
                have="a graduate",
            )
        elif requirement.graduates == Graduates.WITHIN_YEARS:
            years = requirement.graduated_within_years
            since = facts.years_since_graduation
            if since is None or since > years:
                have = (
                    f"graduated in {facts.graduation_year}, {since} years before {start_year}"
                    if since is not None
                    else "no graduation year given"
                )
                yield UnmetItem(
                    "graduated_too_long_ago",
                    f"Graduation within {years} year{'s' if years != 1 else ''} of the start "
                    f"needed, you have {have}.",
                    needed=f"graduated in {start_year - years} or later",
                    have=have,
                )
    if requirement.step1_required and not facts.step1_passed:
        have = {Step1Result.FAIL: "a fail", Step1Result.NOT_TAKEN: "not taken it"}.get(
            facts.step1_result, "no result"
        )
        yield UnmetItem(
            "step1_needed",
            f"USMLE Step 1 pass needed, you have {have}.",
            needed="USMLE Step 1 passed",
            have=have,
        )
    if requirement.step2ck_required:
        minimum = max(STEP2CK_PASSING_SCORE, requirement.step2ck_minimum_score or 0)
        score = facts.step2ck_score
        if score is None or score < minimum:
            needed = (
                f"Step 2 CK {minimum}"
                if requirement.step2ck_minimum_score
                else f"Step 2 CK pass ({STEP2CK_PASSING_SCORE} or more)"
            )
            have = f"{score}" if score is not None else "no Step 2 CK score"
            yield UnmetItem(
                "step2ck_needed", f"{needed} needed, you have {have}.", needed=needed, have=have
            )
    if requirement.toefl_minimum is not None:
        score = facts.toefl_score
        if score is None or score < requirement.toefl_minimum:
            have = f"{score}" if score is not None else "no TOEFL score"
            yield UnmetItem(
                "toefl_needed",
                f"TOEFL {requirement.toefl_minimum} needed, you have {have}.",
                needed=f"TOEFL iBT {requirement.toefl_minimum}",
                have=have,
            )
    for code in requirement.certificates or ():
        if code not in facts.certificates:
            name = certificates.name(code)
            yield UnmetItem(
                "certificate_missing",
                f"{name} certificate needed (approved and valid on "
                f"{facts.on:%B} {facts.on.day}, {facts.on.year}), you have none.",
                needed=name,
                have="none approved",
            )
    accepted = requirement.visa_statuses or []
    if accepted and facts.visa_status not in accepted:
        needed = " or ".join(_visa_label(status) for status in accepted)
        have = _visa_label(facts.visa_status)
        yield UnmetItem(
            "visa_not_accepted",
            f"Visa status {needed} needed, you have {have}.",
            needed=needed,
            have=have,
        )


class NotEligible(NotAllowed):
    """A request refused because the student does not qualify: 403 ``not_eligible``,
    listing every unmet item (``details``)."""

    def __init__(self, eligibility: Eligibility):
        label = eligibility.type_label.lower()
        message = f"You do not qualify for this {label} yet: " + " ".join(eligibility.messages)
        super().__init__(message, code="not_eligible")
        self.eligibility = eligibility
        self.details = {
            "rotation_type": eligibility.rotation_type,
            "unmet": [item.__dict__ for item in eligibility.unmet],
        }


def require_eligible(
    student: Membership, attending: AttendingProfile, rotation_type: str, *, on: date
) -> None:
    """Refuse (``NotEligible``) unless the check answers eligible."""
    eligibility = check_eligibility(student, attending, rotation_type, on=on)
    if not eligibility.eligible:
        raise NotEligible(eligibility)


# --- Many attendings at once: search ---------------------------------------------------


def judge_many(
    facts: StudentFacts, organization, attendings: Iterable[AttendingProfile], types_for, rows=None
) -> dict[int, list[Eligibility]]:
    """``{attending id: [Eligibility per type]}`` for a page of attendings, the types of
    each given by ``types_for(attending)``: one query for every requirement row (none
    when the caller read them already: ``rows``, from ``rows_for``)."""
    attendings = list(attendings)
    if rows is None:
        rows = rows_for(organization, [attending.pk for attending in attendings])
    reason = organization.b1_b2_relaxation_reason
    return {
        attending.pk: [
            judge(facts, choose(rows, organization, attending.pk, kind).requirement, kind, reason)
            for kind in types_for(attending)
        ]
        for attending in attendings
    }


def _text(field: str):
    return Cast(field, TextField())


def requirement_matches(facts: StudentFacts) -> Q:
    """The requirement rows ``facts`` satisfy (rules 4–9 of ``check_eligibility``), as a
    filter on ``Requirement``. Uses the aliases ``certificates_text`` and ``visas_text``
    (``_with_texts``). The certificates held are read in SQL, not from ``facts``."""
    match = Q()
    if facts.kind == StudentKind.IMS:
        taken = [CurrentStudents.ANY] + ([CurrentStudents.FINAL_YEAR] if facts.final_year else [])
        match &= Q(current_students__in=taken)
    elif facts.kind == StudentKind.IMG:
        since = facts.years_since_graduation
        graduates = Q(graduates=Graduates.ANY)
        if since is not None:
            graduates |= Q(graduates=Graduates.WITHIN_YEARS, graduated_within_years__gte=since)
        match &= graduates
    if not facts.step1_passed:
        match &= Q(step1_required=False)
    score = facts.step2ck_score
    if score is None or score < STEP2CK_PASSING_SCORE:
        match &= Q(step2ck_required=False)
    else:
        match &= (
            Q(step2ck_required=False)
            | Q(step2ck_minimum_score__isnull=True)
            | Q(step2ck_minimum_score__lte=score)
        )
    if facts.toefl_score is None:
        match &= Q(toefl_minimum__isnull=True)
    else:
        match &= Q(toefl_minimum__isnull=True) | Q(toefl_minimum__lte=facts.toefl_score)
    # The JSON lists are matched as text, as search matches rotation types: a code is
    # quoted inside the list ('"bls"' in '["bls", "acls"]'), on PostgreSQL and SQLite.
    # Whether the student holds a certificate is SQL too (documents answers it,
    # rotations.certificates), so search needs no query of its own for it.
    for code, _name in certificates.choices():
        match &= ~Q(certificates_text__contains=f'"{code}"') | certificates.held_condition(
            facts.student_id, code, facts.on
        )
    visas = Q(visas_text="[]")
    if facts.visa_status:
        visas |= Q(visas_text__contains=f'"{facts.visa_status}"')
    match &= visas
    return match


def _with_texts(rows):
    return rows.alias(certificates_text=_text("certificates"), visas_text=_text("visa_statuses"))


def only_qualifying(attendings, facts: StudentFacts, organization, rotation_type: str = ""):
    """``attendings`` narrowed to those ``qualifying`` allows."""
    return attendings.alias(offered_types_text=_text("rotation_types")).filter(
        qualifying(facts, organization, rotation_type)
    )


def qualifying(facts: StudentFacts, organization, rotation_type: str = "") -> Q:
    """A filter on attending profiles: the attendings for whom ``facts`` qualify for
    ``rotation_type``, or for at least one type they offer when it is empty. The same
    rules as ``check_eligibility``: the built-in ones (1–3) do not depend on the
    attending and are decided here; the requirement's (4–9) are SQL over the row that
    applies: the attending's own (``Exists``), else the organization's default, else the
    built-in fallback, which asks nothing. Needs the alias ``offered_types_text``
    (``only_qualifying``)."""
    types = [rotation_type] if rotation_type else list(RotationType.values)
    reason = organization.b1_b2_relaxation_reason
    matches = requirement_matches(facts)
    answer = Q(pk__isnull=True)  # nobody: a condition that compiles (unlike pk__in=[])
    for kind in types:
        if list(_built_in_items(facts, kind, reason)):
            continue
        own = Requirement.objects.filter(
            organization=organization, attending=OuterRef("pk"), rotation_type=kind
        )
        default = Requirement.objects.filter(
            organization=organization, attending__isnull=True, rotation_type=kind
        )
        applies = Exists(_with_texts(own).filter(matches)) | (
            ~Exists(own) & (Exists(_with_texts(default).filter(matches)) | ~Exists(default))
        )
        answer |= Q(offered_types_text__contains=f'"{kind}"') & applies
    return answer
