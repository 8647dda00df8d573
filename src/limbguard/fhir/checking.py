"""Step 1 of an import, without the database: parse, check and validate, map.

Pure functions of the input, so the importer can run them in a worker process while it
writes the previous batch (`CheckPool`), which uses the second core of a small server.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticValidationError

from limbguard.fhir import _worker, reader
from limbguard.fhir.incoming import MAPPERS, Mapped, Rejected, Skipped
from limbguard.vascular import codes

RawLine = tuple[str, bytes, bool, bool]  # location, data, ends with newline, too long


@dataclass
class Unit:
    """One NDJSON line or Bundle entry on its way through the import."""

    location: str
    resource_type: str = ""
    resource_id: str = ""
    mapped: Mapped | None = None
    outcome: str = ""  # created/updated/unchanged/skipped/unknown/rejected; "" = to write
    reason: str = ""

    def reject(self, reason: str) -> Unit:
        self.outcome, self.reason = "rejected", reason
        return self


def _pydantic_reason(error: PydanticValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"invalid FHIR R4: {where + ': ' if where else ''}{first.get('msg', '')}{more}"


_FHIR_TYPES: dict[str, bool] = {}


def is_fhir_type(name: str) -> bool:
    """True for a resource type of FHIR R4 (R4B models), e.g. AllergyIntolerance."""
    if name not in _FHIR_TYPES:
        try:
            get_fhir_model_class(name)
            _FHIR_TYPES[name] = True
        except (KeyError, ValueError, ImportError, AttributeError):
            _FHIR_TYPES[name] = False
    return _FHIR_TYPES[name]


def check(unit: Unit, resource: Any, expected_type: str | None) -> Unit:
    """resourceType, R4 validation, id, mapping; sets the unit's outcome on failure."""
    if not isinstance(resource, dict):
        return unit.reject("not a JSON object")
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        return unit.reject("no resourceType")
    unit.resource_type = kind
    if expected_type and kind != expected_type:
        return unit.reject(f"resourceType {kind!r} in a {expected_type} file")
    if kind not in MAPPERS:
        if is_fhir_type(kind):
            unit.outcome, unit.reason = "unknown", f"{kind} is not imported"
            return unit
        return unit.reject(f"unknown resourceType {kind!r}")
    try:
        get_fhir_model_class(kind).model_validate(resource)
    except PydanticValidationError as error:
        return unit.reject(_pydantic_reason(error))
    except ValueError as error:
        return unit.reject(f"invalid FHIR R4: {error}")
    if not resource.get("id"):
        return unit.reject(f"{kind} has no id (LimbGuard matches resources by id)")
    unit.resource_id = str(resource["id"])
    try:
        unit.mapped = MAPPERS[kind](resource)
    except Rejected as error:
        unit.reject(str(error))
    except Skipped as error:
        unit.outcome, unit.reason = "skipped", str(error)
    return unit


def check_lines(lines: list[RawLine], expected_type: str | None) -> list[Unit]:
    """Parse and check a batch of NDJSON lines."""
    units = []
    for location, data, complete, too_long in lines:
        unit = Unit(location=location)
        units.append(unit)
        if too_long:
            unit.reject(f"line longer than {reader.MAX_LINE_BYTES} bytes")
            continue
        try:
            resource = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            if not complete:
                unit.reject("the last line is cut off (no newline, not valid JSON)")
            else:
                unit.reject(f"malformed JSON: {error}")
            continue
        check(unit, resource, expected_type)
    return units


# --- a worker process for large imports ------------------------------------------

PARALLEL_MIN_BYTES: Final = 4 * 1024 * 1024  # below this, starting a worker costs more


class CheckPool:
    """Checks batches in worker processes, keeping at most `depth` batches in flight.

    `submit()` returns the batches that are ready, in submission order; `drain()` the
    rest. One worker per core: the importing process writes while they check.

    Workers are forked where the platform allows, so they start at once with the code
    tables this process already built. They never touch the database: the connections
    they inherit are left alone, and a pool worker ends with `os._exit`, which runs no
    finaliser that could close them. Elsewhere they are spawned and set Django up.
    """

    def __init__(self, workers: int | None = None) -> None:
        count = workers or max(1, min(2, os.cpu_count() or 1))
        if "fork" in multiprocessing.get_all_start_methods():
            codes.categorize("ICD10CM", "E11.9")  # build the tables once, before forking
            self.executor = ProcessPoolExecutor(
                max_workers=count, mp_context=multiprocessing.get_context("fork")
            )
        else:
            self.executor = ProcessPoolExecutor(
                max_workers=count,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker.setup,
            )
        self.depth = 2 * count
        self.pending: deque[Future[list[Unit]]] = deque()

    def submit(self, lines: list[RawLine], expected_type: str | None) -> Iterator[list[Unit]]:
        self.pending.append(self.executor.submit(_worker.check, lines, expected_type))
        while len(self.pending) > self.depth:
            yield self.pending.popleft().result()

    def drain(self) -> Iterator[list[Unit]]:
        while self.pending:
            yield self.pending.popleft().result()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


def worth_a_worker(total_bytes: int) -> bool:
    return total_bytes >= PARALLEL_MIN_BYTES and (os.cpu_count() or 1) > 1
