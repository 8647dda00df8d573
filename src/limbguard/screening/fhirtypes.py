"""FHIR R4 element types for the view compiler, read from the `fhir.resources` R4B models.

The compiler needs, for each element it reads, the FHIR type, whether it repeats, and
for a choice element (``value[x]``) the JSON name of each typed variant. These come from
the pinned `fhir.resources` models (``fhir.resources.R4B``: R4B is wire-compatible with
R4 for the resources screened; reference/interop.md section D), so the shape of the
data is known before a byte is read and each engine reads exactly the elements a view
uses, with an explicit schema (no sampling, unknown fields ignored).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class

# FHIR primitive types, by the name of the pydantic annotation class of fhir.resources.
_PRIMITIVE_BY_ANNOTATION: Final = {
    "Id": "id",
    "Uri": "uri",
    "Url": "url",
    "Canonical": "canonical",
    "Oid": "oid",
    "UuidVersion": "uuid",
    "Uuid": "uuid",
    "Code": "code",
    "String": "string",
    "Markdown": "markdown",
    "Date": "date",
    "DateTime": "dateTime",
    "Instant": "instant",
    "Time": "time",
    "Integer": "integer",
    "Integer64": "integer64",
    "PositiveInt": "positiveInt",
    "UnsignedInt": "unsignedInt",
    "Decimal": "decimal",
    "EncodedBytes": "base64Binary",
    "Base64Binary": "base64Binary",
    "Xhtml": "xhtml",
    "Boolean": "boolean",
}
PRIMITIVES: Final = frozenset(_PRIMITIVE_BY_ANNOTATION.values())
# How each primitive is held in SQL. Dates and times stay text, exactly as written (a
# partial date such as "2019" must not become 2019-01-01), and so do codes and strings.
SQL_TYPE: Final = {
    "boolean": "BOOLEAN",
    "integer": "BIGINT",
    "integer64": "BIGINT",
    "positiveInt": "BIGINT",
    "unsignedInt": "BIGINT",
    "decimal": "DOUBLE",
}


@dataclass(frozen=True)
class FhirType:
    """A FHIR type: a primitive (``code`` such as "string") or a complex type with its
    model class (``code`` such as "HumanName" or "PatientContact")."""

    code: str
    model: Any = None

    @property
    def primitive(self) -> bool:
        return self.model is None

    def sql_type(self) -> str:
        return SQL_TYPE.get(self.code, "VARCHAR")


BOOLEAN: Final = FhirType("boolean")
STRING: Final = FhirType("string")
INTEGER: Final = FhirType("integer")
DECIMAL: Final = FhirType("decimal")


@dataclass(frozen=True)
class Element:
    """One element of a complex type. For a choice element, ``choices`` maps each
    allowed FHIR type code to (JSON name, type); ``json_name`` and ``type`` are unset."""

    name: str
    many: bool
    json_name: str = ""
    type: FhirType | None = None
    choices: tuple[tuple[str, str, FhirType], ...] = ()

    def choice(self, type_code: str) -> tuple[str, FhirType] | None:
        for code, json_name, fhir_type in self.choices:
            if code == type_code or code.lower() == type_code.lower():
                return json_name, fhir_type
        return None


def _type_of(annotation: Any) -> tuple[FhirType, bool]:
    many = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        many = True
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is typing.Annotated:
        meta = typing.get_args(annotation)[1]
        name = type(meta).__name__
        return FhirType(_PRIMITIVE_BY_ANNOTATION.get(name, "string")), many
    if annotation is bool:
        return BOOLEAN, many
    klass = getattr(annotation, "_model_klass", None)
    if isinstance(klass, str):
        module, _, name = klass.rpartition(".")
        return FhirType(name, _model(module, name)), many
    return STRING, many


@cache
def _model(module: str, name: str) -> Any:
    import importlib

    return getattr(importlib.import_module(module), name)


@cache
def elements(model: Any) -> dict[str, Element]:
    """The elements of a complex type, by FHIRPath name (choice elements by base name)."""
    found: dict[str, Element] = {}
    choices: dict[str, list[tuple[str, str, FhirType]]] = {}
    for field in model.model_fields.values():
        extra = field.json_schema_extra or {}
        if not isinstance(extra, dict) or not extra.get("element_property"):
            continue
        json_name = field.alias or ""
        fhir_type, many = _type_of(field.annotation)
        group = extra.get("one_of_many")
        if isinstance(group, str) and group:
            suffix = json_name[len(group) :]
            code = suffix[:1].lower() + suffix[1:] if fhir_type.primitive else suffix
            choices.setdefault(group, []).append((code, json_name, fhir_type))
            continue
        found[json_name] = Element(json_name, many, json_name, fhir_type)
    for group, options in choices.items():
        found[group] = Element(group, False, choices=tuple(options))
    return found


@cache
def resource(name: str) -> FhirType:
    """The type of a resource named in a view; ValueError for an unknown name."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"resource: not a FHIR resource type: {name!r}")
    try:
        model = get_fhir_model_class(name)
    except (KeyError, ValueError, AttributeError, ImportError) as error:
        raise ValueError(f"resource: not a FHIR R4 resource type: {name!r}") from error
    return FhirType(name, model)
