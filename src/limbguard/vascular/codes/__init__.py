"""Code value sets: which clinical categories an ICD-10-CM, CPT, SNOMED CT or LOINC
code belongs to, and the value sets themselves.

Contract (DESIGN.md, "Contract of limbguard.vascular"):

* ``categorize(system, code)`` returns a frozenset of ``Category`` values (plain
  strings such as ``"pad"``). ``system`` is ``"ICD10CM"``, ``"CPT"``, ``"SNOMED"`` or
  ``"LOINC"``; anything else raises ``InvalidInput`` naming ``system``. A code that is
  malformed, unknown or in no value set gives an empty frozenset; a code that is not a
  string raises ``InvalidInput`` naming ``code``.
* ICD-10-CM codes are accepted with or without the dot and in any case. A non-billable
  header code (``I70.22``) gets the categories shared by every billable code below it.
* ``value_set(category, system)`` returns the codes in canonical form (ICD-10-CM dotted
  and billable only); empty where the reference gives no verified code.

Each code system has one explicit table (``icd10cm.ICD10CM_RULES``, ``cpt.CPT_TABLE``,
``snomed.SNOMED_TABLE``, ``loinc.LOINC_TABLE``). ICD-10-CM rules are expanded against
the official CMS tables on first use (about a second), then cached.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Protocol

from limbguard.vascular._base import Explained, InvalidInput
from limbguard.vascular.codes import cpt, icd10cm, loinc, snomed
from limbguard.vascular.codes.vocabulary import Category, CodeSystem

__all__ = [
    "Category",
    "CodeSystem",
    "categorize",
    "describe",
    "label",
    "normalize",
    "value_set",
]


class _Entry(Protocol):
    @property
    def categories(self) -> frozenset[Category]: ...


# The explicit tables of the systems other than ICD-10-CM (which expands rules).
_TABLES: Final[Mapping[CodeSystem, Mapping[str, _Entry]]] = MappingProxyType(
    {
        CodeSystem.CPT: cpt.CPT_TABLE,
        CodeSystem.SNOMED: snomed.SNOMED_TABLE,
        CodeSystem.LOINC: loinc.LOINC_TABLE,
    }
)


def _system(system: object) -> CodeSystem:
    if isinstance(system, str):
        try:
            return CodeSystem(system)
        except ValueError:
            pass
    known = ", ".join(member.value for member in CodeSystem)
    raise InvalidInput("system", f"must be one of {known}; got {system!r}")


def _category(category: object) -> Category:
    if isinstance(category, str):
        try:
            return Category(category)
        except ValueError:
            pass
    raise InvalidInput("category", f"must be one of {', '.join(Category)}; got {category!r}")


def _canonical(system: CodeSystem, code: object) -> str | None:
    if not isinstance(code, str):
        raise InvalidInput("code", f"must be a string, got {code!r}")
    if system is CodeSystem.ICD10CM:
        return icd10cm.canonical(code)
    if system is CodeSystem.CPT:
        return cpt.canonical(code)
    if system is CodeSystem.SNOMED:
        return snomed.canonical(code)
    return loinc.canonical(code)


def _lookup(system: CodeSystem, code: str) -> frozenset[Category]:
    if system is CodeSystem.ICD10CM:
        return icd10cm.categories(code)
    entry = _TABLES[system].get(code)
    return entry.categories if entry is not None else frozenset()


def categorize(system: str, code: str) -> frozenset[str]:
    """Categories of ``code`` in ``system``; empty for unknown or invalid codes."""
    checked = _system(system)
    canonical = _canonical(checked, code)
    return frozenset() if canonical is None else _lookup(checked, canonical)


def normalize(system: str, code: str) -> str | None:
    """The canonical form of a well-formed code, else None.

    ICD-10-CM: dotted, upper case, and present in the CMS tables (any category or
    subcategory). CPT: five characters. SNOMED CT: a concept id with a valid Verhoeff
    check digit. LOINC: a valid mod-10 check digit. CPT, SNOMED CT and LOINC are
    checked for form only: LimbGuard holds no licensed copy of those code systems.
    """
    checked = _system(system)
    canonical = _canonical(checked, code)
    if canonical is None or (checked is CodeSystem.ICD10CM and not icd10cm.exists(canonical)):
        return None
    return canonical


def value_set(category: str, system: str) -> frozenset[str]:
    """The codes of ``category`` in ``system``, in canonical form."""
    wanted = _category(category)
    checked = _system(system)
    if checked is CodeSystem.ICD10CM:
        return icd10cm.value_set(wanted)
    table = _TABLES[checked]
    return frozenset(code for code, entry in table.items() if wanted in entry.categories)


def label(system: str, code: str) -> str | None:
    """A short human label: the CMS title (ICD-10-CM), LimbGuard's own words (CPT),
    the reference's term (SNOMED CT, LOINC); None for codes not known here."""
    checked = _system(system)
    canonical = _canonical(checked, code)
    if canonical is None:
        return None
    if checked is CodeSystem.ICD10CM:
        return icd10cm.description(canonical)
    if checked is CodeSystem.CPT:
        cpt_entry = cpt.CPT_TABLE.get(canonical)
        return cpt_entry.label if cpt_entry is not None else None
    if checked is CodeSystem.SNOMED:
        snomed_entry = snomed.SNOMED_TABLE.get(canonical)
        return snomed_entry.term if snomed_entry is not None else None
    loinc_entry = loinc.LOINC_TABLE.get(canonical)
    return loinc_entry.display if loinc_entry is not None else None


def _source(system: CodeSystem, category: Category) -> str:
    if system is CodeSystem.ICD10CM:
        return icd10cm.rule_source(category)
    return {CodeSystem.CPT: cpt.SOURCE, CodeSystem.SNOMED: snomed.SOURCE}.get(system, loinc.SOURCE)


def describe(system: str, code: str) -> Explained[frozenset[str]]:
    """``categorize`` with the reasons (label and table) and the sources behind it."""
    checked = _system(system)
    canonical = _canonical(checked, code)
    found = frozenset() if canonical is None else _lookup(checked, canonical)
    if canonical is None:
        reasons: tuple[str, ...] = (f"{code!r} is not a well-formed {checked} code",)
    elif not found:
        reasons = (f"{checked} {canonical} is in no LimbGuard value set",)
    else:
        name = label(checked, canonical) or canonical
        reasons = tuple(
            f"{checked} {canonical} ({name}) is in {category}" for category in sorted(found)
        )
    sources = sorted({_source(checked, category) for category in found})
    if sources and checked is CodeSystem.ICD10CM:
        sources.append(icd10cm.CMS_RELEASE)
    return Explained(
        value=frozenset(found),
        reasons=reasons,
        source="; ".join(sources) or "LimbGuard code tables (codes_and_epidemiology 1-4)",
    )
