"""Known truth about each synthetic person, for measuring a screen (issue 9).

`limbguard synth` writes ``ground-truth.ndjson`` beside the FHIR files: one JSON object
per person, computed from exactly the resources written for that person, so a screen
that reads the export correctly finds the same answer. Fields:

``patient``                 the Patient resource id
``mrn``, ``center``         MRN and center slug
``risk_categories``         sorted `codes.categorize` categories found in the person's
                            Conditions, Procedures and Observations (smoking status
                            answers), from ``RISK_CATEGORIES``; ``"low_abi"`` is added
                            when an ABI ≤ ``LOW_ABI`` was recorded
``at_risk``                 any of ``AT_RISK_CATEGORIES`` present
``last_vascular_evaluation`` date of the latest vascular evaluation, or null: an ABI,
                            TBI, toe-pressure, TcPO2 or duplex Observation
                            (``EVALUATION_OBSERVATION_CODES``), or a Procedure in the
                            ``vascular_study`` value set (CPT 939xx)
``evaluated``               a vascular evaluation within ``EVALUATION_WINDOW_DAYS``
                            before (and including) ``as_of``
``unevaluated_at_risk``     ``at_risk and not evaluated``: who the worklist must hold
``latest_abi``              {"value", "date", "side"} of the latest ABI, or null
``major_amputations``       [{"date", "side", "code", "evaluated_90d"}]: each major
                            amputation procedure and whether a vascular evaluation was on
                            record in the ``AMPUTATION_LOOKBACK_DAYS`` before it
``deceased``                date of death or null
``as_of``                   the export's reference date (also the manifest's)
"""

from __future__ import annotations

from typing import Final

from limbguard.fhir import terminology as term

# Issue 9 item 3: the risk categories a screen reports.
RISK_CATEGORIES: Final = frozenset(
    {
        "diabetes",
        "diabetic_foot_ulcer",
        "pad",
        "clti",
        "gangrene",
        "osteomyelitis",
        "cvi",
        "venous_ulcer",
        "dvt",
        "minor_amputation",
        "major_amputation",
        "ckd",
        "smoking",
    }
)
# Who is at risk of limb loss: limb disease, not a risk factor alone (diabetes, CKD and
# smoking raise the risk but do not by themselves call for a vascular evaluation).
AT_RISK_CATEGORIES: Final = frozenset(
    {
        "pad",
        "clti",
        "diabetic_foot_ulcer",
        "gangrene",
        "osteomyelitis",
        "venous_ulcer",
        "minor_amputation",
        "major_amputation",
        "low_abi",
    }
)
LOW_ABI: Final = 0.90  # ABI ≤ 0.90 is abnormal (limbguard.vascular.abi.classify_abi)
EVALUATION_WINDOW_DAYS: Final = 365  # issue 9 item 3: "within 12 months (configurable)"
AMPUTATION_LOOKBACK_DAYS: Final = 90  # issue 9 item 4: "in the 90 days before"
FILE_NAME: Final = "ground-truth.ndjson"
# Observations that are a vascular evaluation: LimbGuard's own codes (the reference
# found no verified LOINC for per-side ABI, TBI, toe pressure; §4). ABI observations
# also carry SNOMED CT 446841001, in the `vascular_study` value set; the studies
# themselves are Procedures with CPT codes in that value set (93922-93926, 93970-93971).
EVALUATION_OBSERVATION_SYSTEM: Final = term.CODE_SYSTEM
EVALUATION_OBSERVATION_CODES: Final = frozenset(
    {"abi", "tbi", "toe-pressure", "tcpo2", "arterial-duplex"}
)
