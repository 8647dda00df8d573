"""Fixtures of the screening tests: the shared data folders and one SparkSession for
the whole test run (the machine has two cores shared with other engineers: Spark
starts once, runs local[2], and its tests stay few and small)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DIR

SOF_TESTS = SHARED_DIR / "datasets" / "sql-on-fhir-v2-tests" / "tests"
SYNTHEA_BULK = SHARED_DIR / "datasets" / "synthea-bulk-10"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared not checked out beside the repo)")
    return path


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] SparkSession for every Spark test of the run."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        pytest.skip("pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java runtime for Spark")
    from limbguard.screening.engines import spark_session

    session = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()
