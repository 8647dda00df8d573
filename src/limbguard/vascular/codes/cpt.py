"""CPT value sets: one explicit table of code -> (our own short label, categories).

CPT descriptors are AMA-copyrighted; the labels below are LimbGuard's own words, and
only code numbers are shared with the AMA code set. Codes the reference marks
UNVERIFIED are left out until checked against the licensed table: 35571 (popliteal-
distal bypass with vein) and 35666 (femoral-distal bypass, other than vein).

Sources: codes_and_epidemiology.md section 2 (verification per row there); rows marked
"pages" were confirmed by the LimbGuard team on public coding-reference pages that
quote the official descriptor (codingahead.com, mirahealth.care, nextgen.com,
carepatron.com), V-secondary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from limbguard.vascular.codes.vocabulary import Category

SOURCE: Final = "codes_and_epidemiology 2.1-2.5 (CPT code numbers; labels are LimbGuard's own)"

# Five characters: four digits then a digit (Category I), F (II), T (III) or U (PLA).
_FORM: Final = re.compile(r"[0-9]{4}[0-9FTU]")


@dataclass(frozen=True)
class CptEntry:
    label: str
    categories: frozenset[Category]


_ENDO: Final = frozenset({Category.ENDOVASCULAR_ARTERIAL})
_BYPASS: Final = frozenset({Category.OPEN_BYPASS})
_VENOUS: Final = frozenset({Category.VENOUS_INTERVENTION})
_MAJOR: Final = frozenset({Category.MAJOR_AMPUTATION})
_MINOR: Final = frozenset({Category.MINOR_AMPUTATION})
_STUDY: Final = frozenset({Category.VASCULAR_STUDY})

CPT_TABLE: Final = MappingProxyType(
    {
        # 2.1: lower-extremity endovascular revascularization, one territory per code.
        "37220": CptEntry("Iliac angioplasty, first vessel", _ENDO),
        "37221": CptEntry("Iliac stenting, first vessel", _ENDO),
        "37222": CptEntry("Iliac angioplasty, each further vessel (add-on)", _ENDO),
        "37223": CptEntry("Iliac stenting, each further vessel (add-on)", _ENDO),
        "37224": CptEntry("Femoropopliteal angioplasty", _ENDO),
        "37225": CptEntry("Femoropopliteal atherectomy", _ENDO),
        "37226": CptEntry("Femoropopliteal stenting", _ENDO),
        "37227": CptEntry("Femoropopliteal stenting with atherectomy", _ENDO),
        "37228": CptEntry("Tibial/peroneal angioplasty, first vessel", _ENDO),
        "37229": CptEntry("Tibial/peroneal atherectomy, first vessel", _ENDO),
        "37230": CptEntry("Tibial/peroneal stenting, first vessel", _ENDO),
        "37231": CptEntry("Tibial/peroneal stenting with atherectomy, first vessel", _ENDO),
        "37232": CptEntry("Tibial/peroneal angioplasty, each further vessel (add-on)", _ENDO),
        "37233": CptEntry("Tibial/peroneal atherectomy, each further vessel (add-on)", _ENDO),
        "37234": CptEntry("Tibial/peroneal stenting, each further vessel (add-on)", _ENDO),
        "37235": CptEntry(
            "Tibial/peroneal stenting with atherectomy, each further vessel (add-on)", _ENDO
        ),
        # 2.1 "related codes" (V-secondary): arterial mechanical thrombectomy family.
        "37184": CptEntry("Arterial mechanical thrombectomy, first vessel", _ENDO),
        "37185": CptEntry("Arterial mechanical thrombectomy, further vessel (add-on)", _ENDO),
        "37186": CptEntry("Arterial thrombectomy during another intervention (add-on)", _ENDO),
        # 2.3: arterial thrombolysis infusion, first day. 37213/37214 (continued
        # treatment, cessation) serve arteries and veins alike and are left out.
        "37211": CptEntry("Arterial catheter thrombolysis, first day", _ENDO),
        # 2.2: open infrainguinal (and aortobifemoral) bypass; add-on vein-harvest and
        # composite-graft codes are left out because they never stand alone.
        "35556": CptEntry("Femoral-popliteal bypass with vein", _BYPASS),
        "35566": CptEntry("Femoral-distal bypass with vein", _BYPASS),
        "35656": CptEntry("Femoral-popliteal bypass, prosthetic or other conduit", _BYPASS),
        "35540": CptEntry("Aortobifemoral bypass with vein", _BYPASS),
        "35583": CptEntry("In-situ vein bypass, femoral-popliteal", _BYPASS),  # pages
        "35585": CptEntry("In-situ vein bypass, femoral-distal", _BYPASS),  # pages
        "35587": CptEntry("In-situ vein bypass, popliteal-distal", _BYPASS),  # pages
        "35570": CptEntry("Tibial/peroneal-to-tibial bypass with vein", _BYPASS),  # pages
        "35671": CptEntry("Popliteal-distal bypass, prosthetic or other conduit", _BYPASS),  # pages
        # 2.3: venous stenting, thrombectomy, thrombolysis and endovenous ablation.
        "37238": CptEntry("Venous stenting, first vein", _VENOUS),
        "37239": CptEntry("Venous stenting, each further vein (add-on)", _VENOUS),
        "37187": CptEntry("Venous mechanical thrombectomy", _VENOUS),
        "37188": CptEntry("Venous mechanical thrombectomy, repeat on a later day", _VENOUS),
        "37212": CptEntry("Venous catheter thrombolysis, first day", _VENOUS),
        "36475": CptEntry("Radiofrequency vein ablation, first vein", _VENOUS),
        "36476": CptEntry("Radiofrequency vein ablation, further veins (add-on)", _VENOUS),
        "36478": CptEntry("Laser vein ablation, first vein", _VENOUS),
        "36479": CptEntry("Laser vein ablation, further veins (add-on)", _VENOUS),
        "36482": CptEntry("Adhesive (glue) vein closure, first vein", _VENOUS),
        "36483": CptEntry("Adhesive (glue) vein closure, further veins (add-on)", _VENOUS),
        "36473": CptEntry("Mechanochemical vein ablation, first vein", _VENOUS),  # pages
        "36474": CptEntry(
            "Mechanochemical vein ablation, further veins (add-on)", _VENOUS
        ),  # pages
        "36465": CptEntry("Foam sclerotherapy of one truncal vein", _VENOUS),  # pages
        "36466": CptEntry("Foam sclerotherapy of several truncal veins", _VENOUS),  # pages
        # 2.4: amputations above the ankle are major.
        "27590": CptEntry("Above-knee amputation", _MAJOR),
        "27591": CptEntry("Above-knee amputation with immediate prosthetic cast", _MAJOR),
        "27592": CptEntry("Above-knee amputation, open (guillotine)", _MAJOR),
        "27594": CptEntry("Above-knee stump revision or delayed closure", _MAJOR),
        "27596": CptEntry("Above-knee re-amputation", _MAJOR),
        "27598": CptEntry("Knee disarticulation", _MAJOR),
        "27295": CptEntry("Hip disarticulation", _MAJOR),  # pages
        "27290": CptEntry("Hindquarter amputation", _MAJOR),  # pages
        "27880": CptEntry("Below-knee amputation", _MAJOR),
        "27881": CptEntry("Below-knee amputation with immediate prosthetic cast", _MAJOR),
        "27882": CptEntry("Below-knee amputation, open (guillotine)", _MAJOR),
        "27884": CptEntry("Below-knee stump revision or delayed closure", _MAJOR),
        "27886": CptEntry("Below-knee re-amputation", _MAJOR),
        # 2.4: ankle level and below are minor (see ANKLE_LEVEL_AMPUTATION_CPT).
        "27888": CptEntry("Ankle amputation through the malleoli (Syme type)", _MINOR),
        "27889": CptEntry("Ankle disarticulation", _MINOR),  # pages
        "28800": CptEntry("Midfoot amputation", _MINOR),
        "28805": CptEntry("Transmetatarsal amputation", _MINOR),
        "28810": CptEntry("Ray amputation (metatarsal with toe)", _MINOR),
        "28820": CptEntry("Toe amputation at the MTP joint", _MINOR),
        "28825": CptEntry("Toe amputation at an IP joint", _MINOR),
        # 2.5: non-invasive arterial and venous studies.
        "93922": CptEntry("Limited bilateral arterial physiologic study (ABI)", _STUDY),
        "93923": CptEntry("Multilevel bilateral arterial physiologic study", _STUDY),
        "93924": CptEntry("Arterial study at rest and after treadmill exercise", _STUDY),
        "93925": CptEntry("Lower-extremity arterial duplex, complete bilateral", _STUDY),
        "93926": CptEntry("Lower-extremity arterial duplex, unilateral or limited", _STUDY),
        "93970": CptEntry("Extremity venous duplex, complete bilateral", _STUDY),
        "93971": CptEntry("Extremity venous duplex, unilateral or limited", _STUDY),
    }
)

# Amputation through the ankle: minor here, following "major = above the ankle"
# (codes_and_epidemiology 2.4) and Z89.44- as minor-amputation status (1.7). The
# reference leaves this to programme policy; a programme that counts the ankle as
# major moves these codes.
ANKLE_LEVEL_AMPUTATION_CPT: Final = frozenset({"27888", "27889"})
# Stump revision or delayed closure: an operation on an existing amputation, not a new
# limb loss; OHDSI cohort 999 leaves out 27884 (codes_and_epidemiology 2.4, 7).
AMPUTATION_REVISION_CPT: Final = frozenset({"27594", "27884"})


def canonical(code: str) -> str | None:
    """The upper-case 5-character form of ``code``, or None if not shaped like CPT."""
    text = code.strip().upper()
    return text if _FORM.fullmatch(text) else None
