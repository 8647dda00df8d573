"""Small builders over sqlglot's expression tree, so the compiler reads like the SQL it
writes. Every node here is dialect-neutral: sqlglot renders it for DuckDB or Spark
(lambda syntax, ``UNNEST``/``EXPLODE``, 1- or 0-based subscripts, ``TRY_ELEMENT_AT``).
The one function sqlglot does not model, raising an error from inside a query, is named
per dialect in `raise_error`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import sqlglot.expressions as exp
from sqlglot.dialects.dialect import Dialect

DIALECTS: Final = ("duckdb", "spark")
# DuckDB: error(message); Spark SQL: raise_error(message). Both stop the query.
_RAISE: Final = {"duckdb": "ERROR", "spark": "RAISE_ERROR"}

DType = exp.DataType.Type


def ident(name: str) -> exp.Identifier:
    return exp.Identifier(this=name, quoted=True)


def var(name: str) -> exp.Identifier:
    """A lambda variable (generated names: never quoted, never a keyword)."""
    return exp.Identifier(this=name, quoted=False)


def column(name: str, table: str | None = None) -> exp.Column:
    return exp.Column(this=ident(name), table=exp.Identifier(this=table) if table else None)


def dot(base: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=base, expression=ident(name))


def string(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def number(value: int | float) -> exp.Expression:
    return exp.Literal.number(value)


def boolean(value: bool) -> exp.Boolean:
    return exp.Boolean(this=value)


def null() -> exp.Null:
    return exp.Null()


def scalar_type(name: str) -> exp.DataType:
    return exp.DataType.build(name)


def array_type(inner: exp.DataType) -> exp.DataType:
    return exp.DataType(this=DType.ARRAY, expressions=[inner], nested=True)


def struct_type(fields: Sequence[tuple[str, exp.DataType]]) -> exp.DataType:
    return exp.DataType(
        this=DType.STRUCT,
        expressions=[exp.ColumnDef(this=ident(name), kind=kind) for name, kind in fields],
        nested=True,
    )


def cast(value: exp.Expression, to: exp.DataType) -> exp.Cast:
    return exp.Cast(this=value, to=to)


def typed_null(to: exp.DataType) -> exp.Cast:
    return cast(null(), to)


def empty_array(element: exp.DataType) -> exp.Cast:
    return cast(exp.Array(expressions=[]), array_type(element))


def array(*items: exp.Expression) -> exp.Array:
    return exp.Array(expressions=list(items))


def struct(fields: Iterable[tuple[str, exp.Expression]]) -> exp.Struct:
    return exp.Struct(
        expressions=[exp.PropertyEQ(this=ident(name), expression=value) for name, value in fields]
    )


def lam(body: exp.Expression, *names: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[var(name) for name in names])


def transform(values: exp.Expression, name: str, body: exp.Expression) -> exp.Transform:
    return exp.Transform(this=values, expression=lam(body, name))


def transform_indexed(
    values: exp.Expression, name: str, index: str, body: exp.Expression
) -> exp.Transform:
    return exp.Transform(this=values, expression=lam(body, name, index))


def keep(values: exp.Expression, name: str, condition: exp.Expression) -> exp.ArrayFilter:
    return exp.ArrayFilter(this=values, expression=lam(condition, name))


def flatten(values: exp.Expression) -> exp.Flatten:
    return exp.Flatten(this=values)


def size(values: exp.Expression) -> exp.ArraySize:
    return exp.ArraySize(this=values)


def concat(first: exp.Expression, *rest: exp.Expression) -> exp.Expression:
    if not rest:
        return first
    return exp.ArrayConcat(this=first, expressions=list(rest))


def item(values: exp.Expression, index: exp.Expression) -> exp.Bracket:
    """``values[index]`` with a 0-based index; NULL (not an error) when out of range.
    Spark wants an INT subscript, so a computed one is cast."""
    if not isinstance(index, exp.Literal):
        index = cast(index, scalar_type("INT"))
    return exp.Bracket(this=values, expressions=[index], offset=0, safe=True)


def is_null(value: exp.Expression) -> exp.Is:
    return exp.Is(this=value, expression=exp.Null())


def not_null(value: exp.Expression) -> exp.Not:
    return exp.Not(this=is_null(value))


def case(
    whens: Sequence[tuple[exp.Expression, exp.Expression]], default: exp.Expression | None = None
) -> exp.Case:
    node = exp.Case()
    for condition, then in whens:
        node = node.when(condition, then)
    return node.else_(default) if default is not None else node


def coalesce(first: exp.Expression, *rest: exp.Expression) -> exp.Coalesce:
    return exp.Coalesce(this=first, expressions=list(rest))


def raise_error(message: str, dialect: str) -> exp.Anonymous:
    return exp.Anonymous(this=_RAISE[dialect], expressions=[string(message)])


def lambda_index_base(dialect: str) -> int:
    """Where a lambda's index argument starts: 1 in DuckDB, 0 in Spark (sqlglot keeps
    the index as written, but records each dialect's subscript base)."""
    return int(Dialect.get_or_raise(dialect).INDEX_OFFSET)


def render(node: exp.Expression, dialect: str) -> str:
    return node.sql(dialect=dialect, identify=False)
