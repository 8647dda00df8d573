"""Closed vocabularies of the procedure log, care team, follow-up and outcome events.

Declared once here; models, forms, services and the demo use these enums. Each table
that maps to an external code system (CPT) is one explicit dict with a completeness
test (tests/treatment/test_vocab.py).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from django.db import models

from limbguard.registry.models import AmputationLevel

SVS_PVI_2016: Final = (
    "Stoner MC et al. Reporting standards of the Society for Vascular Surgery for "
    "endovascular treatment of chronic lower extremity peripheral artery disease. "
    "J Vasc Surg 2016;64:e1-e21"
)
SVS_OPG_2011: Final = (
    "Conte MS et al. SVS objective performance goals for surgical revascularization in "
    "CLI (MALE, MALE+POD, AFS). J Vasc Surg 2011;54:100-108 (codes_and_epidemiology §6.5)"
)
VQI_LTFU: Final = (
    "SVS VQI long-term follow-up: a follow-up counts only 9-21 months after the procedure "
    "(vqi.org/about/long-term-follow-up; interop.md §C2)"
)


class InterventionKind(models.TextChoices):
    ARTERIAL_ENDOVASCULAR = "arterial_endovascular", "Arterial endovascular"
    VENOUS_ENDOVASCULAR = "venous_endovascular", "Venous endovascular"
    VENOUS_ABLATION = "venous_ablation", "Venous ablation"
    BYPASS = "bypass", "Open bypass"
    ENDARTERECTOMY = "endarterectomy", "Endarterectomy"
    AMPUTATION = "amputation", "Amputation"


REVASCULARIZATION_KINDS: Final = frozenset(
    {
        InterventionKind.ARTERIAL_ENDOVASCULAR,
        InterventionKind.BYPASS,
        InterventionKind.ENDARTERECTOMY,
    }
)
VENOUS_KINDS: Final = frozenset(
    {InterventionKind.VENOUS_ENDOVASCULAR, InterventionKind.VENOUS_ABLATION}
)

# CPT value sets (limbguard.vascular.codes categories) a code of each kind must be in.
# Endarterectomy has no verified CPT code in the library (codes_and_epidemiology §2).
CPT_CATEGORIES: Final = MappingProxyType(
    {
        InterventionKind.ARTERIAL_ENDOVASCULAR: frozenset({"endovascular_arterial"}),
        InterventionKind.VENOUS_ENDOVASCULAR: frozenset({"venous_intervention"}),
        InterventionKind.VENOUS_ABLATION: frozenset({"venous_intervention"}),
        InterventionKind.BYPASS: frozenset({"open_bypass"}),
        InterventionKind.ENDARTERECTOMY: frozenset(),
        InterventionKind.AMPUTATION: frozenset({"minor_amputation", "major_amputation"}),
    }
)


class Technique(models.TextChoices):
    BALLOON_ANGIOPLASTY = "pta", "Balloon angioplasty"
    DRUG_COATED_BALLOON = "dcb", "Drug-coated balloon angioplasty"
    BARE_METAL_STENT = "bms", "Bare-metal stent"
    DRUG_ELUTING_STENT = "des", "Drug-eluting stent"
    COVERED_STENT = "covered_stent", "Covered stent"
    ATHERECTOMY_DIRECTIONAL = "ather_directional", "Atherectomy: directional"
    ATHERECTOMY_ORBITAL = "ather_orbital", "Atherectomy: orbital"
    ATHERECTOMY_ROTATIONAL = "ather_rotational", "Atherectomy: rotational"
    ATHERECTOMY_LASER = "ather_laser", "Atherectomy: laser"
    THROMBECTOMY = "thrombectomy", "Mechanical thrombectomy"
    THROMBOLYSIS = "thrombolysis", "Catheter-directed thrombolysis"
    VENOUS_ANGIOPLASTY = "venous_pta", "Venous angioplasty"
    VENOUS_STENT = "venous_stent", "Venous stent"
    ABLATION_RADIOFREQUENCY = "rfa", "Thermal ablation: radiofrequency"
    ABLATION_LASER = "evla", "Thermal ablation: laser"
    ABLATION_ADHESIVE = "glue", "Non-thermal ablation: adhesive"
    ABLATION_MECHANOCHEMICAL = "moca", "Non-thermal ablation: mechanochemical"
    ABLATION_FOAM = "foam", "Non-thermal ablation: foam sclerotherapy"
    BYPASS = "bypass", "Bypass"
    ENDARTERECTOMY = "endarterectomy", "Endarterectomy"


_ARTERIAL_TECHNIQUES: Final = frozenset(
    {
        Technique.BALLOON_ANGIOPLASTY,
        Technique.DRUG_COATED_BALLOON,
        Technique.BARE_METAL_STENT,
        Technique.DRUG_ELUTING_STENT,
        Technique.COVERED_STENT,
        Technique.ATHERECTOMY_DIRECTIONAL,
        Technique.ATHERECTOMY_ORBITAL,
        Technique.ATHERECTOMY_ROTATIONAL,
        Technique.ATHERECTOMY_LASER,
        Technique.THROMBECTOMY,
        Technique.THROMBOLYSIS,
    }
)
TECHNIQUES_BY_KIND: Final = MappingProxyType(
    {
        InterventionKind.ARTERIAL_ENDOVASCULAR: _ARTERIAL_TECHNIQUES,
        InterventionKind.VENOUS_ENDOVASCULAR: frozenset(
            {
                Technique.VENOUS_ANGIOPLASTY,
                Technique.VENOUS_STENT,
                Technique.THROMBOLYSIS,
                Technique.THROMBECTOMY,
            }
        ),
        InterventionKind.VENOUS_ABLATION: frozenset(
            {
                Technique.ABLATION_RADIOFREQUENCY,
                Technique.ABLATION_LASER,
                Technique.ABLATION_ADHESIVE,
                Technique.ABLATION_MECHANOCHEMICAL,
                Technique.ABLATION_FOAM,
            }
        ),
        InterventionKind.BYPASS: frozenset({Technique.BYPASS}),
        InterventionKind.ENDARTERECTOMY: frozenset({Technique.ENDARTERECTOMY}),
        InterventionKind.AMPUTATION: frozenset(),
    }
)
STENT_TECHNIQUES: Final = frozenset(
    {Technique.BARE_METAL_STENT, Technique.DRUG_ELUTING_STENT, Technique.COVERED_STENT}
)
ATHERECTOMY_TECHNIQUES: Final = frozenset(
    {
        Technique.ATHERECTOMY_DIRECTIONAL,
        Technique.ATHERECTOMY_ORBITAL,
        Technique.ATHERECTOMY_ROTATIONAL,
        Technique.ATHERECTOMY_LASER,
    }
)


class Access(models.TextChoices):
    NONE = "", "Not applicable (open surgery, amputation)"
    FEMORAL_ANTEGRADE = "femoral_antegrade", "Femoral, antegrade"
    FEMORAL_RETROGRADE = "femoral_retrograde", "Femoral, retrograde (contralateral)"
    PEDAL = "pedal", "Pedal/tibial retrograde"
    RADIAL = "radial", "Radial"
    BRACHIAL = "brachial", "Brachial"
    POPLITEAL = "popliteal", "Popliteal"
    VENOUS_FEMORAL = "venous_femoral", "Femoral vein"
    VENOUS_POPLITEAL = "venous_popliteal", "Popliteal vein"
    VENOUS_SAPHENOUS = "venous_saphenous", "Saphenous vein (percutaneous)"


class Conduit(models.TextChoices):
    NONE = "", "Not a bypass"
    GSV_REVERSED = "gsv_reversed", "Great saphenous vein, reversed"
    GSV_IN_SITU = "gsv_in_situ", "Great saphenous vein, in situ"
    GSV_NON_REVERSED = "gsv_non_reversed", "Great saphenous vein, non-reversed"
    ARM_VEIN = "arm_vein", "Arm vein"
    SSV = "ssv", "Small saphenous vein"
    COMPOSITE = "composite", "Composite (vein and prosthetic)"
    PTFE = "ptfe", "Prosthetic: PTFE"
    DACRON = "dacron", "Prosthetic: Dacron"
    CRYOPRESERVED = "cryo", "Cryopreserved allograft"


VEIN_CONDUITS: Final = frozenset(
    {
        Conduit.GSV_REVERSED,
        Conduit.GSV_IN_SITU,
        Conduit.GSV_NON_REVERSED,
        Conduit.ARM_VEIN,
        Conduit.SSV,
    }
)


class Segment(models.TextChoices):
    COMMON_ILIAC = "common_iliac", "Common iliac artery"
    EXTERNAL_ILIAC = "external_iliac", "External iliac artery"
    COMMON_FEMORAL = "common_femoral", "Common femoral artery"
    PROFUNDA = "profunda", "Profunda femoris"
    SFA = "sfa", "Superficial femoral artery"
    POPLITEAL = "popliteal", "Popliteal artery"
    TP_TRUNK = "tp_trunk", "Tibioperoneal trunk"
    ANTERIOR_TIBIAL = "anterior_tibial", "Anterior tibial artery"
    POSTERIOR_TIBIAL = "posterior_tibial", "Posterior tibial artery"
    PERONEAL = "peroneal", "Peroneal artery"
    PEDAL = "pedal", "Pedal arteries"
    IVC = "ivc", "Inferior vena cava"
    ILIAC_VEIN = "iliac_vein", "Iliac vein"
    COMMON_FEMORAL_VEIN = "common_femoral_vein", "Common femoral vein"
    FEMORAL_VEIN = "femoral_vein", "Femoral vein"
    POPLITEAL_VEIN = "popliteal_vein", "Popliteal vein"
    GSV = "gsv", "Great saphenous vein"
    SSV = "ssv", "Small saphenous vein"
    PERFORATOR = "perforator", "Perforator vein"


# CPT territories of 37220-37235 (codes_and_epidemiology §2.1): one code per territory.
ILIAC_SEGMENTS: Final = frozenset({Segment.COMMON_ILIAC, Segment.EXTERNAL_ILIAC})
FEMPOP_SEGMENTS: Final = frozenset(
    {Segment.COMMON_FEMORAL, Segment.PROFUNDA, Segment.SFA, Segment.POPLITEAL}
)
TIBIAL_SEGMENTS: Final = frozenset(
    {Segment.TP_TRUNK, Segment.ANTERIOR_TIBIAL, Segment.POSTERIOR_TIBIAL, Segment.PERONEAL}
)
# GLASS grades the femoropopliteal (SFA, popliteal) and infrapopliteal segments.
GLASS_FP_SEGMENTS: Final = frozenset({Segment.SFA, Segment.POPLITEAL})
GLASS_IP_SEGMENTS: Final = TIBIAL_SEGMENTS
VENOUS_SEGMENTS: Final = frozenset(
    {
        Segment.IVC,
        Segment.ILIAC_VEIN,
        Segment.COMMON_FEMORAL_VEIN,
        Segment.FEMORAL_VEIN,
        Segment.POPLITEAL_VEIN,
        Segment.GSV,
        Segment.SSV,
        Segment.PERFORATOR,
    }
)


class LesionType(models.TextChoices):
    STENOSIS = "stenosis", "Stenosis"
    OCCLUSION = "occlusion", "Occlusion"
    REFLUX = "reflux", "Reflux (venous)"
    THROMBUS = "thrombus", "Thrombus"


class Calcification(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"


class DeviceKind(models.TextChoices):
    BALLOON = "balloon", "Balloon"
    DRUG_COATED_BALLOON = "dcb", "Drug-coated balloon"
    BARE_METAL_STENT = "bms", "Bare-metal stent"
    DRUG_ELUTING_STENT = "des", "Drug-eluting stent"
    COVERED_STENT = "covered_stent", "Covered stent"
    VENOUS_STENT = "venous_stent", "Venous stent"
    ATHERECTOMY = "atherectomy", "Atherectomy device"
    THROMBECTOMY = "thrombectomy", "Thrombectomy device"
    ABLATION = "ablation", "Ablation catheter or adhesive system"
    EMBOLIC_PROTECTION = "embolic_protection", "Embolic protection"
    CLOSURE = "closure", "Closure device"
    GRAFT = "graft", "Prosthetic graft"


class Complication(models.TextChoices):
    ACCESS_HEMATOMA = "access_hematoma", "Access-site hematoma"
    PSEUDOANEURYSM = "pseudoaneurysm", "Pseudoaneurysm"
    DISSECTION = "dissection", "Flow-limiting dissection"
    PERFORATION = "perforation", "Vessel perforation or rupture"
    DISTAL_EMBOLIZATION = "distal_embolization", "Distal embolization"
    ACUTE_THROMBOSIS = "acute_thrombosis", "Acute thrombosis"
    BLEEDING_TRANSFUSION = "bleeding_transfusion", "Bleeding needing transfusion"
    CONTRAST_NEPHROPATHY = "contrast_nephropathy", "Contrast-associated kidney injury"
    WOUND_INFECTION = "wound_infection", "Surgical-site infection"
    MYOCARDIAL_INFARCTION = "mi", "Myocardial infarction"
    STROKE = "stroke", "Stroke"
    DVT = "dvt", "Deep vein thrombosis"
    NERVE_INJURY = "nerve_injury", "Nerve injury"


class Indication(models.TextChoices):
    CLAUDICATION = "claudication", "Claudication"
    REST_PAIN = "rest_pain", "CLTI: rest pain"
    TISSUE_LOSS = "tissue_loss", "CLTI: tissue loss"
    ACUTE_LIMB_ISCHEMIA = "acute_limb_ischemia", "Acute limb ischaemia"
    VENOUS_INSUFFICIENCY = "venous_insufficiency", "Chronic venous disease"
    VENOUS_ULCER = "venous_ulcer", "Venous ulcer"
    VENOUS_THROMBOSIS = "venous_thrombosis", "Venous thrombosis or obstruction"
    INFECTION_GANGRENE = "infection_gangrene", "Infection or gangrene"
    OTHER = "other", "Other"


class CohortIndication(models.TextChoices):
    """The analytics' indication groups (issue 6 item 5)."""

    CLAUDICATION = "claudication", "Claudication"
    CLTI = "clti", "CLTI"
    VENOUS = "venous", "Venous"
    OTHER = "other", "Other"


INDICATION_GROUP: Final = MappingProxyType(
    {
        Indication.CLAUDICATION: CohortIndication.CLAUDICATION,
        # GVG 2019: rest pain or tissue loss (ulcer, gangrene) with PAD is CLTI.
        Indication.REST_PAIN: CohortIndication.CLTI,
        Indication.TISSUE_LOSS: CohortIndication.CLTI,
        Indication.INFECTION_GANGRENE: CohortIndication.CLTI,
        Indication.ACUTE_LIMB_ISCHEMIA: CohortIndication.OTHER,
        Indication.VENOUS_INSUFFICIENCY: CohortIndication.VENOUS,
        Indication.VENOUS_ULCER: CohortIndication.VENOUS,
        Indication.VENOUS_THROMBOSIS: CohortIndication.VENOUS,
        Indication.OTHER: CohortIndication.OTHER,
    }
)


# --- amputation levels ---------------------------------------------------------------
# Distal to proximal. A new amputation of a limb must be more proximal than the limb's
# current level; only another digit may repeat the toe or ray level.
LEVEL_ORDER: Final = (
    AmputationLevel.TOE,
    AmputationLevel.RAY,
    AmputationLevel.TRANSMETATARSAL,
    AmputationLevel.LISFRANC,
    AmputationLevel.CHOPART,
    AmputationLevel.SYME,
    AmputationLevel.BELOW_KNEE,
    AmputationLevel.THROUGH_KNEE,
    AmputationLevel.ABOVE_KNEE,
    AmputationLevel.HIP,
)
DIGIT_LEVELS: Final = frozenset({AmputationLevel.TOE, AmputationLevel.RAY})

# The CPT code suggested for each amputation level (codes_and_epidemiology §2.4). The
# toe gets the MTP-joint code (28820); Lisfranc has no own code in the library.
AMPUTATION_CPT: Final = MappingProxyType(
    {
        AmputationLevel.TOE: "28820",
        AmputationLevel.RAY: "28810",
        AmputationLevel.TRANSMETATARSAL: "28805",
        AmputationLevel.LISFRANC: None,
        AmputationLevel.CHOPART: "28800",
        AmputationLevel.SYME: "27888",
        AmputationLevel.BELOW_KNEE: "27880",
        AmputationLevel.THROUGH_KNEE: "27598",
        AmputationLevel.ABOVE_KNEE: "27590",
        AmputationLevel.HIP: "27295",
    }
)

# Endovascular CPT by territory and the most intensive therapy in it (§2.1: each code
# includes the lesser therapies; angioplasty < atherectomy < stent < stent+atherectomy).
# (territory, therapy) -> (first vessel, each additional vessel or None).
ENDO_CPT: Final = MappingProxyType(
    {
        ("iliac", "pta"): ("37220", "37222"),
        ("iliac", "stent"): ("37221", "37223"),
        ("fempop", "pta"): ("37224", None),
        ("fempop", "atherectomy"): ("37225", None),
        ("fempop", "stent"): ("37226", None),
        ("fempop", "stent_atherectomy"): ("37227", None),
        ("tibial", "pta"): ("37228", "37232"),
        ("tibial", "atherectomy"): ("37229", "37233"),
        ("tibial", "stent"): ("37230", "37234"),
        ("tibial", "stent_atherectomy"): ("37231", "37235"),
    }
)


# --- care team -----------------------------------------------------------------------
class Discipline(models.TextChoices):
    WOUND_CARE = "wound_care", "Wound care"
    PODIATRY = "podiatry", "Podiatry"
    INFECTIOUS_DISEASE = "infectious_disease", "Infectious disease"
    ENDOCRINOLOGY = "endocrinology", "Endocrinology"
    SMOKING_CESSATION = "smoking_cessation", "Smoking cessation"
    REHABILITATION = "rehabilitation", "Rehabilitation and prosthetics"


class TaskKind(models.TextChoices):
    TASK = "task", "Task"
    REFERRAL = "referral", "Referral"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# --- follow-up -----------------------------------------------------------------------
class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class DuplexResult(models.TextChoices):
    NOT_DONE = "", "Not done"
    PATENT = "patent", "Patent, no significant restenosis"
    RESTENOSIS = "restenosis", "Restenosis ≥ 50 %"
    OCCLUDED = "occluded", "Occluded"


# --- outcome events ------------------------------------------------------------------
class EventKind(models.TextChoices):
    WOUND_HEALED = "wound_healed", "Wound healed"
    REINTERVENTION = "reintervention", "Target-limb reintervention"
    MINOR_AMPUTATION = "minor_amputation", "Minor amputation"
    MAJOR_AMPUTATION = "major_amputation", "Major amputation"
    DEATH = "death", "Death"
    STATUS = "status", "Ambulatory and living status"


LIMB_EVENT_KINDS: Final = frozenset(
    {
        EventKind.WOUND_HEALED,
        EventKind.REINTERVENTION,
        EventKind.MINOR_AMPUTATION,
        EventKind.MAJOR_AMPUTATION,
    }
)


class AmbulatoryStatus(models.TextChoices):
    """VQI ambulation status (interop.md §C2)."""

    UNKNOWN = "", "Not recorded"
    INDEPENDENT = "independent", "Ambulatory, independent"
    WITH_ASSISTANCE = "with_assistance", "Ambulatory with assistance"
    WHEELCHAIR = "wheelchair", "Wheelchair"
    BEDBOUND = "bedbound", "Bedbound"


class LivingStatus(models.TextChoices):
    UNKNOWN = "", "Not recorded"
    HOME = "home", "Home"
    HOME_WITH_HELP = "home_with_help", "Home with help"
    ASSISTED_LIVING = "assisted_living", "Assisted living"
    NURSING_HOME = "nursing_home", "Nursing home"
    HOMELESS = "homeless", "Homeless"
