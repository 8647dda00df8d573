"""Pathway rules as named clinical scenarios (pure: no database).

Sources of the thresholds: assessments/pathway.py (each constant names its citation);
the scenarios follow issue 5 and DESIGN.md "Clinical pathway".
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from limbguard.assessments import pathway
from limbguard.assessments.pathway import (
    Candidacy,
    CareNeed,
    Evaluation,
    LimbFacts,
    PatientFacts,
    ProblemType,
    Urgency,
    WoundFacts,
)
from limbguard.assessments.staging import (
    AcuteInput,
    Pressures,
    StagingInputs,
    StagingValues,
    WoundInput,
    stage,
)
from limbguard.vascular import infection, rutherford, wifi

TODAY = dt.date(2026, 3, 2)
ARMS = {"brachial_left": 140, "brachial_right": 136}


def staged(**inputs: Any) -> StagingValues:
    return stage(StagingInputs(**inputs)).values


def facts(
    *evaluations: tuple[int, StagingValues],
    patient: PatientFacts | None = None,
    wounds: tuple[WoundFacts, ...] = (),
    **extra: Any,
) -> LimbFacts:
    return LimbFacts(
        side="left",
        today=TODAY,
        evaluations=tuple(Evaluation(TODAY - dt.timedelta(days=d), v) for d, v in evaluations),
        open_wounds=wounds,
        patient=patient or PatientFacts(),
        **extra,
    )


def codes(findings: tuple[pathway.Finding, ...]) -> set[str]:
    return {f.code for f in findings}


def diabetic_smoker_w2_i2_fi2() -> StagingValues:
    """W2 (deep ulcer, exposed tendon), I2 (ABI 0.50), fI2 (erythema 2.5 cm)."""
    return staged(
        pressures=Pressures(dp=70, pt=64, **ARMS),
        wounds=(WoundInput("plantar ulcer", exposed_bone_joint_or_tendon=True),),
        infection=infection.InfectionSigns(
            swelling_or_induration=True, erythema_cm=2.5, tenderness_or_pain=True
        ),
    )


def test_the_issue_scenario_diabetic_smoker_w2_i2_fi2() -> None:
    values = diabetic_smoker_w2_i2_fi2()
    assert (values.w, values.i, values.fi, values.wifi_stage) == (2, 2, 2, 4)
    result = pathway.evaluate(
        facts(
            (3, values),
            patient=PatientFacts(
                diabetic=True,
                current_smoker=True,
                hba1c_percent=Decimal("9.1"),
                hba1c_on=TODAY - dt.timedelta(days=10),
            ),
        )
    )
    assert result.urgency is Urgency.URGENT
    assert result.rule is not None
    assert result.rule.code == "wifi_stage_4"
    assert "Mills" in result.rule.source
    assert codes(result.missing_workup) == {"arterial_duplex_90d"}
    assert codes(result.care_needs) == {
        CareNeed.INFECTIOUS_DISEASE,
        CareNeed.WOUND_CARE,
        CareNeed.PODIATRY,
        CareNeed.ENDOCRINOLOGY,
        CareNeed.SMOKING_CESSATION,
    }
    assert result.problem_type is ProblemType.ARTERIAL
    assert result.revascularization.candidacy is Candidacy.RECOMMENDED


def test_wet_gangrene_is_emergent_and_names_its_rule() -> None:
    values = staged(
        pressures=Pressures(dp=90, pt=88, **ARMS),
        wounds=(WoundInput("hallux", gangrene=wifi.Gangrene.DIGITS, wet_gangrene=True),),
    )
    result = pathway.evaluate(facts((0, values)))
    assert result.urgency is Urgency.EMERGENT
    assert result.rule is not None
    assert result.rule.code == "wet_gangrene"


def test_severe_infection_with_sirs_is_emergent_even_without_perfusion_data() -> None:
    values = staged(
        infection=infection.InfectionSigns(
            swelling_or_induration=True,
            warmth=True,
            deep_tissue_infection=True,
            temperature_c=39.0,
            heart_rate=120,
        ),
        wounds=(WoundInput("midfoot abscess"),),
    )
    result = pathway.evaluate(facts((0, values)))
    assert result.urgency is Urgency.EMERGENT
    assert result.rule is not None
    assert result.rule.code == "severe_infection"
    assert "abi_90d" in codes(result.missing_workup)
    assert CareNeed.INFECTIOUS_DISEASE in codes(result.care_needs)


@pytest.mark.parametrize(
    ("sensory", "motor", "urgency", "code"),
    [
        ("none", "none", Urgency.URGENT, "acute_limb_ischemia"),
        ("minimal", "none", Urgency.URGENT, "acute_limb_ischemia"),
        ("more_than_toes", "mild_moderate", Urgency.EMERGENT, "acute_limb_ischemia_immediate"),
        ("profound", "profound", Urgency.EMERGENT, "acute_limb_ischemia_immediate"),
    ],
)
def test_acute_limb_ischaemia_by_class(
    sensory: str, motor: str, urgency: Urgency, code: str
) -> None:
    values = staged(
        acute=AcuteInput(rutherford.SensoryLoss(sensory), rutherford.MuscleWeakness(motor))
    )
    result = pathway.evaluate(facts((0, values)))
    assert (result.urgency, result.rule and result.rule.code) == (urgency, code)


def test_moderate_infection_and_osteomyelitis_are_urgent_and_call_infectious_disease() -> None:
    values = staged(
        pressures=Pressures(dp=120, pt=118, **ARMS),
        wounds=(WoundInput("toe ulcer", exposed_bone_joint_or_tendon=True),),
        infection=infection.InfectionSigns(osteomyelitis=True),
    )
    assert (values.iwgdf, values.osteomyelitis) == (3, True)
    result = pathway.evaluate(facts((0, values)))
    assert result.urgency is Urgency.URGENT
    assert "moderate_infection" in codes(result.urgency_rules)
    need = next(f for f in result.care_needs if f.code == CareNeed.INFECTIOUS_DISEASE)
    assert "osteomyelitis" in need.text


def test_open_wound_with_toe_pressure_under_30_is_urgent() -> None:
    values = staged(
        pressures=Pressures(dp=150, pt=150, toe=25, **ARMS),
        wounds=(WoundInput("toe ulcer"),),
    )
    result = pathway.evaluate(facts((0, values)))
    assert "severe_ischemia_with_wound" in codes(result.urgency_rules)
    assert result.urgency is Urgency.URGENT


def test_rest_pain_with_objective_pad_is_clti_and_urgent() -> None:
    values = staged(pressures=Pressures(dp=35, pt=30, **ARMS), rest_pain=True)
    result = pathway.evaluate(facts((0, values)))
    assert "clti" in codes(result.urgency_rules)


def test_stable_claudicant_with_recent_work_up_is_routine_with_nothing_missing() -> None:
    values = staged(
        pressures=Pressures(dp=98, pt=104, toe=72, **ARMS),
        claudication=rutherford.Claudication.MODERATE,
        arterial_duplex_done=True,
    )
    result = pathway.evaluate(facts((20, values)))
    assert result.urgency is Urgency.ROUTINE
    assert result.urgency_rules == ()
    assert result.missing_workup == ()
    assert result.care_needs == ()
    assert result.revascularization.candidacy is Candidacy.NOT_INDICATED


def test_all_rules_that_fired_are_kept_most_urgent_first() -> None:
    values = staged(
        pressures=Pressures(dp=50, pt=40, toe=20, **ARMS),
        wounds=(
            WoundInput(
                "forefoot",
                exposed_bone_joint_or_tendon=True,
                gangrene=wifi.Gangrene.DIGITS,
                wet_gangrene=True,
            ),
        ),
        infection=infection.InfectionSigns(
            swelling_or_induration=True, warmth=True, erythema_cm=3.0
        ),
    )
    result = pathway.evaluate(facts((0, values)))
    ranks = [
        Urgency.EMERGENT if f.code == "wet_gangrene" else Urgency.URGENT
        for f in result.urgency_rules
    ]
    assert result.urgency_rules[0].code == "wet_gangrene"
    assert ranks == sorted(ranks, key=lambda u: u.rank)
    assert {"wifi_stage_4", "moderate_infection", "clti"} <= codes(result.urgency_rules)


@pytest.mark.parametrize(("age", "missing"), [(90, False), (91, True)])
def test_abi_work_up_window_is_90_days(age: int, missing: bool) -> None:
    values = staged(pressures=Pressures(dp=120, pt=118, **ARMS))
    result = pathway.evaluate(facts((age, values)))
    assert ("abi_90d" in codes(result.missing_workup)) is missing
    assert pathway.WORKUP_WINDOW_DAYS == 90


def test_an_older_abi_counts_when_a_newer_visit_has_none() -> None:
    with_abi = staged(pressures=Pressures(dp=120, pt=118, **ARMS))
    without = staged()
    result = pathway.evaluate(facts((60, with_abi), (2, without)))
    assert "abi_90d" not in codes(result.missing_workup)


def test_noncompressible_abi_without_toe_pressure_asks_for_one() -> None:
    values = staged(pressures=Pressures(dp=230, pt=240, **ARMS))
    assert values.abi_category == "noncompressible"
    result = pathway.evaluate(facts((1, values)))
    assert "toe_pressure" in codes(result.missing_workup)
    with_toe = staged(pressures=Pressures(dp=230, pt=240, toe=90, **ARMS))
    assert "toe_pressure" not in codes(pathway.evaluate(facts((1, with_toe))).missing_workup)


def test_never_evaluated_limb_lists_the_missing_assessment_only() -> None:
    result = pathway.evaluate(facts())
    assert codes(result.missing_workup) == {"no_vascular_assessment"}
    assert result.urgency is Urgency.ROUTINE
    assert result.revascularization.candidacy is Candidacy.NOT_ASSESSED
    assert result.last_evaluated_on is None


def test_venous_ulcer_is_a_venous_problem_needing_venous_duplex_not_wifi() -> None:
    values = staged(
        pressures=Pressures(dp=128, pt=134, **ARMS),
        ceap="C6 Ep As Pr",
        wounds=(WoundInput("gaiter ulcer", foot=False, venous=True),),
    )
    assert (values.w, values.rutherford) == (0, 0)
    result = pathway.evaluate(facts((5, values)))
    assert result.problem_type is ProblemType.VENOUS
    assert codes(result.missing_workup) == {"venous_duplex_90d"}
    assert codes(result.care_needs) == {CareNeed.WOUND_CARE}


def test_arterial_and_venous_findings_make_a_mixed_problem() -> None:
    values = staged(pressures=Pressures(dp=80, pt=76, **ARMS), ceap="C4a Ep As Pr")
    result = pathway.evaluate(facts((5, values)))
    assert result.problem_type is ProblemType.MIXED
    assert {"arterial_duplex_90d", "venous_duplex_90d"} <= codes(result.missing_workup)


def test_coded_problems_set_the_problem_type_before_any_finding() -> None:
    result = pathway.evaluate(facts(patient=PatientFacts(problem_categories=frozenset({"cvi"}))))
    assert result.problem_type is ProblemType.VENOUS


@pytest.mark.parametrize(
    ("hba1c", "days", "refer"),
    [("8.0", 10, True), ("7.9", 10, False), ("12.0", 91, False)],
)
def test_endocrinology_from_hba1c_8_percent_when_recent(hba1c: str, days: int, refer: bool) -> None:
    patient = PatientFacts(
        diabetic=True,
        hba1c_percent=Decimal(hba1c),
        hba1c_on=TODAY - dt.timedelta(days=days),
    )
    result = pathway.evaluate(facts((1, staged()), patient=patient))
    assert (CareNeed.ENDOCRINOLOGY in codes(result.care_needs)) is refer
    assert ("hba1c_90d" in codes(result.missing_workup)) is (days > pathway.HBA1C_VALID_DAYS)
    assert Decimal("8.0") == pathway.HBA1C_REFER_FROM_PERCENT


def test_podiatry_only_for_a_diabetic_foot() -> None:
    values = staged(pressures=Pressures(dp=120, pt=118, **ARMS), wounds=(WoundInput("heel"),))
    diabetic = pathway.evaluate(facts((1, values), patient=PatientFacts(diabetic=True)))
    not_diabetic = pathway.evaluate(facts((1, values)))
    assert CareNeed.PODIATRY in codes(diabetic.care_needs)
    assert CareNeed.PODIATRY not in codes(not_diabetic.care_needs)


def test_off_track_wound_raises_an_alert_and_reopens_revascularization() -> None:
    values = staged(pressures=Pressures(dp=150, pt=150, toe=80, **ARMS), wounds=(WoundInput("w"),))
    assert values.i == 0
    wound = WoundFacts("Left heel ulcer", off_track=True, plan_of_care_review=True)
    result = pathway.evaluate(facts((1, values), wounds=(wound,)))
    assert "wound_off_track" in codes(result.alerts)
    assert result.revascularization.candidacy is Candidacy.CONSIDER


@pytest.mark.parametrize(
    ("dp", "toe", "w", "candidacy"),
    [
        (60, 35, 2, Candidacy.RECOMMENDED),  # W2 I2 fI1: stage 4, GVG rec 6.11
        (150, 80, 1, Candidacy.NOT_INDICATED),  # I0, W1: GVG rec 6.9
        (150, 80, 2, Candidacy.CONSIDER),  # I0 but W2: selected cases
    ],
)
def test_revascularization_candidacy_follows_gvg(
    dp: int, toe: int, w: int, candidacy: Candidacy
) -> None:
    wound = WoundInput("ulcer", exposed_bone_joint_or_tendon=w == 2)
    values = staged(
        pressures=Pressures(dp=dp, pt=dp, toe=toe, **ARMS),
        wounds=(wound,),
        infection=infection.InfectionSigns(swelling_or_induration=True, warmth=True),
    )
    result = pathway.evaluate(facts((1, values)))
    assert result.revascularization.candidacy is candidacy, result.revascularization.reasons


def test_a_major_amputation_stops_urgency_and_work_up() -> None:
    values = diabetic_smoker_w2_i2_fi2()
    result = pathway.evaluate(facts((400, values), major_amputation=True))
    assert result.urgency is Urgency.ROUTINE
    assert result.missing_workup == ()


def test_pathway_modules_import_without_django() -> None:
    program = (
        "import builtins\n"
        "real = builtins.__import__\n"
        "def guard(name, *a, **k):\n"
        "    if name == 'django' or name.startswith('django.'):\n"
        "        raise ImportError(name)\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = guard\n"
        "import limbguard.assessments.pathway, limbguard.assessments.staging\n"
        "import limbguard.assessments.tracking, limbguard.treatment.gate\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, env={}
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_coded_threatened_limb_never_evaluated_is_urgent() -> None:
    patient = PatientFacts(diabetic=True, problem_categories=frozenset({"diabetes", "gangrene"}))
    result = pathway.evaluate(facts(patient=patient))
    assert result.urgency is Urgency.URGENT
    assert result.rule is not None
    assert result.rule.code == "unevaluated_threatened_limb"
    assert "gangrene" in result.rule.text
    plain_pad = pathway.evaluate(facts(patient=PatientFacts(problem_categories=frozenset({"pad"}))))
    assert plain_pad.urgency is Urgency.ROUTINE


pressure = st.one_of(st.none(), st.integers(min_value=0, max_value=300))


@settings(max_examples=200, deadline=None)
@given(
    brachial=pressure,
    dp=pressure,
    pt=pressure,
    toe=pressure,
    tcpo2=st.one_of(st.none(), st.integers(min_value=0, max_value=200)),
    rest_pain=st.booleans(),
    wet=st.booleans(),
    age=st.integers(min_value=0, max_value=400),
)
def test_any_plausible_exam_stages_and_wet_gangrene_is_always_emergent(
    brachial: int | None,
    dp: int | None,
    pt: int | None,
    toe: int | None,
    tcpo2: int | None,
    rest_pain: bool,
    wet: bool,
    age: int,
) -> None:
    wound = WoundInput(
        "toe", gangrene=wifi.Gangrene.DIGITS if wet else wifi.Gangrene.NONE, wet_gangrene=wet
    )
    values = staged(
        pressures=Pressures(
            brachial_left=brachial, brachial_right=brachial, dp=dp, pt=pt, toe=toe, tcpo2=tcpo2
        ),
        rest_pain=rest_pain,
        wounds=(wound,),
    )
    result = pathway.evaluate(facts((age, values)))
    assert result.urgency in set(Urgency)
    assert (result.urgency is Urgency.EMERGENT) is wet
    assert result.urgency_rules or result.urgency is Urgency.ROUTINE
    assert all(
        f.source for f in (*result.urgency_rules, *result.missing_workup, *result.care_needs)
    )
