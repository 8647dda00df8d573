"""A screen stores each shipped view with only the columns its rules read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from limbguard.screening import rules
from limbguard.screening.compiler import MALFORMED_COLUMN
from limbguard.screening.engines import DuckDBEngine
from limbguard.screening.screen import KEYS, VIEWS, compiled_views, run_screen
from limbguard.synth.export import write_export


@pytest.mark.parametrize("name", VIEWS)
def test_the_columns_the_rules_read_are_columns_of_the_view(name: str) -> None:
    names = [column.name for column in compiled_views("duckdb")[name].columns]
    assert set(rules.VIEW_COLUMNS[name]) <= set(names)
    assert KEYS[name] in names


def test_a_stored_view_holds_the_columns_the_rules_read(tmp_path: Path) -> None:
    write_export(tmp_path / "in", patients=30, seed=3, as_of=dt.date(2026, 6, 30))
    engine = DuckDBEngine()
    try:
        run_screen(engine, tmp_path / "in", tmp_path / "out")
        for name in VIEWS:
            expected = {*rules.VIEW_COLUMNS[name], KEYS[name], MALFORMED_COLUMN}
            assert set(engine.columns(name)) == expected, name
    finally:
        engine.close()


def test_each_rule_statement_runs_after_every_table_it_reads() -> None:
    # The screen runs a statement once the tables its FROM/JOINs name are built: those
    # are exactly the tables sqlglot finds in the statement (CTE-free SQL).
    import sqlglot
    import sqlglot.expressions as exp

    from limbguard.screening.screen import _reads

    built = {"codes", *VIEWS}
    for table, sql in rules.statements(rules.Settings(dt.date(2026, 6, 30))):
        parsed = {t.name for t in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Table)}
        assert parsed <= built, (table, parsed - built)
        assert _reads(sql, built) == parsed, table
        built.add(table)


def test_the_tables_the_worklist_needs_are_built_first_each_group_in_its_order() -> None:
    from limbguard.screening.screen import _Task, _worklist_first

    def task(name: str, *needs: str) -> _Task:
        return _Task(name, frozenset(needs), lambda handle: None)

    tasks = [
        task("codes"),
        task("observation"),
        task("encounter"),
        task("patient"),
        task("count observation", "observation"),
        task("events", "codes", "observation"),
        task("screened", "events", "patient"),
        task("measure", "encounter", "events"),
        task("worklist", "screened", "patient"),
    ]
    order = [t.name for t in _worklist_first(tasks)]
    assert order == [
        "codes",
        "observation",
        "patient",
        "events",
        "screened",
        "worklist",
        "encounter",
        "count observation",
        "measure",
    ]
