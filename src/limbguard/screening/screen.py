"""Run a population screen: views → rules → worklist, FHIR Group, measure and summary.

`run_screen` is pure of Django: the command (``limbguard screen``) and the intake
bridge call it. Steps, each reported to ``progress(done, total)``:

1. find the export's files (`inputs.find_export`) and the reference date;
2. per resource type, read the elements the shipped views use (explicit schema) and
   count the malformed lines, reported as ``file:line``; an absent type is read as
   empty and the rules that need it are listed as not evaluated;
3. build the five views (`viewdefs/*.json`), the value-set table and the rule tables
   (`rules.statements`), in the engine's dialect;
4. write ``worklist.parquet`` / ``worklist.csv`` / ``worklist-group.json`` (FHIR R4
   Group), ``screened.parquet``, ``measure.csv`` / ``measure.json``, ``summary.json``
   and, when needed, ``malformed-lines.txt``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, fields
from functools import cache, partial
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import orjson
import sqlglot.expressions as exp

from limbguard.fhir import terminology as term
from limbguard.screening import rules, valuesets
from limbguard.screening import sqlast as q
from limbguard.screening.compiler import MALFORMED_COLUMN, CompiledView, compile_view
from limbguard.screening.engines import SOURCE_PLACEHOLDER, Engine, Format
from limbguard.screening.inputs import BadLine, bad_lines, find_export

VIEWS: Final = ("patient", "condition", "observation", "procedure", "encounter")
RESOURCE_TYPES: Final = ("Patient", "Condition", "Observation", "Procedure", "Encounter")
MAX_LISTED_BAD_LINES: Final = 20
# What each resource type feeds; listed as "not evaluated" when the type is absent.
NEEDS: Final = {
    "Patient": ("deceased patients left off the worklist; names, MRN, phone and center on it",),
    "Condition": (
        "risk categories from diagnoses (PAD, CLTI, diabetic foot ulcer, gangrene, "
        "osteomyelitis, venous disease, DVT, diabetes, CKD, smoking, amputation status)",
    ),
    "Observation": (
        "latest ABI/TBI and the low-ABI rules (T1-ABI<0.40, T3-LOW-ABI)",
        "vascular evaluations recorded as measurements (ABI, TBI, toe pressure, TcPO2, duplex)",
        "smoking status answers",
    ),
    "Procedure": (
        "amputation history (T2-MAJOR-AMPUTATION, T2-MINOR-AMPUTATION)",
        "vascular evaluations recorded as procedures (CPT 93922-93926, 93970/93971)",
        "the quality measure (major amputations)",
    ),
    "Encounter": ("the facility of an amputation from its encounter (measure by facility)",),
}
WORKLIST_ORDER: Final = "tier, last_evaluation NULLS FIRST, patient"
KEYS: Final = {"patient": "patient", **dict.fromkeys(VIEWS[1:], "id")}


def load_view(name: str) -> dict[str, Any]:
    text = resources.files("limbguard.screening").joinpath("viewdefs", f"{name}.json").read_text()
    view: dict[str, Any] = json.loads(text)
    return view


@dataclass
class ScreenResult:
    engine: str
    as_of: dt.date
    window_days: int
    lookback_days: int
    out: Path
    resources: dict[str, int] = field(default_factory=dict)
    missing_types: list[str] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    malformed: int = 0
    malformed_lines: list[str] = field(default_factory=list)
    patients: int = 0
    at_risk: int = 0
    evaluated: int = 0
    deceased_at_risk: int = 0
    worklist: list[dict[str, Any]] = field(default_factory=list)
    tiers: dict[str, int] = field(default_factory=dict)
    measure: list[dict[str, Any]] = field(default_factory=list)
    bytes_read: int = 0
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("worklist",)}
        data["as_of"] = self.as_of.isoformat()
        data["out"] = str(self.out)
        data["worklist"] = len(self.worklist)
        data["rules"] = [
            {"rule": r.rule, "tier": r.tier, "label": r.label, "source": r.source}
            for r in rules.TIER_RULES
        ]
        overall = next(
            (m for m in self.measure if m["year"] is None and m["facility"] is None), None
        )
        data["measure_overall"] = overall
        return data

    def line(self) -> str:
        overall = next(
            (m for m in self.measure if m["year"] is None and m["facility"] is None), None
        )
        rate = self.patients / self.seconds if self.seconds else 0.0
        tiers = ", ".join(f"{k}: {v}" for k, v in sorted(self.tiers.items()))
        text = (
            f"screen: {self.patients:,} patients ({sum(self.resources.values()):,} resources) "
            f"in {self.seconds:.1f} s on {self.engine} ({rate:,.0f} patients/s): "
            f"{self.at_risk:,} at risk, {len(self.worklist):,} unevaluated on the worklist"
            + (f" ({tiers})" if tiers else "")
        )
        if overall and overall["amputations"]:
            text += (
                f"; {overall['amputations']} major amputations, "
                f"{overall['share_without_evaluation']:.0%} without a vascular evaluation "
                f"in the {self.lookback_days} days before"
            )
        if self.malformed:
            text += f"; {self.malformed} malformed lines skipped (see malformed-lines.txt)"
        if self.missing_types:
            text += f"; absent: {', '.join(self.missing_types)}"
        return text + f" -> {self.out}"


@cache
def compiled_views(dialect: str) -> Mapping[str, CompiledView]:
    """The shipped views, each with a last column flagging malformed source rows
    (compiled once per dialect and process: they are package data)."""
    return MappingProxyType(
        {name: compile_view(load_view(name), dialect, flag_malformed=True) for name in VIEWS}
    )


@cache
def _view_sql(dialect: str, name: str) -> str:
    """A shipped view's query over the placeholder source table, rendered once: only
    the columns the rules read (`rules.VIEW_COLUMNS`), its key and its malformed-row
    flag, in the view's order (the engine's optimizer then leaves the other columns
    unread)."""
    view = compiled_views(dialect)[name]
    keep = {*rules.VIEW_COLUMNS[name], KEYS[name]}
    names = [column.name for column in view.columns]
    sql = view.sql(SOURCE_PLACEHOLDER)
    if set(names) <= keep:
        return sql
    kept = [n for n in names if n in keep] + [MALFORMED_COLUMN]
    columns = ", ".join(q.ident(n).sql(dialect) for n in kept)
    return f"SELECT {columns} FROM ({sql}) AS {q.ident(name).sql(dialect)}"


def run_screen(
    engine: Engine,
    source: Path,
    out: Path,
    *,
    as_of: dt.date | None = None,
    window_days: int = rules.EVALUATION_WINDOW_DAYS,
    lookback_days: int = rules.AMPUTATION_LOOKBACK_DAYS,
    progress: Callable[[int, int], None] | None = None,
) -> ScreenResult:
    started = time.perf_counter()
    export = find_export(source, RESOURCE_TYPES)
    reference = as_of or export.as_of() or dt.datetime.now(dt.UTC).date()
    settings = rules.Settings(reference, window_days, lookback_days)
    result = ScreenResult(engine.name, reference, window_days, lookback_days, out)
    result.bytes_read = export.size_bytes(RESOURCE_TYPES)
    views = compiled_views(engine.dialect)
    statements = list(rules.statements(settings))
    total = len(VIEWS) * 2 + 1 + len(statements) + 1
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    out.mkdir(parents=True, exist_ok=True)
    # The views, their counts, the value-set table and the rule tables, each as soon as
    # the tables it reads exist: two at a time on an engine with a `worker` (DuckDB), so
    # that a core one statement leaves idle is used by the next. The worklist and
    # screened files are written, each on a connection and thread of its own, as soon as
    # their table exists; waited for before the summary.
    counted: dict[str, tuple[int, int, list[BadLine]]] = {}

    def view_input(name: str) -> tuple[str, list[Path], Format]:
        """A view's resource type, the export's files of it and their format."""
        kind = views[name].resource
        return kind, export.files.get(kind, []), export.formats.get(kind, "ndjson")

    def build_view(name: str, handle: Engine) -> None:
        _, files, fmt = view_input(name)
        sql = _view_sql(handle.dialect, name)
        handle.create_view(name, files, fmt, views[name].source_columns(), sql)

    def count_view(name: str, handle: Engine) -> None:
        kind, files, fmt = view_input(name)
        key = q.ident(KEYS[name]).sql(handle.dialect)
        flag = q.ident(MALFORMED_COLUMN).sql(handle.dialect)
        malformed, count = handle.rows(
            f"SELECT count(CASE WHEN {flag} THEN 1 END), "
            f"count(DISTINCT CASE WHEN NOT {flag} THEN {key} END) FROM {name}"
        )[0]
        found = list(bad_lines(files, kind)) if malformed and fmt == "ndjson" else []
        counted[name] = (int(malformed or 0), int(count), found)

    def build_codes(handle: Engine) -> None:
        columns = [(n, q.scalar_type("VARCHAR")) for n in ("system", "code", "category")]
        handle.insert_rows("codes", columns, valuesets.rows())

    def build_rule(table: str, sql: str, handle: Engine) -> None:
        store = table not in rules.READ_ONCE
        handle.create(table, rules.render(sql, handle.dialect), store=store)

    # The views in order of input size, largest first: the longest reads start at once
    # and the short ones fill in beside them, rather than the largest starting last.
    # The value-set table after them: only the rules read it, and its rows are staged
    # in Python, which would hold up the start of the first read.
    by_size = sorted(VIEWS, key=lambda n: -export.size_bytes((views[n].resource,)))
    tasks = [_Task(name, frozenset(), partial(build_view, name)) for name in by_size]
    tasks.append(_Task("codes", frozenset(), build_codes))
    # Counted apart from the rules' reads: the counts are only for the summary.
    tasks += [
        _Task(f"count {name}", frozenset({name}), partial(count_view, name)) for name in VIEWS
    ]
    for table, sql in statements:
        tasks.append(
            _Task(table, _reads(sql, {t.name for t in tasks}), partial(build_rule, table, sql))
        )
    tasks = _worklist_first(tasks)
    writing: list[Callable[[], None]] = []

    def built(table: str) -> None:
        step()
        for path, query in _exports(engine.dialect, table):
            writing.append(engine.export_async(query, out / path))

    bad: list[BadLine] = []
    try:
        _run_tasks(engine, tasks, built)
        for name in VIEWS:
            kind = views[name].resource
            if not export.files.get(kind):
                result.missing_types.append(kind)
                result.not_evaluated.extend(NEEDS[kind])
            malformed, count, found = counted[name]
            result.resources[kind] = count
            if malformed:
                result.malformed += max(malformed, len(found))
                bad.extend(found)
        _collect(engine, result)
        result.malformed_lines = [str(b) for b in bad[:MAX_LISTED_BAD_LINES]]
        if bad or result.malformed:
            text = "".join(f"{b}\n" for b in bad)
            (out / "malformed-lines.txt").write_text(text, encoding="utf-8")
        _write_outputs(engine, result)
    finally:
        _wait_all(writing)
    result.seconds = time.perf_counter() - started
    (out / "summary.json").write_bytes(
        orjson.dumps(result.summary(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    step()
    return result


WORKLIST_COLUMNS: Final = (
    ("patient", "VARCHAR"),
    ("mrn", "VARCHAR"),
    ("family", "VARCHAR"),
    ("given", "VARCHAR"),
    ("birth_date", "VARCHAR"),
    ("gender", "VARCHAR"),
    ("phone", "VARCHAR"),
    ("center", "VARCHAR"),
    ("tier", "BIGINT"),
    ("tier_rule", "VARCHAR"),
    ("categories", "VARCHAR"),
    ("latest_abi", "DOUBLE"),
    ("latest_abi_date", "DATE"),
    ("latest_tbi", "DOUBLE"),
    ("latest_tbi_date", "DATE"),
    ("last_evaluation", "DATE"),
    ("last_evaluation_code", "VARCHAR"),
    ("days_since_evaluation", "BIGINT"),
    ("symptoms", "VARCHAR"),
)
SCREENED_COLUMNS: Final = (
    ("patient", "VARCHAR"),
    ("categories", "VARCHAR"),
    ("tier", "BIGINT"),
    ("tier_rule", "VARCHAR"),
    ("at_risk", "BOOLEAN"),
    ("evaluated", "BOOLEAN"),
    ("deceased", "BOOLEAN"),
    ("latest_abi", "DOUBLE"),
    ("latest_abi_date", "DATE"),
    ("latest_tbi", "DOUBLE"),
    ("latest_tbi_date", "DATE"),
    ("last_evaluation", "DATE"),
    ("last_evaluation_code", "VARCHAR"),
)


@cache
def _select(dialect: str, table: str, columns: tuple[tuple[str, str], ...], order: str) -> str:
    """An output's query, rendered once per process (the same for every screen)."""
    names = ", ".join(
        exp.Cast(this=q.column(name), to=q.scalar_type(kind)).sql(dialect)
        + " AS "
        + q.ident(name).sql(dialect)
        for name, kind in columns
    )
    return f"SELECT {names} FROM {table} ORDER BY {order}"


def _collect(engine: Engine, result: ScreenResult) -> None:
    stats = engine.rows(
        "SELECT count(*), sum(CASE WHEN at_risk THEN 1 ELSE 0 END), "
        "sum(CASE WHEN at_risk AND evaluated THEN 1 ELSE 0 END), "
        "sum(CASE WHEN at_risk AND NOT evaluated AND deceased THEN 1 ELSE 0 END) FROM screened"
    )[0]
    result.patients, result.at_risk, result.evaluated, result.deceased_at_risk = (
        int(v or 0) for v in stats
    )
    names = [n for n, _ in WORKLIST_COLUMNS]
    sql = _select(engine.dialect, "worklist", WORKLIST_COLUMNS, WORKLIST_ORDER)
    result.worklist = [dict(zip(names, row, strict=True)) for row in engine.rows(sql)]
    for row in result.worklist:
        result.tiers[f"tier {row['tier']}"] = result.tiers.get(f"tier {row['tier']}", 0) + 1
    measure = engine.rows(
        "SELECT year, facility, amputations, without_evaluation FROM measure "
        "ORDER BY year NULLS LAST, facility NULLS LAST"
    )
    result.measure = [
        {
            "year": None if year is None else int(year),
            "facility": facility,
            "amputations": int(count or 0),
            "without_evaluation": int(without or 0),
            "share_without_evaluation": round(int(without) / int(count), 4) if count else None,
        }
        for year, facility, count, without in measure
    ]


@dataclass(frozen=True)
class _Task:
    name: str  # the table it makes
    needs: frozenset[str]  # the tables it reads
    action: Callable[[Engine], None]  # run on the engine or on its worker


_TABLE_REFERENCE: Final = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def _reads(sql: str, tables: set[str]) -> frozenset[str]:
    """The tables among ``tables`` that a rule statement reads (each follows a FROM or
    JOIN in the rules' SQL; tested against sqlglot's parse of every statement)."""
    return frozenset(name for name in _TABLE_REFERENCE.findall(sql) if name in tables)


def _worklist_first(tasks: Sequence[_Task]) -> list[_Task]:
    """``tasks`` with those the worklist is built from (itself included) first, each
    group in its given order: the worklist is the longest chain of statements, so the
    others (the encounter view, the measure) are left to fill the cores it leaves idle."""
    needs = {task.name: task.needs for task in tasks}
    wanted: set[str] = set()
    pending = ["worklist"]
    while pending:
        name = pending.pop()
        if name in needs and name not in wanted:
            wanted.add(name)
            pending.extend(needs[name])
    return [t for t in tasks if t.name in wanted] + [t for t in tasks if t.name not in wanted]


def _run_tasks(engine: Engine, tasks: Sequence[_Task], built: Callable[[str], None]) -> None:
    """Run every task once the tables it reads are built, in the given order of
    preference: one at a time, or two at once on the engine and its worker. ``built``
    is called in this thread as each task ends."""
    worker = engine.worker()
    if worker is None:
        for task in tasks:
            task.action(engine)
            built(task.name)
        return
    free: list[Engine] = [engine, worker]
    ready: set[str] = set()
    waiting = list(tasks)
    running: dict[Future[None], tuple[_Task, Engine]] = {}
    try:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="limbguard-screen") as pool:
            while waiting or running:
                for task in [t for t in waiting if t.needs <= ready][: len(free)]:
                    waiting.remove(task)
                    handle = free.pop(0)
                    running[pool.submit(task.action, handle)] = (task, handle)
                if not running:
                    names = ", ".join(t.name for t in waiting)
                    raise RuntimeError(f"screen: tables never built for {names}")
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task, handle = running.pop(future)
                    free.append(handle)
                    future.result()
                    ready.add(task.name)
                    built(task.name)
    finally:
        worker.close()


def _wait_all(writing: Sequence[Callable[[], None]]) -> None:
    """Wait for every file being written, then raise the first writer's error."""
    errors: list[Exception] = []
    for waiting in writing:
        try:
            waiting()
        except Exception as error:  # every writer is waited for
            errors.append(error)
    if errors:
        raise errors[0]


def _exports(dialect: str, table: str) -> list[tuple[str, str]]:
    """The files written from a rule table: (file name, query)."""
    if table == "worklist":
        worklist = _select(dialect, "worklist", WORKLIST_COLUMNS, WORKLIST_ORDER)
        return [("worklist.parquet", worklist), ("worklist.csv", worklist)]
    if table == "screened":
        return [("screened.parquet", _select(dialect, "screened", SCREENED_COLUMNS, "patient"))]
    return []


def _write_outputs(engine: Engine, result: ScreenResult) -> None:
    out = result.out
    measure_columns = (
        ("year", "BIGINT"),
        ("facility", "VARCHAR"),
        ("amputations", "BIGINT"),
        ("without_evaluation", "BIGINT"),
        ("share_without_evaluation", "DOUBLE"),
    )
    engine.write_rows(
        [[m[n] for n, _ in measure_columns] for m in result.measure],
        measure_columns,
        [out / "measure.csv"],
    )
    measure = {
        "title": "Major amputations without a vascular evaluation before surgery",
        "definition": (
            f"Of the major amputations (stump revisions left out; one per patient, side and "
            f"{rules.SAME_AMPUTATION_DAYS} days) on or before {result.as_of.isoformat()}, the "
            f"share with no vascular evaluation (a vascular study or measurement) in the "
            f"{result.lookback_days} days before, up to and including the day of surgery. "
            "Rows by year and facility; a NULL facility is the year's total, a NULL year "
            "the overall total."
        ),
        "rows": result.measure,
    }
    (out / "measure.json").write_bytes(orjson.dumps(measure, option=orjson.OPT_INDENT_2) + b"\n")
    (out / "worklist-group.json").write_bytes(
        orjson.dumps(group_resource(result), option=orjson.OPT_INDENT_2) + b"\n"
    )


def group_resource(result: ScreenResult) -> dict[str, Any]:
    """The worklist as a FHIR R4 Group (type person, actual), members in worklist order."""
    return {
        "resourceType": "Group",
        "id": f"limbguard-screen-{result.as_of.isoformat()}",
        "identifier": [
            {"system": f"{term.BASE}/sid/screen", "value": f"{result.as_of.isoformat()}"}
        ],
        "active": True,
        "type": "person",
        "actual": True,
        "name": (
            f"At risk of limb loss, no vascular evaluation in {result.window_days} days "
            f"(as of {result.as_of.isoformat()})"
        ),
        "quantity": len(result.worklist),
        "member": [
            {"entity": {"reference": f"Patient/{row['patient']}"}} for row in result.worklist
        ],
    }


def to_parquet(engine: Engine, source: Path, out: Path) -> dict[str, Path]:
    """Write each resource type of an NDJSON export as ``<Type>.parquet``, holding the
    FHIR JSON structure of the elements the shipped views read (for screens that start
    from Parquet, and for the benchmark). Malformed lines are left out."""
    export = find_export(source, RESOURCE_TYPES)
    views = compiled_views(engine.dialect)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in VIEWS:
        kind = views[name].resource
        files = export.files.get(kind)
        if not files:
            continue
        table = f"convert_{name}"
        engine.load(table, files, export.formats[kind], views[name].source_columns())
        target = out / f"{kind}.parquet"
        column = q.ident("resourceType").sql(engine.dialect)
        engine.export(f"SELECT * FROM {table} WHERE {column} = '{kind}'", target)
        written[kind] = target
    if export.transaction_time:
        manifest = {
            "transactionTime": export.transaction_time,
            "output": [{"type": kind, "url": path.name} for kind, path in written.items()],
        }
        (out / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return written
