"""Staging of one limb at one assessment: plain inputs in, a frozen result out.

Django-free: the model layer builds `StagingInputs` from an assessment, and stores
`StagingResult.values` (flat numbers and codes the pathway reads) and
`StagingResult.sections` (what the page shows: a summary, the reasons, the citation)
together with `RULES_VERSION`, so that a stored snapshot always says which rules made it.

Every grade comes from `limbguard.vascular`; nothing here re-implements a rule. This
module only decides which findings feed which rule (each choice named below).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from limbguard import __version__
from limbguard.vascular import abi, ceap, duplex, glass, infection, rutherford, rvcss, wifi

RULES_VERSION: Final = (
    f"limbguard {__version__}: ABI/TBI AHA 2016/2024; WIfI 2014; IWGDF/IDSA 2023; "
    "Rutherford 1997; GLASS 2019; duplex Cossman 1989 / SVS-AVF 2011; CEAP 2020; rVCSS 2010"
)
PROJECT_SOURCE: Final = "LimbGuard staging conventions (assessments/staging.py)"

# GLASS grades the infrapopliteal target as a share of the vessel's length, which a
# duplex report rarely gives. Project decision: an adult tibial/peroneal artery is taken
# as 35 cm long (the reference gives 30-40 cm, glass._grades.MAX_VESSEL_LENGTH_CM note).
TIBIAL_VESSEL_LENGTH_CM: Final = 35.0
# Angiography reports a diameter reduction; from 50 % a lesion is haemodynamically
# significant, the same line as the duplex ">= 50 %" band (GVG 2019 Table 5.1).
ANGIO_SIGNIFICANT_FROM_PERCENT: Final = 50


class ArterialSegment(enum.StrEnum):
    """Arterial segments of one leg, inflow to foot."""

    CIA = "cia"
    EIA = "eia"
    CFA = "cfa"
    PFA = "pfa"
    SFA = "sfa"
    POPLITEAL = "popliteal"
    TP_TRUNK = "tp_trunk"
    ATA = "ata"
    PTA = "pta"
    PERONEAL = "peroneal"
    DPA = "dpa"

    @property
    def label(self) -> str:
        return ARTERIAL_SEGMENT_LABELS[self]


ARTERIAL_SEGMENT_LABELS: Final[Mapping[ArterialSegment, str]] = {
    ArterialSegment.CIA: "Common iliac",
    ArterialSegment.EIA: "External iliac",
    ArterialSegment.CFA: "Common femoral",
    ArterialSegment.PFA: "Profunda femoris",
    ArterialSegment.SFA: "Superficial femoral",
    ArterialSegment.POPLITEAL: "Popliteal",
    ArterialSegment.TP_TRUNK: "Tibioperoneal trunk",
    ArterialSegment.ATA: "Anterior tibial",
    ArterialSegment.PTA: "Posterior tibial",
    ArterialSegment.PERONEAL: "Peroneal",
    ArterialSegment.DPA: "Dorsalis pedis",
}
_TIBIAL_TARGETS: Final = {
    ArterialSegment.ATA: glass.TibialTarget.ANTERIOR_TIBIAL,
    ArterialSegment.PTA: glass.TibialTarget.POSTERIOR_TIBIAL,
    ArterialSegment.PERONEAL: glass.TibialTarget.PERONEAL,
}
_FP_ARTERIES: Final = {
    ArterialSegment.SFA: glass.FemoropoplitealArtery.SFA,
    ArterialSegment.POPLITEAL: glass.FemoropoplitealArtery.POPLITEAL,
}


class Modality(enum.StrEnum):
    DUPLEX = "duplex"
    ANGIOGRAPHY = "angiography"


@dataclass(frozen=True)
class Pressures:
    """Systolic pressures in mmHg (None: not obtainable; 0: absent signal), TcPO2 in mmHg."""

    brachial_left: int | None = None
    brachial_right: int | None = None
    dp: int | None = None
    pt: int | None = None
    toe: int | None = None
    tcpo2: int | None = None


@dataclass(frozen=True)
class WoundInput:
    """One open wound at this visit; lengths in cm."""

    label: str
    heel: bool = False
    foot: bool = True
    exposed_bone_joint_or_tendon: bool = False
    full_thickness: bool = False
    extensive_forefoot_midfoot: bool = False
    gangrene: wifi.Gangrene = wifi.Gangrene.NONE
    wet_gangrene: bool = False
    # A venous leg ulcer is outside WIfI and Rutherford tissue loss (GVG 2019 CLTI
    # definition excludes purely venous ulcers); it still counts as an open wound.
    venous: bool = False


@dataclass(frozen=True)
class ArterialLesionInput:
    segment: ArterialSegment
    modality: Modality = Modality.DUPLEX
    psv_ratio: float | None = None
    psv_cm_s: float | None = None
    stenosis_percent: int | None = None
    occluded: bool = False
    severe_calcification: bool = False
    length_cm: float | None = None


@dataclass(frozen=True)
class VenousFindingInput:
    segment: ceap.Segment
    reflux_ms: int | None = None
    diameter_mm: float | None = None
    obstruction: bool = False
    thrombus: bool = False
    iliac_compression: bool = False


@dataclass(frozen=True)
class AcuteInput:
    sensory_loss: rutherford.SensoryLoss
    muscle_weakness: rutherford.MuscleWeakness


@dataclass(frozen=True)
class StagingInputs:
    pressures: Pressures = Pressures()
    claudication: rutherford.Claudication = rutherford.Claudication.NONE
    rest_pain: bool = False
    major_tissue_loss: bool = False
    infection: infection.InfectionSigns = field(default_factory=infection.InfectionSigns)
    wounds: tuple[WoundInput, ...] = ()
    arterial_duplex_done: bool = False
    angiography_done: bool = False
    arterial: tuple[ArterialLesionInput, ...] = ()
    venous_duplex_done: bool = False
    venous: tuple[VenousFindingInput, ...] = ()
    ceap: str = ""
    rvcss: Mapping[str, int] | None = None
    pedal: glass.Pedal | None = None
    unsalvageable: bool = False
    acute: AcuteInput | None = None


@dataclass(frozen=True)
class StagingValues:
    """The flat outputs the pathway reads (all JSON-ready)."""

    abi: float | None = None
    abi_category: str | None = None
    tbi: float | None = None
    tbi_category: str | None = None
    toe_pressure: int | None = None
    tcpo2: int | None = None
    pad: str = "indeterminate"
    perfusion_needs: tuple[str, ...] = ()
    w: int = 0
    i: int | None = None
    fi: int = 0
    wifi_stage: int | None = None
    wifi_benefit: int | None = None
    iwgdf: int = 1
    osteomyelitis: bool = False
    rutherford: int = 0
    fontaine: str = "I"
    clti_symptoms: bool = False
    wet_gangrene: bool = False
    gangrene: bool = False
    open_wounds: int = 0
    foot_wounds: int = 0
    arterial_imaging: bool = False
    significant_stenosis: bool = False
    glass_stage: str | None = None
    glass_label: str | None = None
    venous_imaging: bool = False
    pathological_reflux: bool = False
    venous_obstruction: bool = False
    ceap: str | None = None
    ceap_highest: int | None = None
    rvcss: int | None = None
    acute_class: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["perfusion_needs"] = list(self.perfusion_needs)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StagingValues:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        if "perfusion_needs" in known:
            known["perfusion_needs"] = tuple(known["perfusion_needs"])
        return cls(**known)


@dataclass(frozen=True)
class Section:
    """One block of the staging page: what, why, and where the rule comes from."""

    title: str
    summary: str
    reasons: tuple[str, ...]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "reasons": list(self.reasons)}


@dataclass(frozen=True)
class StagingResult:
    values: StagingValues
    sections: tuple[Section, ...]
    rules_version: str = RULES_VERSION

    def outputs(self) -> dict[str, Any]:
        """What a snapshot stores: the values and the sections."""
        return {"values": self.values.to_dict(), "sections": [s.to_dict() for s in self.sections]}


def ulcer_of(wound: WoundInput) -> wifi.Ulcer:
    """The WIfI ulcer row a wound falls in (Mills 2014 wound table).

    Heel: full thickness or deeper is "deep heel", else "shallow heel". Elsewhere: an
    extensive deep fore/midfoot ulcer as the clinician marked it; exposed bone, joint or
    tendon is "deep"; anything else is "small, shallow".
    """
    deep = wound.full_thickness or wound.exposed_bone_joint_or_tendon
    if wound.heel:
        return wifi.Ulcer.DEEP_HEEL if deep else wifi.Ulcer.SHALLOW_HEEL
    if wound.extensive_forefoot_midfoot:
        return wifi.Ulcer.EXTENSIVE_DEEP_FOREFOOT_MIDFOOT
    if wound.exposed_bone_joint_or_tendon:
        return wifi.Ulcer.DEEP_EXPOSED_BONE_JOINT_TENDON
    return wifi.Ulcer.SMALL_SHALLOW


def _higher(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _significant(lesion: ArterialLesionInput) -> tuple[bool, str, str]:
    """(significant, reason, source) for one arterial lesion."""
    name = lesion.segment.label
    if lesion.modality is Modality.ANGIOGRAPHY:
        if lesion.occluded:
            return True, f"{name}: occlusion on angiography", glass.SOURCE
        percent = lesion.stenosis_percent or 0
        significant = percent >= ANGIO_SIGNIFICANT_FROM_PERCENT
        verdict = "significant" if significant else "not significant"
        return significant, f"{name}: {percent} % stenosis on angiography ({verdict})", glass.SOURCE
    result = duplex.classify_stenosis(
        psv_ratio=None if lesion.occluded else lesion.psv_ratio,
        psv_cm_s=None if lesion.occluded else lesion.psv_cm_s,
        flow=not lesion.occluded,
    )
    return result.significant, f"{name}: {'; '.join(result.reasons)}", result.source


def _glass(
    lesions: Sequence[ArterialLesionInput], pedal: glass.Pedal | None
) -> tuple[glass.GlassResult | None, list[str]]:
    """GLASS from the significant lesions; (None, why) when they cannot be staged."""
    notes: list[str] = []
    fp: list[glass.FemoropoplitealLesion] = []
    fp_calcified = False
    tibial: dict[ArterialSegment, list[glass.InfrapoplitealLesion]] = {
        s: [] for s in _TIBIAL_TARGETS
    }
    tibial_calcified = dict.fromkeys(_TIBIAL_TARGETS, False)
    trunk: list[ArterialLesionInput] = []
    for lesion in lesions:
        if lesion.segment not in _FP_ARTERIES and lesion.segment not in _TIBIAL_TARGETS:
            if lesion.segment is ArterialSegment.TP_TRUNK and _significant(lesion)[0]:
                trunk.append(lesion)
            continue
        if lesion.severe_calcification:
            if lesion.segment in _FP_ARTERIES:
                fp_calcified = True
            else:
                tibial_calcified[lesion.segment] = True
        if not _significant(lesion)[0]:
            continue
        if lesion.length_cm is None:
            notes.append(f"{lesion.segment.label}: significant lesion without a length")
            continue
        if lesion.segment in _FP_ARTERIES:
            fp.append(
                glass.FemoropoplitealLesion(
                    _FP_ARTERIES[lesion.segment], lesion.length_cm, occluded=lesion.occluded
                )
            )
        else:
            tibial[lesion.segment].append(
                glass.InfrapoplitealLesion(lesion.length_cm, occluded=lesion.occluded)
            )
    if notes:
        return None, [*notes, "GLASS not staged: give the length of every significant lesion"]
    for lesion in trunk:
        if lesion.length_cm is None:
            return None, ["tibioperoneal trunk lesion without a length: GLASS not staged"]
        item = glass.InfrapoplitealLesion(
            lesion.length_cm, occluded=lesion.occluded, involves_tp_trunk=True
        )
        for segment in (ArterialSegment.PTA, ArterialSegment.PERONEAL):
            tibial[segment].append(item)
    fp_grade = glass.explain_femoropopliteal(fp, severe_calcification=fp_calcified)
    # GVG Table 5.1: by default the target path runs through the least diseased tibial
    # artery; ties go to the order AT, PT, peroneal.
    candidates = [
        glass.explain_infrapopliteal(
            tibial[segment],
            target=target,
            vessel_length_cm=TIBIAL_VESSEL_LENGTH_CM,
            severe_calcification=tibial_calcified[segment],
        )
        for segment, target in _TIBIAL_TARGETS.items()
    ]
    ip_grade = min(candidates, key=lambda graded: graded.value)
    return glass.assess(fp_grade, ip_grade, pedal=pedal), []


def stage(inputs: StagingInputs) -> StagingResult:
    """Stage one limb. Raises `ValueError` (from the rules) naming a refused field."""
    p = inputs.pressures
    sections: list[Section] = []

    perfusion = abi.assess_leg(
        dp=p.dp,
        pt=p.pt,
        brachial_left=p.brachial_left,
        brachial_right=p.brachial_right,
        toe=p.toe,
        tcpo2=p.tcpo2,
    )
    abi_text = "ABI not computable" if perfusion.abi is None else f"ABI {perfusion.abi:.2f}"
    if perfusion.abi_category is not None:
        abi_text += f" ({perfusion.abi_category})"
    if perfusion.tbi is not None:
        abi_text += f"; TBI {perfusion.tbi:.2f} ({perfusion.tbi_category})"
    sections.append(
        Section(
            "ABI / TBI", f"{abi_text}; PAD {perfusion.pad}", perfusion.reasons, perfusion.source
        )
    )

    ankle = _higher(p.dp, p.pt)
    ischemia = wifi.explain_ischemia(
        abi=perfusion.abi, ankle_pressure=ankle, toe_pressure=p.toe, tcpo2=p.tcpo2
    )
    ischemic_wounds = [w for w in inputs.wounds if not w.venous]
    wound_grades = [
        (w, wifi.explain_wound_grade(ulcer=ulcer_of(w), gangrene=w.gangrene))
        for w in ischemic_wounds
    ]
    worst = max(wound_grades, key=lambda pair: pair[1].value, default=None)
    w_grade = worst[1].value if worst else 0
    w_reasons = (
        tuple(f"{w.label}: {'; '.join(g.reasons)}" for w, g in wound_grades)
        if wound_grades
        else ("no open wound or gangrene (venous ulcers are outside WIfI): W0",)
    )
    infected = infection.classify_infection(inputs.infection)
    fi_grade = infected.wifi_fi
    wifi_result = (
        wifi.classify(w_grade, ischemia.grade, fi_grade, unsalvageable=inputs.unsalvageable)
        if ischemia.grade is not None
        else None
    )
    if wifi_result is not None:
        summary = (
            f"{wifi_result.code}: clinical stage {wifi_result.clinical_stage} "
            f"({wifi_result.amputation_risk} amputation risk); revascularization benefit "
            f"{wifi_result.revascularization_benefit} ({wifi_result.benefit})"
        )
        reasons = (*w_reasons, *ischemia.reasons, *wifi_result.reasons)
    else:
        summary = f"W{w_grade} I? fI{fi_grade}: not staged without a perfusion measure"
        reasons = (*w_reasons, *ischemia.reasons)
    sections.append(Section("WIfI", summary, reasons, wifi.SOURCE))
    sections.append(
        Section(
            "Foot infection",
            f"IWGDF {infected.label} ({infected.idsa}); PEDIS {infected.pedis}; "
            f"WIfI fI{infected.wifi_fi}",
            infected.reasons,
            infected.source,
        )
    )

    tissue_loss = (
        rutherford.TissueLoss.MAJOR
        if inputs.major_tissue_loss
        else rutherford.TissueLoss.MINOR
        if ischemic_wounds
        else rutherford.TissueLoss.NONE
    )
    ruth = rutherford.explain_category(
        claudication=inputs.claudication,
        rest_pain=inputs.rest_pain,
        tissue_loss=tissue_loss,
        resting_ankle_pressure=ankle,
        toe_pressure=p.toe,
    )
    sections.append(
        Section(
            "Rutherford / Fontaine",
            f"Rutherford {ruth.category}; Fontaine {ruth.fontaine}",
            ruth.reasons,
            f"{ruth.source}; {rutherford.FONTAINE_SOURCE}",
        )
    )

    acute_class: str | None = None
    if inputs.acute is not None:
        acute = rutherford.explain_acute(
            sensory_loss=inputs.acute.sensory_loss, muscle_weakness=inputs.acute.muscle_weakness
        )
        acute_class = acute.value.value
        sections.append(
            Section("Acute limb ischaemia", f"class {acute.value}", acute.reasons, acute.source)
        )

    significant = False
    arterial_reasons: list[str] = []
    arterial_sources: set[str] = set()
    for lesion in inputs.arterial:
        found, why, source = _significant(lesion)
        significant = significant or found
        arterial_reasons.append(why)
        arterial_sources.add(source)
    glass_result: glass.GlassResult | None = None
    if inputs.arterial:
        glass_result, notes = _glass(inputs.arterial, inputs.pedal)
        arterial_reasons += notes
        label = glass_result.label if glass_result else "GLASS not staged"
        sections.append(
            Section(
                "Arterial imaging and GLASS",
                f"{'significant disease' if significant else 'no significant lesion'}; {label}",
                (*arterial_reasons, *(glass_result.reasons if glass_result else ())),
                "; ".join(sorted({*arterial_sources, glass.SOURCE})),
            )
        )
    elif inputs.arterial_duplex_done or inputs.angiography_done:
        sections.append(
            Section(
                "Arterial imaging and GLASS",
                "no lesion recorded",
                ("imaging recorded without a lesion: no infrainguinal GLASS stage",),
                glass.SOURCE,
            )
        )

    reflux = False
    obstruction = False
    venous_reasons: list[str] = []
    ceap_value: ceap.Ceap | None = None
    if inputs.ceap.strip():
        ceap_value = ceap.parse(inputs.ceap)
    beneath_ulcer = ceap_value.highest >= 5 if ceap_value is not None else None
    for finding in inputs.venous:
        if finding.obstruction or finding.thrombus or finding.iliac_compression:
            obstruction = True
            kinds = [
                text
                for flag, text in (
                    (finding.obstruction, "obstruction"),
                    (finding.thrombus, "thrombus"),
                    (finding.iliac_compression, "iliac vein compression (e.g. May-Thurner)"),
                )
                if flag
            ]
            venous_reasons.append(f"{finding.segment}: {', '.join(kinds)}")
        if finding.reflux_ms is None:
            continue
        try:
            perforator = finding.segment.system is ceap.AnatomicSystem.AP
            judged = duplex.assess_reflux(
                segment=finding.segment,
                reflux_ms=finding.reflux_ms,
                diameter_mm=finding.diameter_mm if perforator else None,
                beneath_venous_ulcer=beneath_ulcer if perforator else None,
            )
        except ValueError as error:
            venous_reasons.append(f"{finding.segment}: reflux not judged ({error})")
            continue
        reflux = reflux or judged.pathological_reflux
        venous_reasons += judged.reasons
    if inputs.venous or inputs.venous_duplex_done:
        sections.append(
            Section(
                "Venous duplex",
                ", ".join(
                    text
                    for flag, text in (
                        (reflux, "pathological reflux"),
                        (obstruction, "obstruction or thrombus"),
                    )
                    if flag
                )
                or "no pathological reflux or obstruction recorded",
                tuple(venous_reasons) or ("venous duplex recorded without a finding",),
                duplex.VENOUS_SOURCE,
            )
        )
    if ceap_value is not None:
        sections.append(
            Section(
                "CEAP",
                str(ceap_value),
                (f"classes {', '.join(ceap_value.clinical)}; highest C{ceap_value.highest}",),
                ceap.SOURCE,
            )
        )
    rvcss_value: int | None = None
    if inputs.rvcss is not None:
        scored = rvcss.explain(**inputs.rvcss)
        rvcss_value = scored.value
        sections.append(
            Section("rVCSS", f"{scored.value} of {rvcss.TOTAL_MAX}", scored.reasons, scored.source)
        )

    values = StagingValues(
        abi=perfusion.abi,
        abi_category=None if perfusion.abi_category is None else perfusion.abi_category.value,
        tbi=perfusion.tbi,
        tbi_category=None if perfusion.tbi_category is None else perfusion.tbi_category.value,
        toe_pressure=p.toe,
        tcpo2=p.tcpo2,
        pad=perfusion.pad.value,
        perfusion_needs=perfusion.needs,
        w=w_grade,
        i=ischemia.grade,
        fi=fi_grade,
        wifi_stage=None if wifi_result is None else wifi_result.clinical_stage,
        wifi_benefit=None if wifi_result is None else wifi_result.revascularization_benefit,
        iwgdf=infected.grade.iwgdf,
        osteomyelitis=infected.grade.osteomyelitis,
        rutherford=ruth.category,
        fontaine=ruth.fontaine.value,
        clti_symptoms=ruth.clti,
        wet_gangrene=any(w.wet_gangrene for w in inputs.wounds),
        gangrene=any(w.gangrene is not wifi.Gangrene.NONE for w in inputs.wounds),
        open_wounds=len(inputs.wounds),
        foot_wounds=sum(1 for w in inputs.wounds if w.foot),
        arterial_imaging=inputs.arterial_duplex_done or inputs.angiography_done,
        significant_stenosis=significant,
        glass_stage=None
        if glass_result is None or glass_result.stage is None
        else glass_result.stage.value,
        glass_label=None if glass_result is None else glass_result.label,
        venous_imaging=inputs.venous_duplex_done,
        pathological_reflux=reflux,
        venous_obstruction=obstruction,
        ceap=None if ceap_value is None else str(ceap_value),
        ceap_highest=None if ceap_value is None else ceap_value.highest,
        rvcss=rvcss_value,
        acute_class=acute_class,
    )
    return StagingResult(values=values, sections=tuple(sections))
