"""The engines' own helpers: rows written from Python keep their order."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from limbguard.screening.engines import DuckDBEngine, write_rows


def test_rows_written_on_the_engine_connection_keep_their_order(tmp_path: Path) -> None:
    # The engine's connection does not preserve insertion order (its tables are always
    # read with ORDER BY), and 50 MB of staged rows are read by several threads.
    rows = [(n, f"row {n:>120}") for n in range(400_000, 0, -1)]
    columns = [("n", "BIGINT"), ("label", "VARCHAR")]
    engine = DuckDBEngine()
    try:
        engine.write_rows(rows, columns, [tmp_path / "rows.csv", tmp_path / "rows.parquet"])
    finally:
        engine.close()
    for written in (
        duckdb.read_csv(str(tmp_path / "rows.csv")).fetchall(),
        duckdb.read_parquet(str(tmp_path / "rows.parquet")).fetchall(),
    ):
        assert written == rows


def test_rows_written_with_a_new_connection(tmp_path: Path) -> None:
    write_rows([], [("n", "bigint")], [tmp_path / "empty.csv"])
    write_rows([(2,), (1,)], [("n", "bigint")], [tmp_path / "two.csv"])
    assert (tmp_path / "empty.csv").read_text().splitlines() == ["n"]
    assert (tmp_path / "two.csv").read_text().splitlines() == ["n", "2", "1"]


def test_a_file_exported_in_the_background_is_whole_once_waited_for(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    try:
        engine.create("numbers", "SELECT range AS n FROM range(300000)")
        wait = engine.export_async("SELECT n FROM numbers ORDER BY n", tmp_path / "n.parquet")
        engine.create("other", "SELECT 1 AS one")  # the engine's own connection is free
        wait()
    finally:
        engine.close()
    written = duckdb.read_parquet(str(tmp_path / "n.parquet")).fetchall()
    assert written == [(n,) for n in range(300000)]


def test_a_background_export_error_is_raised_by_its_wait(tmp_path: Path) -> None:
    engine = DuckDBEngine()
    try:
        wait = engine.export_async("SELECT * FROM no_such_table", tmp_path / "x.csv")
        with pytest.raises(duckdb.CatalogException):
            wait()
    finally:
        engine.close()


def test_tasks_run_two_at_once_each_after_the_tables_it_reads() -> None:
    from limbguard.screening.screen import _run_tasks, _Task

    def make(table: str, sql: str) -> _Task:
        return _Task(table, _reads_of(sql), lambda handle: handle.create(table, sql))

    def _reads_of(sql: str) -> frozenset[str]:
        return frozenset(name for name in ("a", "b", "c") if f"FROM {name}" in sql)

    tasks = [
        make("a", "SELECT range AS n FROM range(100000)"),
        make("b", "SELECT n * 2 AS n FROM a"),
        make("c", "SELECT range AS n FROM range(10)"),
        make("d", "SELECT (SELECT sum(n) FROM b) + (SELECT sum(n) FROM c) AS total"),
    ]
    order: list[str] = []
    engine = DuckDBEngine()
    try:
        _run_tasks(engine, tasks, order.append)
        assert engine.rows("SELECT total FROM d") == [(2 * sum(range(100000)) + 45,)]
    finally:
        engine.close()
    assert sorted(order) == ["a", "b", "c", "d"]
    assert order.index("a") < order.index("b") < order.index("d")
    assert order.index("c") < order.index("d")


def test_a_failing_task_stops_the_screen_with_its_error() -> None:
    from limbguard.screening.screen import _run_tasks, _Task

    engine = DuckDBEngine()
    try:
        tasks = [
            _Task("a", frozenset(), lambda h: h.create("a", "SELECT * FROM missing")),
            _Task("b", frozenset({"a"}), lambda h: h.create("b", "SELECT * FROM a")),
        ]
        with pytest.raises(duckdb.CatalogException):
            _run_tasks(engine, tasks, lambda table: None)
        with pytest.raises(RuntimeError, match="never built for b"):
            _run_tasks(engine, tasks[1:], lambda table: None)
    finally:
        engine.close()


def _threads(engine: DuckDBEngine) -> int:
    return int(engine.rows("SELECT current_setting('threads')")[0][0])


def test_a_worker_holds_one_of_the_databases_threads_until_it_closes() -> None:
    engine = DuckDBEngine(threads=3)
    try:
        first = engine.worker()
        assert _threads(engine) == 2
        second = engine.worker()
        assert _threads(engine) == 1
        third = engine.worker()  # never below one thread
        assert _threads(engine) == 1
        for worker in (third, second):
            worker.close()
        assert _threads(engine) == 2
        first.close()
        assert _threads(engine) == 3
        first.close()  # closing twice gives nothing back twice
        assert _threads(engine) == 3
    finally:
        engine.close()


def test_a_worker_closed_after_its_engine_closes_quietly() -> None:
    engine = DuckDBEngine(threads=2)
    worker = engine.worker()
    engine.close()
    worker.close()
