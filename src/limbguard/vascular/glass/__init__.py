"""GLASS: the Global Limb Anatomic Staging System of the Global Vascular Guidelines.

Femoropopliteal (FP) and infrapopliteal (IP) segments are each graded 0-4 from the
lesions on the target arterial path (TAP); the two grades give the infrainguinal stage
I-III from the published 5 x 5 matrix. The inframalleolar (pedal) descriptor P0-P2 is
reported beside the stage, never folded into it. Aortoiliac inflow is staged apart.

Source: Conte MS, Bradbury AW, Kolh P, et al. Global vascular guidelines on the
management of chronic limb-threatening ischemia. J Vasc Surg 2019;69(6S):3S-125S.e40,
section 5 (Table 5.1 and the FP, IP and stage figures; author manuscript PMC8365864).

Modules: `_grades` (lesions -> FP and IP grades, with every threshold as a named
constant), `_stage` (FP x IP matrix, pedal descriptor, explained result), `_inflow`
(aortoiliac stage). Import from this package, not from the private modules.
"""

from limbguard.vascular.glass._grades import (
    FP1_OCCLUSION_BELOW_CM,
    FP2_OCCLUSION_BELOW_CM,
    FP3_OCCLUSION_MAX_CM,
    IP_FOCAL_BELOW_CM,
    IP_ONE_THIRD,
    IP_TWO_THIRDS,
    MAX_GRADE,
    MAX_LESION_LENGTH_CM,
    MAX_VESSEL_LENGTH_CM,
    MIN_GRADE,
    POPLITEAL_FOCAL_BELOW_CM,
    POPLITEAL_SHORT_MAX_CM,
    SEVERE_CALCIFICATION_STEP,
    SFA_ONE_THIRD_CM,
    SFA_TWO_THIRDS_CM,
    SOURCE,
    FemoropoplitealArtery,
    FemoropoplitealLesion,
    InfrapoplitealLesion,
    TibialTarget,
    explain_femoropopliteal,
    explain_infrapopliteal,
    femoropopliteal_grade,
    infrapopliteal_grade,
)
from limbguard.vascular.glass._inflow import (
    AORTOILIAC_SOURCE,
    Disease,
    aortoiliac_stage,
    explain_aortoiliac,
)
from limbguard.vascular.glass._stage import (
    GlassResult,
    GlassStage,
    Pedal,
    assess,
    explain_stage,
    inframalleolar_descriptor,
    stage,
)

__all__ = [
    "AORTOILIAC_SOURCE",
    "FP1_OCCLUSION_BELOW_CM",
    "FP2_OCCLUSION_BELOW_CM",
    "FP3_OCCLUSION_MAX_CM",
    "IP_FOCAL_BELOW_CM",
    "IP_ONE_THIRD",
    "IP_TWO_THIRDS",
    "MAX_GRADE",
    "MAX_LESION_LENGTH_CM",
    "MAX_VESSEL_LENGTH_CM",
    "MIN_GRADE",
    "POPLITEAL_FOCAL_BELOW_CM",
    "POPLITEAL_SHORT_MAX_CM",
    "SEVERE_CALCIFICATION_STEP",
    "SFA_ONE_THIRD_CM",
    "SFA_TWO_THIRDS_CM",
    "SOURCE",
    "Disease",
    "FemoropoplitealArtery",
    "FemoropoplitealLesion",
    "GlassResult",
    "GlassStage",
    "InfrapoplitealLesion",
    "Pedal",
    "TibialTarget",
    "aortoiliac_stage",
    "assess",
    "explain_aortoiliac",
    "explain_femoropopliteal",
    "explain_infrapopliteal",
    "explain_stage",
    "femoropopliteal_grade",
    "inframalleolar_descriptor",
    "infrapopliteal_grade",
    "stage",
]
