"""Find the files of a Bulk Data export, and explain its malformed lines.

An export is a folder (or its ``manifest.json``): with a manifest, its ``output`` list
names the files (Bulk Data IG; URLs relative to the manifest's folder); without one,
files are named after their resource type (``Condition.ndjson``, ``Condition.000.ndjson``,
``Condition.ndjson.gz``, ``Condition.parquet`` or a ``Condition/`` folder of Parquet
parts). The reference date of a screen defaults to the manifest's ``transactionTime``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

import orjson

from limbguard.screening.engines import Format

MANIFEST: Final = "manifest.json"


class InputError(ValueError):
    """The input cannot be screened (missing folder, mixed formats, bad manifest)."""


@dataclass
class Export:
    folder: Path
    files: dict[str, list[Path]] = field(default_factory=dict)
    formats: dict[str, Format] = field(default_factory=dict)
    transaction_time: str | None = None
    ignored: list[str] = field(default_factory=list)

    def as_of(self) -> dt.date | None:
        if self.transaction_time and len(self.transaction_time) >= 10:
            try:
                return dt.date.fromisoformat(self.transaction_time[:10])
            except ValueError:
                return None
        return None

    def size_bytes(self, types: Sequence[str]) -> int:
        total = 0
        for kind in types:
            for path in self.files.get(kind, []):
                total += sum(p.stat().st_size for p in _parts(path))
        return total


def _parts(path: Path) -> list[Path]:
    return sorted(path.rglob("*.parquet")) if path.is_dir() else [path]


def _format(path: Path) -> Format | None:
    name = path.name.lower()
    if path.is_dir() or name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")):
        return "ndjson"
    return None


def find_export(location: Path, wanted: Sequence[str]) -> Export:
    """The files of the resource types in ``wanted`` under ``location``."""
    folder = location.parent if location.is_file() else location
    if not folder.is_dir():
        raise InputError(f"{location}: no such folder or manifest")
    export = Export(folder)
    manifest = location if location.is_file() else folder / MANIFEST
    entries: list[tuple[str, Path]] = []
    if manifest.is_file():
        try:
            data = orjson.loads(manifest.read_bytes())
            export.transaction_time = data.get("transactionTime")
            for item in data.get("output", []):
                entries.append((str(item["type"]), folder / str(item["url"])))
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise InputError(f"{manifest}: not a Bulk Data manifest ({error})") from None
    else:
        for path in sorted(folder.iterdir()):
            if _format(path) is not None:
                entries.append((path.name.split(".")[0], path))
    for kind, path in entries:
        fmt = _format(path)
        if kind not in wanted or fmt is None:
            export.ignored.append(path.name)
            continue
        if not path.exists():
            raise InputError(f"{path}: listed in the manifest but missing")
        if export.formats.setdefault(kind, fmt) != fmt:
            raise InputError(f"{kind}: both NDJSON and Parquet files; give one format per type")
        export.files.setdefault(kind, []).append(path)
    return export


@dataclass(frozen=True)
class BadLine:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return typing.cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def bad_lines(files: Sequence[Path], resource_type: str) -> Iterator[BadLine]:
    """Every line that is not a JSON object of ``resource_type`` (blank lines are not
    lines of the export and are skipped, as the engines do)."""
    for path in files:
        with _open(path) as stream:
            for number, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                try:
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError as error:
                    yield BadLine(str(path), number, f"not JSON ({str(error).split(':')[0]})")
                    continue
                if not isinstance(value, dict):
                    yield BadLine(str(path), number, "not a JSON object")
                elif value.get("resourceType") != resource_type:
                    found = value.get("resourceType")
                    yield BadLine(
                        str(path), number, f"resourceType {found!r}, expected {resource_type!r}"
                    )
