"""Benchmark: concurrent public-form submissions on a real server; nothing may be lost.

    .venv/bin/python bench/public_forms.py                        # 200 at once, SQLite
    .venv/bin/python bench/public_forms.py --concurrency 20       # 200 in waves of 20
    .venv/bin/python bench/public_forms.py --database-url postgres://USER:PW@127.0.0.1:5432/X
    # another WSGI server instead of `limbguard serve`, to compare (it must be importable):
    .venv/bin/python bench/public_forms.py --server-command "{python} -m granian \
        --interface wsgi --host 127.0.0.1 --port {port} --workers {workers} \
        --blocking-threads 1 --runtime-mode st --access-log limbguard.config.wsgi:application"

What it does:
1. Makes a scratch folder, removed at the end, with a fresh database (a SQLite file;
   with --database-url naming PostgreSQL, its own database `limbguard_bench_forms` on
   that server, dropped at the end), runs `limbguard migrate` and seeds the four demo
   centers.
2. Starts `limbguard serve` (gunicorn, --workers sync workers) on a free loopback port,
   with the per-address rate limit raised (every client here is 127.0.0.1) and e-mail
   kept in memory.
3. Prepares --submissions visitors, as a browser would: each GETs its form (a third
   each of "Schedule your visit", "Refer a patient" and "Contact us"), keeps its CSRF
   cookie and token, reads the arithmetic question and answers it. Each submission
   carries a unique marker in its text.
4. Fires the POSTs in waves of --concurrency simultaneous submissions (default: all
   200 at once) and times each one from connect to the last byte, which includes the
   wait for a free worker.
5. Asks the database what it stored: every accepted submission (303/302 to its private
   page) must be there exactly once, every refused one not at all. Prints count, p50,
   p95, p99 and max, throughput, the same waves' figures at a trivial page (to read
   them against the machine's load), and the verdicts: nothing lost, p95 < 300 ms.
   --json prints the same as JSON. Exit status 0 when nothing was lost and the target
   was met.
6. Also prints the CPU time the server (gunicorn's master and workers, read from /proc)
   and this load generator spent on the submissions, per submission: unlike the
   latencies, these hardly move when other work shares the machine, so they are the
   figures to steer by on a busy machine.

The load generator writes raw HTTP/1.1 on asyncio sockets, so that it takes as little
as it can of the two cores the server needs too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

TARGET_P95_MS = 300.0
BENCH_DB = "limbguard_bench_forms"
SEED_FLAG = "--seed-only"
COUNT_FLAG = "--count-only"
PAGES = ("/visit/", "/refer/", "/contact/")

FIELDS: dict[str, dict[str, str]] = {
    "/visit/": {
        "given_name": "Ana",
        "family_name": "Bench",
        "birth_date": "1956-04-02",
        "email": "ana@bench.invalid",
        "phone": "(619) 555-0199",
        "preferred_times": "mornings",
        "red_flags": "nonhealing_wound",
    },
    "/refer/": {
        "referrer_name": "Dr. Rita Bench",
        "referrer_organization": "Bench Family Practice",
        "referrer_email": "rita@bench.invalid",
        "referrer_phone": "(619) 555-0177",
        "patient_given_name": "Walter",
        "patient_family_name": "Bench",
        "patient_birth_date": "1948-09-30",
        "patient_phone": "(619) 555-0166",
        "red_flags": "gangrene",
    },
    "/contact/": {
        "name": "Carl Bench",
        "email": "carl@bench.invalid",
        "subject": "Parking",
    },
}
TEXT_FIELD = {"/visit/": "reason", "/refer/": "reason", "/contact/": "message"}


# --- child processes with the bench environment ----------------------------------------


def seed() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limbguard.config.settings")
    django.setup()
    from limbguard.config.demo import ensure_centers

    ensure_centers()


def count(run_id: str) -> None:
    """Print {marker: times stored} for this run's submissions."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limbguard.config.settings")
    django.setup()
    from limbguard.intake.models import IntakeRequest

    stored: dict[str, int] = {}
    for reason in IntakeRequest.objects.filter(reason__contains=run_id).values_list(
        "reason", flat=True
    ):
        marker = reason.rsplit(" ", 1)[-1]
        stored[marker] = stored.get(marker, 0) + 1
    print(json.dumps(stored))


# --- HTTP ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _raw(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Answer:
    status: int
    head: str
    body: bytes
    seconds: float


async def _call(port: int, request: bytes) -> Answer:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    elapsed = time.perf_counter() - started
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0
    return Answer(status, head.decode("latin-1"), body, elapsed)


async def _gather(port: int, requests: list[bytes], limit: int) -> list[Answer]:
    gate = asyncio.Semaphore(limit)

    async def one(request: bytes) -> Answer:
        async with gate:
            return await _call(port, request)

    return await asyncio.gather(*(one(r) for r in requests))


@dataclass
class Visitor:
    page: str
    marker: str
    post: bytes = b""


# Servers differ in the spaces they keep after the colon (Django's WSGI value starts with one).
COOKIE = re.compile(r"^Set-Cookie:\s*csrftoken=([^;]+)", re.IGNORECASE | re.MULTILINE)
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGE = re.compile(rb'name="challenge" value="([^"]+)"')
QUESTION = re.compile(rb'class="challenge">(\d+) \+ (\d+) =<')


def _post_for(port: int, visitor: Visitor, form: Answer) -> bytes:
    cookie = COOKIE.search(form.head)
    csrf, challenge, question = (
        CSRF.search(form.body),
        CHALLENGE.search(form.body),
        QUESTION.search(form.body),
    )
    if form.status != 200 or not (cookie and csrf and challenge and question):
        raise RuntimeError(f"{visitor.page}: the form did not load ({form.status})")
    answer = int(question.group(1)) + int(question.group(2))
    data = {
        **FIELDS[visitor.page],
        TEXT_FIELD[visitor.page]: f"Benchmark submission {visitor.marker}",
        "csrfmiddlewaretoken": csrf.group(1).decode(),
        "challenge": challenge.group(1).decode(),
        "answer": str(answer),
        "website": "",
    }
    body = urlencode(data).encode()
    return _raw(
        "POST",
        visitor.page,
        port,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie.group(1)}",
            "Referer": f"http://127.0.0.1:{port}{visitor.page}",
            "Origin": f"http://127.0.0.1:{port}",
        },
        body,
    )


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


def _server_cpu_seconds(master: int) -> float:
    """User + system CPU seconds of process `master` and its children so far (Linux
    /proc; NaN elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                # Fields after the parenthesised command name: state ppid ... utime stime.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == master or int(fields[1]) == master:
                total += (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return float("nan")
    return total


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
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(BENCH_DB))
        )


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="limbguard-bench-forms-"))
    port = _free_port()
    database_url, engine = f"sqlite:///{folder / 'bench.sqlite3'}", "sqlite"
    if args.database_url:
        if not args.database_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("--database-url must name PostgreSQL (SQLite is the default)")
        database_url, engine = _postgres_scratch(args.database_url), "postgresql"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LIMBGUARD_DATA_DIR": str(folder),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "0",
        "EMAIL_URL": "locmem:",
        "INTAKE_RATE_LIMIT": str(10 * args.submissions),
        "DEBUG": "0",
    }
    limbguard = [sys.executable, "-m", "limbguard.cli"]
    subprocess.run([*limbguard, "migrate", "--no-input", "-v", "0"], env=env, check=True)
    subprocess.run([sys.executable, __file__, SEED_FLAG], env=env, check=True)
    command = [*limbguard, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)]
    if args.server_command:
        command = shlex.split(
            args.server_command.format(python=sys.executable, port=port, workers=args.workers)
        )
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    run_id = secrets.token_hex(4)
    visitors = [
        Visitor(PAGES[i % len(PAGES)], f"{run_id}-{i:04d}") for i in range(args.submissions)
    ]
    try:
        _wait_ready(port, server)
        warm = asyncio.run(_gather(port, [_raw("GET", "/", port, {})] * 20, 4))
        if any(a.status != 200 for a in warm):
            raise SystemExit("the home page did not answer 200")
        forms = asyncio.run(
            _gather(port, [_raw("GET", v.page, port, {}) for v in visitors], args.concurrency)
        )
        for visitor, form in zip(visitors, forms, strict=True):
            visitor.post = _post_for(port, visitor, form)
        time.sleep(0.2)
        server_cpu, client_cpu = _server_cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        answers: list[Answer] = []
        for start in range(0, len(visitors), args.concurrency):
            wave = visitors[start : start + args.concurrency]
            answers += asyncio.run(_gather(port, [v.post for v in wave], len(wave)))
        elapsed = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        # The last answer can arrive a moment before its worker is done (access log).
        time.sleep(0.1)
        server_cpu = _server_cpu_seconds(server.pid) - server_cpu
        # The same waves at a trivial Django page (an anonymous staff URL answers a
        # redirect to sign-in: middleware, no template, no database write), so that the
        # figures can be read against what this machine gives any request right now.
        trivial: list[Answer] = []
        trivial_cpu = _server_cpu_seconds(server.pid)
        for start in range(0, len(visitors), args.concurrency):
            size = len(visitors[start : start + args.concurrency])
            probe = _raw("GET", "/intake/unread/", port, {})
            trivial += asyncio.run(_gather(port, [probe] * size, size))
        time.sleep(0.1)
        trivial_cpu = _server_cpu_seconds(server.pid) - trivial_cpu
        stored = json.loads(
            subprocess.run(
                [sys.executable, __file__, COUNT_FLAG, run_id],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if args.database_url:
            _drop_postgres_scratch(args.database_url)
        shutil.rmtree(folder, ignore_errors=True)

    accepted = [v.marker for v, a in zip(visitors, answers, strict=True) if a.status in (302, 303)]
    refused = [
        v.marker for v, a in zip(visitors, answers, strict=True) if a.status not in (302, 303)
    ]
    lost = [m for m in accepted if stored.get(m, 0) == 0]
    duplicated = [m for m in accepted if stored.get(m, 0) > 1]
    stored_refused = [m for m in refused if stored.get(m, 0)]
    statuses: dict[str, int] = {}
    for answer in answers:
        statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
    post = _stats([a.seconds for a in answers])
    get = _stats([a.seconds for a in forms])
    base = _stats([a.seconds for a in trivial])
    return {
        "engine": engine,
        "workers": args.workers,
        "server": args.server_command or "limbguard serve (gunicorn sync workers)",
        "submissions": args.submissions,
        "concurrency": args.concurrency,
        "statuses": statuses,
        "accepted": len(accepted),
        "stored": sum(stored.values()),
        "lost": len(lost),
        "duplicated": len(duplicated),
        "refused_but_stored": len(stored_refused),
        "post_ms": post,
        "get_form_ms": get,
        "trivial_ms": base,
        "p95_ratio_to_trivial": post["p95"] / base["p95"],
        "throughput_per_s": len(answers) / elapsed,
        "server_cpu_ms_per_submission": 1000 * server_cpu / len(answers),
        "client_cpu_ms_per_submission": 1000 * client_cpu / len(answers),
        "server_cpu_ms_per_trivial_page": 1000 * trivial_cpu / len(trivial),
        "nothing_lost": not lost and not duplicated and not stored_refused,
        "target_met": post["p95"] < TARGET_P95_MS,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument(
        "--concurrency", type=int, default=200, help="simultaneous submissions (default 200)"
    )
    parser.add_argument("--workers", type=int, default=2, help="server workers (default 2)")
    parser.add_argument("--database-url", help="PostgreSQL server to make a scratch DB on")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--server-command",
        help="start this server instead of `limbguard serve` ({python}, {port} and {workers} "
        "are filled in); its master's child processes count as the server's CPU",
    )
    args = parser.parse_args(argv)
    result = run(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        post, get = result["post_ms"], result["get_form_ms"]
        print(
            f"public forms on {result['engine']}, {result['workers']} workers of "
            f"{result['server']}: {result['submissions']} submissions, "
            f"{result['concurrency']} at a time"
        )
        print(
            f"  answers {result['statuses']}; accepted {result['accepted']}, "
            f"stored {result['stored']}, lost {result['lost']}, "
            f"duplicated {result['duplicated']}, refused-but-stored "
            f"{result['refused_but_stored']}"
        )
        base = result["trivial_ms"]
        for name, s in (("POST submission", post), ("GET form", get), ("trivial page", base)):
            print(
                f"  {name:<16} p50 {s['p50']:7.1f} ms  p95 {s['p95']:7.1f} ms  "
                f"p99 {s['p99']:7.1f} ms  max {s['max']:7.1f} ms"
            )
        print(
            f"  throughput {result['throughput_per_s']:.0f} submissions/s; POST p95 is "
            f"{result['p95_ratio_to_trivial']:.1f}x the trivial page's under the same load"
        )
        print(
            f"  CPU per submission: server {result['server_cpu_ms_per_submission']:.2f} ms "
            f"(server master and workers; {result['server_cpu_ms_per_trivial_page']:.2f} ms "
            f"per trivial page), load generator {result['client_cpu_ms_per_submission']:.2f} ms"
        )
        print(
            f"  nothing lost: {'yes' if result['nothing_lost'] else 'NO'}; "
            f"p95 < {TARGET_P95_MS:.0f} ms: {'yes' if result['target_met'] else 'NO'}"
        )
    return 0 if result["nothing_lost"] and result["target_met"] else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == SEED_FLAG:
        seed()
    elif len(sys.argv) > 2 and sys.argv[1] == COUNT_FLAG:
        count(sys.argv[2])
    else:
        raise SystemExit(main())
