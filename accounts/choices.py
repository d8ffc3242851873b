"""Fixed lists used across apps (DESIGN §3, §4)."""

from django.db import models


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    ATTENDING = "attending", "Attending physician"
    ADMIN = "admin", "Organization admin"


class VerificationStatus(models.TextChoices):
    INCOMPLETE = "incomplete", "Incomplete"
    PENDING = "pending", "Pending verification"
    NEEDS_INFO = "needs_info", "More information needed"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"


class StudentKind(models.TextChoices):
    IMS = "ims", "Current medical student (IMS)"
    IMG = "img", "Graduate of a medical school (IMG)"


class Step1Result(models.TextChoices):
    NOT_TAKEN = "not_taken", "Not taken"
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class VisaStatus(models.TextChoices):
    NONE = "none", "No US visa"
    B1_B2 = "b1_b2", "B1/B2 visitor"
    J1 = "j1", "J-1"
    F1 = "f1", "F-1"
    H1B = "h1b", "H-1B"
    GREEN_CARD_EAD = "green_card_ead", "Green card / EAD"
    US_CITIZEN = "us_citizen", "US citizen"


class Specialty(models.TextChoices):
    INTERNAL_MEDICINE = "internal_medicine", "Internal medicine"
    FAMILY_MEDICINE = "family_medicine", "Family medicine"
    PEDIATRICS = "pediatrics", "Pediatrics"
    PSYCHIATRY = "psychiatry", "Psychiatry"
    NEUROLOGY = "neurology", "Neurology"
    SURGERY = "surgery", "Surgery"
    EMERGENCY_MEDICINE = "emergency_medicine", "Emergency medicine"
    RADIOLOGY = "radiology", "Radiology"
    ANESTHESIOLOGY = "anesthesiology", "Anesthesiology"
    CARDIOLOGY = "cardiology", "Cardiology"
    OB_GYN = "ob_gyn", "OB/GYN"
    PATHOLOGY = "pathology", "Pathology"
    GASTROENTEROLOGY = "gastroenterology", "Gastroenterology"
    NEPHROLOGY = "nephrology", "Nephrology"
    ONCOLOGY = "oncology", "Hematology/oncology"
    PULMONOLOGY = "pulmonology", "Pulmonology/critical care"
    DERMATOLOGY = "dermatology", "Dermatology"
    INFECTIOUS_DISEASE = "infectious_disease", "Infectious disease"


class TicketCategory(models.TextChoices):
    GENERAL = "general", "General question"
    EMAIL_CHANGE = "email_change", "Change my login email"
    PAYMENT = "payment", "Payments"
    TECHNICAL = "technical", "Something is not working"


class TicketStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    APPROVED = "approved", "Approved"
    CLOSED = "closed", "Closed"
