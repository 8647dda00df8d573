"""`limbguard.vascular` is pure: it imports and runs in an interpreter without Django."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import builtins, pkgutil, importlib, sys
real_import = builtins.__import__
def guarded(name, *args, **kwargs):
    if name == "django" or name.startswith("django."):
        raise ImportError("Django must not be imported by limbguard.vascular")
    return real_import(name, *args, **kwargs)
builtins.__import__ = guarded
import limbguard.vascular as v
for info in pkgutil.walk_packages(v.__path__, "limbguard.vascular."):
    importlib.import_module(info.name)
from limbguard.vascular import abi
assert abi.leg_abi(dp=120, pt=None, brachial_left=130, brachial_right=120) == 0.92
assert not any(m == "django" or m.startswith("django.") for m in sys.modules)
print("ok")
"""


def test_vascular_imports_and_runs_without_django() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
