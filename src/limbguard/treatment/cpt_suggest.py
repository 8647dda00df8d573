"""The CPT codes a logged procedure suggests, from the library's value sets.

Endovascular arterial codes 37220-37235 go one per territory (iliac, femoropopliteal,
tibial/peroneal), by the most intensive therapy in it (codes_and_epidemiology §2.1);
further iliac or tibial vessels take the add-on codes. Venous and amputation codes come
from §2.3 and §2.4. Where the library has no verified code (endarterectomy, a prosthetic
femoral-distal bypass, venous angioplasty alone) nothing is suggested for that part.
The clinician may change the list; the service checks every code against the value set
of the procedure's kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from limbguard.treatment.vocab import (
    AMPUTATION_CPT,
    ATHERECTOMY_TECHNIQUES,
    ENDO_CPT,
    FEMPOP_SEGMENTS,
    ILIAC_SEGMENTS,
    STENT_TECHNIQUES,
    TIBIAL_SEGMENTS,
    Conduit,
    InterventionKind,
    Technique,
)

# Intensity order of §2.1: each code includes the lesser therapies in the vessel.
_RANK: Final = {"pta": 0, "atherectomy": 1, "stent": 2, "stent_atherectomy": 3}
# Endovenous ablation: (first vein, further veins) per technique (§2.3).
ABLATION_CPT: Final = {
    Technique.ABLATION_RADIOFREQUENCY: ("36475", "36476"),
    Technique.ABLATION_LASER: ("36478", "36479"),
    Technique.ABLATION_ADHESIVE: ("36482", "36483"),
    Technique.ABLATION_MECHANOCHEMICAL: ("36473", "36474"),
    Technique.ABLATION_FOAM: ("36465", "36466"),
}


class _Lesion(Protocol):
    @property
    def segment(self) -> str: ...
    @property
    def techniques(self) -> tuple[str, ...]: ...


def _therapy(techniques: set[str], territory: str) -> str | None:
    stent = bool(techniques & STENT_TECHNIQUES)
    ather = bool(techniques & ATHERECTOMY_TECHNIQUES)
    angio = bool(techniques & {Technique.BALLOON_ANGIOPLASTY, Technique.DRUG_COATED_BALLOON})
    if territory == "iliac":  # no iliac atherectomy code: it is reported as angioplasty
        return "stent" if stent else ("pta" if angio or ather else None)
    if stent and ather:
        return "stent_atherectomy"
    if stent:
        return "stent"
    if ather:
        return "atherectomy"
    return "pta" if angio else None


def _arterial(lesions: Sequence[_Lesion]) -> list[str]:
    found: list[str] = []
    for territory, segments in (
        ("iliac", ILIAC_SEGMENTS),
        ("fempop", FEMPOP_SEGMENTS),
        ("tibial", TIBIAL_SEGMENTS),
    ):
        vessels: dict[str, set[str]] = {}
        for lesion in lesions:
            if lesion.segment in segments:
                # The whole femoropopliteal territory is one vessel (§2.1).
                key = "fempop" if territory == "fempop" else lesion.segment
                vessels.setdefault(key, set()).update(lesion.techniques)
        therapies = sorted(
            (t for t in (_therapy(v, territory) for v in vessels.values()) if t),
            key=lambda t: -_RANK[t],
        )
        for index, therapy in enumerate(therapies):
            first, more = ENDO_CPT[territory, therapy]
            code = first if index == 0 else more
            if code:
                found.append(code)
    every = {t for x in lesions for t in x.techniques}
    if Technique.THROMBECTOMY in every:
        found.append("37184")
    if Technique.THROMBOLYSIS in every:
        found.append("37211")
    return found


def _venous(kind: str, lesions: Sequence[_Lesion]) -> list[str]:
    found: list[str] = []
    if kind == InterventionKind.VENOUS_ABLATION:
        for technique, (first, more) in ABLATION_CPT.items():
            veins = sorted({x.segment for x in lesions if technique in x.techniques})
            if veins:
                found.append(first)
                if len(veins) > 1:
                    found.append(more)
        return found
    stented = sorted({x.segment for x in lesions if Technique.VENOUS_STENT in x.techniques})
    if stented:
        found.append("37238")
        if len(stented) > 1:
            found.append("37239")
    every = {t for x in lesions for t in x.techniques}
    if Technique.THROMBECTOMY in every:
        found.append("37187")
    if Technique.THROMBOLYSIS in every:
        found.append("37212")
    return found


def _bypass(conduit: str, lesions: Sequence[_Lesion]) -> list[str]:
    distal = any(x.segment in TIBIAL_SEGMENTS for x in lesions)
    if conduit == Conduit.GSV_IN_SITU:
        return ["35585" if distal else "35583"]
    if conduit in (Conduit.PTFE, Conduit.DACRON, Conduit.COMPOSITE, Conduit.CRYOPRESERVED):
        return [] if distal else ["35656"]
    return ["35566" if distal else "35556"]


def suggest(kind: str, level: str, lesions: Sequence[_Lesion], conduit: str = "") -> list[str]:
    """The suggested CPT codes of a procedure (possibly none)."""
    if kind == InterventionKind.AMPUTATION:
        code = AMPUTATION_CPT.get(level)  # type: ignore[call-overload]
        return [code] if code else []
    if kind == InterventionKind.ARTERIAL_ENDOVASCULAR:
        return _arterial(lesions)
    if kind in (InterventionKind.VENOUS_ENDOVASCULAR, InterventionKind.VENOUS_ABLATION):
        return _venous(kind, lesions)
    if kind == InterventionKind.BYPASS:
        return _bypass(conduit, lesions)
    return []
