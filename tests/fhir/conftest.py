"""Fixtures for the FHIR import/export tests: a small synthetic export on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from limbguard.synth.export import write_export

AS_OF = dt.date(2026, 6, 1)


@pytest.fixture(scope="session")
def synth_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """120 synthetic people (all four demo centers), written once per test session."""
    out = tmp_path_factory.mktemp("synth")
    write_export(out, patients=120, seed=42, as_of=AS_OF)
    return out
