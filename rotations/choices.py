"""Fixed lists for attendings and rotations (DESIGN §4, §5)."""

from django.db import models


class Credential(models.TextChoices):
    MD = "MD", "MD"
    DO = "DO", "DO"


class PracticeSetting(models.TextChoices):
    UNIVERSITY = "university", "University-affiliated hospital"
    COMMUNITY = "community", "Community hospital"
    PRIVATE_CLINIC = "private_clinic", "Private clinic"


class CareSetting(models.TextChoices):
    INPATIENT = "inpatient", "Inpatient"
    OUTPATIENT = "outpatient", "Outpatient"
    BOTH = "both", "Inpatient and outpatient"


class RotationType(models.TextChoices):
    CLERKSHIP = "clerkship", "Clerkship"
    ELECTIVE = "elective", "Elective (students only)"
    EXTERNSHIP = "externship", "Externship (graduates only, hands-on)"
    OBSERVERSHIP = "observership", "Observership (not hands-on)"


# Which student kinds may take which rotation type (§5).
TYPES_FOR_KIND = {
    "ims": {RotationType.CLERKSHIP, RotationType.ELECTIVE, RotationType.OBSERVERSHIP},
    "img": {RotationType.CLERKSHIP, RotationType.EXTERNSHIP, RotationType.OBSERVERSHIP},
}


# Hands-on rotation types: the student takes part in care. Observerships only watch (§5).
HANDS_ON_TYPES = frozenset({RotationType.CLERKSHIP, RotationType.ELECTIVE, RotationType.EXTERNSHIP})


class CurrentStudents(models.TextChoices):
    """Which current students (IMS) an attending takes for a rotation type (§13)."""

    NONE = "none", "Not accepted"
    FINAL_YEAR = "final_year", "Final year only"
    ANY = "any", "Any year"


class Graduates(models.TextChoices):
    """Which graduates (IMG) an attending takes for a rotation type (§13)."""

    NONE = "none", "Not accepted"
    WITHIN_YEARS = "within_years", "Graduated within a number of years"
    ANY = "any", "Any graduation year"


class Mode(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    TELE = "tele", "Tele-rotation"


class Payer(models.TextChoices):
    SELF = "self", "I pay"
    SCHOOL = "school", "My school pays"


class Plan(models.TextChoices):
    FULL = "full", "Pay in full"
    TWO_PAYMENT = "two_payment", "Two payments"
    WEEKLY = "weekly", "Weekly installments"


class PaymentMethod(models.TextChoices):
    PAYPAL = "paypal", "Card or PayPal"
    ZELLE = "zelle", "Zelle"
    WIRE = "wire", "Wire transfer"


class RotationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CANCELLED = "cancelled", "Cancelled"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"


class CancellationCause(models.TextChoices):
    """Why an approved rotation was cancelled (DESIGN §15): the student's own choice
    follows the organization's cancellation schedule; the others are refund protection
    (everything paid goes back to where it came from, payments.refunds)."""

    STUDENT = "student", "The student cancelled"
    ATTENDING = "attending", "The attending cancelled"
    NO_SHOW = "no_show", "The attending did not show up"
    VISA_REFUSED = "visa_refused", "The student's visa was refused"


# Causes whose cancellation refunds everything paid, card fees included (§15).
REFUND_PROTECTED_CAUSES = (
    CancellationCause.ATTENDING,
    CancellationCause.NO_SHOW,
    CancellationCause.VISA_REFUSED,
)


# A student may hold at most one of these over any week (§5 overlap rule).
ACTIVE_STATUSES = (
    RotationStatus.REQUESTED,
    RotationStatus.APPROVED,
    RotationStatus.IN_PROGRESS,
    RotationStatus.ON_HOLD,
)
# Rotations that hold capacity in the attending's weeks.
BOOKED_STATUSES = (RotationStatus.APPROVED, RotationStatus.IN_PROGRESS, RotationStatus.ON_HOLD)


class DateChangeStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


US_STATES = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"),
    ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
    ("DC", "District of Columbia"), ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"),
    ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"), ("KS", "Kansas"),
    ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"), ("MD", "Maryland"),
    ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"), ("MS", "Mississippi"),
    ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"),
    ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"),
    ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"), ("OK", "Oklahoma"),
    ("OR", "Oregon"), ("PA", "Pennsylvania"), ("RI", "Rhode Island"), ("SC", "South Carolina"),
    ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"),
    ("VT", "Vermont"), ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"),
    ("WI", "Wisconsin"), ("WY", "Wyoming"), ("PR", "Puerto Rico"),
]  # fmt: skip


class NpiVerifiedBy(models.TextChoices):
    """Who put the "NPI verified" mark on an attending (DESIGN §15)."""

    REGISTRY = "registry", "NPPES registry"
    MANUAL = "manual", "An admin, manually"


class NpiCheckStatus(models.TextChoices):
    PENDING = "pending", "Checking the registry"
    VERIFIED = "verified", "Verified"
    MISMATCH = "mismatch", "Does not match"
    UNREACHABLE = "unreachable", "Registry unreachable"
