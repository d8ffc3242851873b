"""Seed the demo organizations, their accounts, attendings and weeks (README lists them).

It lives in portal, the app on top of every other (STYLE §1): it builds accounts,
rotations, documents and letters. Safe to run again.
"""

import random
from datetime import timedelta
from decimal import Decimal
from functools import cache

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.choices import (
    Role,
    Specialty,
    Step1Result,
    StudentKind,
    VerificationStatus,
    VisaStatus,
)
from accounts.models import Membership, StudentProfile, User
from documents.models import Document, DocumentType, UploadedBy
from documents.review import approve_document, reject_document
from documents.uploads import upload_document
from lor import planner, seasons
from lor import services as letters
from lor.models import Letter, MatchTarget
from reviews import services as reviews
from reviews.models import Review
from rotations.choices import (
    CareSetting,
    CurrentStudents,
    Graduates,
    Mode,
    PracticeSetting,
    RotationStatus,
    RotationType,
)
from rotations.free_weeks import rebuild_free_weeks
from rotations.models import (
    AttendingProfile,
    AvailabilityWeek,
    Evaluation,
    Requirement,
    Rotation,
)
from rotations.services import next_monday
from usdoctors.models import HousingPartner, Organization

# Shown to students on approved in-person rotations (rotations.housing).
DEMO_HOUSING_PARTNERS = [
    {
        "name": "MedStay Residences",
        "url": "https://medstay.example.com/",
        "notes": "Furnished studios by the week, 10 minutes from the hospital. "
        "Mention USDoctors for 10% off.",
    },
    {
        "name": "Campus Guest House",
        "url": "https://guesthouse.example.com/",
        "notes": "Shared rooms near the university hospital; breakfast included.",
    },
]

DEMO_PASSWORD = "usdoctors-demo"
# Admins and platform staff must sign in with an authenticator app (accounts.mfa). The
# demo ones share this published key (README), so anyone trying the demo can add it to
# an app, or run `oathtool --totp -b <key>` / `manage.py demo_totp_code`, for the code.
DEMO_TOTP_SECRET = "USDOCTORSDEMOKEYUSDOCTORSDEMOKEY"
ORGANIZATIONS = {"demo": "Demo Rotations Agency", "northside": "Northside Hospital Program"}
# student.<label>@<slug>.test. Three verified students each see a different search
# (§13): "verified" is a graduate on B-1/B-2 without Step 1 (observerships only),
# "finalyear" a current final-year student with TOEFL 95, "h1b" a graduate with Step 1
# and an H-1B.
STUDENTS = {
    "verified": VerificationStatus.VERIFIED,
    "finalyear": VerificationStatus.VERIFIED,
    "h1b": VerificationStatus.VERIFIED,
    "pending": VerificationStatus.PENDING,
    "incomplete": VerificationStatus.INCOMPLETE,
}
# The figures of the seed catalog of US programs (§13): TOEFL minimums 80–100, Step 1
# required at most university programs, BLS/ACLS, application fees $30–$1,000, housing
# included at some.
TOEFL_MINIMUMS = [None, None, 80, 85, 90, 100]
APPLICATION_FEES = [0, 0, 30, 50, 100, 150, 250, 500, 1000]
PLATFORM_STAFF_EMAIL = "staff@usdoctors.test"
ATTENDINGS_PER_ORGANIZATION = 42  # attending1..attending42@<slug>.test
AVAILABILITY_WEEKS = 26
FIRST_NAMES = [
    "Maria", "James", "Priya", "David", "Aisha", "Michael", "Elena", "Robert", "Mei", "Daniel",
    "Fatima", "Thomas", "Sofia", "Kevin", "Amara", "Brian", "Leila", "Steven", "Nadia", "Carlos",
]  # fmt: skip
LAST_NAMES = [
    "Alvarez", "Chen", "Patel", "Okafor", "Nguyen", "Rossi", "Kim", "Haddad", "Johnson", "Singh",
    "Garcia", "Cohen", "Mensah", "Walker", "Ivanova", "Tanaka", "Brooks", "Rahman", "Lopez", "Shah",
]  # fmt: skip
CITIES = [
    ("Houston", "TX"), ("Dallas", "TX"), ("Miami", "FL"), ("Orlando", "FL"), ("Chicago", "IL"),
    ("Brooklyn", "NY"), ("Rochester", "NY"), ("Newark", "NJ"), ("Atlanta", "GA"),
    ("Los Angeles", "CA"), ("Fresno", "CA"), ("Phoenix", "AZ"), ("Detroit", "MI"),
    ("Cleveland", "OH"), ("Philadelphia", "PA"), ("Baltimore", "MD"), ("Nashville", "TN"),
    ("Charlotte", "NC"), ("Seattle", "WA"), ("Boston", "MA"),
]  # fmt: skip
PRACTICE_KINDS = ["Medical Center", "Health", "Clinic", "Associates", "Medical Group"]
HOSPITAL_KINDS = ["General", "Memorial", "University", "Regional", "Community"]
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


@cache
def demo_password_hash() -> str:
    """Hashed once per run: each hash takes the hasher's full work factor."""
    return make_password(DEMO_PASSWORD)


def ensure_user(email: str, *, first_name: str = "", last_name: str = "", **extra) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name, **extra}
    )
    if created:
        user.password = demo_password_hash()
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def ensure_second_factor(user: User) -> None:
    """An authenticator app with the demo key, unless the account already has one."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)


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
            ensure_second_factor(
                ensure_user(PLATFORM_STAFF_EMAIL, is_staff=True, is_superuser=True)
            )
            for slug, name in ORGANIZATIONS.items():
                self.seed_organization(slug, name)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {', '.join(ORGANIZATIONS)}; password '{DEMO_PASSWORD}'; "
                f"admins' and staff's authenticator key {DEMO_TOTP_SECRET} "
                "(manage.py demo_totp_code prints the current code)."
            )
        )

    def seed_organization(self, slug: str, name: str) -> None:
        organization, _ = Organization.objects.get_or_create(
            slug=slug, defaults={"name": name, "support_email": f"support@{slug}.test"}
        )
        domain = f"{slug}.test"
        if not HousingPartner.objects.filter(organization=organization).exists():
            HousingPartner.objects.bulk_create(
                HousingPartner(organization=organization, order=order, **partner)
                for order, partner in enumerate(DEMO_HOUSING_PARTNERS)
            )
        admin = ensure_user(f"admin@{domain}", first_name="Alex", last_name="Admin")
        admin_membership = ensure_member(organization, admin, Role.ADMIN)
        ensure_second_factor(admin)
        self.seed_attendings(organization, slug)
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
            if label == "verified":
                self.seed_documents(membership, admin_membership)
                self.seed_letters(membership)
                self.seed_match_target(membership)
                self.seed_reviews(membership)
            if label == "h1b":
                self.seed_certificates(membership, admin_membership)

    def seed_attendings(self, organization, slug: str) -> None:
        """attending1..42@<slug>.test with profiles across specialties, states, settings
        and prices, and 26 weeks of availability with gaps. The same slug always draws the
        same data; rows that exist are left alone, so a second run creates nothing."""
        domain = f"{slug}.test"
        rng = random.Random(slug)
        first_week = next_monday()
        profiles = []
        for number in range(1, ATTENDINGS_PER_ORGANIZATION + 1):
            first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if number <= 3:  # the accounts the README names keep their names
                first_name, last_name = "Dr. Sam", f"Attending {number}"
            fields = self.attending_fields(rng, number, first_name, last_name, domain)
            weeks = self.availability(rng, first_week)
            user = ensure_user(
                f"attending{number}@{domain}",
                first_name=first_name if number <= 3 else f"Dr. {first_name}",
                last_name=last_name,
            )
            membership = ensure_member(organization, user, Role.ATTENDING)
            profile, _ = AttendingProfile.objects.get_or_create(
                organization=organization, membership=membership, defaults=fields
            )
            profiles.append((profile, weeks))
        published = set(
            AvailabilityWeek.objects.filter(organization=organization).values_list(
                "attending_id", "week_start"
            )
        )
        AvailabilityWeek.objects.bulk_create(
            AvailabilityWeek(
                organization=organization,
                attending=profile,
                week_start=week_start,
                capacity=capacity,
            )
            for profile, weeks in profiles
            for week_start, capacity in weeks
            if (profile.pk, week_start) not in published
        )
        # Written around the services: count the free runs search reads.
        rebuild_free_weeks([profile.pk for profile, _ in profiles])
        self.seed_requirements(organization, slug, [profile for profile, _ in profiles])

    @staticmethod
    def seed_requirements(organization, slug: str, profiles) -> None:
        """Each attending's requirements for each type they offer, drawn from the seed
        catalog's figures (TOEFL_MINIMUMS, APPLICATION_FEES): Step 1 at most university
        programs, BLS often and ACLS sometimes for hands-on types, housing at some. Its
        own random stream, so the attendings' other data stay as they were. Rows that
        exist are left alone."""
        rng = random.Random(f"{slug}-requirements")
        have = set(
            Requirement.objects.filter(organization=organization).values_list(
                "attending_id", "rotation_type"
            )
        )
        rows = []
        for profile in profiles:
            university = profile.setting == PracticeSetting.UNIVERSITY
            fee = Decimal(rng.choice(APPLICATION_FEES))
            housing = rng.random() < 0.25
            toefl = rng.choice(TOEFL_MINIMUMS)
            for rotation_type in profile.rotation_types:
                hands_on = rotation_type != RotationType.OBSERVERSHIP
                within = rng.random() < 0.3
                certificates = []
                if hands_on and rng.random() < 0.5:
                    certificates.append("bls")
                if hands_on and rng.random() < 0.2:
                    certificates.append("acls")
                row = Requirement(
                    organization=organization,
                    attending=profile,
                    rotation_type=rotation_type,
                    current_students=(
                        CurrentStudents.FINAL_YEAR if rng.random() < 0.3 else CurrentStudents.ANY
                    ),
                    graduates=Graduates.WITHIN_YEARS if within else Graduates.ANY,
                    graduated_within_years=rng.choice([3, 5, 10]) if within else None,
                    step1_required=hands_on and rng.random() < (0.8 if university else 0.3),
                    toefl_minimum=toefl,
                    certificates=certificates,
                    application_fee=fee,
                    housing_included=housing,
                )
                if (profile.pk, rotation_type) not in have:
                    rows.append(row)
        Requirement.objects.bulk_create(rows)

    @staticmethod
    def seed_certificates(student: Membership, admin: Membership) -> None:
        """The H-1B graduate's BLS card, approved through the real services: it counts
        for the attendings who ask for BLS. Left alone once the student has one."""
        types = {t.code: t for t in DocumentType.objects.filter(code="bls")}
        if not types or Document.objects.filter(student=student, document_type__code="bls"):
            return
        today = timezone.localdate()
        document = upload_document(
            student,
            types["bls"],
            SimpleUploadedFile("bls.pdf", MINIMAL_PDF, content_type="application/pdf"),
            issued_on=today - timedelta(days=90),
            expires_on=today + timedelta(days=640),
            uploaded_by=UploadedBy.STUDENT,
        )
        approve_document(document, by=admin)

    @staticmethod
    def attending_fields(rng, number: int, first_name: str, last_name: str, domain: str) -> dict:
        specialty = Specialty.values[number % len(Specialty.values)]
        specialty_label = Specialty(specialty).label
        city, state = rng.choice(CITIES)
        setting = rng.choice(PracticeSetting.values)
        if setting == PracticeSetting.PRIVATE_CLINIC:
            practice_name = f"{last_name} {specialty_label} {rng.choice(PRACTICE_KINDS)}"
            has_residency_program = False
        else:
            practice_name = f"{city} {rng.choice(HOSPITAL_KINDS)} Hospital"
            has_residency_program = rng.random() < 0.6
        npi = valid_npi(rng) if rng.random() < 0.7 else ""
        npi_verified_at = None
        if npi and rng.random() < 0.6:
            npi_verified_at = timezone.now() - timedelta(days=rng.randint(1, 90))
        writes_lors = rng.random() < 0.8
        return {
            "display_name": f"Dr. {first_name.removeprefix('Dr. ')} {last_name}",
            "credentials": rng.choice(["MD", "MD", "DO"]),
            "npi": npi,
            "npi_verified_at": npi_verified_at,
            # Seeded marks stand for an admin's check by hand (§15); the registry check
            # needs the network, so demo data never claims it.
            "npi_verified_by": "manual" if npi_verified_at else "",
            "npi_checked_at": npi_verified_at,
            "specialty": specialty,
            "practice_name": practice_name,
            "setting": setting,
            "care_setting": rng.choice(CareSetting.values),
            "city": city,
            "state": state,
            "has_residency_program": has_residency_program,
            "rotation_types": [value for value in RotationType.values if rng.random() < 0.6]
            or [RotationType.OBSERVERSHIP],
            "modes": rng.choice([[Mode.IN_PERSON], [Mode.IN_PERSON, Mode.TELE], [Mode.TELE]]),
            "weekly_rate": Decimal(rng.randrange(250, 1201, 25)),
            "minimum_weeks": rng.randint(1, 4),
            "writes_lors": writes_lors,
            "lor_fee": Decimal(rng.choice([0, 0, 50, 100])) if writes_lors else Decimal(0),
            "contact_email": f"office.attending{number}@{domain}",
            "bio": f"{specialty_label} attending in {city}, {state}. "
            "Students join rounds, clinic and case discussions.",
        }

    @staticmethod
    def availability(rng, first_week) -> list:
        """(Monday, capacity) for the next 26 weeks: mostly published, with gaps."""
        weeks = []
        for number in range(AVAILABILITY_WEEKS):
            if rng.random() < 0.8:
                weeks.append((first_week + timedelta(weeks=number), rng.randint(1, 3)))
        return weeks

    @staticmethod
    def seed_documents(student: Membership, admin: Membership) -> None:
        """The verified student's documents, one in each review state, through the real
        upload and review services: the school's letter of good standing approved, the
        TB test waiting in the admins' review queue, the insurance rejected with a
        reason. Left alone once the student has any document."""
        if Document.objects.filter(student=student).exists():
            return
        today = timezone.localdate()
        types = {t.code: t for t in DocumentType.objects.all()}

        def upload(code, *, issued_days_ago, expires_on=None, by=UploadedBy.STUDENT):
            return upload_document(
                student,
                types[code],
                SimpleUploadedFile(f"{code}.pdf", MINIMAL_PDF, content_type="application/pdf"),
                issued_on=today - timedelta(days=issued_days_ago),
                expires_on=expires_on,
                uploaded_by=by,
            )

        approve_document(
            upload("letter_of_good_standing", issued_days_ago=20, by=UploadedBy.SCHOOL), by=admin
        )
        upload("tb_test_immunizations", issued_days_ago=40)
        reject_document(
            upload(
                "liability_insurance",
                issued_days_ago=60,
                expires_on=today + timedelta(days=120),
            ),
            by=admin,
            reason="The policy must name you as the insured; upload the page that does.",
        )

    @staticmethod
    def seed_match_target(student: Membership) -> None:
        """The verified student aims at the next season ahead in internal medicine with
        an 8-week consulate wait, so the planner has a plan to show (DESIGN §14). Left
        alone once they have a target."""
        today = timezone.localdate()
        season = planner.default_season(today)
        if season is None or MatchTarget.objects.filter(student=student).exists():
            return
        planner.set_match_target(
            student,
            match_year=season.match_year,
            specialty=Specialty.INTERNAL_MEDICINE,
            visa_wait_weeks=8,
            today=today,
        )

    @staticmethod
    def seed_letters(student: Membership) -> None:
        """The verified student's past rotations with attending1..5, completed with an
        evaluation, and one letter in each state through the real lor services: asked of
        attending1 (waiting for a decision), accepted by attending2 with the address
        released and the ERAS Letter ID given, uploaded by attending3, declined by
        attending4, and accepted by attending5 whose $50 fee is not paid yet. Past
        rotations cannot be booked through the rotation services (their weeks are
        gone), so they are written as completed. Left alone once the student has a
        letter."""
        if Letter.objects.filter(student=student).exists():
            return
        organization = student.organization
        domain = f"{organization.slug}.test"
        today = timezone.localdate()
        season = seasons.default_season(today)
        writers = []
        for number, fee in ((1, 0), (2, 0), (3, 0), (4, 0), (5, 50)):
            attending = AttendingProfile.objects.select_related("membership__user").get(
                organization=organization, membership__user__email=f"attending{number}@{domain}"
            )
            attending.writes_lors, attending.lor_fee = True, Decimal(fee)
            attending.save(update_fields=["writes_lors", "lor_fee"])
            start = next_monday() - timedelta(weeks=40 - 6 * number)
            rotation = Rotation.objects.create(
                organization=organization,
                student=student,
                attending=attending,
                rotation_type=RotationType.CLERKSHIP,
                mode=Mode.IN_PERSON,
                start=start,
                weeks=4,
                weekly_rate=attending.weekly_rate,
                status=RotationStatus.COMPLETED,
                requested_at=timezone.now() - timedelta(weeks=50 - 6 * number),
                respond_by=timezone.now() - timedelta(weeks=49 - 6 * number),
                completed_at=timezone.now() - timedelta(weeks=35 - 6 * number),
            )
            Evaluation.objects.create(
                organization=organization,
                rotation=rotation,
                medical_knowledge=4,
                clinical_skills=5,
                professionalism=5,
                communication=4,
                comments="Prepared, reliable and kind with patients; presents clearly.",
                activities="Took histories and examined patients, presented on rounds, "
                "wrote daily progress notes.",
            )
            writers.append(attending)

        def ask(attending, specialty=Specialty.INTERNAL_MEDICINE):
            return letters.request_letter(
                student,
                attending,
                specialty=specialty,
                season=season,
                message="Thank you for the rotation: a letter for my residency "
                "applications would mean a great deal.",
                today=today,
            )

        ask(writers[0])
        released = letters.accept_letter(ask(writers[1]), by=writers[1].membership)
        letters.attach_letter_id(released, by=student, letter_id=f"DEMO{student.pk:04d}2")
        uploaded = letters.accept_letter(ask(writers[2]), by=writers[2].membership)
        letters.attach_letter_id(uploaded, by=student, letter_id=f"DEMO{student.pk:04d}3")
        letters.mark_uploaded(uploaded, by=writers[2].membership)
        letters.decline_letter(
            ask(writers[3], Specialty.FAMILY_MEDICINE),
            by=writers[3].membership,
            reason="I write letters only for internal medicine applicants.",
        )
        letters.accept_letter(ask(writers[4]), by=writers[4].membership)

    @staticmethod
    def seed_reviews(student: Membership) -> None:
        """The verified student's reviews of two of the past rotations (§15), written
        through reviews.services as on the fifth day after completion: a good one for
        attending2, which attending2 answered, and a shadowing-only one for attending4.
        Left alone once the student has a review."""
        if Review.objects.filter(student=student).exists():
            return
        rotations = {
            rotation.attending.membership.user.email.split("@")[0]: rotation
            for rotation in Rotation.objects.filter(
                student=student, status=RotationStatus.COMPLETED
            ).select_related("attending__membership__user")
        }
        for name, fields in (
            ("attending2", {"teaching": 5, "would_recommend": True, "patient_contact": "full",
                            "care_setting": "inpatient", "wrote_notes": True,
                            "hours_per_week": 55, "letter": "received",
                            "text": "I carried my own patients and presented them every morning."}),
            ("attending4", {"teaching": 2, "would_recommend": False, "patient_contact": "none",
                            "care_setting": "outpatient", "wrote_notes": False,
                            "hours_per_week": 20, "letter": "refused",
                            "text": "Listed as a clerkship, but I only watched."}),
        ):  # fmt: skip
            rotation = rotations.get(name)
            if rotation is None:
                continue
            now = rotation.completed_at + timedelta(days=5)
            review = reviews.write_review(rotation, by=student, now=now, **fields)
            if name == "attending2":
                reviews.answer_review(
                    review,
                    by=rotation.attending.membership,
                    text="Thank you: you were a real part of the team.",
                    now=now + timedelta(days=1),
                )

    @staticmethod
    def complete_profile(profile: StudentProfile, label: str, slug: str) -> None:
        year = timezone.now().year
        profile.full_name = f"{label.title()} Student ({slug})"
        profile.kind = StudentKind.IMG if label in ("verified", "h1b") else StudentKind.IMS
        profile.medical_school = "University of Lagos College of Medicine"
        profile.country = "NG"
        profile.graduation_year = {"verified": year - 1, "h1b": year - 2}.get(label, year + 1)
        profile.school_contact_email = f"registrar@school-{slug}.test"
        profile.visa_status = VisaStatus.B1_B2
        if label == "finalyear":  # graduating next year: final year for this year's starts
            profile.toefl_score = 95
        if label == "h1b":
            profile.visa_status = VisaStatus.H1B
            profile.step1_result = Step1Result.PASS
            profile.step1_date = timezone.localdate().replace(year=year - 3)
            profile.step2ck_score = 238
            profile.toefl_score = 104
        profile.specialty_interests = ["internal_medicine", "cardiology"]
        profile.phone = "+234 801 234 5678"
        profile.cv.save("cv.pdf", ContentFile(MINIMAL_PDF), save=False)
        profile.save()


def valid_npi(rng) -> str:
    """Nine random digits and the Luhn check digit over the 80840 prefix (CMS)."""
    body = f"{rng.randint(1, 2)}{rng.randrange(10**8):08d}"
    total = 0
    for position, digit in enumerate(reversed([int(d) for d in "80840" + body])):
        if position % 2 == 0:  # these double once the check digit is appended
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return body + str((10 - total % 10) % 10)
