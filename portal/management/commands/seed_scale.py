"""Build a data set at scale for benchmarks (issue 10): ``--organizations`` organizations
(slugs ``scale1``, ``scale2``, …), each with ``--attendings`` attendings publishing about
``--weeks`` weeks each over the next year, and ``--students`` verified students.

    manage.py seed_scale --attendings 40000 --organizations 2

The spread is realistic rather than uniform: every specialty, the states weighted by
population, weekly rates from $250 to $1,500 with most between $400 and $900, capacity 1
to 3, weeks published in runs with gaps (unpublished weeks), about 1 week in 8 full and
some partly booked, minimum weeks 1 to 4, a quarter of sites with a residency program.
The random generator is seeded (``--seed``), so a data set can be built again exactly.

Rows go in with PostgreSQL's COPY (bulk_create on SQLite), with each week's free run
and each attending's next free week already counted (rotations.free_weeks). An
organization that exists already is refused: build into a fresh database.
"""

from __future__ import annotations

import io
import random
import time
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django_scopes import scopes_disabled

from accounts.choices import Role, Specialty, VerificationStatus
from accounts.models import Membership, User
from rotations.choices import US_STATES, CareSetting, Mode, PracticeSetting, RotationType
from rotations.free_weeks import free_run, summary
from rotations.models import AttendingProfile, AvailabilityWeek
from usdoctors.dates import next_monday
from usdoctors.models import Organization

PASSWORD = "usdoctors-scale"
HORIZON_WEEKS = 52
# The most populous states come up most often.
BIG_STATES = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ"]


class Command(BaseCommand):
    help = "Build a benchmark data set: many attendings and weeks per organization."

    def add_arguments(self, parser):
        parser.add_argument("--attendings", type=int, default=1000)
        parser.add_argument("--organizations", type=int, default=2)
        parser.add_argument("--weeks", type=int, default=25, help="Published weeks per attending.")
        parser.add_argument("--students", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, attendings, organizations, weeks, students, seed, **options):
        if attendings < 1 or organizations < 1 or not 1 <= weeks <= HORIZON_WEEKS:
            raise CommandError(
                f"Give at least 1 attending and organization, 1–{HORIZON_WEEKS} weeks."
            )
        rng = random.Random(seed)
        started = self.started = time.monotonic()
        password = make_password(PASSWORD)
        with scopes_disabled():
            for number in range(1, organizations + 1):
                slug = f"scale{number}"
                if Organization.objects.filter(slug=slug).exists():
                    raise CommandError(f"Organization {slug!r} exists: seed into a fresh database.")
                with transaction.atomic():
                    organization = Organization.objects.create(
                        slug=slug, name=f"Scale Organization {number}"
                    )
                    self.seed(organization, rng, password, attendings, weeks, students)
                self.stdout.write(
                    f"{slug}: {attendings} attendings, ~{attendings * weeks} weeks, "
                    f"{students} students ({time.monotonic() - started:.0f} s)"
                )

    def seed(self, organization, rng, password, attendings, weeks, students):
        slug = organization.slug
        users = [
            User(email=f"attending{n}@{slug}.test", password=password, first_name="Attending")
            for n in range(1, attendings + 1)
        ] + [
            User(email=f"student{n}@{slug}.test", password=password, first_name="Student")
            for n in range(1, students + 1)
        ]
        users = User.objects.bulk_create(users, batch_size=5000)
        members = Membership.objects.bulk_create(
            [
                Membership(
                    organization=organization,
                    user=user,
                    role=Role.ATTENDING if n < attendings else Role.STUDENT,
                    verification_status=(
                        VerificationStatus.VERIFIED if n >= attendings else "incomplete"
                    ),
                )
                for n, user in enumerate(users)
            ],
            batch_size=5000,
        )
        first = next_monday()
        published = [self.published_weeks(weeks, rng) for _ in range(attendings)]
        profiles = []
        for n, member in enumerate(members[:attendings]):
            profile = self.profile(organization, member, n, rng)
            # Kept as rotations.free_weeks keeps it: the first week with a place left.
            free = [
                first + timedelta(weeks=number)
                for number, capacity, booked, _ in published[n]
                if booked < capacity
            ]
            first_free, mask, last_free = summary(free, first)
            profile.next_free_week, profile.free_mask = first_free, mask
            profile.last_free_week, profile.next_free_week_from = last_free, first
            profiles.append(profile)
        profiles = AttendingProfile.objects.bulk_create(profiles, batch_size=5000)
        rows = [
            (profile.pk, first + timedelta(weeks=number), capacity, booked, run)
            for profile, weeks_of_one in zip(profiles, published, strict=True)
            for number, capacity, booked, run in weeks_of_one
        ]
        self.write_weeks(organization, rows)

    @staticmethod
    def profile(organization, membership, n, rng) -> AttendingProfile:
        specialty = rng.choice(Specialty.values)
        state = rng.choice(BIG_STATES) if rng.random() < 0.6 else rng.choice(US_STATES)[0]
        rate = Decimal(int(min(max(rng.gauss(650, 200), 250), 1500) // 25 * 25))
        types = rng.sample(RotationType.values, rng.randint(1, len(RotationType.values)))
        modes = [Mode.IN_PERSON] if rng.random() < 0.7 else [Mode.IN_PERSON, Mode.TELE]
        return AttendingProfile(
            organization=organization,
            membership=membership,
            display_name=f"Dr. Scale {n:06d}",
            specialty=specialty,
            practice_name=f"Practice {n % 997}",
            setting=rng.choice(PracticeSetting.values),
            care_setting=rng.choice(CareSetting.values),
            city=f"City {n % 311}",
            state=state,
            has_residency_program=rng.random() < 0.25,
            rotation_types=sorted(types),
            modes=sorted(modes),
            weekly_rate=rate,
            minimum_weeks=rng.choice((1, 1, 2, 2, 3, 4)),
            lor_fee=Decimal("0") if rng.random() < 0.7 else Decimal("100.00"),
        )

    @staticmethod
    def published_weeks(per_attending, rng) -> list[list[int]]:
        """One attending's weeks as ``[week number, capacity, booked, free run]``: runs
        of 2–8 published weeks with gaps, about ``per_attending`` of them within the
        next year; 1 in 8 full, 1 in 8 partly booked; each free run counted as
        rotations.free_weeks keeps it."""
        weeks = []
        week = rng.randint(0, 6)
        while len(weeks) < per_attending and week < HORIZON_WEEKS:
            run = min(rng.randint(2, 8), per_attending - len(weeks), HORIZON_WEEKS - week)
            for offset in range(run):
                capacity = rng.choice((1, 1, 2, 2, 2, 3))
                roll = rng.random()
                if roll < 0.125:
                    booked = capacity
                elif roll < 0.25 and capacity > 1:
                    booked = rng.randint(1, capacity - 1)
                else:
                    booked = 0
                weeks.append([week + offset, capacity, booked, 0])
            week += run + rng.choice((0, 1, 1, 2, 3))
        following = None
        for entry in reversed(weeks):
            number, capacity, booked, _ = entry
            after = following[3] if following and following[0] == number + 1 else 0
            entry[3] = free_run(booked < capacity, after)
            following = entry
        return weeks

    @staticmethod
    def write_weeks(organization, rows) -> None:
        """``(attending id, Monday, capacity, booked, free run)`` rows: COPY on
        PostgreSQL, bulk_create elsewhere."""
        columns = ("attending_id", "week_start", "capacity", "booked", "free_run")
        if connection.vendor == "postgresql":
            buffer = io.StringIO()
            for row in rows:
                buffer.write("\t".join(map(str, (organization.pk, *row))) + "\n")
            buffer.seek(0)
            with connection.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY rotations_availabilityweek (organization_id, {', '.join(columns)}) "
                    "FROM STDIN",
                    buffer,
                )
        else:
            AvailabilityWeek.objects.bulk_create(
                (
                    AvailabilityWeek(
                        organization=organization, **dict(zip(columns, row, strict=True))
                    )
                    for row in rows
                ),
                batch_size=5000,
            )
