"""ICD-10-CM value sets: one explicit table of hierarchy rules, expanded against the
official CMS tables shipped in ``simple-icd-10-cm`` (April 2026 release).

A rule names CMS categories or subcategories (such as ``I70.22``); it stands for every
billable (leaf) code below them, minus the leaves below its exclusions. The package
loads its tables in about a second, so it is imported on first use and the expanded
tables are built once and cached.

Sources: codes_and_epidemiology.md sections 1.1-1.8 and Appendix A (all V-official,
CMS-CM-2026).
"""

from __future__ import annotations

import importlib
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType, ModuleType
from typing import Final

from limbguard.vascular.codes.vocabulary import Category

CMS_RELEASE: Final = "CMS ICD-10-CM April 1 2026 tabular, via simple-icd-10-cm 1.5.0"

# A code as written by people and systems: letter, digit, alphanumeric, then up to
# four more characters after an optional dot.
_FORM: Final = re.compile(r"[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?")

_DIABETES: Final = ("E08", "E09", "E10", "E11", "E13")  # E08-E13: there is no E12
_GRAFTS: Final = "34567"  # I70.3-I70.7: bypass grafts, same ladder as native I70.2


@dataclass(frozen=True)
class IcdRule:
    """Leaves below ``include`` minus leaves below ``exclude``; ``source`` cites why."""

    include: tuple[str, ...]
    source: str
    exclude: tuple[str, ...] = ()


# The single ICD-10-CM table. Each rule cites its section of codes_and_epidemiology.md.
ICD10CM_RULES: Final = MappingProxyType(
    {
        # 1.1/1.2: atherosclerosis of native arteries and bypass grafts of the extremities
        # (every stage), chronic total occlusion, PVD unspecified, diabetic angiopathy.
        Category.PAD: IcdRule(
            include=(
                "I70.2",
                *(f"I70.{graft}" for graft in _GRAFTS),
                "I70.92",
                "I73.9",
                *(f"{dm}.51" for dm in _DIABETES),
                *(f"{dm}.52" for dm in _DIABETES),
            ),
            source="codes_and_epidemiology 1.1, 1.2, Appendix A (PAD)",
        ),
        # Appendix A / 7: rest pain, ulceration, gangrene (5th character 2, 3, 4, 6) of
        # native arteries and grafts: the 144 leg codes; the arm codes I70.x5 are left
        # out. Diabetic angiopathy with gangrene counts as CLTI (1.2).
        Category.CLTI: IcdRule(
            include=(
                *(f"I70.{block}{stage}" for block in "2" + _GRAFTS for stage in "2346"),
                *(f"{dm}.52" for dm in _DIABETES),
            ),
            source="codes_and_epidemiology 1.1, 1.2, 7, Appendix A (CLTI, 144 leg codes)",
        ),
        Category.DIABETES: IcdRule(
            include=_DIABETES,
            source="codes_and_epidemiology 1.2 (E08-E13 diabetes mellitus)",
        ),
        # 1.2: the core DFU set; an L97 ulcer alone does not say diabetic (1.3).
        Category.DIABETIC_FOOT_ULCER: IcdRule(
            include=tuple(f"{dm}.621" for dm in _DIABETES),
            source="codes_and_epidemiology 1.2, Appendix A (DFU, 5 codes)",
        ),
        # 1.4: varicose veins, post-thrombotic syndrome, venous insufficiency, chronic
        # venous hypertension. I87.1 (compression of vein) also covers SVC syndrome.
        Category.CVI: IcdRule(
            include=("I83", "I87.0", "I87.2", "I87.3"),
            source="codes_and_epidemiology 1.4",
        ),
        # 1.5: acute and chronic lower-extremity DVT, and IVC thrombosis.
        Category.DVT: IcdRule(
            include=("I82.4", "I82.5", "I82.22"),
            source="codes_and_epidemiology 1.5, Appendix A (DVT, 40 + 40)",
        ),
        # 1.4 / Appendix A: varicose veins with ulcer, chronic venous hypertension with
        # ulcer, post-thrombotic syndrome with ulcer.
        Category.VENOUS_ULCER: IcdRule(
            include=("I83.0", "I83.2", "I87.31", "I87.33", "I87.01", "I87.03"),
            source="codes_and_epidemiology 1.4, Appendix A (42 + 8 + 8)",
        ),
        # 1.6 / 1.1 / 1.2: gangrene NEC, atherosclerotic gangrene, diabetic gangrene.
        Category.GANGRENE: IcdRule(
            include=(
                "I96",
                *(f"I70.{block}6" for block in "2" + _GRAFTS),
                *(f"{dm}.52" for dm in _DIABETES),
            ),
            source="codes_and_epidemiology 1.1, 1.2, 1.6",
        ),
        # 1.6: osteomyelitis of the ankle and foot (22 leaves).
        Category.OSTEOMYELITIS: IcdRule(
            include=(*(f"M86.{kind}7" for kind in "0123456"), "M86.8X7"),
            source="codes_and_epidemiology 1.6, Appendix A (foot osteomyelitis, 22)",
        ),
        # 1.8: current tobacco use. Dependence "in remission" (6th character 1) and the
        # history code Z87.891 describe former use and are left out.
        Category.SMOKING: IcdRule(
            include=("F17.2", "Z72.0"),
            exclude=("F17.201", "F17.211", "F17.221", "F17.291"),
            source="codes_and_epidemiology 1.8 (current tobacco use)",
        ),
        # 1.8 / 1.2: CKD stages and ESRD, dialysis dependence, diabetic CKD.
        Category.CKD: IcdRule(
            include=("N18", "Z99.2", *(f"{dm}.22" for dm in _DIABETES)),
            source="codes_and_epidemiology 1.2, 1.8",
        ),
        # 1.7: acquired absence below or above the knee (status, not an event).
        # Z89.52-/Z89.62- (knee, hip) also cover joint-prosthesis explantation: left out.
        Category.MAJOR_AMPUTATION: IcdRule(
            include=("Z89.51", "Z89.61"),
            source="codes_and_epidemiology 1.7, 7 (prevalent major limb loss)",
        ),
        # 1.7: acquired absence of toe(s), foot or ankle (status, not an event).
        Category.MINOR_AMPUTATION: IcdRule(
            include=("Z89.41", "Z89.42", "Z89.43", "Z89.44"),
            source="codes_and_epidemiology 1.7, 7 (prevalent minor limb loss)",
        ),
    }
)


def _package() -> ModuleType:
    # Imported here, not at module level: loading the CMS tables takes about a second.
    return importlib.import_module("simple_icd_10_cm")


def canonical(code: str) -> str | None:
    """The dotted upper-case form of ``code`` ("i70221" -> "I70.221"), or None when it
    is not shaped like an ICD-10-CM code. Says nothing about whether the code exists."""
    text = code.strip().upper()
    if len(text) > 4 and text[3] == ".":
        text = text[:3] + text[4:]
    if _FORM.fullmatch(text) is None:
        return None
    return text if len(text) == 3 else f"{text[:3]}.{text[3:]}"


def exists(code: str) -> bool:
    """True when ``code`` (dotted, canonical) is a CMS category or subcategory."""
    icd = _package()
    return bool(icd.is_valid_item(code) and icd.is_category_or_subcategory(code))


def description(code: str) -> str | None:
    """The official CMS title of an existing canonical code, else None."""
    return str(_package().get_description(code)) if exists(code) else None


def _leaves_below(code: str) -> frozenset[str]:
    if not exists(code):
        raise ValueError(f"ICD-10-CM rule names {code!r}, which is not a CMS code")
    icd = _package()
    if icd.is_leaf(code):
        return frozenset({code})
    return frozenset(str(child) for child in icd.get_descendants(code) if icd.is_leaf(child))


def expand(rule: IcdRule) -> frozenset[str]:
    """The billable codes a rule stands for; ValueError if it names a non-CMS code."""
    included = frozenset().union(*(_leaves_below(code) for code in rule.include))
    excluded = frozenset().union(*(_leaves_below(code) for code in rule.exclude))
    return included - excluded


@dataclass(frozen=True)
class _Tables:
    value_sets: MappingProxyType[Category, frozenset[str]]
    index: MappingProxyType[str, frozenset[Category]]


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    value_sets = {category: expand(rule) for category, rule in ICD10CM_RULES.items()}
    by_leaf: defaultdict[str, set[Category]] = defaultdict(set)
    for category, leaves in value_sets.items():
        for leaf in leaves:
            by_leaf[leaf].add(category)
    index = {leaf: frozenset(categories) for leaf, categories in by_leaf.items()}
    index.update(_header_categories(index))
    return _Tables(value_sets=MappingProxyType(value_sets), index=MappingProxyType(index))


def _header_categories(
    leaf_index: dict[str, frozenset[Category]],
) -> dict[str, frozenset[Category]]:
    """A non-billable header code gets the categories shared by every leaf below it."""
    icd = _package()
    headers = {
        ancestor
        for leaf in leaf_index
        for ancestor in icd.get_ancestors(leaf)
        if icd.is_category_or_subcategory(ancestor)
    }
    result: dict[str, frozenset[Category]] = {}
    for header in headers:
        shared = frozenset(Category)
        for child in icd.get_descendants(header):
            if icd.is_leaf(child):
                shared &= leaf_index.get(child, frozenset())
                if not shared:
                    break
        if shared:
            result[str(header)] = shared
    return result


def value_set(category: Category) -> frozenset[str]:
    """Billable ICD-10-CM codes (dotted) of ``category``; empty if it has no rule."""
    return _tables().value_sets.get(category, frozenset())


def categories(code: str) -> frozenset[Category]:
    """Categories of a canonical code: its own for a leaf, the shared ones of its
    leaves for a header code, empty when the code is in no value set."""
    return _tables().index.get(code, frozenset())


def rule_source(category: Category) -> str:
    return ICD10CM_RULES[category].source
