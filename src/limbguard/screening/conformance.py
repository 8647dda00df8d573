"""Run the official SQL on FHIR v2 test suite against an engine and write the spec's
``test_report.json``.

Suite: ``FHIR/sql-on-fhir-v2`` ``tests/*.json`` (MIT), a copy in
``../shared/datasets/sql-on-fhir-v2-tests``. Comparison follows the reference runner
(``sof-js/tests/compliance.test.js``): rows are compared order-insensitively, key sets
must match exactly, collection columns are compared deeply, ``expectError`` passes when
the view is rejected or the query fails, ``expectCount`` compares the row count and
``expectColumns`` the column order. Report shape: ``test-report.schema.json`` of the
suite (``{file: {"tests": [{"name", "result": {"passed", "error"?, "details"?}}]}}``).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from limbguard.screening.compiler import ViewError, compile_view
from limbguard.screening.engines import Engine


@dataclass(frozen=True)
class CaseResult:
    file: str
    title: str
    tags: tuple[str, ...]
    passed: bool
    error: str = ""


def _normal(value: Any) -> Any:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if hasattr(value, "asDict"):  # a Spark Row inside an array
        return _normal(value.asDict())
    return value


def _canonical(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(_normal(row), sort_keys=True, default=str) for row in rows)


def run_view(
    engine: Engine, view: Any, resources: list[dict[str, Any]], workdir: Path
) -> tuple[list[str], list[dict[str, Any]]]:
    """Compile ``view``, load the fixtures of its resource type, and return the column
    names and the rows (as dicts)."""
    compiled = compile_view(view, engine.dialect)
    kind = compiled.resource
    path = workdir / f"{kind}.ndjson"
    if not path.exists():
        with path.open("w", encoding="utf-8") as out:
            for resource in resources:
                if resource.get("resourceType") == kind:
                    out.write(json.dumps(resource) + "\n")
    table = f"src_{kind.lower()}"
    engine.load(table, [path], "ndjson", compiled.source_columns())
    names = [c.name for c in compiled.columns]
    rows = [dict(zip(names, row, strict=True)) for row in engine.rows(compiled.sql(table))]
    return names, rows


def _check(
    case: dict[str, Any], engine: Engine, resources: list[dict[str, Any]], workdir: Path
) -> str:
    """'' when the case passes, else why not."""
    try:
        names, rows = run_view(engine, case.get("view"), resources, workdir)
    except ViewError as error:
        return "" if case.get("expectError") else f"view rejected: {error}"
    except Exception as error:  # the engine's own error types (DuckDB, Py4J)
        if case.get("expectError"):
            return ""
        return f"query failed: {type(error).__name__}: {str(error).splitlines()[0][:300]}"
    if case.get("expectError"):
        return f"expected an error, got {len(rows)} rows"
    if "expectColumns" in case and names != case["expectColumns"]:
        return f"columns {names} != expected {case['expectColumns']}"
    if "expectCount" in case:
        return (
            "" if len(rows) == case["expectCount"] else f"{len(rows)} rows != {case['expectCount']}"
        )
    expected = case.get("expect", [])
    got, want = _canonical(rows), _canonical(expected)
    if got == want:
        return ""
    return f"rows differ: got {got[:6]} expected {want[:6]}"


def run_suite(engine: Engine, tests_dir: Path) -> Iterator[CaseResult]:
    for path in sorted(tests_dir.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        resources = suite.get("resources", [])
        with tempfile.TemporaryDirectory(prefix="sof-") as tmp:
            for case in suite.get("tests", []):
                error = _check(case, engine, resources, Path(tmp))
                yield CaseResult(
                    path.name, case.get("title", ""), tuple(case.get("tags", [])), not error, error
                )


def report(results: list[CaseResult]) -> dict[str, Any]:
    """The suite's ``test_report.json`` for these results."""
    out: dict[str, Any] = {}
    for result in results:
        entry: dict[str, Any] = {"passed": result.passed}
        if result.error:
            entry["error"] = result.error
            entry["details"] = {"tags": list(result.tags)}
        out.setdefault(result.file, {"tests": []})["tests"].append(
            {"name": result.title, "result": entry}
        )
    return out


def write_report(results: list[CaseResult], path: Path) -> None:
    path.write_text(json.dumps(report(results), indent=2) + "\n", encoding="utf-8")


def summary(results: list[CaseResult]) -> dict[str, tuple[int, int]]:
    """(passed, total) per test file."""
    counts: dict[str, tuple[int, int]] = {}
    for result in results:
        passed, total = counts.get(result.file, (0, 0))
        counts[result.file] = (passed + result.passed, total + 1)
    return counts


def main(argv: list[str] | None = None) -> int:
    """``python -m limbguard.screening.conformance TESTS_DIR --engine duckdb --out FILE``:
    run the suite and write ``test_report.json``; exit 1 when a shareable case fails."""
    import argparse

    from limbguard.screening.engines import open_engine

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("tests", type=Path, help="the suite's tests/ folder")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--out", type=Path, default=Path("test_report.json"))
    args = parser.parse_args(argv)
    engine = open_engine(args.engine, master=args.master)
    try:
        results = list(run_suite(engine, args.tests))
    finally:
        engine.close()
    write_report(results, args.out)
    for name, (passed, total) in summary(results).items():
        print(f"{name:<24}{passed:>4} / {total}")
    failed = [r for r in results if not r.passed and "shareable" in r.tags]
    passed = sum(r.passed for r in results)
    print(f"conformance on {args.engine}: {passed} of {len(results)} cases pass -> {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
