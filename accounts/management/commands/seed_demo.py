"""Seed the demo organizations and accounts (README lists them). Safe to run again."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.choices import Role, StudentKind, VerificationStatus, VisaStatus
from accounts.models import Membership, StudentProfile, User
from usdoctors.models import Organization

DEMO_PASSWORD = "usdoctors-demo"
ORGANIZATIONS = {"demo": "Demo Rotations Agency", "northside": "Northside Hospital Program"}
STUDENTS = {
    "verified": VerificationStatus.VERIFIED,
    "pending": VerificationStatus.PENDING,
    "incomplete": VerificationStatus.INCOMPLETE,
}
PLATFORM_STAFF_EMAIL = "staff@usdoctors.test"
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def ensure_user(email: str, *, first_name: str = "", last_name: str = "", **extra) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name, **extra}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def ensure_member(organization, user, role, **fields) -> Membership:
    membership, _ = Membership.objects.get_or_create(
        organization=organization, user=user, defaults={"role": role, **fields}
    )
    return membership


class Command(BaseCommand):
    help = "Create the demo and northside organizations with an admin, attendings and students."

    @transaction.atomic
    def handle(self, *args, **options):
        with scopes_disabled():
            ensure_user(PLATFORM_STAFF_EMAIL, is_staff=True, is_superuser=True)
            for slug, name in ORGANIZATIONS.items():
                self.seed_organization(slug, name)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {', '.join(ORGANIZATIONS)}; password '{DEMO_PASSWORD}'."
            )
        )

    def seed_organization(self, slug: str, name: str) -> None:
        organization, _ = Organization.objects.get_or_create(
            slug=slug, defaults={"name": name, "support_email": f"support@{slug}.test"}
        )
        domain = f"{slug}.test"
        ensure_member(
            organization,
            ensure_user(f"admin@{domain}", first_name="Alex", last_name="Admin"),
            Role.ADMIN,
        )
        for number in range(1, 4):
            user = ensure_user(
                f"attending{number}@{domain}", first_name="Dr. Sam", last_name=f"Attending {number}"
            )
            ensure_member(organization, user, Role.ATTENDING)
        for label, status in STUDENTS.items():
            user = ensure_user(f"student.{label}@{domain}")
            membership = ensure_member(organization, user, Role.STUDENT, verification_status=status)
            profile, created = StudentProfile.objects.get_or_create(
                organization=organization, membership=membership
            )
            if created and status != VerificationStatus.INCOMPLETE:
                self.complete_profile(profile, label, slug)
                membership.submitted_at = timezone.now() - timedelta(hours=3)
                if status == VerificationStatus.VERIFIED:
                    membership.submitted_at -= timedelta(days=10)
                    membership.decided_at = membership.submitted_at + timedelta(hours=5)
                membership.save(update_fields=["submitted_at", "decided_at"])

    @staticmethod
    def complete_profile(profile: StudentProfile, label: str, slug: str) -> None:
        profile.full_name = f"{label.title()} Student ({slug})"
        profile.kind = StudentKind.IMG if label == "verified" else StudentKind.IMS
        profile.medical_school = "University of Lagos College of Medicine"
        profile.country = "Nigeria"
        profile.graduation_year = timezone.now().year - (1 if label == "verified" else -1)
        profile.school_contact_email = f"registrar@school-{slug}.test"
        profile.visa_status = VisaStatus.B1_B2
        profile.specialty_interests = ["internal_medicine", "cardiology"]
        profile.phone = "+234 801 234 5678"
        profile.cv.save("cv.pdf", ContentFile(MINIMAL_PDF), save=False)
        profile.save()
