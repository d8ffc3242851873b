"""`make bench`: build the data set at scale and print one table (issue 10).

    .venv/bin/python scripts/bench.py            # 40,000 attendings × 2 organizations
    BENCH_ATTENDINGS=4000 .venv/bin/python scripts/bench.py   # a quicker look
    BENCH_REUSE=1 BENCH_ONLY=search .venv/bin/python scripts/bench.py  # while tuning

``BENCH_REUSE=1`` keeps a database an earlier run built; ``BENCH_ONLY`` names the parts
to run (search, throughput, approvals, sweeps), all by default.

It works in its own PostgreSQL database (``usdoctors_bench``, dropped and made again),
with debug off and a Redis broker, so background work is queued as in production and
never runs inside a measurement. Every row of the table is measured in the same run as
the one-attending detail call (``GET /api/v1/attendings/{id}``), so a busy machine
slows both alike: each row reports p50 and p95 in milliseconds, the ratio of its p95
to the detail call's p95, and queries per request (or per batch for sweeps).

The targets (issue 10) are checked and printed after the table: search p95 within 2×
the detail call's and at most 50 ms; at most 8 queries per request; search throughput at
least half the detail call's; 100 concurrent approvals of a week of 2 places in under
1 s with exactly 2 booked; each sweep over 100,000 due rows in under 60 s with the same
queries per batch whatever its size and flat memory.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "usdoctors_bench"
ADMIN_URL = os.environ.get(
    "BENCH_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"
ATTENDINGS = int(os.environ.get("BENCH_ATTENDINGS", "40000"))
ORGANIZATIONS = int(os.environ.get("BENCH_ORGANIZATIONS", "2"))
SWEEP_ROWS = int(os.environ.get("BENCH_SWEEP_ROWS", "100000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))
THROUGHPUT_SECONDS = float(os.environ.get("BENCH_THROUGHPUT_SECONDS", "8"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
REUSE = os.environ.get("BENCH_REUSE") == "1"
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
POOL = 20  # database connections serving the 100 concurrent approvals

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "usdoctors.settings",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789",
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
    }
)
os.environ.pop("DJANGO_DEBUG", None)


def recreate_database() -> bool:
    """Make the bench database afresh, or keep it under BENCH_REUSE=1; True if made."""
    import psycopg2

    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if REUSE and cursor.fetchone():
            connection.close()
            return False
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    connection.close()
    return True


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


class Table:
    def __init__(self):
        self.rows: list[tuple] = []
        self.checks: list[tuple[str, bool]] = []

    def add(self, name, p50, p95, ratio, queries, note=""):
        self.rows.append((name, p50, p95, ratio, queries, note))
        print(f"  {name}: p50 {p50} p95 {p95} ratio {ratio} queries {queries} {note}", flush=True)

    def check(self, what: str, ok: bool):
        self.checks.append((what, ok))

    def print(self):
        print()
        print("| benchmark | p50 | p95 | × detail p95 | queries | notes |")
        print("|---|---|---|---|---|---|")
        for name, p50, p95, ratio, queries, note in self.rows:
            print(f"| {name} | {p50} | {p95} | {ratio} | {queries} | {note} |")
        print()
        for what, ok in self.checks:
            print(f"- {'met' if ok else 'NOT MET'}: {what}")


def main() -> None:
    started = time.monotonic()
    print(f"Building {DATABASE}: {ORGANIZATIONS} × {ATTENDINGS} attendings…", flush=True)
    made = recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    table = Table()
    if made:
        seed_started = time.monotonic()
        call_command("seed_scale", attendings=ATTENDINGS, organizations=ORGANIZATIONS)
        seed_seconds = time.monotonic() - seed_started
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        table.add(
            f"seed_scale {ORGANIZATIONS} × {ATTENDINGS:,} attendings",
            "",
            "",
            "",
            "",
            f"{seed_seconds:.0f} s",
        )
    for part, run in (
        ("search", requests_in_process),
        ("throughput", throughput),
        ("approvals", approvals),
        ("sweeps", sweeps),
    ):
        if not ONLY or part in ONLY:
            run(table)
    table.print()
    print(f"\n(bench took {time.monotonic() - started:.0f} s)")


# --- Requests, in process ---------------------------------------------------------------


def student_client():
    from django.test import Client
    from django_scopes import scopes_disabled
    from rest_framework.authtoken.models import Token

    from accounts.models import User

    with scopes_disabled():
        user = User.objects.get(email="student1@scale1.test")
        token, _ = Token.objects.get_or_create(user=user)
    client = Client(HTTP_HOST="scale1.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    page_client = Client(HTTP_HOST="scale1.localhost")
    page_client.force_login(user)
    return client, page_client, token.key


def search_mixes() -> dict[str, dict]:
    from usdoctors.dates import next_monday

    first = next_monday()
    return {
        "no filter": {},
        "date window": {
            "start_from": (first + timedelta(weeks=4)).isoformat(),
            "start_to": (first + timedelta(weeks=12)).isoformat(),
        },
        "4 free weeks in a row within 3 months": {
            "weeks": "4",
            "start_from": first.isoformat(),
            "start_to": (first + timedelta(weeks=13)).isoformat(),
        },
        "price sort": {"sort": "price"},
        # Page 200 of 50 needs 10,000 attendings; a smaller set reads its last full page.
        "page 200": {"page": str(min(200, ATTENDINGS // 50))},
    }


def timed(call) -> float:
    began = time.perf_counter()
    response = call()
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"bench: {response.status_code} from {response.request}")
    return elapsed


def count_queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def requests_in_process(table: Table) -> None:
    from django_scopes import scopes_disabled

    from rotations.models import AttendingProfile

    client, page_client, _ = student_client()
    with scopes_disabled():
        attending_id = AttendingProfile.objects.filter(organization__slug="scale1").values_list(
            "pk", flat=True
        )[ATTENDINGS // 2]
    detail = f"/api/v1/attendings/{attending_id}"

    def run(label, call):
        call()  # warm
        own, detail_times = [], []
        for _ in range(REQUESTS):
            detail_times.append(timed(lambda: client.get(detail)))
            own.append(timed(call))
        queries = count_queries(call)
        detail_p95 = percentile(detail_times, 0.95)
        p95 = percentile(own, 0.95)
        table.add(
            label,
            f"{statistics.median(own):.1f}",
            f"{p95:.1f}",
            f"{p95 / detail_p95:.2f}",
            queries,
            f"detail p95 {detail_p95:.1f}",
        )
        return p95, detail_p95, queries

    run("detail call GET /api/v1/attendings/{id}", lambda: client.get(detail))
    for name, params in search_mixes().items():
        for surface, call in (
            ("API", lambda p=params: client.get("/api/v1/attendings", p)),
            ("page", lambda p=params: page_client.get("/attendings/", p)),
        ):
            p95, detail_p95, queries = run(f"search, {name} ({surface})", call)
            table.check(
                f"search {name} ({surface}): p95 {p95:.1f} ms ≤ 2 × detail {detail_p95:.1f} ms",
                p95 <= 2 * detail_p95,
            )
            table.check(f"search {name} ({surface}): p95 {p95:.1f} ms ≤ 50 ms", p95 <= 50)
            table.check(f"search {name} ({surface}): {queries} queries ≤ 8", queries <= 8)


# --- Throughput under gunicorn ------------------------------------------------------------


def throughput(table: Table) -> None:
    import http.client

    from django_scopes import scopes_disabled

    from rotations.models import AttendingProfile

    _, _, token = student_client()
    with scopes_disabled():
        attending_id = AttendingProfile.objects.filter(organization__slug="scale1").values_list(
            "pk", flat=True
        )[ATTENDINGS // 3]
    mixes = list(search_mixes().values())
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "usdoctors.wsgi:application",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        for _ in range(100):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", PORT, timeout=2)
                probe.request("GET", "/healthz", headers={"Host": "scale1.localhost"})
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)

        def load(paths) -> float:
            done = [0]
            stop = time.monotonic() + THROUGHPUT_SECONDS
            lock = threading.Lock()

            def worker(offset):
                connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
                n = offset
                while time.monotonic() < stop:
                    connection.request(
                        "GET",
                        paths[n % len(paths)],
                        headers={"Host": "scale1.localhost", "Authorization": f"Token {token}"},
                    )
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        raise SystemExit(f"bench: gunicorn answered {response.status}")
                    n += 1
                    with lock:
                        done[0] += 1

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return done[0] / (time.monotonic() - began)

        from urllib.parse import urlencode

        detail_rate = load([f"/api/v1/attendings/{attending_id}"])
        search_rate = load([f"/api/v1/attendings?{urlencode(params)}" for params in mixes])
    finally:
        server.terminate()
        server.wait(timeout=10)
    table.add(
        "throughput, detail call (gunicorn, 2 workers)", "", "", "", "", f"{detail_rate:.1f} req/s"
    )
    table.add(
        "throughput, search mix (gunicorn, 2 workers)",
        "",
        "",
        f"{search_rate / detail_rate:.2f}",
        "",
        f"{search_rate:.1f} req/s",
    )
    table.check(
        f"search throughput {search_rate:.1f} req/s ≥ half the detail call's {detail_rate:.1f}",
        search_rate >= detail_rate / 2,
    )


# --- 100 concurrent approvals ---------------------------------------------------------------


def approvals(table: Table) -> None:
    from django.db import connection, connections
    from django.utils import timezone
    from django_scopes import scope, scopes_disabled

    from accounts.models import Membership
    from rotations import services
    from rotations.models import AttendingProfile, AvailabilityWeek, Rotation
    from usdoctors.dates import next_monday
    from usdoctors.errors import DomainError

    week_start = next_monday() + timedelta(weeks=60)
    with scopes_disabled():
        # An attending not used by an earlier run (BENCH_REUSE) for that week.
        attending = (
            AttendingProfile.objects.filter(organization__slug="scale1")
            .exclude(weeks__week_start=week_start)
            .order_by("pk")[0]
        )
        organization = attending.organization
        students = list(
            Membership.objects.filter(organization=organization, role="student").order_by("pk")[
                :100
            ]
        )
        AvailabilityWeek.objects.create(
            organization=organization, attending=attending, week_start=week_start, capacity=2
        )
        rotations = Rotation.objects.bulk_create(
            Rotation(
                organization=organization,
                attending=attending,
                student=student,
                rotation_type="elective",
                mode="in_person",
                start=week_start,
                weeks=1,
                weekly_rate=attending.weekly_rate,
                payment_method="zelle",
                respond_by=timezone.now() + timedelta(days=7),
            )
            for student in students
        )
    connection.close()
    # 100 requests at once through a pool of 20 database connections (the web workers
    # a deployment would run), all released by one barrier.
    results = []
    queue = list(rotations)
    lock = threading.Lock()
    barrier = threading.Barrier(POOL)

    def approver():
        barrier.wait()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    rotation = queue.pop()
                try:
                    with scope(organization=organization.pk):
                        services.approve_rotation(rotation, by=attending.membership)
                    results.append("approved")
                except DomainError as error:
                    results.append(error.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approver) for _ in range(POOL)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    with scopes_disabled():
        booked = AvailabilityWeek.objects.get(attending=attending, week_start=week_start).booked
    approved = results.count("approved")
    table.add(
        "100 concurrent approvals, one week of 2 places",
        "",
        f"{seconds * 1000:.0f}",
        "",
        "",
        f"{approved} approved, {booked} booked, {len(results) - approved} refused",
    )
    table.check(
        f"100 approvals in {seconds:.2f} s ≤ 1 s with exactly 2 booked ({booked})",
        seconds <= 1 and approved == 2 and booked == 2,
    )


# --- Sweeps over 100,000 due rows -----------------------------------------------------------


def sweeps(table: Table) -> None:
    from bench_sweeps import SWEEPS  # scripts/bench_sweeps.py: the due rows and each sweep
    from django_scopes import scopes_disabled

    for name, build, run, batch_size in SWEEPS:
        with scopes_disabled():
            build(SWEEP_ROWS)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        # Autovacuum analyzes a table soon after a tenth of it changes; the sweep runs
        # seconds after the backlog was written, so it is analyzed here as it would be.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.monotonic()
        with CaptureQueriesContext(connection) as captured:
            handled = run()
        seconds = time.monotonic() - began
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
        batches = max(1, -(-SWEEP_ROWS // batch_size))
        per_batch = len(captured.captured_queries) / batches
        table.add(
            f"sweep: {name}, {SWEEP_ROWS:,} due rows",
            "",
            f"{seconds * 1000:.0f}",
            "",
            f"{per_batch:.1f} per batch of {batch_size}",
            f"{handled} handled, peak memory +{grew / 1024:.0f} MiB",
        )
        table.check(f"sweep {name}: {seconds:.1f} s ≤ 60 s", seconds <= 60)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "scripts"))
    main()
