"""`limbguard calc`: each calculator's human and JSON output, bad input, and no Django.

Expected values come from the library functions themselves and from the published
tables they implement: SVS WIfI (Mills JL Sr et al., J Vasc Surg 2014;59:220-234, the
amputation-risk and revascularization-benefit grids); ABI/TBI categories (2016 AHA/ACC
PAD guideline, Gerhard-Herman MD et al., Circulation 2017;135:e726-e779); GLASS (Conte
MS et al., Global Vascular Guidelines, J Vasc Surg 2019;69(6S):3S-125S, section 5);
CEAP 2020 (Lurie F et al., J Vasc Surg Venous Lymphat Disord 2020;8:342-352); rVCSS
(Vasquez MA et al., J Vasc Surg 2010;52:1387-1396, Table I); Rutherford 1997 and the
Fontaine mapping of TASC II (Norgren L et al., J Vasc Surg 2007;45 Suppl S:S5-S67).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from limbguard import calc
from limbguard.vascular import abi, ceap, glass, rutherford, rvcss, wifi

WIFI_W2_I2_FI1 = ["wifi", "--w", "2", "--i", "2", "--fi", "1"]
RVCSS_ITEMS = {
    "pain": 2,
    "varicose_veins": 2,
    "venous_edema": 1,
    "skin_pigmentation": 1,
    "inflammation": 0,
    "induration": 1,
    "active_ulcer_number": 1,
    "active_ulcer_duration": 2,
    "active_ulcer_size": 1,
    "compression_therapy": 2,
}


def rvcss_argv(items: dict[str, int]) -> list[str]:
    argv = ["rvcss"]
    for name, points in items.items():
        argv += [f"--{name.replace('_', '-')}", str(points)]
    return argv


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert calc.main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    data: dict[str, Any] = json.loads(out)
    assert data["calculator"] == argv[0]
    assert data["reasons"], "every answer says why"
    assert data["source"], "every answer names its source"
    return data


def run_text(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert calc.main(argv) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "\nreasons:\n  - " in out
    assert re.search(r"^source: \S", out, re.MULTILINE)
    return out


# --- WIfI --------------------------------------------------------------------------


def test_wifi_json_w2_i2_fi1_is_stage_4_with_high_benefit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = run_json(capsys, WIFI_W2_I2_FI1)
    # Mills 2014 grids: W2 I2 fI1 is "H" in both the amputation-risk and benefit grids.
    assert (data["stage"], data["amputation_risk"]) == (4, "high")
    assert (data["benefit"], data["benefit_likelihood"]) == (4, "high")
    assert (data["w"], data["i"], data["fi"], data["code"]) == (2, 2, 1, "W2 I2 fI1")
    assert data["ischemia"] is None
    expected = wifi.classify(2, 2, 1)
    assert data["reasons"] == list(expected.reasons)
    assert data["source"] == wifi.SOURCE
    assert "Mills" in data["source"]
    assert "2014" in data["source"]


@pytest.mark.parametrize(("w", "i", "fi"), list(itertools.product(range(4), repeat=3)))
def test_wifi_json_matches_the_library_in_every_cell(
    capsys: pytest.CaptureFixture[str], w: int, i: int, fi: int
) -> None:
    data = run_json(capsys, ["wifi", "--w", str(w), "--i", str(i), "--fi", str(fi)])
    assert data["stage"] == wifi.clinical_stage(w, i, fi)
    assert data["benefit"] == wifi.revascularization_benefit(w, i, fi)


@pytest.mark.parametrize(
    ("w", "i", "fi", "stage", "benefit"),
    [
        (0, 0, 0, 1, 1),  # very low / very low
        (1, 0, 0, 1, 1),
        (3, 0, 0, 3, 1),  # wound alone: moderate risk, no revascularization benefit
        (0, 3, 0, 2, 3),  # ischaemia alone: low risk, moderate benefit
        (1, 3, 0, 3, 4),
        (2, 1, 2, 4, 4),  # the benefit table's one published decrease, W2 -> W3
        (3, 1, 2, 4, 3),
    ],
)
def test_wifi_published_cells(
    capsys: pytest.CaptureFixture[str], w: int, i: int, fi: int, stage: int, benefit: int
) -> None:
    data = run_json(capsys, ["wifi", "--w", str(w), "--i", str(i), "--fi", str(fi)])
    assert (data["stage"], data["benefit"]) == (stage, benefit)


def test_wifi_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_text(capsys, WIFI_W2_I2_FI1)
    assert out.startswith("SVS WIfI W2 I2 fI1\n")
    assert re.search(r"clinical stage\s+4 \(high 1-year amputation risk\)", out)
    assert re.search(r"revascularization\s+4 \(high benefit\)", out)
    assert f"source: {wifi.SOURCE}" in out


def test_wifi_derives_ischemia_from_the_measures(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["wifi", "--w", "1", "--fi", "0", "--abi", "0.95", "--toe-pressure", "35"]
    data = run_json(capsys, argv)
    expected = wifi.explain_ischemia(abi=0.95, toe_pressure=35)
    # Toe pressure 30-39 mmHg is I2 and takes priority over the ABI (I0): discordant.
    assert data["i"] == expected.grade == 2
    assert data["ischemia"] == {
        "grade": 2,
        "measure_used": "toe_pressure",
        "grades": {"toe_pressure": 2, "abi": 0},
        "discordant": True,
    }
    assert data["stage"] == wifi.clinical_stage(1, 2, 0)
    assert data["reasons"][: len(expected.reasons)] == list(expected.reasons)
    out = run_text(capsys, argv)
    assert re.search(r"ischaemia\s+I2 from toe pressure, discordant", out)


@pytest.mark.parametrize(
    ("option", "value", "grade"),
    [
        ("--abi", "0.80", 0),
        ("--abi", "0.79", 1),
        ("--ankle-pressure", "70", 2),  # 70 mmHg lies in both bands: I2 (project rule)
        ("--ankle-pressure", "49", 3),
        ("--tcpo2", "60", 0),
        ("--toe-pressure", "29", 3),
    ],
)
def test_wifi_ischemia_boundaries(
    capsys: pytest.CaptureFixture[str], option: str, value: str, grade: int
) -> None:
    data = run_json(capsys, ["wifi", "--w", "0", "--fi", "0", option, value])
    assert data["i"] == grade


def test_wifi_unsalvageable_is_stage_5_beside_the_table_stage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = run_json(capsys, [*WIFI_W2_I2_FI1, "--unsalvageable"])
    assert (data["stage"], data["table_stage"], data["unsalvageable"]) == (5, 4, True)
    assert data["amputation_risk"] == "unsalvageable foot"


# --- ABI and TBI -------------------------------------------------------------------


def test_abi_json_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["abi", "--dp", "96", "--pt", "110", "--brachial-left", "128"]
    argv += ["--brachial-right", "134"]
    data = run_json(capsys, argv)
    expected = abi.explain_leg_abi(dp=96, pt=110, brachial_left=128, brachial_right=134)
    assert data["value"] == expected.value == 0.82  # 110 / 134 = 0.8209
    assert data["category"] == "abnormal"
    assert data["ankle_artery"] == "PT"
    assert data["reasons"] == list(expected.reasons)
    assert data["source"] == abi.SOURCE
    out = run_text(capsys, argv)
    assert re.search(r"ABI\s+0\.82\n\s+category\s+abnormal\n", out)


@pytest.mark.parametrize(
    ("ankle", "value", "category"),
    [
        ("199", 1.00, "normal"),  # the rounding case: 0.995 rounds half-up to 1.00
        ("180", 0.90, "abnormal"),
        ("181", 0.91, "borderline"),
        ("280", 1.40, "normal"),
        ("281", 1.41, "noncompressible"),
        ("0", 0.00, "abnormal"),  # 0 is an absent signal, not "not obtainable"
    ],
)
def test_abi_published_boundaries(
    capsys: pytest.CaptureFixture[str], ankle: str, value: float, category: str
) -> None:
    data = run_json(capsys, ["abi", "--pt", ankle, "--brachial-right", "200"])
    assert (data["value"], data["category"]) == (value, category)


def test_abi_not_obtainable_is_an_answer_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, ["abi", "--brachial-left", "120"])
    assert (data["value"], data["category"], data["ankle_artery"]) == (None, None, None)
    assert "no ankle pressure obtainable: ABI not computable" in data["reasons"]
    out = run_text(capsys, ["abi", "--brachial-left", "120"])
    assert re.search(r"ABI\s+not computable", out)


def test_tbi_json_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["tbi", "--toe", "70", "--brachial-left", "100", "--brachial-right", "96"]
    data = run_json(capsys, argv)
    # AHA 2016: TBI <= 0.70 is abnormal, so exactly 0.70 is abnormal.
    assert data["value"] == abi.toe_brachial_index(toe=70, brachial_left=100, brachial_right=96)
    assert (data["value"], data["category"]) == (0.70, "abnormal")
    assert data["source"] == abi.SOURCE
    out = run_text(capsys, argv)
    assert re.search(r"TBI\s+0\.70\n\s+category\s+abnormal\n", out)
    normal = run_json(capsys, ["tbi", "--toe", "71", "--brachial-left", "100"])
    assert (normal["value"], normal["category"]) == (0.71, "normal")


def test_tbi_not_computable(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_json(capsys, ["tbi", "--brachial-left", "120"])["value"] is None
    assert run_json(capsys, ["tbi", "--toe", "50", "--brachial-left", "0"])["value"] is None


# --- GLASS, CEAP, rVCSS, Rutherford ------------------------------------------------


@pytest.mark.parametrize(("fp", "ip"), list(itertools.product(range(5), repeat=2)))
def test_glass_json_matches_the_library_in_every_cell(
    capsys: pytest.CaptureFixture[str], fp: int, ip: int
) -> None:
    data = run_json(capsys, ["glass", "--fp", str(fp), "--ip", str(ip)])
    assert data["stage"] == glass.stage(fp, ip)
    assert data["reasons"] == list(glass.explain_stage(fp, ip).reasons)


@pytest.mark.parametrize(
    ("fp", "ip", "stage"),
    [(0, 0, None), (1, 1, "I"), (2, 0, "I"), (2, 3, "II"), (3, 2, "II"), (3, 3, "III")],
)
def test_glass_published_cells(
    capsys: pytest.CaptureFixture[str], fp: int, ip: int, stage: str | None
) -> None:
    assert run_json(capsys, ["glass", "--fp", str(fp), "--ip", str(ip)])["stage"] == stage


def test_glass_pedal_descriptor_beside_the_stage(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["glass", "--fp", "2", "--ip", "3", "--pedal", "P1"]
    data = run_json(capsys, argv)
    assert (data["stage"], data["pedal"], data["label"]) == ("II", "P1", "GLASS II / P1")
    assert data["source"] == glass.SOURCE
    out = run_text(capsys, argv)
    assert out.startswith("GLASS FP2 IP3\n")
    assert re.search(r"label\s+GLASS II / P1", out)


def test_ceap_json_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    text = "C2,4as Ep As,p Pr GSVa,CPV"  # the library's own docstring example
    data = run_json(capsys, ["ceap", text])
    parsed = ceap.parse(text)
    assert data["value"] == str(parsed) == "C2,4a,S Ep As,p Pr GSVa,CPV"
    assert (data["clinical"], data["highest"], data["symptomatic"]) == (["C2", "C4a"], 4, True)
    assert data["etiology"] == parsed.etiology == ["Ep"]
    assert data["anatomy"] == parsed.anatomy == ["As", "Ap"]
    assert data["pathophysiology"] == ["Pr"]
    assert data["segments"] == parsed.segments == {"Pr": ["GSVa", "CPV"]}
    assert data["level"] is None
    assert data["source"] == ceap.SOURCE
    out = run_text(capsys, ["ceap", text])
    assert out.startswith("CEAP C2,4a,S Ep As,p Pr GSVa,CPV\n")
    assert re.search(r"highest\s+C4\n", out)


def test_rvcss_json_and_human(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, rvcss_argv(RVCSS_ITEMS))
    assert data["value"] == rvcss.score(**RVCSS_ITEMS) == sum(RVCSS_ITEMS.values()) == 13
    assert (data["max"], data["version"]) == (30, "rVCSS-2010")
    assert data["items"]["pain"] == {
        "points": 2,
        "descriptor": rvcss.DESCRIPTORS[rvcss.Item.PAIN][2],
    }
    assert data["reasons"] == list(rvcss.explain(**RVCSS_ITEMS).reasons)
    assert data["source"] == rvcss.SOURCE
    out = run_text(capsys, rvcss_argv(RVCSS_ITEMS))
    assert re.search(r"total\s+13 of 30", out)


@pytest.mark.parametrize(
    ("category", "fontaine", "clti"),
    [
        ("0", "I", False),
        ("1", "IIa", False),
        ("2", "IIb", False),
        ("3", "IIb", False),
        ("4", "III", True),
        ("5", "IV", True),
        ("6", "IV", True),
    ],
)
def test_rutherford_category_to_fontaine(
    capsys: pytest.CaptureFixture[str], category: str, fontaine: str, clti: bool
) -> None:
    data = run_json(capsys, ["rutherford", "--category", category])
    assert data["fontaine"] == rutherford.to_fontaine(int(category)) == fontaine
    assert data["clti"] is clti
    assert data["objective_support"] is None


def test_rutherford_from_findings(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["rutherford", "--claudication", "severe", "--rest-pain"]
    argv += ["--resting-ankle-pressure", "35"]
    data = run_json(capsys, argv)
    expected = rutherford.explain_category(
        claudication=rutherford.Claudication.SEVERE, rest_pain=True, resting_ankle_pressure=35
    )
    assert (data["category"], data["fontaine"], data["clti"]) == (4, "III", True)
    assert data["objective_support"] is True  # resting ankle pressure < 40 mmHg
    assert data["reasons"] == list(expected.reasons)
    out = run_text(capsys, argv)
    assert re.search(r"Fontaine\s+III\n", out)
    minor = run_json(capsys, ["rutherford", "--tissue-loss", "minor", "--no-flat-pedal-pvr"])
    assert (minor["category"], minor["objective_support"]) == (5, False)


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["wifi", "--w", "2", "--i", "2", "--fi", "5"], "--fi"),
        (["wifi", "--w", "4", "--i", "2", "--fi", "1"], "--w"),
        (["wifi", "--w", "two", "--i", "2", "--fi", "1"], "--w"),
        (["wifi", "--w", "2", "--fi", "1"], "--i"),
        (["wifi", "--w", "2", "--i", "1", "--fi", "1", "--abi", "0.5"], "--i"),
        (["wifi", "--w", "2", "--fi", "1", "--abi", "1.6"], "--i"),  # noncompressible only
        (["wifi", "--w", "2", "--fi", "1", "--abi", "nan"], "--abi"),
        (["wifi", "--w", "2", "--fi", "1", "--tcpo2", "-3"], "--tcpo2"),
        (["wifi", "--i", "2", "--fi", "1"], "--w"),
        (["abi", "--dp", "999", "--brachial-left", "120"], "--dp"),
        (["abi", "--pt", "90", "--brachial-right", "-1"], "--brachial-right"),
        (["abi", "--pt", "9.5"], "--pt"),
        (["tbi", "--toe", "401", "--brachial-left", "120"], "--toe"),
        (["glass", "--fp", "5", "--ip", "1"], "--fp"),
        (["glass", "--fp", "1", "--ip", "1", "--pedal", "P3"], "--pedal"),
        (["ceap", "C9"], "TEXT"),
        (["ceap", "C2 Ep Xx"], "TEXT"),
        (["rvcss", "--pain", "1"], "--varicose-veins"),
        (rvcss_argv({**RVCSS_ITEMS, "active_ulcer_number": 0}), "--active-ulcer-duration"),
        (rvcss_argv({**RVCSS_ITEMS, "pain": 4}), "--pain"),
        (["rutherford"], "--category"),
        (["rutherford", "--category", "7"], "--category"),
        (["rutherford", "--category", "3", "--rest-pain"], "--category"),
        (["rutherford", "--claudication", "awful"], "--claudication"),
        (["frob"], "CALCULATOR"),
        ([], "CALCULATOR"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_field(
    capsys: pytest.CaptureFixture[str], argv: list[str], names: str
) -> None:
    assert calc.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("limbguard calc")
    assert names in err


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert calc.main(["wifi", "--help"]) == 0
    assert "--toe-pressure" in capsys.readouterr().out


# --- the installed command, without Django -----------------------------------------


def limbguard_command() -> list[str]:
    """The console script beside this interpreter, else the module (same entry point)."""
    script = Path(sys.executable).with_name("limbguard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "limbguard.cli"]


def test_installed_command_prints_wifi_json() -> None:
    completed = subprocess.run(
        [*limbguard_command(), "calc", *WIFI_W2_I2_FI1, "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert (data["stage"], data["benefit"]) == (4, 4)
    assert data["reasons"]
    assert data["source"] == wifi.SOURCE


def test_installed_command_bad_input_exits_2() -> None:
    completed = subprocess.run(
        [*limbguard_command(), "calc", "wifi", "--w", "2", "--i", "2", "--fi", "9"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert "--fi" in completed.stderr


def test_calc_through_the_cli_never_imports_django() -> None:
    script = (
        "import sys\n"
        "from limbguard.cli import main\n"
        f"assert main(['calc', *{WIFI_W2_I2_FI1!r}, '--json']) == 0\n"
        "loaded = [m for m in sys.modules if m == 'django' or m.startswith('django.')]\n"
        "assert not loaded, loaded\n"
    )
    completed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    imported = re.findall(r"^import time:.*\|\s*(\S+)$", completed.stderr, re.MULTILINE)
    assert "limbguard.calc" in [name.strip() for name in imported]
    assert not [name for name in imported if name.strip().split(".")[0] == "django"]
