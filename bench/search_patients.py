"""Benchmark: patient search by name prefix through the real view, on PostgreSQL.

    DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/DB \
        .venv/bin/python bench/search_patients.py

What it does:
1. Refuses unless DATABASE_URL names PostgreSQL. It never writes to that database:
   it creates its own, `limbguard_bench` (--database), on the same server (the role
   needs CREATEDB), and migrates it with `limbguard migrate`.
2. Loads 100,000 synthetic patients (--patients) spread evenly over the 4 demo centers,
   each with both limbs (a few amputated) and a risk profile, from
   `limbguard.synth.people.person(seed, i, today=...)` with a fixed seed and date, so
   every run loads the same people. This is a benchmark fixture: it writes with
   `bulk_create` in batches, which is much faster than the audited service path
   (`registry.services`), and it writes no audit rows. A database that already holds
   the patients is reused; --reload empties it and loads again.
3. Signs in a vascular specialist of 2 of the 4 centers (so 50,000 visible patients)
   with Django's test Client and, after a warm-up, times GET /patients/?q=... through
   the whole stack (middleware, session, permission, search, pagination, audit row,
   template), both as a full page and as the htmx partial (HX-Request: true), for
   1-, 2- and 3-letter family prefixes, "family given" pairs, MRNs and birth dates.
4. Prints count, median, p95 and p99 per query kind and overall, the ratio p95/150 ms
   (the target: p95 under 150 ms), and EXPLAIN ANALYZE of a prefix search's queries.

Exit status: 0 when the overall p95 is under 150 ms, 1 when it is not, 2 on refusal.
The figures are wall-clock times on a shared machine: compare runs on the same one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import dj_database_url
import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from django.test import Client

    from limbguard.accounts.models import User
    from limbguard.clinics.models import Center

TARGET_P95_MS = 150.0
SEED = 77  # MRNs LG77xxxxxxx: never the demo's (LG26...)
TODAY = dt.date(2026, 11, 1)  # fixed, so that ages and dates repeat from run to run
BATCH = 5_000
USERNAME = "bench-vascular"
EXPLAINED = "gar"  # a 3-letter family prefix (García, Garcia...)
CENTERS_SEEN = ("harbor", "inland")  # the benchmark user's 2 centers of 4


# --- database -----------------------------------------------------------------------


def _refuse(message: str) -> int:
    print(f"search_patients.py: {message}", file=sys.stderr)
    return 2


def _bench_url(url: str, database: str) -> str:
    return urlsplit(url)._replace(path=f"/{database}").geturl()


def _ensure_database(url: str, database: str) -> None:
    """Create `database` on the server of `url` unless it exists."""
    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            print(f"created database {database}")


def _migrate() -> None:
    limbguard = Path(sys.executable).with_name("limbguard")
    subprocess.run([str(limbguard), "migrate", "--no-input", "-v0"], check=True)


# --- data ---------------------------------------------------------------------------


def _load(count: int, centers: Sequence[Center]) -> None:
    """Bulk-insert `count` patients with their limbs and risk profiles."""
    from django.db import transaction

    from limbguard.registry.models import (
        AmputationLevel,
        CkdStage,
        DiabetesType,
        Limb,
        LimbStatus,
        Patient,
        PatientStatus,
        RiskProfile,
        Side,
        SmokingStatus,
        name_key,
    )
    from limbguard.synth.people import person

    minor = [AmputationLevel.TOE, AmputationLevel.RAY, AmputationLevel.TRANSMETATARSAL]
    major = [AmputationLevel.BELOW_KNEE, AmputationLevel.ABOVE_KNEE]
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        patients: list[Patient] = []
        rngs: list[random.Random] = []
        for index in range(start, min(start + BATCH, count)):
            who = person(SEED, index, today=TODAY)
            rng = random.Random(f"bench:{index}")
            center = centers[index % len(centers)]
            deceased = rng.random() < 0.04
            patients.append(
                Patient(
                    mrn=who.mrn,
                    given_name=who.given_name,
                    family_name=who.family_name,
                    # bulk_create skips Patient.save(), which fills the search keys.
                    given_key=name_key(who.given_name),
                    family_key=name_key(who.family_name),
                    birth_date=who.birth_date,
                    sex=who.sex,
                    phone=who.phone,
                    address_line=who.address_line,
                    city=center.city,
                    state="CA",
                    postal_code=center.postal_code,
                    home_center=center,
                    status=PatientStatus.DECEASED if deceased else PatientStatus.ACTIVE,
                    deceased_date=TODAY - dt.timedelta(days=rng.randint(1, 900))
                    if deceased
                    else None,
                )
            )
            rngs.append(rng)
        with transaction.atomic():
            Patient.objects.bulk_create(patients)
            limbs: list[Limb] = []
            risks: list[RiskProfile] = []
            for patient, rng in zip(patients, rngs, strict=True):
                for side in Side:
                    level: str
                    roll = rng.random()
                    if roll < 0.03:
                        status, level = LimbStatus.MINOR_AMPUTATION, rng.choice(minor)
                    elif roll < 0.045:
                        status, level = LimbStatus.MAJOR_AMPUTATION, rng.choice(major)
                    else:
                        status, level = LimbStatus.INTACT, ""
                    limbs.append(
                        Limb(
                            patient=patient,
                            side=side,
                            status=status,
                            amputation_level=level,
                            amputation_date=None
                            if status == LimbStatus.INTACT
                            else TODAY - dt.timedelta(days=rng.randint(30, 3000)),
                        )
                    )
                ckd = rng.choice(
                    [CkdStage.NONE, CkdStage.NONE, CkdStage.G3A, CkdStage.G4, CkdStage.G5]
                )
                risks.append(
                    RiskProfile(
                        patient=patient,
                        diabetes=DiabetesType.TYPE_2 if rng.random() < 0.45 else DiabetesType.NONE,
                        smoking=rng.choice(list(SmokingStatus)),
                        ckd_stage=ckd,
                        on_dialysis=ckd == CkdStage.G5 and rng.random() < 0.6,
                        coronary_disease=rng.random() < 0.3,
                        heart_failure=rng.random() < 0.1,
                        prior_stroke=rng.random() < 0.08,
                    )
                )
            Limb.objects.bulk_create(limbs)
            RiskProfile.objects.bulk_create(risks)
        done = min(start + BATCH, count)
        if done % 20_000 == 0 or done == count:
            print(f"  {done:,} / {count:,} patients, {time.perf_counter() - started:.0f} s")


def _prepare(count: int, reload: bool) -> User:
    """Centers, the benchmark user, and `count` patients (loaded unless present)."""
    from django.db import connection

    from limbguard.accounts.models import User
    from limbguard.accounts.roles import Role, group_for
    from limbguard.config.demo import ensure_centers
    from limbguard.registry.models import Patient

    centers = ensure_centers()
    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"first_name": "Bench"})
    user.groups.set([group_for(Role.VASCULAR_SPECIALIST)])
    user.centers.set([centers[slug] for slug in CENTERS_SEEN])

    bench = Patient.objects.filter(mrn__startswith=f"LG{SEED:02d}")
    present = bench.count()
    if reload or present != count or Patient.objects.count() != present:
        with connection.cursor() as cursor:
            # Only this benchmark's own database. The audit trail refuses TRUNCATE by
            # design, and holds nothing that points at these rows: it is left as it is.
            cursor.execute("TRUNCATE registry_patient RESTART IDENTITY CASCADE")
        print(f"loading {count:,} synthetic patients into {connection.settings_dict['NAME']}")
        _load(count, [centers[slug] for slug in sorted(centers)])
    else:
        print(f"reusing the {present:,} patients in {connection.settings_dict['NAME']}")
    with connection.cursor() as cursor:
        # What autovacuum does soon after a real load: fresh statistics for the planner.
        cursor.execute("ANALYZE")
    return user


# --- queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    text: str


def _queries(count: int, per_kind: int) -> list[Query]:
    """Deterministic searches, as a user would type them."""
    from limbguard.registry.models import name_key
    from limbguard.synth.people import FAMILY, GIVEN_FEMALE, GIVEN_MALE, person

    rng = random.Random(SEED)
    families = sorted({name_key(f) for f in FAMILY})
    given = sorted({name_key(g) for g in GIVEN_FEMALE + GIVEN_MALE})
    queries: list[Query] = []
    for length in (1, 2, 3):
        prefixes = sorted({f[:length] for f in families})
        picks = [prefixes[i % len(prefixes)] for i in range(per_kind)]
        queries += [Query(f"family {length}-letter", p) for p in picks]
    queries += [
        Query("family given", f"{rng.choice(families)} {rng.choice(given)[:2]}")
        for _ in range(per_kind)
    ]
    people = [person(SEED, rng.randrange(count), today=TODAY) for _ in range(2 * per_kind)]
    queries += [Query("MRN", p.mrn) for p in people[:per_kind]]
    queries += [Query("birth date", p.birth_date.isoformat()) for p in people[per_kind:]]
    return queries


def _timed(client: Client, query: Query, htmx: bool) -> float:
    headers = {"HX-Request": "true"} if htmx else {}
    started = time.perf_counter()
    response = client.get("/patients/", {"q": query.text}, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET /patients/?q={query.text} answered {response.status_code}")
    return elapsed


def _percentile(values: Sequence[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _row(label: str, values: Sequence[float]) -> str:
    return (
        f"{label:<22} {len(values):>6} {statistics.median(values):>9.1f} "
        f"{_percentile(values, 95):>9.1f} {_percentile(values, 99):>9.1f}"
    )


def _measure(user: User, queries: list[Query], rounds: int, warmup: int) -> dict[str, list[float]]:
    from django.test import Client

    client = Client()
    client.force_login(user)
    order = [(q, htmx) for q in queries for htmx in (False, True)]
    rng = random.Random(SEED + 1)
    for query, htmx in rng.sample(order, k=min(warmup, len(order))):
        _timed(client, query, htmx)
    timings: dict[str, list[float]] = {}
    for _ in range(rounds):
        rng.shuffle(order)
        for query, htmx in order:
            elapsed = _timed(client, query, htmx)
            timings.setdefault(query.kind, []).append(elapsed)
            timings.setdefault("htmx partial" if htmx else "full page", []).append(elapsed)
    return timings


def _explain(user: User, text: str) -> Iterator[str]:
    """EXPLAIN ANALYZE of the patient queries that GET /patients/?q=`text` really sends
    (the paginator's count, then the page), captured from the view."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        client.get("/patients/", {"q": text})
    statements = [q["sql"] for q in captured.captured_queries if "registry_patient" in q["sql"]]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            yield f"{statement}\n{plan}"


# --- main ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--database", default="limbguard_bench")
    parser.add_argument("--per-kind", type=int, default=60, help="queries per kind")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests first")
    parser.add_argument("--reload", action="store_true", help="empty and load again")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return _refuse("DATABASE_URL must point at PostgreSQL (postgres://...)")
    if dj_database_url.parse(url)["NAME"] == args.database:
        return _refuse(f"DATABASE_URL already names {args.database}; give the server's own")
    _ensure_database(url, args.database)
    os.environ["DATABASE_URL"] = _bench_url(url, args.database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limbguard.config.settings")
    # A throw-away key for this process only; the benchmark serves no one.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    _migrate()

    # STATIC_ROOT is only filled by `limbguard serve`; the view never needs it.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    import django

    django.setup()
    from django.db import connection

    user = _prepare(args.patients, args.reload)
    queries = _queries(args.patients, args.per_kind)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()
    print(
        f"PostgreSQL {version[0] if version else '?'}; {args.patients:,} patients, "
        f"user {USERNAME} sees {' + '.join(CENTERS_SEEN)}; {len(queries)} queries x "
        f"(page, htmx) x {args.rounds} rounds after {args.warmup} warm-up requests"
    )
    timings = _measure(user, queries, args.rounds, args.warmup)

    overall = [
        t for kind, ts in timings.items() if kind not in ("full page", "htmx partial") for t in ts
    ]
    print(f"\n{'GET /patients/?q=':<22} {'count':>6} {'median':>9} {'p95':>9} {'p99':>9}  (ms)")
    for kind, values in timings.items():
        if kind not in ("full page", "htmx partial"):
            print(_row(kind, values))
    print(_row("full page", timings["full page"]))
    print(_row("htmx partial", timings["htmx partial"]))
    print(_row("overall", overall))
    p95 = _percentile(overall, 95)
    print(f"\np95 / {TARGET_P95_MS:.0f} ms = {p95 / TARGET_P95_MS:.2f}")

    print(f"\nEXPLAIN of the queries on registry_patient sent by GET /patients/?q={EXPLAINED}")
    for plan in _explain(user, EXPLAINED):
        print(f"\n{plan}")
    return 0 if p95 < TARGET_P95_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
