"""Benchmark: concurrent CDS Hooks order-sign calls with full prefetch, on a real server.

    .venv/bin/python bench/cds_hooks.py                      # scratch SQLite
    .venv/bin/python bench/cds_hooks.py --database-url postgres://USER:PW@127.0.0.1:5432/X

What it does:
1. Makes a scratch folder (removed at the end) with a fresh database: a SQLite file by
   default; with --database-url naming PostgreSQL it creates its own database
   `limbguard_bench_cds` on that server (the role needs CREATEDB) and drops it at the
   end. `limbguard migrate`.
2. Generates an RS384 key pair (Epic's default algorithm; --alg ES384 for the other
   recommended one), writes a clients file trusting its public key, and seeds one
   patient LimbGuard follows (an assessment with ankle and toe pressures 10 days ago),
   through the registry and assessment services.
3. Starts `limbguard serve` (gunicorn, --workers 2 sync workers on this 2-core machine)
   on a free loopback port with that configuration.
4. Signs every token beforehand (each call needs its own jti) and builds the bodies:
   order-sign with a draft below-knee amputation ServiceRequest and every prefetch key
   filled (Patient with the MRN, a Procedure bundle, an Observation bundle, a completed
   ServiceRequest bundle; a few resources each, as an EHR sends them).
5. Fires --rounds waves of --concurrency simultaneous calls (default 20 x 50). Each wave
   of order-sign calls alternates with a wave of the same size to a trivial endpoint on
   the same server: the CORS preflight (OPTIONS /cds-services), which crosses the same
   middleware but needs no token, no body and no database. A third series times
   discovery (GET /cds-services: the JWT check and its jti row, nothing else).
   The load generator writes raw HTTP/1.1 through bare asyncio protocols on one event
   loop, so that the client spends as little as possible of the two cores the server
   also needs.
6. Then makes --sequential calls one at a time (order-sign and trivial alternately): the
   service time itself, with no wait for a worker.
7. Checks every answer (each order-sign: status 200 and one info card about the
   patient) and prints count, p50, p95, p99 and max per series, the ratio to the
   trivial endpoint, and the targets (order-sign p95 <= 50 ms, p99 <= 200 ms). --json
   prints the same as JSON.
8. Also prints, per series, the CPU time per call of the server (user + system time of
   every process of its session, gunicorn's master and workers, from /proc/<pid>/stat
   around each wave: 10 ms ticks, so meaningful over a series, not a call; left out
   where /proc is missing) and of this load generator (its own process time). Unlike
   latency, CPU per call hardly moves when other work shares the machine: it is the
   figure to steer by on a busy machine.

Latency is measured per call from connect to the last byte. A wave of 50 calls queues
behind two workers, so a call's latency includes its wait for a worker: this is what an
EHR sees when 50 clinicians sign at once. Exit status 0 when both targets are met.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

TARGET_P95_MS = 50.0
TARGET_P99_MS = 200.0
ISS = "https://ehr.bench.test/"
MRN = "BENCH-0001"
MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5.99999.1"
PATIENT_ID = "bench-patient-1"
BENCH_DB = "limbguard_bench_cds"
SEED_FLAG = "--seed-only"


# --- set-up ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keys(alg: str) -> tuple[Any, dict[str, Any]]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if alg.startswith("ES"):
        private: Any = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public, "kid": "bench-1", "use": "sig", "alg": alg}


def _clients_file(folder: Path, jwk: dict[str, Any]) -> Path:
    path = folder / "clients.json"
    config = {
        "name": "bench-ehr",
        "iss": ISS,
        "jwks": {"keys": [jwk]},
        "centers": "*",
        "patient_identifier_systems": [MRN_SYSTEM],
    }
    path.write_text(json.dumps({"clients": [config]}))
    return path


def _postgres_scratch(url: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(BENCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    return urlsplit(url)._replace(path=f"/{BENCH_DB}").geturl()


def _drop_postgres_scratch(url: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(BENCH_DB)))


def seed() -> None:
    """Run in a child process with the bench environment: one followed patient."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limbguard.config.settings")
    django.setup()
    from django.utils import timezone

    from limbguard.assessments.services import do_create_assessment
    from limbguard.config.demo import ensure_centers
    from limbguard.registry.services import do_create_patient

    centers = ensure_centers()
    patient = do_create_patient(
        acting_user=None,
        home_center=centers["harbor"],
        mrn=MRN,
        given_name="Bench",
        family_name="Patient",
        birth_date=dt.date(1951, 6, 2),
        sex="male",
    )
    do_create_assessment(
        acting_user=None,
        patient=patient,
        limb=patient.limbs.get(side="left"),
        visit_date=timezone.localdate() - dt.timedelta(days=10),
        claudication="none",
        brachial_left=140,
        brachial_right=136,
        ankle_dp=62,
        ankle_pt=58,
        toe_pressure=32,
    )


# --- requests ---------------------------------------------------------------------------


def _coding(system: str, code: str) -> dict[str, str]:
    return {"system": system, "code": code}


def _subject() -> dict[str, str]:
    return {"reference": f"Patient/{PATIENT_ID}"}


def order_sign_body() -> dict[str, Any]:
    """order-sign, a draft below-knee amputation, every prefetch key filled."""
    today = dt.date.today()  # noqa: DTZ011 (only shapes dates inside the payload)
    old = (today - dt.timedelta(days=400)).isoformat()
    procedures = [
        {
            "resourceType": "Procedure",
            "id": f"proc-{i}",
            "status": "completed",
            "code": {"coding": [_coding("http://www.ama-assn.org/go/cpt", code)]},
            "subject": _subject(),
            "performedDateTime": old,
        }
        for i, code in enumerate(["93922", "93925", "93970"])
    ]
    observations = [
        {
            "resourceType": "Observation",
            "id": f"obs-{i}",
            "status": "final",
            "code": {"coding": [_coding("http://loinc.org", "8581-1")]},
            "subject": _subject(),
            "effectiveDateTime": old,
            "valueQuantity": {"value": 0.52, "unit": "1"},
        }
        for i in range(3)
    ]
    consult = {
        "resourceType": "ServiceRequest",
        "id": "consult-1",
        "status": "completed",
        "intent": "order",
        "code": {"text": "Cardiology consult"},
        "subject": _subject(),
        "authoredOn": old,
    }

    def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources],
        }

    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/bench",
            "patientId": PATIENT_ID,
            "encounterId": "enc-1",
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "ServiceRequest",
                            "id": "amp-1",
                            "status": "draft",
                            "intent": "order",
                            "code": {
                                "coding": [_coding("http://www.ama-assn.org/go/cpt", "27880")]
                            },
                            "bodySite": [
                                {"coding": [_coding("http://snomed.info/sct", "7771000")]}
                            ],
                            "subject": _subject(),
                        }
                    }
                ],
            },
        },
        "prefetch": {
            "patient": {
                "resourceType": "Patient",
                "id": PATIENT_ID,
                "identifier": [{"system": MRN_SYSTEM, "value": MRN}],
                "gender": "male",
                "birthDate": "1951-06-02",
            },
            "procedures": bundle(procedures),
            "observations": bundle(observations),
            "consults": bundle([consult]),
        },
    }


def _token(private: Any, alg: str, aud: str) -> str:
    import jwt

    now = int(time.time())
    claims = {"iss": ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return jwt.encode(claims, private, algorithm=alg, headers={"kid": "bench-1", "typ": "JWT"})


def _raw(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


# --- load -----------------------------------------------------------------------------------


def _server_cpu_seconds(session: int) -> float | None:
    """User + system CPU seconds of every live process in the server's session."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[3]) == session:  # fields[3] is the session id
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Answer:
    status: int
    body: bytes
    seconds: float


class _Exchange(asyncio.Protocol):
    """One call on its own connection: write the request, collect the answer until the
    server closes (``Connection: close``). A bare protocol, lighter than streams."""

    def __init__(self, request: bytes, done: asyncio.Future[bytes]) -> None:
        self.request, self.done, self.chunks = request, done, list[bytes]()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if exc is None:
            self.done.set_result(b"".join(self.chunks))
        else:
            self.done.set_exception(exc)


async def _call(port: int, request: bytes) -> Answer:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[bytes] = loop.create_future()
    started = time.perf_counter()
    await loop.create_connection(lambda: _Exchange(request, done), "127.0.0.1", port)
    data = await done
    elapsed = time.perf_counter() - started
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return Answer(status, body, elapsed)


async def _wave(port: int, requests: list[bytes]) -> list[Answer]:
    return await asyncio.gather(*(_call(port, r) for r in requests))


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    cut = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "count": len(ms),
        "p50": statistics.median(ms),
        "p95": cut[94],
        "p99": cut[98],
        "max": ms[-1],
        "mean": statistics.fmean(ms),
    }


def _wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="limbguard-bench-cds-"))
    port = _free_port()
    private, jwk = _keys(args.alg)
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    engine = "sqlite"
    if args.database_url:
        if not args.database_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("--database-url must name PostgreSQL (SQLite is the default)")
        database_url, engine = _postgres_scratch(args.database_url), "postgresql"
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LIMBGUARD_DATA_DIR": str(folder),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LIMBGUARD_BASE_URL": base,
        "LIMBGUARD_CDS_CLIENTS": str(_clients_file(folder, jwk)),
        "DEBUG": "0",
    }
    limbguard = [sys.executable, "-m", "limbguard.cli"]
    subprocess.run([*limbguard, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    subprocess.run([sys.executable, __file__, SEED_FLAG], env=env, check=True)
    server = subprocess.Popen(
        [*limbguard, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    runner = asyncio.Runner()  # one event loop for every wave
    try:
        _wait_ready(port, server)
        body = json.dumps(order_sign_body()).encode()
        sign_path = "/cds-services/limb-salvage-order-check"
        total = args.concurrency * (args.rounds + 1) + args.sequential
        sign_requests = [
            _raw(
                "POST",
                sign_path,
                port,
                {
                    "Authorization": f"Bearer {_token(private, args.alg, base + sign_path)}",
                    "Content-Type": "application/json",
                },
                body,
            )
            for _ in range(total)
        ]
        discovery_requests = [
            _raw(
                "GET",
                "/cds-services",
                port,
                {"Authorization": f"Bearer {_token(private, args.alg, base + '/cds-services')}"},
            )
            for _ in range(total)
        ]
        trivial = _raw(
            "OPTIONS",
            "/cds-services",
            port,
            {"Origin": "https://ehr.bench.test", "Access-Control-Request-Method": "POST"},
        )
        series: dict[str, list[Answer]] = {
            "order-sign": [],
            "discovery": [],
            "trivial": [],
            "order-sign 1x": [],
            "trivial 1x": [],
        }
        cpu: dict[str, float] | None = dict.fromkeys(series, 0.0)
        client_cpu: dict[str, float] = dict.fromkeys(series, 0.0)

        def timed_wave(name: str, requests: list[bytes], keep: bool = True) -> None:
            before = _server_cpu_seconds(server.pid)
            mine = time.process_time()
            answers = runner.run(_wave(port, requests))
            mine = time.process_time() - mine
            after = _server_cpu_seconds(server.pid)
            nonlocal cpu
            if keep:
                series[name] += answers
                client_cpu[name] += mine
                if before is None or after is None:
                    cpu = None  # no /proc here
                elif cpu is not None:
                    cpu[name] += after - before

        n = args.concurrency
        for round_no in range(args.rounds + 1):  # round 0 warms the workers up
            waves = {
                "trivial": [trivial] * n,
                "order-sign": sign_requests[round_no * n : (round_no + 1) * n],
                "discovery": discovery_requests[round_no * n : (round_no + 1) * n],
            }
            for name, requests in waves.items():
                timed_wave(name, requests, keep=round_no > 0)
                time.sleep(0.05)
        # One call at a time: the service time itself, without waiting for a worker.
        for request in sign_requests[-args.sequential :] if args.sequential else []:
            timed_wave("order-sign 1x", [request])
            timed_wave("trivial 1x", [trivial])
    finally:
        runner.close()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if args.database_url:
            _drop_postgres_scratch(args.database_url)
        shutil.rmtree(folder, ignore_errors=True)

    def one_info_card(answer: Answer) -> bool:
        if answer.status != 200:
            return False
        cards = json.loads(answer.body).get("cards", [])
        return len(cards) == 1 and cards[0]["indicator"] == "info"

    signed = series["order-sign"] + series["order-sign 1x"]
    bad = [a for a in signed if not one_info_card(a)]
    if bad:
        sample = bad[0].body[:500].decode(errors="replace")
        raise SystemExit(f"unexpected order-sign answers: {len(bad)}; first: {sample}")
    if any(a.status != 200 for a in series["discovery"]) or any(
        a.status != 204 for a in series["trivial"] + series["trivial 1x"]
    ):
        raise SystemExit("discovery or the trivial endpoint did not answer as expected")
    stats = {
        name: _stats([a.seconds for a in answers]) for name, answers in series.items() if answers
    }
    for name in stats:
        stats[name]["client_cpu_ms"] = client_cpu[name] * 1000 / len(series[name])
    if cpu is not None:
        for name in stats:
            stats[name]["server_cpu_ms"] = cpu[name] * 1000 / len(series[name])
    return {
        "engine": engine,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "alg": args.alg,
        "series": stats,
        "ratio_to_trivial": {
            name: {q: stats[name][q] / stats[trivial][q] for q in ("p50", "p95", "p99")}
            for name, trivial in (
                ("order-sign", "trivial"),
                ("discovery", "trivial"),
                ("order-sign 1x", "trivial 1x"),
            )
            if name in stats
        },
        "targets_met": stats["order-sign"]["p95"] <= TARGET_P95_MS
        and stats["order-sign"]["p99"] <= TARGET_P99_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL server to make a scratch DB on")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--alg", choices=["RS384", "ES384"], default="RS384")
    parser.add_argument(
        "--sequential", type=int, default=200, help="calls made one at a time afterwards"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if result["targets_met"] else 1
    print(
        f"CDS Hooks order-sign with full prefetch: {result['engine']}, "
        f"{result['workers']} gunicorn workers, {result['rounds']} waves of "
        f"{result['concurrency']} concurrent calls, {result['alg']} tokens"
    )
    print(
        f"{'series':<15}{'count':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"
        f"{'CPU/call: server':>18}{'client':>8}   (ms)"
    )
    for name, s in result["series"].items():
        cpu = f"{s['server_cpu_ms']:>18.2f}" if "server_cpu_ms" in s else f"{'-':>18}"
        print(
            f"{name:<15}{s['count']:>7}{s['p50']:>9.1f}{s['p95']:>9.1f}"
            f"{s['p99']:>9.1f}{s['max']:>9.1f}{cpu}{s['client_cpu_ms']:>8.2f}"
        )
    for name, ratio in result["ratio_to_trivial"].items():
        print(
            f"{name} / trivial: p50 x{ratio['p50']:.2f}, p95 x{ratio['p95']:.2f}, "
            f"p99 x{ratio['p99']:.2f}"
        )
    sign = result["series"]["order-sign"]
    print(
        f"targets: p95 {sign['p95']:.1f} <= {TARGET_P95_MS:.0f} ms, "
        f"p99 {sign['p99']:.1f} <= {TARGET_P99_MS:.0f} ms: "
        + ("met" if result["targets_met"] else "NOT met")
    )
    return 0 if result["targets_met"] else 1


if __name__ == "__main__":
    if sys.argv[1:] == [SEED_FLAG]:
        seed()
        raise SystemExit(0)
    raise SystemExit(main())
