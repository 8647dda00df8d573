"""`limbguard synth` from the command line: JSON summary, same seed same files."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from django.core.management import CommandError, call_command


def _run(out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    call_command(
        "synth", "--patients", "40", "--seed", "3", "--out", str(out), "--as-of", "2026-05-01",
        "--no-progress", "--json", *extra,
    )  # fmt: skip
    result: dict[str, object] = orjson.loads(capsys.readouterr().out)
    return result


def test_synth_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = _run(tmp_path / "a", capsys)
    _run(tmp_path / "b", capsys)
    assert first["patients"] == 40
    for name in ("Patient.ndjson", "Observation.ndjson", "ground-truth.ndjson", "manifest.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    clinic = _run(tmp_path / "c", capsys, "--cohort", "clinic", "--centers", "harbor")
    assert clinic["patients"] == 40
    truth = [orjson.loads(x) for x in (tmp_path / "c" / "ground-truth.ndjson").read_bytes().split()]
    assert all(t["risk_categories"] for t in truth)
    assert {t["center"] for t in truth} == {"harbor"}


def test_synth_command_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="patients"):
        call_command("synth", "--patients", "-3", "--out", str(tmp_path))
    with pytest.raises(CommandError, match="centers"):
        call_command("synth", "--patients", "3", "--out", str(tmp_path), "--centers", " ,")
