"""The engines' own helpers: rows written from Python keep their order."""

from __future__ import annotations

from pathlib import Path

import duckdb

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
