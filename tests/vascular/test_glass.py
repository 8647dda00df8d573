"""GLASS grades and stage.

Source: Conte MS, Bradbury AW, Kolh P, et al. Global vascular guidelines on the
management of chronic limb-threatening ischemia. J Vasc Surg 2019;69(6S):3S-125S.e40,
section 5: Table 5.1 (conventions), the femoropopliteal and infrapopliteal grading
figures, and the infrainguinal stage figure (FP x IP, 25 cells); inframalleolar
descriptor P0-P2 from Table 5.1. Aortoiliac stages: GVG recommendations 6.25-6.27.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from limbguard.vascular import glass
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.glass import (
    Disease,
    FemoropoplitealArtery,
    FemoropoplitealLesion,
    InfrapoplitealLesion,
    Pedal,
    TibialTarget,
)

SFA = FemoropoplitealArtery.SFA
POP = FemoropoplitealArtery.POPLITEAL

# The stage figure as printed in the guideline: rows are FP grades, columns IP grades.
PRINTED_STAGE_FIGURE = """
          IP0   IP1   IP2   IP3   IP4
    FP0   n/a   I     I     II    III
    FP1   I     I     II    II    III
    FP2   I     II    II    II    III
    FP3   II    II    II    III   III
    FP4   III   III   III   III   III
"""


def _printed_cells() -> Iterator[tuple[int, int, str | None]]:
    header, *rows = (line.split() for line in PRINTED_STAGE_FIGURE.strip().splitlines())
    for row in rows:
        fp = int(row[0].removeprefix("FP"))
        for column, printed in zip(header, row[1:], strict=True):
            yield fp, int(column.removeprefix("IP")), None if printed == "n/a" else printed


CELLS = list(_printed_cells())
STAGE_ORDER = {None: 0, "I": 1, "II": 2, "III": 3}


def test_the_printed_figure_has_25_cells() -> None:
    assert len(CELLS) == 25
    assert len({(fp, ip) for fp, ip, _ in CELLS}) == 25


@pytest.mark.parametrize(("fp", "ip", "expected"), CELLS, ids=[f"FP{f}-IP{i}" for f, i, _ in CELLS])
def test_stage_matches_every_cell_of_the_published_matrix(
    fp: int, ip: int, expected: str | None
) -> None:
    assert glass.stage(fp, ip) == expected
    explained = glass.explain_stage(fp, ip)
    assert (explained.stage.value if explained.stage else None) == expected
    assert explained.source == glass.SOURCE


def test_stage_returns_plain_strings() -> None:
    result = glass.stage(2, 2)
    assert type(result) is str
    assert result == "II"


@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4), st.integers(0, 4))
def test_a_worse_grade_never_lowers_the_stage(fp: int, ip: int, fp2: int, ip2: int) -> None:
    worse = glass.stage(max(fp, fp2), max(ip, ip2))
    assert STAGE_ORDER[worse] >= STAGE_ORDER[glass.stage(fp, ip)]


@pytest.mark.parametrize("bad", [-1, 5, "2", 2.0, True, None, Decimal(2)])
@pytest.mark.parametrize("field", ["fp", "ip"])
def test_stage_rejects_bad_grades_naming_the_field(field: str, bad: object) -> None:
    args: dict[str, object] = {"fp": 1, "ip": 1, field: bad}
    with pytest.raises(ValueError, match=f"^{field}:"):
        glass.stage(**args)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        glass.explain_stage(**args)  # type: ignore[arg-type]


# --- femoropopliteal grade -------------------------------------------------------------


def fp_grade(*lesions: FemoropoplitealLesion, calcified: bool = False) -> int:
    return glass.femoropopliteal_grade(list(lesions), severe_calcification=calcified)


def sfa(length: float, *, occluded: bool = False, flush: bool = False) -> FemoropoplitealLesion:
    return FemoropoplitealLesion(SFA, length, occluded=occluded, flush=flush)


def pop(
    length: float, *, occluded: bool = False, trifurcation: bool = False
) -> FemoropoplitealLesion:
    return FemoropoplitealLesion(POP, length, occluded=occluded, involves_trifurcation=trifurcation)


def test_no_lesion_is_fp0() -> None:
    assert fp_grade() == 0
    assert glass.explain_femoropopliteal([]).reasons == (
        "no significant femoropopliteal disease: FP0",
    )


@pytest.mark.parametrize(
    ("length", "grade"),
    [(0.5, 1), (9.9, 1), (10, 2), (15, 2), (20, 2), (20.1, 3), (35, 3)],
)
def test_sfa_disease_length_bands_lt10_10to20_gt20(length: float, grade: int) -> None:
    assert fp_grade(sfa(length)) == grade


@pytest.mark.parametrize(
    ("length", "grade"),
    [(1, 1), (4.9, 1), (5, 2), (9.9, 2), (10, 3), (20, 3), (20.1, 4)],
)
def test_non_flush_sfa_occlusion_bands_lt5_lt10_10to20_gt20(length: float, grade: int) -> None:
    assert fp_grade(sfa(length, occluded=True)) == grade


@pytest.mark.parametrize(("length", "grade"), [(1, 3), (19.9, 3), (20, 3), (20.1, 4)])
def test_flush_sfa_occlusion_is_fp3_up_to_20cm_then_fp4(length: float, grade: int) -> None:
    assert fp_grade(sfa(length, occluded=True, flush=True)) == grade


@pytest.mark.parametrize(("length", "grade"), [(0.5, 2), (1.9, 2), (2, 3), (5, 3), (5.1, 4)])
def test_popliteal_stenosis_bands_lt2_2to5_gt5(length: float, grade: int) -> None:
    assert fp_grade(pop(length)) == grade


def test_any_popliteal_occlusion_or_trifurcation_disease_is_fp4() -> None:
    assert fp_grade(pop(0.5, occluded=True)) == 4
    assert fp_grade(pop(0.5, trifurcation=True)) == 4


def test_sfa_lengths_are_summed_exactly() -> None:
    assert fp_grade(sfa(6), sfa(5)) == 2
    # 0.1 + 8.2 + 1.7 is 9.999999999999998 in binary floats; exactly 10 cm is FP2.
    assert 0.1 + 8.2 + 1.7 < 10
    assert fp_grade(sfa(0.1), sfa(8.2), sfa(1.7)) == 2
    assert fp_grade(sfa(3.3), sfa(3.3), sfa(3.3)) == 1
    assert fp_grade(sfa(3, occluded=True), sfa(2, occluded=True)) == 2  # 5 cm occluded


def test_the_worst_attribute_sets_the_grade() -> None:
    explained = glass.explain_femoropopliteal([sfa(4), pop(3)])
    assert explained.value == 3
    assert explained.reasons == (
        "SFA disease totals 4 cm: FP1",
        "popliteal stenosis of 3 cm: FP3",
        "the worst attribute sets the segment grade: FP3",
    )


def test_flush_occlusion_reasons() -> None:
    explained = glass.explain_femoropopliteal([sfa(8, occluded=True, flush=True)])
    assert explained.value == 3
    assert "flush SFA occlusion totals 8 cm: FP3" in explained.reasons


@pytest.mark.parametrize(
    ("lesions", "plain", "raised"), [([], 0, 1), ([sfa(12)], 2, 3), ([pop(6)], 4, 4)]
)
def test_severe_calcification_adds_one_grade_up_to_4(
    lesions: list[FemoropoplitealLesion], plain: int, raised: int
) -> None:
    assert fp_grade(*lesions) == plain
    explained = glass.explain_femoropopliteal(lesions, severe_calcification=True)
    assert explained.value == raised
    assert explained.reasons[-1] == f"severe calcification raises FP{plain} to FP{raised}"


@given(
    st.lists(st.tuples(st.sampled_from([SFA, POP]), st.floats(0.1, 15), st.booleans()), max_size=4),
    st.tuples(st.sampled_from([SFA, POP]), st.floats(0.1, 15), st.booleans()),
)
def test_adding_a_lesion_never_lowers_the_fp_grade(
    base: list[tuple[FemoropoplitealArtery, float, bool]],
    extra: tuple[FemoropoplitealArtery, float, bool],
) -> None:
    lesions = [FemoropoplitealLesion(a, length, occluded=o) for a, length, o in base]
    added = FemoropoplitealLesion(extra[0], extra[1], occluded=extra[2])
    assert fp_grade(*lesions, added) >= fp_grade(*lesions)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length_cm": 0}, "length_cm"),
        ({"length_cm": -1}, "length_cm"),
        ({"length_cm": 61}, "length_cm"),
        ({"length_cm": float("nan")}, "length_cm"),
        ({"length_cm": "5"}, "length_cm"),
        ({"length_cm": True}, "length_cm"),
        ({"occluded": 1}, "occluded"),
        ({"flush": True}, "flush"),
        ({"involves_trifurcation": True}, "involves_trifurcation"),
        ({"artery": "SFA"}, "artery"),
    ],
)
def test_fp_lesion_rejects_bad_fields(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"artery": SFA, "length_cm": 5, **kwargs}
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        FemoropoplitealLesion(**args)  # type: ignore[arg-type]


def test_flush_applies_only_to_sfa_occlusions_and_trifurcation_only_to_popliteal() -> None:
    with pytest.raises(InvalidInput, match=r"^flush:"):
        FemoropoplitealLesion(POP, 3, occluded=True, flush=True)
    assert FemoropoplitealLesion(SFA, 3, occluded=True, flush=True).flush
    assert FemoropoplitealLesion(POP, 3, involves_trifurcation=True).involves_trifurcation


@pytest.mark.parametrize("bad", [None, "SFA 5 cm", 5, [sfa(1), "x"], [InfrapoplitealLesion(1)]])
def test_fp_grade_rejects_bad_lesion_lists(bad: object) -> None:
    with pytest.raises(InvalidInput, match=r"^lesions:"):
        glass.femoropopliteal_grade(bad)  # type: ignore[arg-type]


def test_fp_grade_rejects_a_non_bool_calcification_flag() -> None:
    with pytest.raises(InvalidInput, match=r"^severe_calcification:"):
        glass.femoropopliteal_grade([], severe_calcification=1)  # type: ignore[arg-type]


# --- infrapopliteal grade --------------------------------------------------------------


def ip_grade(
    *lesions: InfrapoplitealLesion,
    target: TibialTarget = TibialTarget.POSTERIOR_TIBIAL,
    vessel: float = 30,
    calcified: bool = False,
) -> int:
    return glass.infrapopliteal_grade(
        lesions, target=target, vessel_length_cm=vessel, severe_calcification=calcified
    )


def test_no_lesion_in_the_target_is_ip0() -> None:
    explained = glass.explain_infrapopliteal([], target=TibialTarget.PERONEAL, vessel_length_cm=32)
    assert explained.value == 0
    assert explained.reasons == (
        "target artery: peroneal artery",
        "no significant disease in the target: IP0",
    )


# In a 30 cm vessel one third is 10 cm and two thirds 20 cm.
@pytest.mark.parametrize(
    ("length", "grade"),
    [(1, 1), (2.9, 1), (3, 2), (10, 2), (10.1, 3), (20, 3), (20.1, 4), (30, 4)],
)
def test_stenosis_bands_focal_lt3cm_then_thirds_of_the_vessel(length: float, grade: int) -> None:
    assert ip_grade(InfrapoplitealLesion(length)) == grade


@pytest.mark.parametrize(
    ("length", "grade"), [(1, 2), (2.9, 2), (3, 3), (10, 3), (10.1, 4), (25, 4)]
)
def test_occlusion_bands_focal_lt3cm_up_to_a_third_beyond(length: float, grade: int) -> None:
    assert ip_grade(InfrapoplitealLesion(length, occluded=True)) == grade


def test_thirds_are_exact_fractions() -> None:
    # 11 of 33 cm is exactly one third (IP2), 22 of 33 exactly two thirds (IP3).
    assert ip_grade(InfrapoplitealLesion(11), vessel=33) == 2
    assert ip_grade(InfrapoplitealLesion(22), vessel=33) == 3
    assert ip_grade(InfrapoplitealLesion(3.3), vessel=9.9) == 2
    assert ip_grade(InfrapoplitealLesion(3.3, occluded=True), vessel=9.9) == 3


def test_an_occlusion_at_the_tibial_origin_is_at_least_ip3() -> None:
    assert ip_grade(InfrapoplitealLesion(1, occluded=True, at_origin=True)) == 3
    assert ip_grade(InfrapoplitealLesion(1, at_origin=True)) == 1  # stenosis: no effect


def test_tp_trunk_occlusion_is_ip4_unless_the_target_is_the_anterior_tibial() -> None:
    trunk = InfrapoplitealLesion(1, occluded=True, involves_tp_trunk=True)
    assert ip_grade(trunk, target=TibialTarget.PERONEAL) == 4
    assert ip_grade(trunk, target=TibialTarget.POSTERIOR_TIBIAL) == 4
    explained = glass.explain_infrapopliteal(
        [trunk], target=TibialTarget.ANTERIOR_TIBIAL, vessel_length_cm=30
    )
    assert explained.value == 2
    assert "TP trunk disease ignored: the anterior tibial target does not pass it" in (
        explained.reasons
    )


def test_a_focal_tp_trunk_stenosis_is_not_ip1() -> None:
    trunk = InfrapoplitealLesion(1, involves_tp_trunk=True)
    assert ip_grade(trunk) == 2
    assert ip_grade(trunk, target=TibialTarget.ANTERIOR_TIBIAL) == 1


def test_ip_reasons_name_the_attributes() -> None:
    explained = glass.explain_infrapopliteal(
        [InfrapoplitealLesion(12), InfrapoplitealLesion(2, occluded=True)],
        target=TibialTarget.ANTERIOR_TIBIAL,
        vessel_length_cm=35,
        severe_calcification=True,
    )
    assert explained.value == 4
    assert explained.reasons == (
        "target artery: anterior tibial artery",
        "disease totals 14 cm (40% of the vessel): IP3",
        "occlusion totals 2 cm (6%): IP2",
        "the worst attribute sets the segment grade: IP3",
        "severe calcification raises IP3 to IP4",
    )


def test_ip_rejects_lesions_longer_than_the_vessel() -> None:
    with pytest.raises(InvalidInput, match=r"^lesions: total 31 cm exceeds"):
        ip_grade(InfrapoplitealLesion(20), InfrapoplitealLesion(11))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": "peroneal"}, "target"),
        ({"vessel_length_cm": 0}, "vessel_length_cm"),
        ({"vessel_length_cm": 61}, "vessel_length_cm"),
        ({"vessel_length_cm": None}, "vessel_length_cm"),
        ({"lesions": [FemoropoplitealLesion(SFA, 3)]}, "lesions"),
        ({"severe_calcification": "yes"}, "severe_calcification"),
    ],
)
def test_ip_grade_rejects_bad_input_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {
        "lesions": [],
        "target": TibialTarget.PERONEAL,
        "vessel_length_cm": 30,
        **kwargs,
    }
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        glass.infrapopliteal_grade(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length_cm": 0}, "length_cm"),
        ({"occluded": None}, "occluded"),
        ({"at_origin": 0}, "at_origin"),
        ({"involves_tp_trunk": "no"}, "involves_tp_trunk"),
    ],
)
def test_ip_lesion_rejects_bad_fields(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"length_cm": 2, **kwargs}
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        InfrapoplitealLesion(**args)  # type: ignore[arg-type]


@given(st.lists(st.tuples(st.floats(0.1, 5), st.booleans(), st.booleans()), max_size=5))
def test_ip_grade_is_always_0_to_4(lesions: list[tuple[float, bool, bool]]) -> None:
    built = [InfrapoplitealLesion(x, occluded=o, at_origin=a) for x, o, a in lesions]
    assert 0 <= ip_grade(*built, vessel=30) <= 4


_IP_LENGTHS = st.sampled_from([0.1, 0.5, 1, 2, 2.5, 2.9, 3, 3.1, 5, 7.5, 10, 10.1, 11.7, 20])


@given(
    st.lists(st.tuples(_IP_LENGTHS, st.booleans(), st.booleans(), st.booleans()), max_size=4),
    st.sampled_from(list(TibialTarget)),
    st.sampled_from([30, 30.3, 35, 40]),
    st.booleans(),
)
def test_ip_grade_is_the_explained_grade_and_exact(
    lesions: list[tuple[float, bool, bool, bool]],
    target: TibialTarget,
    vessel: float,
    calcified: bool,
) -> None:
    """The integer fast path gives the explained grade and the exact-fraction reading."""
    built = [
        InfrapoplitealLesion(x, occluded=o, at_origin=a, involves_tp_trunk=t)
        for x, o, a, t in lesions
    ]
    total = sum(Fraction(str(x)) for x, *_ in lesions)
    assume(total <= Fraction(str(vessel)))
    args = {"target": target, "vessel_length_cm": vessel, "severe_calcification": calcified}
    grade = glass.infrapopliteal_grade(built, **args)  # type: ignore[arg-type]
    assert grade == glass.explain_infrapopliteal(built, **args).value  # type: ignore[arg-type]
    # The same rule over Fractions, written out again as the reference.
    trunk_path = target is not TibialTarget.ANTERIOR_TIBIAL
    share = total / Fraction(str(vessel))
    expected = 0
    if built:
        if total < 3 and not (trunk_path and any(x.involves_tp_trunk for x in built)):
            expected = 1
        else:
            expected = 2 if share <= Fraction(1, 3) else 3 if share <= Fraction(2, 3) else 4
    occ = [x for x in built if x.occluded]
    if occ:
        occluded = sum(Fraction(str(x.length_cm)) for x in occ)
        if (trunk_path and any(x.involves_tp_trunk for x in occ)) or occluded / Fraction(
            str(vessel)
        ) > Fraction(1, 3):
            expected = max(expected, 4)
        elif any(x.at_origin for x in occ) or occluded >= 3:
            expected = max(expected, 3)
        else:
            expected = max(expected, 2)
    assert grade == min(4, expected + calcified)


# --- pedal descriptor and the full result ---------------------------------------------


@pytest.mark.parametrize(
    ("crosses", "arch", "expected"),
    [
        (True, True, Pedal.P0),
        (True, False, Pedal.P1),
        (False, True, Pedal.P2),
        (False, False, Pedal.P2),
    ],
)
def test_inframalleolar_descriptor(crosses: bool, arch: bool, expected: Pedal) -> None:
    found = glass.inframalleolar_descriptor(target_crosses_ankle=crosses, pedal_arch_intact=arch)
    assert found is expected


@pytest.mark.parametrize("field", ["target_crosses_ankle", "pedal_arch_intact"])
def test_inframalleolar_descriptor_rejects_non_bools(field: str) -> None:
    args: dict[str, object] = {"target_crosses_ankle": True, "pedal_arch_intact": True}
    args[field] = None
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        glass.inframalleolar_descriptor(**args)  # type: ignore[arg-type]


def test_pedal_descriptor_is_reported_beside_not_inside_the_stage() -> None:
    for pedal in Pedal:
        result = glass.explain_stage(2, 2, pedal=pedal)
        assert result.stage is glass.GlassStage.II
        assert result.label == f"GLASS II / {pedal.value}"
    assert glass.explain_stage(2, 2).label == "GLASS II"
    assert glass.explain_stage(0, 0, pedal=Pedal.P2).label == "no infrainguinal GLASS stage / P2"


def test_explain_stage_rejects_a_bad_pedal() -> None:
    with pytest.raises(InvalidInput, match=r"^pedal:"):
        glass.explain_stage(1, 1, pedal="P1")  # type: ignore[arg-type]


def test_assess_combines_segment_reasons_with_the_stage() -> None:
    fp = glass.explain_femoropopliteal([sfa(12)])
    ip = glass.explain_infrapopliteal(
        [InfrapoplitealLesion(15)], target=TibialTarget.POSTERIOR_TIBIAL, vessel_length_cm=30
    )
    result = glass.assess(fp, ip, pedal=Pedal.P1)
    assert (result.fp, result.ip, result.stage, result.pedal) == (
        2,
        3,
        glass.GlassStage.II,
        Pedal.P1,
    )
    assert result.label == "GLASS II / P1"
    assert result.reasons[0] == "SFA disease totals 12 cm: FP2"
    assert "FP2 with IP3 in the GLASS matrix" in result.reasons
    assert result.reasons[-1] == "inframalleolar descriptor P1 is reported beside the stage"


@pytest.mark.parametrize("field", ["fp", "ip"])
def test_assess_rejects_plain_grades_naming_the_field(field: str) -> None:
    grade = glass.explain_femoropopliteal([])
    args: dict[str, object] = {"fp": grade, "ip": grade, field: 2}
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        glass.assess(**args)  # type: ignore[arg-type]


# --- aortoiliac inflow -----------------------------------------------------------------

NO, STEN, OCC = Disease.NONE, Disease.STENOSIS, Disease.OCCLUSION


@pytest.mark.parametrize(
    ("aorta", "cia", "eia", "extra", "expected"),
    [
        (NO, NO, NO, {}, None),
        (NO, NO, NO, {"cfa_disease": True}, None),
        (NO, STEN, NO, {}, "IA"),
        (NO, NO, STEN, {"cfa_disease": True}, "IB"),
        (NO, OCC, NO, {}, "IA"),
        (NO, NO, OCC, {}, "IA"),
        (NO, OCC, STEN, {}, "IA"),
        (STEN, NO, NO, {}, "IA"),
        (NO, OCC, OCC, {}, "IIA"),
        (OCC, NO, NO, {"cfa_disease": True}, "IIB"),
        (NO, NO, NO, {"severe_diffuse_or_small_calibre": True}, "IIA"),
        (NO, STEN, NO, {"diffuse_in_stent_restenosis": True}, "IIA"),
    ],
)
def test_aortoiliac_stage(
    aorta: Disease, cia: Disease, eia: Disease, extra: dict[str, bool], expected: str | None
) -> None:
    found = glass.aortoiliac_stage(aorta=aorta, common_iliac=cia, external_iliac=eia, **extra)
    assert found == expected


def test_aortoiliac_reasons_and_source() -> None:
    result = glass.explain_aortoiliac(
        aorta=NO, common_iliac=OCC, external_iliac=OCC, cfa_disease=True
    )
    assert result.value == "IIB"
    assert result.reasons == (
        "occlusion of both the common and external iliac arteries",
        "stage II; CFA: significant (>50 %) disease: suffix B",
    )
    assert result.source == glass.AORTOILIAC_SOURCE
    alone = glass.explain_aortoiliac(aorta=NO, common_iliac=NO, external_iliac=NO, cfa_disease=True)
    assert alone.reasons[-1].startswith("CFA disease without aortoiliac disease")


@pytest.mark.parametrize(
    "field",
    [
        "aorta",
        "common_iliac",
        "external_iliac",
        "severe_diffuse_or_small_calibre",
        "diffuse_in_stent_restenosis",
        "cfa_disease",
    ],
)
def test_aortoiliac_rejects_bad_input_naming_the_field(field: str) -> None:
    args: dict[str, object] = {"aorta": NO, "common_iliac": NO, "external_iliac": NO, field: "yes"}
    with pytest.raises(InvalidInput, match=f"^{field}:"):
        glass.aortoiliac_stage(**args)  # type: ignore[arg-type]
