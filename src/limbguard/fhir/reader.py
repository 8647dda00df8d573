"""Find and read FHIR input: Bundle JSON files, Bulk NDJSON files (gzip too), folders.

Streaming: NDJSON is read a line at a time with a cap on the line length, so a file of
any size (2 GB, or one without a newline) keeps memory bounded. A Bundle is one
transaction and is read whole, so its size is capped (`MAX_BUNDLE_BYTES`): larger data
belongs in Bulk NDJSON.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, cast

MAX_LINE_BYTES: Final = 16 * 1024 * 1024  # one resource; far above any real one
MAX_BUNDLE_BYTES: Final = 200 * 1024 * 1024
NDJSON_SUFFIXES: Final = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
JSON_SUFFIXES: Final = (".json", ".json.gz")
# Import order: patients first, then what refers to them; other types after.
TYPE_ORDER: Final = ("Patient", "Encounter", "Condition", "Observation", "Procedure")
_TYPE_PREFIX: Final = re.compile(r"^([A-Z][A-Za-z]+)(?:[._-]|$)")


class InputError(ValueError):
    """The input as a whole cannot be read (missing path, Bundle too large, ...)."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    kind: str  # "ndjson" | "bundle"
    resource_type: str | None  # from a Bulk file name such as Patient.000.ndjson

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class Line:
    """One NDJSON line: its number (1-based), bytes, and whether it ended in a newline."""

    number: int
    data: bytes
    complete: bool
    too_long: bool = False


def _open(path: Path) -> IO[bytes]:
    if path.name.endswith(".gz"):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def classify(path: Path) -> SourceFile | None:
    """A source file, or None when the name says it is not FHIR input (logs, manifest)."""
    name = path.name
    if name.endswith(NDJSON_SUFFIXES):
        match = _TYPE_PREFIX.match(name)
        return SourceFile(path, "ndjson", match.group(1) if match else None)
    if name.endswith(JSON_SUFFIXES) and name != "manifest.json":
        return SourceFile(path, "bundle", None)
    return None


def _order(source: SourceFile) -> tuple[int, str]:
    kind = source.resource_type
    rank = TYPE_ORDER.index(kind) if kind in TYPE_ORDER else len(TYPE_ORDER)
    return rank, source.path.name


def discover(paths: list[Path]) -> tuple[list[SourceFile], list[Path]]:
    """(files to import in dependency order, files left out) for files and folders.

    In a folder, Bulk files are recognised by name: ``<Type>[.nnn].ndjson[.gz]``
    (a name not starting with a resource type, such as ``log.ndjson``, is left out),
    and ``*.json`` other than ``manifest.json`` are Bundles. Files named directly are
    always read.
    """
    sources: list[SourceFile] = []
    ignored: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_file()):
                found = classify(child)
                if found is None or (found.kind == "ndjson" and found.resource_type is None):
                    ignored.append(child)
                else:
                    sources.append(found)
        else:
            found = classify(path)
            if found is None:
                found = SourceFile(path, "ndjson" if _looks_ndjson(path) else "bundle", None)
            sources.append(found)
    return sorted(sources, key=_order), ignored


def _looks_ndjson(path: Path) -> bool:
    """A file whose first line is a whole JSON object, followed by more lines."""
    with _open(path) as handle:
        first = handle.readline(MAX_LINE_BYTES)
        second = handle.readline(16)
    return first.rstrip().endswith(b"}") and bool(second.strip())


def read_lines(path: Path) -> Iterator[Line]:
    """Every non-blank line of an NDJSON file, each at most `MAX_LINE_BYTES` long."""
    with _open(path) as handle:
        number = 0
        while True:
            chunk = handle.readline(MAX_LINE_BYTES + 1)
            if not chunk:
                return
            number += 1
            if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
                # Skip the rest of the over-long line without holding it.
                while chunk and not chunk.endswith(b"\n"):
                    chunk = handle.readline(1024 * 1024)
                yield Line(number, b"", complete=True, too_long=True)
                continue
            if chunk.strip():
                yield Line(number, chunk, complete=chunk.endswith(b"\n"))


def read_bundle(path: Path) -> bytes:
    """The whole text of a Bundle file (InputError when larger than the cap)."""
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise InputError(
            f"{path}: {path.stat().st_size // (1024 * 1024)} MB is too large for one Bundle "
            f"(limit {MAX_BUNDLE_BYTES // (1024 * 1024)} MB); export it as Bulk NDJSON"
        )
    with _open(path) as handle:
        data = handle.read(MAX_BUNDLE_BYTES + 1)
    if len(data) > MAX_BUNDLE_BYTES:
        raise InputError(f"{path}: the Bundle unpacks to more than the limit; use Bulk NDJSON")
    return data
