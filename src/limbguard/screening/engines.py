"""The two SQL engines a screen runs on: DuckDB (default, in-process) and Apache Spark.

Both take the same compiled SQL (rendered by sqlglot in their dialect) and the same
explicit schema, read Bulk NDJSON (``.ndjson`` or ``.ndjson.gz``) or Parquet into a
table per resource type, and run queries into tables. A line that is not a JSON object
becomes a row whose ``resourceType`` is NULL in both engines (DuckDB ``ignore_errors``,
Spark ``PERMISSIVE``); `bad_rows` counts them so they are reported, never dropped
silently (issue 9, "Bad input").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal, Protocol
from urllib.parse import urlparse

import orjson
import sqlglot.expressions as exp

from limbguard.screening import sqlast as q

Format = Literal["ndjson", "parquet"]
ENGINES: Final = ("duckdb", "spark")
MASTER_CONNECT_SECONDS: Final = 3.0
SOURCE_PLACEHOLDER: Final = "__source__"  # the table a compiled view reads
# DuckDB reads NDJSON in buffers of twice its ``maximum_object_size`` (16 MiB by
# default), one thread per buffer: a file is read in parallel only when it spans several
# buffers. So a file is read with the default, and again with this larger limit (one
# 128 MiB buffer per thread) only when one of its resources does not fit the default.
LARGE_OBJECT_BYTES: Final = 64 * 2**20


class EngineError(RuntimeError):
    """The engine cannot start or cannot read the input; the message says why."""


def _column_defs(columns: Sequence[tuple[str, exp.DataType]], dialect: str) -> str:
    return ", ".join(
        exp.ColumnDef(this=q.ident(name), kind=kind).sql(dialect=dialect) for name, kind in columns
    )


class Engine(Protocol):
    name: str
    dialect: str

    def load(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
    ) -> None: ...

    def create_view(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
        sql: str,
    ) -> None: ...

    def create(self, table: str, sql: str, *, store: bool = True) -> None: ...

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...

    def columns(self, table: str) -> list[str]: ...

    def insert_rows(
        self,
        table: str,
        columns: Sequence[tuple[str, exp.DataType]],
        rows: Sequence[tuple[Any, ...]],
    ) -> None: ...

    def export(self, sql: str, path: Path) -> None: ...

    def export_async(self, sql: str, path: Path) -> Callable[[], None]: ...

    def worker(self) -> Engine | None: ...

    def write_rows(
        self,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[tuple[str, str]],
        paths: Sequence[Path],
    ) -> None: ...

    def close(self) -> None: ...


class DuckDBEngine:
    """DuckDB in this process; ``threads`` defaults to DuckDB's own choice (all cores)."""

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        import duckdb

        # Results are always ordered explicitly, so tables need not keep insertion order
        # (DuckDB then materializes in parallel without re-sorting). The tables live as
        # long as the connection and are never written out: DuckDB's automatic checkpoint
        # (every 16 MiB of changes, in memory too) would compress them again and again.
        config: dict[str, Any] = {
            "preserve_insertion_order": False,
            "checkpoint_threshold": "1TB",
        }
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        self.con = duckdb.connect(":memory:", config=config)

    # The engine whose background thread a worker holds, given back when it closes.
    _lent_by: DuckDBEngine | None = None

    def worker(self) -> DuckDBEngine:
        """Another connection to this engine's database, for a second thread: the two
        run statements at once. A running statement uses its caller's thread and
        DuckDB's ``threads - 1`` background threads, so while the worker is open the
        database has one background thread fewer (given back by the worker's `close`):
        two statements at once then use as many threads as DuckDB was given, not one
        more (on two cores, a screen of the bench's 200k export side by side with and
        without: 1.21 s against 1.25 s, 2.20 CPU-s against 2.33)."""
        other = object.__new__(DuckDBEngine)
        other.con = self.con.cursor()
        if self._set_threads(-1):
            other._lent_by = self
        return other

    def _set_threads(self, change: int) -> bool:
        """Change DuckDB's thread count by ``change`` (never below one); whether it did."""
        with self.con.cursor() as cursor:
            row = cursor.execute("SELECT current_setting('threads')").fetchone()
            threads = int(row[0]) if row else 1
            if threads + change < 1:
                return False
            cursor.execute(f"SET threads = {threads + change}")
        return True

    def source(
        self,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
        *,
        large_objects: bool = False,
        lenient: bool = True,
    ) -> str:
        """A FROM item reading ``files`` as ``columns`` (NULL where a field is absent);
        ``large_objects``: NDJSON lines up to 128 MiB rather than 32 MiB; ``lenient``: a
        line that is not a JSON object, or a value of another JSON type than the column's,
        read as NULLs rather than failing the read."""
        if not files:
            nulls = ", ".join(
                f"CAST(NULL AS {kind.sql('duckdb')}) AS {q.ident(name).sql('duckdb')}"
                for name, kind in columns
            )
            return f"(SELECT {nulls} LIMIT 0)"
        paths = "[" + ", ".join(q.string(str(f)).sql("duckdb") for f in files) + "]"
        if fmt == "ndjson":
            spec = ", ".join(
                f"{q.string(name).sql('duckdb')}: {q.string(kind.sql('duckdb')).sql('duckdb')}"
                for name, kind in columns
            )
            size = f", maximum_object_size = {LARGE_OBJECT_BYTES}" if large_objects else ""
            errors = ", ignore_errors = true" if lenient else ""
            return (
                f"read_json({paths}, format = 'newline_delimited', columns = {{{spec}}}"
                f"{errors}{size})"
            )
        raw = f"read_parquet({paths}, union_by_name = true)"
        present = {
            row[0]: row[1] for row in self.con.execute(f"DESCRIBE SELECT * FROM {raw}").fetchall()
        }
        select = ", ".join(_parquet_column(name, kind, present, "duckdb") for name, kind in columns)
        return f"(SELECT {select} FROM {raw})"

    def load(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
    ) -> None:
        self._create_from(table, files, fmt, columns, "SELECT * FROM " + SOURCE_PLACEHOLDER)

    def create_view(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
        sql: str,
    ) -> None:
        """Build a view table straight from the files, in one pass: ``sql`` reads the
        placeholder table ``__source__``."""
        self._create_from(table, files, fmt, columns, sql)

    def _create_from(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
        sql: str,
    ) -> None:
        import duckdb

        large = False
        if fmt == "ndjson" and files:
            # Read strictly first: on clean files the result is the same and DuckDB's
            # error-tolerant parse costs more (~8 % of the read). A malformed line, a
            # value of another JSON type or a resource over the size limit fails it; the
            # files are then read again leniently, such lines as rows of NULLs.
            try:
                strict = self.source(files, fmt, columns, lenient=False)
                self.create(table, sql.replace(SOURCE_PLACEHOLDER, strict))
                return
            except duckdb.InvalidInputException as error:
                large = "maximum_object_size" in str(error)
        try:
            source = self.source(files, fmt, columns, large_objects=large)
            self.create(table, sql.replace(SOURCE_PLACEHOLDER, source))
        except duckdb.InvalidInputException as error:
            if large or "maximum_object_size" not in str(error):
                raise
            source = self.source(files, fmt, columns, large_objects=True)
            self.create(table, sql.replace(SOURCE_PLACEHOLDER, source))

    def create(self, table: str, sql: str, *, store: bool = True) -> None:
        """A table from a query (``store``), or a view that later queries inline."""
        kind = "TABLE" if store else "VIEW"
        # In the in-memory database (not TEMP, which only this connection sees), so
        # `export_async` can read them on a connection of its own.
        self.con.execute(f"CREATE OR REPLACE {kind} {q.ident(table).sql('duckdb')} AS {sql}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def columns(self, table: str) -> list[str]:
        return [
            row[0]
            for row in self.con.execute(f"DESCRIBE {q.ident(table).sql('duckdb')}").fetchall()
        ]

    def insert_rows(
        self,
        table: str,
        columns: Sequence[tuple[str, exp.DataType]],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        target = q.ident(table).sql("duckdb")
        self.con.execute(f"CREATE OR REPLACE TABLE {target} ({_column_defs(columns, 'duckdb')})")
        if rows:
            # Staged as NDJSON: DuckDB reads it far faster than it binds INSERT values.
            with tempfile.TemporaryDirectory(prefix="limbguard-rows-") as tmp:
                staged = Path(tmp) / "rows.ndjson"
                _stage(rows, [name for name, _ in columns], staged)
                source = _read_staged(staged, [(n, k.sql("duckdb")) for n, k in columns])
                self.con.execute(f"INSERT INTO {target} {source}")

    def export(self, sql: str, path: Path) -> None:
        """Write a query's rows to Parquet or CSV (by the file's suffix)."""
        _copy(self.con, sql, path)

    def export_async(self, sql: str, path: Path) -> Callable[[], None]:
        """Start `export` on another connection to this database, in a thread of its
        own, and return the function that waits for the file (raising the writer's
        error). The screen's other outputs are made meanwhile: a file is mostly written
        by one thread, so a core would otherwise wait."""
        cursor = self.con.cursor()
        errors: list[BaseException] = []

        def write() -> None:
            try:
                _copy(cursor, sql, path)
            except BaseException as error:  # re-raised by wait(), in the caller's thread
                errors.append(error)
            finally:
                cursor.close()

        thread = threading.Thread(target=write, name=f"limbguard-export-{path.name}")
        thread.start()

        def wait() -> None:
            thread.join()
            if errors:
                raise errors[0]

        return wait

    def write_rows(
        self,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[tuple[str, str]],
        paths: Sequence[Path],
    ) -> None:
        """`write_rows` on this engine's connection (opening another costs ~20 ms)."""
        write_rows(rows, columns, paths, con=self.con)

    def close(self) -> None:
        self.con.close()
        if self._lent_by is not None:
            import duckdb

            lender, self._lent_by = self._lent_by, None
            # When the engine itself closed first there is nothing to give back.
            with contextlib.suppress(duckdb.ConnectionException):
                lender._set_threads(+1)


def _copy(con: Any, sql: str, path: Path) -> None:
    """COPY a query's rows to Parquet or CSV (by the file's suffix)."""
    fmt = "PARQUET" if path.suffix == ".parquet" else "CSV, HEADER"
    con.execute(f"COPY ({sql}) TO {q.string(str(path)).sql('duckdb')} (FORMAT {fmt})")


def _stage(rows: Sequence[Sequence[Any]], names: Sequence[str], path: Path) -> None:
    with path.open("wb") as stream:
        for row in rows:
            record = {
                n: (v.isoformat() if isinstance(v, dt.date) else v)
                for n, v in zip(names, row, strict=True)
            }
            stream.write(orjson.dumps(record) + b"\n")


def _read_staged(path: Path, columns: Sequence[tuple[str, str]]) -> str:
    spec = ", ".join(
        f"{q.string(n).sql('duckdb')}: {q.string(k).sql('duckdb')}" for n, k in columns
    )
    return (
        f"SELECT * FROM read_json({q.string(str(path)).sql('duckdb')}, "
        f"format = 'newline_delimited', columns = {{{spec}}})"
    )


_SPARK_TO_DUCKDB: Final = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "date": "DATE",
}


def write_rows(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[tuple[str, str]],
    paths: Sequence[Path],
    *,
    con: Any = None,
) -> None:
    """Write Python rows as Parquet and/or CSV (by suffix) with DuckDB, the one writer
    of both engines' results. ``columns``: (name, type) in DuckDB or Spark spelling;
    ``con``: a DuckDB connection to write with (else a new one, closed after)."""
    import duckdb

    types = [(name, _SPARK_TO_DUCKDB.get(kind, kind)) for name, kind in columns]
    own = con is None
    if own:
        con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="limbguard-rows-") as tmp:
            staged = Path(tmp) / "rows.ndjson"
            # Each row staged with its place, so the files keep the rows' order on a
            # connection that does not preserve insertion order (the DuckDB engine's).
            ordinal = "__row"
            _stage(
                [(i, *row) for i, row in enumerate(rows)],
                [ordinal, *(name for name, _ in types)],
                staged,
            )
            if rows:
                names = ", ".join(q.ident(name).sql("duckdb") for name, _ in types)
                read = _read_staged(staged, [(ordinal, "BIGINT"), *types])
                source = f"SELECT {names} FROM ({read}) ORDER BY {ordinal}"
            else:
                nulls = ", ".join(
                    f"CAST(NULL AS {kind}) AS {q.ident(name).sql('duckdb')}" for name, kind in types
                )
                source = f"SELECT {nulls} LIMIT 0"
            for path in paths:
                _copy(con, source, path)
    finally:
        if own:
            con.close()


def _parquet_column(name: str, kind: exp.DataType, present: dict[str, str], dialect: str) -> str:
    """A column read from Parquet, cast to the view's type (NULL when the file lacks it)."""
    target = q.ident(name).sql(dialect)
    if name not in present:
        return f"CAST(NULL AS {kind.sql(dialect)}) AS {target}"
    return f"TRY_CAST({target} AS {kind.sql(dialect)}) AS {target}"


def check_master(master: str, timeout: float = MASTER_CONNECT_SECONDS) -> None:
    """Fail fast when a standalone (``spark://``) or Kubernetes (``k8s://``) master does
    not answer: Spark itself retries for about a minute before giving up."""
    if master.startswith("local") or master in ("yarn",):
        return
    targets: list[tuple[str, int]]
    if master.startswith("k8s://"):
        url = urlparse(master[len("k8s://") :])
        targets = [(url.hostname or "", url.port or (443 if url.scheme == "https" else 80))]
    elif master.startswith("spark://"):
        targets = []
        for part in master[len("spark://") :].split(","):
            host_name, _, port_text = part.rpartition(":")
            targets.append((host_name or part, int(port_text) if port_text.isdigit() else 7077))
    else:
        raise EngineError(
            f"--master {master!r}: expected local[N], spark://host:port, k8s://... or yarn"
        )
    errors = []
    for host, port in targets:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as error:
            errors.append(f"{host}:{port} ({error.strerror or error})")
    raise EngineError(f"Spark master {master} is unreachable: {'; '.join(errors)}")


class SparkEngine:
    """Apache Spark through PySpark: a session is created for ``master`` (or an existing
    one is used: tests share one per test run)."""

    name = "spark"
    dialect = "spark"

    def __init__(self, *, master: str = "local[*]", session: Any = None) -> None:
        if session is None:
            session = spark_session(master)
        self.spark = session
        self._views: list[str] = []

    def load(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
    ) -> None:
        self._frame(table, files, fmt, columns).cache().createOrReplaceTempView(table)
        self._views.append(table)

    def _frame(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
    ) -> Any:
        schema = _column_defs(columns, "spark")
        if not files:
            return self.spark.createDataFrame([], schema)
        if fmt == "ndjson":
            reader = self.spark.read.schema(schema).option("mode", "PERMISSIVE")
            return reader.json([str(f) for f in files])
        raw = self.spark.read.option("mergeSchema", "true").parquet(*[str(f) for f in files])
        raw_name = f"{table}__parquet"
        raw.createOrReplaceTempView(raw_name)
        self._views.append(raw_name)
        present = {f.name: f.dataType.simpleString() for f in raw.schema.fields}
        select = ", ".join(_parquet_column(name, kind, present, "spark") for name, kind in columns)
        return self.spark.sql(f"SELECT {select} FROM {raw_name}")

    def create_view(
        self,
        table: str,
        files: Sequence[Path],
        fmt: Format,
        columns: Sequence[tuple[str, exp.DataType]],
        sql: str,
    ) -> None:
        """The view table straight from the files (the read is not cached, the view is).
        The view is cached at once rather than by the first statement that reads it: a
        statement reading it twice (the rules read each distinct code of a view, then
        its rows) would otherwise read the files twice, in two stages at once."""
        source = f"{table}__source"
        self._frame(source, files, fmt, columns).createOrReplaceTempView(source)
        self._views.append(source)
        self.create(table, sql.replace(SOURCE_PLACEHOLDER, source))
        self.spark.table(table).count()

    def create(self, table: str, sql: str, *, store: bool = True) -> None:
        """A cached view from a query (``store``), or a plain view."""
        frame = self.spark.sql(sql)
        if store:
            frame = frame.cache()
        frame.createOrReplaceTempView(table)
        self._views.append(table)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.spark.sql(sql).collect()]

    def columns(self, table: str) -> list[str]:
        return list(self.spark.table(table).columns)

    def insert_rows(
        self,
        table: str,
        columns: Sequence[tuple[str, exp.DataType]],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        frame = self.spark.createDataFrame([list(r) for r in rows], _column_defs(columns, "spark"))
        frame.cache().createOrReplaceTempView(table)
        self._views.append(table)

    def export(self, sql: str, path: Path) -> None:
        """Collect the rows and write them with DuckDB's writer, so both engines give
        the same files (results are per patient: small next to the input)."""
        frame = self.spark.sql(sql)
        columns = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
        write_rows([tuple(row) for row in frame.collect()], columns, [path])

    def export_async(self, sql: str, path: Path) -> Callable[[], None]:
        """`export`, done before returning (Spark runs its own jobs in parallel)."""
        self.export(sql, path)
        return lambda: None

    def worker(self) -> None:
        """None: statements run one at a time on Spark (each is a parallel job)."""
        return None

    def write_rows(
        self,
        rows: Sequence[Sequence[Any]],
        columns: Sequence[tuple[str, str]],
        paths: Sequence[Path],
    ) -> None:
        write_rows(rows, columns, paths)

    def close(self) -> None:
        for view in self._views:
            self.spark.catalog.dropTempView(view)
        self.spark.catalog.clearCache()
        self._views.clear()


def spark_session(master: str, config: Mapping[str, str] | None = None) -> Any:
    """A SparkSession for ``master``; EngineError within seconds if it is unreachable or
    PySpark/Java are missing."""
    check_master(master)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise EngineError(
            "the Spark engine needs PySpark: pip install 'limbguard[spark]' (and Java 17)"
        ) from error
    try:
        builder = (
            SparkSession.builder.master(master)
            .appName("limbguard-screen")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.sql.ansi.enabled", "true")
            .config("spark.local.dir", tempfile.gettempdir())
        )
        for key, value in (config or {}).items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    except Exception as error:  # py4j/Java start-up failures have many types
        raise EngineError(f"Spark did not start ({master}): {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


def open_engine(name: str, *, master: str = "local[*]", session: Any = None) -> Engine:
    if name == "duckdb":
        return DuckDBEngine()
    if name == "spark":
        return SparkEngine(master=master, session=session)
    raise EngineError(f"--engine: one of {', '.join(ENGINES)}")
