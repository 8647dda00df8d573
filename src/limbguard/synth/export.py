"""Write a synthetic population as a FHIR Bulk Data export: NDJSON files and a manifest.

Streaming: each person is generated, written and forgotten, so memory does not grow
with the population. The output depends only on the arguments (seed, size, as_of,
centers): the same call writes byte-identical files.

Layout of ``out``::

    Patient.ndjson  Encounter.ndjson  Condition.ndjson  Observation.ndjson
    Procedure.ndjson    one resource type per file (Bulk Data IG), UTF-8, one per line
    manifest.json       shaped like a completed $export's status response
    ground-truth.ndjson one line per person (see truth.py); not a FHIR file
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, cast

import orjson

from limbguard.fhir import terminology as term
from limbguard.synth import truth
from limbguard.synth.cohort import simulate

RESOURCE_TYPES: Final = ("Patient", "Encounter", "Condition", "Observation", "Procedure")
DEMO_CENTERS: Final = ("harbor", "inland", "coastal", "valley")
COHORTS: Final = ("population", "clinic")
CLINIC_CATEGORIES: Final = truth.AT_RISK_CATEGORIES | {"cvi", "dvt", "diabetes"}


def in_clinic(record: dict[str, Any]) -> bool:
    """Someone a limb salvage programme follows: limb disease, venous disease or
    diabetes (the registry of a programme, rather than the whole population)."""
    return bool(CLINIC_CATEGORIES & set(record["risk_categories"]))


MANIFEST: Final = "manifest.json"
TRUTH_EXTENSION: Final = f"{term.BASE}/StructureDefinition/ground-truth"


@dataclass(frozen=True)
class SynthSummary:
    patients: int
    counts: dict[str, int]

    @property
    def resources(self) -> int:
        return sum(self.counts.values())


def write_export(
    out: Path,
    *,
    patients: int,
    seed: int,
    as_of: dt.date,
    centers: tuple[str, ...] = DEMO_CENTERS,
    first: int = 0,
    compress: bool = False,
    cohort: str = "population",
    progress: Callable[[int], None] | None = None,
) -> SynthSummary:
    """Write `patients` people of population `seed`, from person `first` on, into `out`.

    `cohort` "population" writes everyone (adults 40 and over); "clinic" writes only
    the people a limb salvage programme would see (`in_clinic`), skipping the others,
    still deterministically. `progress(n)` is called with the number of people written
    so far, every 500 people and at the end. `compress` writes ``.ndjson.gz`` files.
    """
    if patients < 0:
        raise ValueError("patients: must be 0 or more")
    if cohort not in COHORTS:
        raise ValueError(f"cohort: one of {', '.join(COHORTS)}")
    if not centers:
        raise ValueError("centers: give at least one center slug")
    out.mkdir(parents=True, exist_ok=True)
    suffix = ".ndjson.gz" if compress else ".ndjson"
    counts = dict.fromkeys(RESOURCE_TYPES, 0)
    newline = b"\n"
    with ExitStack() as stack:

        def open_out(name: str) -> IO[bytes]:
            path = out / name
            if compress:
                # mtime=0 keeps the gzip header, and so the file, deterministic.
                raw = stack.enter_context(path.open("wb"))
                packed = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6)
                stack.callback(packed.close)
                return cast(IO[bytes], packed)
            return stack.enter_context(path.open("wb", buffering=1 << 20))

        files = {kind: open_out(f"{kind}{suffix}") for kind in RESOURCE_TYPES}
        truth_name = truth.FILE_NAME + (".gz" if compress else "")
        truth_file = open_out(truth_name)
        dumps = orjson.dumps
        index, done = first, 0
        while done < patients:
            person = simulate(seed, index, as_of=as_of, centers=centers)
            index += 1
            if cohort == "clinic" and not in_clinic(person.truth):
                continue
            done += 1
            for kind, resource in person.resources:
                files[kind].write(dumps(resource) + newline)
                counts[kind] += 1
            truth_file.write(dumps(person.truth) + newline)
            if progress is not None and done % 500 == 0:
                progress(done)
    if progress is not None:
        progress(patients)
    manifest = _manifest(
        counts,
        suffix=suffix,
        truth_name=truth_name,
        seed=seed,
        patients=patients,
        first=first,
        as_of=as_of,
    )
    (out / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + newline)
    return SynthSummary(patients=patients, counts=counts)


def _manifest(
    counts: dict[str, int],
    *,
    suffix: str,
    truth_name: str,
    seed: int,
    patients: int,
    first: int,
    as_of: dt.date,
) -> dict[str, Any]:
    """The Bulk Data status response of a completed export (Bulk Data IG STU3 §B1);
    file URLs are relative to the folder holding the manifest."""
    return {
        "transactionTime": f"{as_of.isoformat()}T23:59:59Z",
        "request": (
            f"limbguard synth --patients {patients} --seed {seed} --first {first} "
            f"--as-of {as_of.isoformat()}"
        ),
        "requiresAccessToken": False,
        "output": [
            {"type": kind, "url": f"{kind}{suffix}", "count": counts[kind]}
            for kind in RESOURCE_TYPES
        ],
        "error": [],
        "extension": {
            TRUTH_EXTENSION: {
                "url": truth_name,
                "asOf": as_of.isoformat(),
                "evaluationWindowDays": truth.EVALUATION_WINDOW_DAYS,
                "amputationLookbackDays": truth.AMPUTATION_LOOKBACK_DAYS,
            }
        },
    }
