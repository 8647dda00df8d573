"""Staging of one limb: which findings feed which library rule (pure: no database).

The rules themselves are tested in tests/vascular/; here only the wiring: WIfI ulcer
rows from wound findings (Mills 2014 wound table), the GLASS target path through the
least diseased tibial artery (GVG 2019 Table 5.1), venous ulcers outside WIfI, and the
snapshot's JSON round trip.
"""

from __future__ import annotations

import json

import pytest

from limbguard.assessments.staging import (
    RULES_VERSION,
    ArterialLesionInput,
    ArterialSegment,
    Modality,
    Pressures,
    StagingInputs,
    StagingValues,
    VenousFindingInput,
    WoundInput,
    stage,
    ulcer_of,
)
from limbguard.vascular import ceap, wifi
from limbguard.vascular._base import InvalidInput

ARMS = Pressures(brachial_left=140, brachial_right=136)


@pytest.mark.parametrize(
    ("wound", "ulcer"),
    [
        (WoundInput("a"), wifi.Ulcer.SMALL_SHALLOW),
        (
            WoundInput("b", exposed_bone_joint_or_tendon=True),
            wifi.Ulcer.DEEP_EXPOSED_BONE_JOINT_TENDON,
        ),
        (WoundInput("c", heel=True), wifi.Ulcer.SHALLOW_HEEL),
        (WoundInput("d", heel=True, full_thickness=True), wifi.Ulcer.DEEP_HEEL),
        (
            WoundInput("e", extensive_forefoot_midfoot=True),
            wifi.Ulcer.EXTENSIVE_DEEP_FOREFOOT_MIDFOOT,
        ),
    ],
)
def test_wound_findings_pick_the_wifi_ulcer_row(wound: WoundInput, ulcer: wifi.Ulcer) -> None:
    assert ulcer_of(wound) is ulcer


def test_the_worst_wound_sets_w_and_every_section_cites_its_source() -> None:
    result = stage(
        StagingInputs(
            pressures=Pressures(brachial_left=140, brachial_right=136, dp=70, pt=64, toe=34),
            wounds=(WoundInput("small"), WoundInput("gangrene", gangrene=wifi.Gangrene.DIGITS)),
        )
    )
    assert result.values.w == 2
    assert result.values.gangrene
    titles = [s.title for s in result.sections]
    assert titles[:4] == ["ABI / TBI", "WIfI", "Foot infection", "Rutherford / Fontaine"]
    assert all(s.source for s in result.sections)
    assert all(s.reasons for s in result.sections)


def test_without_a_perfusion_measure_wifi_is_not_staged() -> None:
    result = stage(StagingInputs(wounds=(WoundInput("ulcer"),)))
    assert result.values.i is None
    assert result.values.wifi_stage is None
    wifi_section = next(s for s in result.sections if s.title == "WIfI")
    assert "not staged" in wifi_section.summary


def test_glass_target_path_is_the_least_diseased_tibial_artery() -> None:
    lesions = (
        ArterialLesionInput(ArterialSegment.SFA, psv_ratio=2.6, length_cm=12),
        ArterialLesionInput(ArterialSegment.ATA, occluded=True, length_cm=25),
        ArterialLesionInput(ArterialSegment.PTA, occluded=True, length_cm=20),
        ArterialLesionInput(ArterialSegment.PERONEAL, psv_ratio=2.2, length_cm=2),
    )
    result = stage(StagingInputs(pressures=ARMS, arterial=lesions, arterial_duplex_done=True))
    # FP2 (SFA disease 12 cm) with IP1 (peroneal focal stenosis < 3 cm): GLASS II.
    assert result.values.glass_stage == "II"
    section = next(s for s in result.sections if s.title.startswith("Arterial"))
    assert "target artery: peroneal artery" in section.reasons
    assert result.values.significant_stenosis


def test_a_significant_lesion_without_a_length_leaves_glass_unstaged() -> None:
    lesions = (ArterialLesionInput(ArterialSegment.SFA, occluded=True),)
    result = stage(StagingInputs(arterial=lesions, arterial_duplex_done=True))
    assert result.values.glass_stage is None
    assert result.values.significant_stenosis


def test_angiography_stenosis_is_significant_from_50_percent() -> None:
    for percent, significant in ((49, False), (50, True)):
        lesion = ArterialLesionInput(
            ArterialSegment.POPLITEAL,
            modality=Modality.ANGIOGRAPHY,
            stenosis_percent=percent,
            length_cm=1,
        )
        values = stage(StagingInputs(arterial=(lesion,), angiography_done=True)).values
        assert values.significant_stenosis is significant


def test_venous_findings_reflux_and_may_thurner() -> None:
    result = stage(
        StagingInputs(
            venous_duplex_done=True,
            venous=(
                VenousFindingInput(ceap.Segment.GSVA, reflux_ms=900),
                VenousFindingInput(ceap.Segment.CIV, iliac_compression=True),
            ),
            ceap="C4a,S Ep As,d Pr,o GSVa,CIV",
        )
    )
    assert result.values.pathological_reflux
    assert result.values.venous_obstruction
    assert result.values.ceap_highest == 4
    venous = next(s for s in result.sections if s.title == "Venous duplex")
    assert any("May-Thurner" in r for r in venous.reasons)


def test_a_venous_ulcer_is_an_open_wound_but_not_wifi_tissue_loss() -> None:
    values = stage(
        StagingInputs(pressures=ARMS, wounds=(WoundInput("gaiter", foot=False, venous=True),))
    ).values
    assert (values.open_wounds, values.w, values.rutherford) == (1, 0, 0)


def test_bad_ceap_and_inconsistent_rvcss_raise_the_rules_errors() -> None:
    with pytest.raises(InvalidInput) as bad_ceap:
        stage(StagingInputs(ceap="C9"))
    assert bad_ceap.value.field == "text"
    items = dict.fromkeys(
        [
            "pain",
            "varicose_veins",
            "venous_edema",
            "skin_pigmentation",
            "inflammation",
            "induration",
            "active_ulcer_number",
            "active_ulcer_duration",
            "active_ulcer_size",
            "compression_therapy",
        ],
        0,
    )
    items["active_ulcer_size"] = 2
    with pytest.raises(InvalidInput) as bad_rvcss:
        stage(StagingInputs(rvcss=items))
    assert bad_rvcss.value.field == "active_ulcer_size"


def test_outputs_are_json_and_round_trip_into_values() -> None:
    result = stage(
        StagingInputs(
            pressures=Pressures(brachial_left=140, brachial_right=136, dp=250, pt=260),
            ceap="C2 Ep As Pr",
        )
    )
    outputs = json.loads(json.dumps(result.outputs()))
    assert StagingValues.from_dict(outputs["values"]) == result.values
    assert result.values.perfusion_needs == ("toe pressure (TBI) or TcPO2",)
    assert "WIfI 2014" in RULES_VERSION
    assert "CEAP 2020" in RULES_VERSION
