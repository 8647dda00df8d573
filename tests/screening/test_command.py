"""`limbguard screen`: outputs, one-line result, JSON summary, clear errors, and
``--to-intake`` (referrals through the intake services, no duplicates on a rerun)."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from limbguard.accounts.models import AuditEvent
from limbguard.intake.models import IntakeRequest, RequestKind, UrgencyLevel
from limbguard.screening.intake_bridge import REFERRER
from limbguard.synth.export import write_export
from limbguard.testing import Personas

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export")
    write_export(out, patients=400, seed=11, as_of=AS_OF)
    return out


def _screen(*args: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("screen", *args, "--no-progress", stdout=stdout, stderr=stderr)
    return stdout.getvalue()


def test_writes_every_output_and_one_line(export: Path, tmp_path: Path) -> None:
    line = _screen(str(export), "--out", str(tmp_path))
    assert line.count("\n") == 1
    assert line.startswith("screen: 400 patients")
    assert "on duckdb" in line
    assert str(tmp_path) in line
    for name in (
        "worklist.parquet",
        "worklist.csv",
        "worklist-group.json",
        "screened.parquet",
        "measure.csv",
        "measure.json",
        "summary.json",
    ):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["as_of"] == AS_OF.isoformat()  # from the manifest's transactionTime
    assert summary["patients"] == 400


def test_json_summary(export: Path, tmp_path: Path) -> None:
    summary = json.loads(
        _screen(str(export), "--out", str(tmp_path), "--json", "--window-days", "730")
    )
    assert summary["window_days"] == 730
    assert summary["engine"] == "duckdb"
    assert summary["worklist"] == len((tmp_path / "worklist.csv").read_text().splitlines()[1:])


def test_errors_are_clear(export: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="unreachable"):
        _screen(
            str(export),
            "--out",
            str(tmp_path),
            "--engine",
            "spark",
            "--master",
            "spark://127.0.0.1:1",
        )
    with pytest.raises(CommandError, match="no such folder"):
        _screen(str(tmp_path / "missing"), "--out", str(tmp_path))
    with pytest.raises(CommandError, match="window-days"):
        _screen(str(export), "--out", str(tmp_path), "--window-days", "0")


def test_to_intake_refers_the_top_tier_once(
    personas: Personas, export: Path, tmp_path: Path
) -> None:
    args = ["--to-intake", "--intake-tier", "3", "--json"]
    first = _screen(str(export), "--out", str(tmp_path / "a"), *args)
    sent = json.loads(first)["intake"]
    worklist = json.loads(first)
    assert sent["created"] == sent["eligible"] > 0
    referrals = IntakeRequest.objects.filter(
        kind=RequestKind.REFERRAL, referrer_organization=REFERRER
    )
    assert referrals.count() == sent["created"]
    for referral in referrals:
        assert referral.reason.startswith(f"{REFERRER}, patient ")
        assert " by rule T" in referral.reason
        assert referral.center is not None  # the export's center slugs are the demo's
        assert referral.patient_birth_date is not None
        if "T1-GANGRENE" in referral.reason:
            assert referral.urgency == UrgencyLevel.EMERGENT
    assert (
        AuditEvent.objects.filter(summary__startswith="public referral received").count()
        >= sent["created"]
    )
    assert worklist["worklist"] == sent["eligible"]  # tiers 1-3: the whole worklist
    # A rerun (same export, same date) refers nobody again.
    again = json.loads(_screen(str(export), "--out", str(tmp_path / "b"), *args))
    assert again["intake"] == {
        "created": 0,
        "skipped": sent["created"],
        "eligible": sent["eligible"],
    }
    assert referrals.count() == sent["created"]
