"""GLASS aortoiliac (inflow) stage, reported apart from the infrainguinal stage."""

from __future__ import annotations

from enum import Enum
from typing import Final

from limbguard.vascular._base import Explained, InvalidInput
from limbguard.vascular.glass._grades import check_bool

AORTOILIAC_SOURCE: Final = (
    "GVG 2019 (Conte MS et al., J Vasc Surg 2019;69:3S-125S) recommendations 6.25-6.27, "
    "aortoiliac stages as reproduced by the CLTI-Diagnosis app; wording not verified"
)


class Disease(Enum):
    """State of one inflow artery for aortoiliac staging."""

    NONE = "no significant disease"
    STENOSIS = "stenosis"
    OCCLUSION = "occlusion"


def explain_aortoiliac(
    *,
    aorta: Disease,
    common_iliac: Disease,
    external_iliac: Disease,
    severe_diffuse_or_small_calibre: bool = False,
    diffuse_in_stent_restenosis: bool = False,
    cfa_disease: bool = False,
) -> Explained[str | None]:
    """Aortoiliac (inflow) stage "IA", "IB", "IIA", "IIB", or None without AI disease.

    Stage II: aortic occlusion, occlusion of both common and external iliac arteries,
    severe diffuse or small-calibre disease, or diffuse in-stent restenosis. Stage I:
    any other iliac stenosis or single iliac occlusion, or infrarenal aortic stenosis.
    Suffix B when the common femoral artery has > 50 % disease, else A. CFA disease
    without aortoiliac disease gives no AI stage (the reasons say so).
    """
    for name, value in (
        ("aorta", aorta),
        ("common_iliac", common_iliac),
        ("external_iliac", external_iliac),
    ):
        if not isinstance(value, Disease):
            raise InvalidInput(name, f"must be a Disease, got {value!r}")
    diffuse = check_bool("severe_diffuse_or_small_calibre", severe_diffuse_or_small_calibre)
    isr = check_bool("diffuse_in_stent_restenosis", diffuse_in_stent_restenosis)
    cfa = check_bool("cfa_disease", cfa_disease)

    stage_ii: list[str] = []
    if aorta is Disease.OCCLUSION:
        stage_ii.append("aortic occlusion")
    if common_iliac is Disease.OCCLUSION and external_iliac is Disease.OCCLUSION:
        stage_ii.append("occlusion of both the common and external iliac arteries")
    if diffuse:
        stage_ii.append("severe diffuse disease or small-calibre aortoiliac arteries")
    if isr:
        stage_ii.append("diffuse aortoiliac in-stent restenosis")
    stage_i = [
        f"{label} {value.value}"
        for label, value in (
            ("infrarenal aorta:", aorta),
            ("common iliac artery:", common_iliac),
            ("external iliac artery:", external_iliac),
        )
        if value is not Disease.NONE
    ]
    suffix = "B" if cfa else "A"
    cfa_reason = "CFA: significant (>50 %) disease" if cfa else "CFA: no significant disease"
    if stage_ii:
        reasons = [*stage_ii, f"stage II; {cfa_reason}: suffix {suffix}"]
        return Explained(f"II{suffix}", tuple(reasons), AORTOILIAC_SOURCE)
    if stage_i:
        reasons = [*stage_i, f"stage I; {cfa_reason}: suffix {suffix}"]
        return Explained(f"I{suffix}", tuple(reasons), AORTOILIAC_SOURCE)
    reasons = ["no aortoiliac disease: no inflow stage"]
    if cfa:
        reasons.append("CFA disease without aortoiliac disease: treat as CFA disease (rec 6.27)")
    return Explained(None, tuple(reasons), AORTOILIAC_SOURCE)


def aortoiliac_stage(
    *,
    aorta: Disease,
    common_iliac: Disease,
    external_iliac: Disease,
    severe_diffuse_or_small_calibre: bool = False,
    diffuse_in_stent_restenosis: bool = False,
    cfa_disease: bool = False,
) -> str | None:
    """Aortoiliac stage "IA"/"IB"/"IIA"/"IIB" or None; see `explain_aortoiliac`."""
    return explain_aortoiliac(
        aorta=aorta,
        common_iliac=common_iliac,
        external_iliac=external_iliac,
        severe_diffuse_or_small_calibre=severe_diffuse_or_small_calibre,
        diffuse_in_stent_restenosis=diffuse_in_stent_restenosis,
        cfa_disease=cfa_disease,
    ).value
