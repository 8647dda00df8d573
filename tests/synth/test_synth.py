"""`limbguard.synth`: seeded, valid FHIR R4, consistent with its own ground truth,
streaming (memory flat as the population grows)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from limbguard.synth import truth
from limbguard.synth.cohort import simulate
from limbguard.synth.export import RESOURCE_TYPES, write_export
from limbguard.vascular import codes

AS_OF = dt.date(2026, 6, 1)
CENTERS = ("harbor", "inland", "coastal", "valley")


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _lines(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]


def test_same_seed_same_bytes_other_seed_other_people(tmp_path: Path) -> None:
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        write_export(tmp_path / name, patients=150, seed=seed, as_of=AS_OF)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a")["Patient.ndjson"] != _digest(tmp_path / "c")["Patient.ndjson"]


def test_a_person_does_not_depend_on_who_else_is_generated(tmp_path: Path) -> None:
    write_export(tmp_path / "all", patients=20, seed=9, as_of=AS_OF)
    write_export(tmp_path / "tail", patients=5, seed=9, as_of=AS_OF, first=15)
    whole = _lines(tmp_path / "all" / "Patient.ndjson")[15:]
    assert whole == _lines(tmp_path / "tail" / "Patient.ndjson")


def test_every_resource_is_valid_fhir_r4_with_zoned_datetimes(tmp_path: Path) -> None:
    summary = write_export(tmp_path, patients=400, seed=11, as_of=AS_OF)
    seen: Counter[str] = Counter()
    for kind in RESOURCE_TYPES:
        model = get_fhir_model_class(kind)
        for resource in _lines(tmp_path / f"{kind}.ndjson"):
            assert resource["resourceType"] == kind
            model.model_validate(resource)
            seen[kind] += 1
    assert dict(seen) == summary.counts
    assert seen["Patient"] == 400


def test_manifest_lists_each_file_with_its_count(tmp_path: Path) -> None:
    summary = write_export(tmp_path, patients=30, seed=2, as_of=AS_OF, compress=True)
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    assert manifest["requiresAccessToken"] is False
    assert manifest["transactionTime"] == "2026-06-01T23:59:59Z"
    for output in manifest["output"]:
        assert len(_lines(tmp_path / output["url"])) == output["count"]
        assert summary.counts[output["type"]] == output["count"]
    (extension,) = manifest["extension"].values()
    assert len(_lines(tmp_path / extension["url"])) == 30


def test_every_code_written_is_in_the_value_set_it_stands_for() -> None:
    """Conditions carry ICD-10-CM or SNOMED CT codes known to the value sets (or a CMS
    code such as an L97 ulcer site); procedures are CPT in a LimbGuard category."""
    for index in range(600):
        for kind, resource in simulate(4, index, as_of=AS_OF, centers=CENTERS).resources:
            if kind == "Condition":
                (coding,) = resource["code"]["coding"]
                system = {"http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM"}.get(
                    coding["system"], "SNOMED"
                )
                assert codes.normalize(system, coding["code"]) == coding["code"]
                if not coding["code"].startswith("L97"):
                    assert codes.categorize(system, coding["code"])
            if kind == "Procedure":
                (coding,) = resource["code"]["coding"]
                assert codes.categorize("CPT", coding["code"])


def _truth_from_resources(resources: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Recompute the truth fields a screen would, from the resources alone."""
    systems = {
        "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
        "http://snomed.info/sct": "SNOMED",
        "http://www.ama-assn.org/go/cpt": "CPT",
    }
    categories: set[str] = set()
    evaluations: list[str] = []
    abis: list[tuple[str, float]] = []
    for kind, resource in resources:
        for coding in resource.get("code", {}).get("coding", []):
            system = systems.get(coding["system"])
            found = codes.categorize(system, coding["code"]) if system else frozenset()
            if kind in ("Condition", "Procedure"):
                categories |= found & truth.RISK_CATEGORIES
            if kind == "Procedure" and "vascular_study" in found:
                evaluations.append(resource["performedDateTime"][:10])
            if kind == "Observation" and coding["code"] in (
                "abi",
                "tbi",
                "toe-pressure",
                "tcpo2",
                "arterial-duplex",
            ):
                evaluations.append(resource["effectiveDateTime"][:10])
                if coding["code"] == "abi":
                    abis.append(
                        (resource["effectiveDateTime"][:10], resource["valueQuantity"]["value"])
                    )
        answer = resource.get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code")
        if answer and "smoking" in codes.categorize("SNOMED", answer):
            categories.add("smoking")
    if abis:
        latest = max(day for day, _ in abis)
        if min(v for day, v in abis if day == latest) <= truth.LOW_ABI:
            categories.add("low_abi")
    last = max(evaluations) if evaluations else None
    window_start = (AS_OF - dt.timedelta(days=truth.EVALUATION_WINDOW_DAYS - 1)).isoformat()
    return {
        "risk_categories": sorted(categories),
        "last_vascular_evaluation": last,
        "evaluated": last is not None and last >= window_start,
    }


def test_ground_truth_matches_what_the_resources_say() -> None:
    at_risk = unevaluated = 0
    for index in range(1500):
        person = simulate(8, index, as_of=AS_OF, centers=CENTERS)
        expected = _truth_from_resources(person.resources)
        got = {key: person.truth[key] for key in expected}
        assert got == expected, index
        at_risk += person.truth["at_risk"]
        unevaluated += person.truth["unevaluated_at_risk"]
    # A screen has something to find, and something to leave alone.
    assert 50 < at_risk < 600
    assert 0 < unevaluated < at_risk


def test_nothing_happens_after_death() -> None:
    for index in range(1500):
        person = simulate(12, index, as_of=AS_OF, centers=CENTERS)
        death = person.truth["deceased"]
        if death is None:
            continue
        for kind, resource in person.resources:
            when = resource.get("effectiveDateTime") or resource.get("performedDateTime")
            when = when or resource.get("period", {}).get("start")
            if when:
                assert when[:10] <= death, (index, kind)


def test_rates_are_in_the_range_of_the_reference() -> None:
    """PAD prevalence in adults >= 40 lands between the NHANES age bands (§6.1)."""
    people = [simulate(21, index, as_of=AS_OF, centers=CENTERS) for index in range(4000)]
    pad = sum(
        "pad" in p.truth["risk_categories"] or "low_abi" in p.truth["risk_categories"]
        for p in people
    )
    assert 0.03 < pad / len(people) < 0.2


def test_memory_stays_flat_as_the_population_grows(tmp_path: Path) -> None:
    def peak(patients: int) -> int:
        tracemalloc.start()
        write_export(tmp_path / str(patients), patients=patients, seed=1, as_of=AS_OF)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(50)  # warm the code tables, which are built once per process
    small, large = peak(500), peak(5000)
    assert large < small * 1.5 + 256 * 1024


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="patients"):
        write_export(tmp_path, patients=-1, seed=1, as_of=AS_OF)
    with pytest.raises(ValueError, match="centers"):
        write_export(tmp_path, patients=1, seed=1, as_of=AS_OF, centers=())
