"""Screening rules and the quality measure, as SQL over the five views.

Each statement is written once (DuckDB's dialect) and rendered for the engine by
sqlglot. The clinical content is in the tables below, each row with its source:

* ``RISK_CATEGORIES`` / ``AT_RISK_CATEGORIES``: what a patient has, and which findings
  make them at risk of limb loss (limb disease, not a risk factor alone) — the same
  split as the synthetic cohort's truth (``limbguard.synth.truth``), tested to agree.
* ``TIER_RULES``: the tier of an at-risk patient, first matching rule wins; the
  worklist names the rule.
* Evaluation: a vascular study or measurement (`valuesets.EVALUATION`) dated within
  ``window_days`` before the reference date ("within 12 months", issue 9 item 3).
* Measure: major amputations (not stump revisions; one per patient, side and 30 days,
  Goodney JAMA Surg 2015 via codes_and_epidemiology 7) without a vascular evaluation in
  the ``lookback_days`` before, up to and including the day of surgery (issue 9 item 4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import sqlglot

from limbguard.fhir import terminology as term
from limbguard.screening import valuesets as vs

RISK_CATEGORIES: Final = (
    "pad",
    "clti",
    "diabetes",
    "diabetic_foot_ulcer",
    "gangrene",
    "osteomyelitis",
    "cvi",
    "venous_ulcer",
    "dvt",
    "minor_amputation",
    "major_amputation",
    "ckd",
    "smoking",
)
# At risk of limb loss: limb disease or a low ABI. Diabetes, CKD/dialysis and smoking
# raise the risk but do not by themselves call for a vascular evaluation; nor does
# venous disease without an ulcer (GVG 2019; IWGDF 2023; ACC/AHA PAD 2024).
AT_RISK_CATEGORIES: Final = (
    "pad",
    "clti",
    "diabetic_foot_ulcer",
    "gangrene",
    "osteomyelitis",
    "venous_ulcer",
    "minor_amputation",
    "major_amputation",
    "low_abi",
)
LOW_ABI: Final = 0.90  # ABI ≤ 0.90 is abnormal: PAD (ACC/AHA 2024; vascular.abi.classify_abi)
CLTI_ABI: Final = (
    0.40  # ABI < 0.4: haemodynamic CLTI threshold (GVG 2019; codes_and_epidemiology 6.2)
)
EVALUATION_WINDOW_DAYS: Final = 365  # issue 9 item 3: "within 12 months (configurable)"
AMPUTATION_LOOKBACK_DAYS: Final = 90  # issue 9 item 4: "in the 90 days before (configurable)"
SAME_AMPUTATION_DAYS: Final = 30  # one event per limb per 30 days (Goodney 2015; codes 7)
# Left out as not evaluable: refuted or entered-in-error diagnoses (FHIR R4
# condition-ver-status), cancelled/erroneous results (observation-status), procedures
# not done, erroneous or only in preparation (event-status).
CONDITION_EXCLUDED: Final = ("refuted", "entered-in-error")
OBSERVATION_EXCLUDED: Final = ("cancelled", "entered-in-error")
PROCEDURE_EXCLUDED: Final = ("not-done", "entered-in-error", "preparation")
# An observation's date: effective[x] (dateTime, instant, Period.start), else issued.
OBSERVATION_DATE: Final = (
    "coalesce(o.effective_datetime, o.effective_instant, o.effective_period_start, o.issued)"
)
SIDES: Final = {code: side for side, code in term.LATERALITY_SNOMED.items()}


@dataclass(frozen=True)
class TierRule:
    rule: str
    tier: int
    condition: str  # SQL over the per-patient flags (has_<category>, latest_abi)
    label: str
    source: str


TIER_RULES: Final = (
    TierRule(
        "T1-GANGRENE",
        1,
        "has_gangrene",
        "Gangrene of the lower limb",
        "Conte MS et al., Global Vascular Guidelines on CLTI, J Vasc Surg 2019;69(6S):3S-125S: "
        "gangrene is limb-threatening ischaemia; urgent vascular assessment",
    ),
    TierRule(
        "T1-CLTI",
        1,
        "has_clti",
        "Chronic limb-threatening ischaemia (rest pain, ulceration or gangrene with PAD)",
        "Conte MS et al., Global Vascular Guidelines on CLTI, J Vasc Surg 2019",
    ),
    TierRule(
        "T1-ABI<0.40",
        1,
        f"latest_abi < {CLTI_ABI}",
        "Latest ankle-brachial index below 0.40",
        "Global Vascular Guidelines 2019: ABI < 0.4 is a haemodynamic CLTI threshold",
    ),
    TierRule(
        "T1-OSTEOMYELITIS",
        1,
        "has_osteomyelitis",
        "Osteomyelitis of the foot",
        "IWGDF/IDSA guideline on the diabetic foot infection 2023: bone infection threatens "
        "the limb; assess perfusion",
    ),
    TierRule(
        "T2-DFU",
        2,
        "has_diabetic_foot_ulcer",
        "Diabetic foot ulcer",
        "IWGDF/ESVS/SVS intersocietal guideline on PAD in diabetes and a foot ulcer 2023: "
        "assess perfusion in every person with a diabetic foot ulcer",
    ),
    TierRule(
        "T2-MAJOR-AMPUTATION",
        2,
        "has_major_amputation",
        "Prior major amputation (the other leg is at high risk)",
        "Amputee Coalition: up to 55% of people with diabetes and a lower-extremity "
        "amputation lose the other leg within 2-3 years (codes_and_epidemiology 6.3)",
    ),
    TierRule(
        "T2-MINOR-AMPUTATION",
        2,
        "has_minor_amputation",
        "Prior toe or foot amputation",
        "85% of major diabetic amputations follow a foot ulcer or minor loss "
        "(codes_and_epidemiology 6.3, VDM 2020 review); intake triage ranks prior amputation first",
    ),
    TierRule(
        "T2-VENOUS-ULCER",
        2,
        "has_venous_ulcer",
        "Venous leg ulcer",
        "ESVS 2022 chronic venous disease guideline: duplex ultrasound and an ABI for every "
        "leg ulcer before compression",
    ),
    TierRule(
        "T3-PAD",
        3,
        "has_pad",
        "Peripheral artery disease",
        "Gornik HL et al., 2024 ACC/AHA multisociety PAD guideline, JACC 2024;83:2497-2604",
    ),
    TierRule(
        "T3-LOW-ABI",
        3,
        f"latest_abi <= {LOW_ABI}",
        "Latest ankle-brachial index 0.90 or lower",
        "2024 ACC/AHA PAD guideline: ABI ≤ 0.90 is diagnostic of PAD",
    ),
)


@dataclass(frozen=True)
class Settings:
    as_of: dt.date
    window_days: int = EVALUATION_WINDOW_DAYS
    lookback_days: int = AMPUTATION_LOOKBACK_DAYS

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError("window_days: must be 1 or more")
        if self.lookback_days < 0:
            raise ValueError("lookback_days: must be 0 or more")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _coded(view: str, categories: tuple[str, ...] | None = None) -> str:
    """The value-set categories of each distinct (system, code) of a view, codes matched
    trimmed and in upper case (as `valuesets` stores them): a view's rows join this on
    their code as written, so each distinct code is normalised once, not once per row
    (the bench's 200k export: 9 distinct Observation codes in 510,694 rows)."""
    only = f" AND v.category IN {_in(categories)}" if categories else ""
    return (
        f"(SELECT k.system, k.code, v.category FROM (SELECT DISTINCT system, code FROM {view})"
        f" AS k JOIN codes AS v ON v.system = k.system AND v.code = upper(trim(k.code)){only})"
    )


def _day(text: str) -> str:
    """The calendar date written at the start of a FHIR date/dateTime (the writer's own
    date); NULL for a partial date ("2019", "2019-05"), which has no day."""
    return f"CASE WHEN length({text}) >= 10 THEN TRY_CAST(substr({text}, 1, 10) AS DATE) END"


# Read once: kept as views (the engine inlines them) rather than stored tables. The
# worklist is stored: the summary and two files read it; so is the measure (a few rows),
# so that it is computed while the other rule tables are, not when it is read.
READ_ONCE: Final = frozenset(
    {
        "last_evaluation",
        "latest_tbi",
        "patient_symptoms",
        "patient_flags",
        "amputation_procedures",
        "amputations",
        "amputation_evaluations",
    }
)


# The columns of each shipped view that the statements below read. A screen stores a
# view with only these (and its key and malformed-row flag, which it counts), so the
# engine neither extracts nor stores the rest; a statement reading a column left out
# fails to bind, on both engines.
VIEW_COLUMNS: Final = {
    "patient": (
        "patient",
        "mrn_limbguard",
        "mrn_typed",
        "family",
        "given",
        "birth_date",
        "gender",
        "deceased_flag",
        "deceased_date",
        "phone",
        "center",
        "org_display",
        "org_identifier",
    ),
    "condition": ("patient", "verification", "system", "code"),
    "observation": (
        "patient",
        "status",
        "effective_datetime",
        "effective_instant",
        "effective_period_start",
        "issued",
        "value_quantity",
        "value_codes",
        "system",
        "code",
    ),
    "procedure": (
        "id",
        "patient",
        "status",
        "performed_datetime",
        "performed_period_start",
        "encounter",
        "location_display",
        "body_site",
        "system",
        "code",
    ),
    "encounter": ("id", "provider_display", "provider_identifier", "provider_key"),
}


# The categories each event table is read for (the rules below); other codes of the
# value sets are left out at the join rather than carried through the rules.
PROCEDURE_CATEGORIES: Final = (
    vs.EVALUATION,
    "major_amputation",
    "minor_amputation",
    vs.AMPUTATION_REVISION,
)
OBSERVATION_CATEGORIES: Final = (vs.EVALUATION, vs.ABI, vs.TBI, "smoking_status")


def statements(settings: Settings) -> Iterator[tuple[str, str]]:
    """(table, SELECT in DuckDB's dialect), in order; each becomes a table (or a view,
    for the ones in ``READ_ONCE``)."""
    as_of = f"DATE '{settings.as_of.isoformat()}'"
    window_start = f"({as_of} - INTERVAL {settings.window_days} DAY)"
    lookback = settings.lookback_days
    yield (
        "condition_categories",
        f"""
        SELECT c.patient, v.category
        FROM condition AS c
        JOIN {_coded("condition")} AS v ON v.system = c.system AND v.code = c.code
        WHERE c.patient IS NOT NULL
          AND coalesce(c.verification, '') NOT IN {_in(CONDITION_EXCLUDED)}
        """,
    )
    yield (
        "procedure_events",
        f"""
        SELECT p.id, p.patient, v.category, p.code, p.encounter, p.location_display,
               coalesce(p.body_site, '') AS body_site,
               {_day("coalesce(p.performed_datetime, p.performed_period_start)")} AS day
        FROM procedure AS p
        JOIN {_coded("procedure", PROCEDURE_CATEGORIES)} AS v
            ON v.system = p.system AND v.code = p.code
        WHERE p.patient IS NOT NULL AND coalesce(p.status, '') NOT IN {_in(PROCEDURE_EXCLUDED)}
        """,
    )
    yield (
        "observation_events",
        f"""
        SELECT o.patient, v.category, o.code, o.value_quantity,
               CASE WHEN v.category = 'smoking_status' THEN o.value_codes END AS answers,
               {_day(OBSERVATION_DATE)} AS day
        FROM observation AS o
        JOIN {_coded("observation", OBSERVATION_CATEGORIES)} AS v
            ON v.system = o.system AND v.code = o.code
        WHERE o.patient IS NOT NULL AND coalesce(o.status, '') NOT IN {_in(OBSERVATION_EXCLUDED)}
        """,
    )
    # Evaluations on or before the reference date, labelled "SYSTEM code".
    yield (
        "evaluations",
        f"""
        SELECT patient, day, label FROM (
            SELECT patient, day, 'CPT/SNOMED ' || code AS label FROM procedure_events
            WHERE category = '{vs.EVALUATION}'
            UNION ALL
            SELECT patient, day, 'observation ' || code AS label FROM observation_events
            WHERE category = '{vs.EVALUATION}'
        ) AS e
        WHERE day IS NOT NULL AND day <= {as_of}
        """,
    )
    # The latest day, and on it the first label: one grouping pass taking the least
    # (days before 9999-12-31, day, label) of each patient (structs compare field by
    # field, on both engines), rather than a window of each patient's latest day joined
    # back and grouped again; the same result.
    yield (
        "last_evaluation",
        """
        SELECT patient, latest.day AS last_evaluation, latest.label AS last_evaluation_code
        FROM (
            SELECT patient,
                   min(struct_pack(age := date_diff('day', day, DATE '9999-12-31'), day := day,
                                   label := label)) AS latest
            FROM evaluations
            GROUP BY patient
        ) AS dated
        """,
    )
    for name, group in (("abi", vs.ABI), ("tbi", vs.TBI)):
        # The latest study's lowest value (the worse leg), as the synthetic truth does:
        # the greatest (day, -value) of each patient, in one grouping pass.
        yield (
            f"latest_{name}",
            f"""
            SELECT patient, -latest.value AS latest_{name}, latest.day AS latest_{name}_date
            FROM (
                SELECT patient,
                       max(struct_pack(day := day, value := -value_quantity)) AS latest
                FROM observation_events
                WHERE category = '{group}' AND value_quantity IS NOT NULL
                  AND day IS NOT NULL AND day <= {as_of}
                GROUP BY patient
            ) AS dated
            """,
        )
    found = (*RISK_CATEGORIES, "low_abi")
    # A patient's categories as one bit set: each category's bit, OR-ed over every
    # finding (a category found twice sets its bit once, so no DISTINCT is needed).
    bits = "CASE category " + " ".join(f"WHEN '{c}' THEN {1 << i}" for i, c in enumerate(found))
    yield (
        "patient_categories",
        f"""
        SELECT patient, bit_or({bits} ELSE 0 END) AS mask FROM (
            SELECT patient, category FROM condition_categories
            WHERE category IN {_in(RISK_CATEGORIES)}
            UNION ALL
            SELECT patient, category FROM procedure_events
            WHERE category IN ('major_amputation', 'minor_amputation')
            UNION ALL
            SELECT a.patient, 'smoking' AS category
            FROM (
                SELECT patient, UNNEST(answers) AS answer FROM observation_events
                WHERE category = 'smoking_status' AND array_length(answers) > 0
            ) AS a
            JOIN codes AS v ON v.system = '{term.SNOMED}' AND v.code = upper(trim(a.answer))
            WHERE v.category = 'smoking'
            UNION ALL
            SELECT patient, 'low_abi' AS category FROM latest_abi WHERE latest_abi <= {LOW_ABI}
        ) AS found
        GROUP BY patient
        """,
    )
    yield (
        "patient_symptoms",
        f"""
        SELECT patient,
               array_to_string(list_sort(list(DISTINCT category)), ';') AS symptoms
        FROM condition_categories
        WHERE category IN ('{vs.REST_PAIN}', '{vs.ISCHAEMIC_ULCER}')
        GROUP BY patient
        """,
    )
    flags = ", ".join(f"(mask & {1 << i}) <> 0 AS has_{c}" for i, c in enumerate(found))
    # The categories in name order, spelled from the flags: cheaper than sorting a list
    # per patient.
    names = ", ".join(
        f"CASE WHEN has_{category} THEN '{category}' END" for category in sorted(found)
    )
    has = ", ".join(f"has_{category}" for category in found)
    yield (
        "patient_flags",
        f"""
        SELECT patient, concat_ws(';', {names}) AS categories, {has}
        FROM (SELECT patient, {flags} FROM patient_categories) AS flagged
        """,
    )
    flag_columns = ", ".join(
        ["f.categories"] + [f"f.has_{c}" for c in (*RISK_CATEGORIES, "low_abi")]
    )
    tier = "CASE " + " ".join(f"WHEN {r.condition} THEN {r.tier}" for r in TIER_RULES) + " END"
    rule = "CASE " + " ".join(f"WHEN {r.condition} THEN '{r.rule}'" for r in TIER_RULES) + " END"
    deceased_day = _day("p.deceased_date")
    # Everyone with a Patient resource, a finding or an evaluation: the three joined
    # FULL (each side's patient coalesced) rather than a UNION of their keys joined back
    # to each, one hash table fewer over every patient.
    yield (
        "screened",
        f"""
        SELECT p.patient, p.categories, p.latest_abi, p.latest_abi_date, p.latest_tbi,
               p.latest_tbi_date, p.last_evaluation, p.last_evaluation_code,
               {tier} AS tier,
               {rule} AS tier_rule,
               ({tier}) IS NOT NULL AS at_risk,
               coalesce(last_evaluation > {window_start}, FALSE) AS evaluated,
               (coalesce(p.deceased_flag, FALSE)
                OR (p.deceased_date IS NOT NULL
                    AND coalesce({deceased_day} <= {as_of}, TRUE))) AS deceased
        FROM (
            SELECT coalesce(p.patient, f.patient, l.patient) AS patient, {flag_columns},
                   a.latest_abi, a.latest_abi_date, t.latest_tbi, t.latest_tbi_date,
                   l.last_evaluation, l.last_evaluation_code,
                   p.deceased_flag, p.deceased_date
            FROM (SELECT * FROM patient WHERE patient IS NOT NULL) AS p
            FULL JOIN patient_flags AS f ON f.patient = p.patient
            FULL JOIN last_evaluation AS l ON l.patient = coalesce(p.patient, f.patient)
            LEFT JOIN latest_abi AS a ON a.patient = coalesce(p.patient, f.patient, l.patient)
            LEFT JOIN latest_tbi AS t ON t.patient = coalesce(p.patient, f.patient, l.patient)
        ) AS p
        """,
    )
    yield (
        "worklist",
        f"""
        SELECT s.patient, coalesce(p.mrn_limbguard, p.mrn_typed) AS mrn, p.family, p.given,
               p.birth_date, p.gender, p.phone,
               coalesce(p.center, p.org_display, p.org_identifier) AS center,
               s.tier, s.tier_rule, s.categories, s.latest_abi, s.latest_abi_date,
               s.latest_tbi, s.latest_tbi_date, s.last_evaluation, s.last_evaluation_code,
               CAST(date_diff('day', s.last_evaluation, {as_of}) AS BIGINT)
                   AS days_since_evaluation,
               y.symptoms
        FROM screened AS s LEFT JOIN patient AS p ON p.patient = s.patient
        LEFT JOIN patient_symptoms AS y ON y.patient = s.patient
        WHERE s.at_risk AND NOT s.evaluated AND NOT s.deceased
        """,
    )
    side = (
        "CASE "
        + " ".join(f"WHEN body_site = '{c}' THEN '{s}'" for c, s in SIDES.items())
        + " ELSE 'unknown' END"
    )
    yield (
        "amputation_procedures",
        f"""
        SELECT m.id, m.patient, m.day, {side} AS side, m.encounter, m.location_display
        FROM procedure_events AS m
        WHERE m.category = 'major_amputation' AND m.day IS NOT NULL AND m.day <= {as_of}
          AND NOT EXISTS (
              SELECT 1 FROM procedure_events AS r
              WHERE r.id = m.id AND r.category = '{vs.AMPUTATION_REVISION}')
        """,
    )
    yield (
        "amputations",
        f"""
        SELECT id, patient, day, side, encounter, location_display FROM (
            SELECT *, lag(day) OVER (PARTITION BY patient, side ORDER BY day, id) AS previous
            FROM (
                SELECT *, row_number() OVER (PARTITION BY id ORDER BY day) AS copy
                FROM amputation_procedures
            ) AS one WHERE copy = 1
        ) AS ordered
        WHERE previous IS NULL OR date_diff('day', previous, day) > {SAME_AMPUTATION_DAYS}
        """,
    )
    yield (
        "amputation_evaluations",
        f"""
        SELECT a.id, a.patient, a.day, a.side,
               coalesce(e.provider_display, e.provider_identifier, e.provider_key,
                        a.location_display, p.org_display, p.center, p.org_identifier,
                        'unknown') AS facility,
               max(CASE WHEN v.day IS NOT NULL THEN 1 ELSE 0 END) = 1 AS evaluated
        FROM amputations AS a
        LEFT JOIN encounter AS e ON e.id = a.encounter
        LEFT JOIN patient AS p ON p.patient = a.patient
        LEFT JOIN evaluations AS v ON v.patient = a.patient
             AND v.day <= a.day AND v.day >= a.day - INTERVAL {lookback} DAY
        GROUP BY a.id, a.patient, a.day, a.side, facility
        """,
    )
    yield (
        "measure",
        """
        SELECT CAST(year(day) AS BIGINT) AS year, facility,
               count(*) AS amputations,
               sum(CASE WHEN evaluated THEN 0 ELSE 1 END) AS without_evaluation
        FROM amputation_evaluations
        GROUP BY GROUPING SETS ((year(day), facility), (year(day)), ())
        """,
    )


def render(sql: str, dialect: str) -> str:
    """One statement in the engine's dialect (sqlglot; written in DuckDB's)."""
    if dialect == "duckdb":
        return sql
    return sqlglot.transpile(sql, read="duckdb", write=dialect, pretty=False)[0]
