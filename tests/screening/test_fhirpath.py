"""The FHIRPath parser: precedence (FHIRPath N1, "Operator precedence"), literals, and
that any text either parses or raises FhirPathError (never another exception)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.screening import fhirpath as fp


def test_precedence_and_binds_tighter_than_or() -> None:
    tree = fp.parse("a or b and c = 'x'")
    assert isinstance(tree, fp.Binary)
    assert tree.op == "or"
    assert isinstance(tree.right, fp.Binary)
    assert tree.right.op == "and"
    assert isinstance(tree.right.right, fp.Binary)
    assert tree.right.right.op == "="


def test_invocations_indexes_and_constants() -> None:
    tree = fp.parse("name.where(use = %name_use).given[0]")
    assert isinstance(tree, fp.Index)
    assert tree.index == fp.Literal(0, "integer")
    member = tree.target
    assert isinstance(member, fp.Member)
    assert member.name == "given"
    call = member.target
    assert isinstance(call, fp.Call)
    assert call.name == "where"
    assert call.args == (fp.Binary("=", fp.Identifier("use"), fp.Constant("name_use")),)


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("'it\\'s'", fp.Literal("it's", "string")),
        ("1.5", fp.Literal(1.5, "decimal")),
        ("true", fp.Literal(True, "boolean")),
        ("@2020-01-02", fp.Literal("2020-01-02", "date")),
        ("{}", fp.Literal(None, "empty")),
    ],
)
def test_literals(text: str, literal: fp.Literal) -> None:
    assert fp.parse(text) == literal


@pytest.mark.parametrize("text", ["@@", "name.", "where(", "a and", "", "  ", "1 +"])
def test_bad_expressions_are_refused(text: str) -> None:
    with pytest.raises(fp.FhirPathError):
        fp.parse(text)


@given(st.text(alphabet="ab.()[]=<>'%$ 01,|andorwhe", max_size=30))
def test_any_text_parses_or_raises_fhirpath_error(text: str) -> None:
    with contextlib.suppress(fp.FhirPathError):
        fp.parse(text)
