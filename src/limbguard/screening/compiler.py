"""Compile a SQL on FHIR v2 ViewDefinition into one SQL query for DuckDB or Spark.

Spec: SQL on FHIR v2 (HL7, https://sql-on-fhir.org/ig/2.0.0), StructureDefinition
ViewDefinition and its notes: ``select`` / ``column`` / ``forEach`` / ``forEachOrNull`` /
``unionAll`` / ``repeat`` / ``where`` / ``constant``, ``%rowIndex``, and the required
functions ``getResourceKey()`` / ``getReferenceKey([type])``.

How: the compiler is type-directed. The FHIR R4 types (`fhirtypes`) say, for every
element a path touches, its type and whether it repeats, so the compiler

* derives the schema to read (only the elements the view uses) — `CompiledView.source`;
* keeps FHIRPath's collection semantics exactly: a repeating value is a SQL array that
  is never NULL and holds no NULLs, a single value is a nullable scalar;
* builds each ``select`` as an array of row structs per resource (``forEach`` is a
  ``transform`` + ``flatten``, ``unionAll`` an array concatenation, sibling selects a
  cross product), unnested once at the top; a view without ``forEach``/``unionAll``/
  ``repeat`` becomes a plain projection.

The tree is sqlglot's; `sqlast.render` writes it in the engine's dialect. Views that
break the spec's rules (no resource, bad FHIRPath, unknown element, non-boolean
``where``, mismatched ``unionAll`` columns, unknown constant) raise `ViewError`; a column
that is not a collection but meets several values stops the query at run time, as the
spec requires.
"""

from __future__ import annotations

import itertools
import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import sqlglot.expressions as exp

from limbguard.screening import fhirpath as fp
from limbguard.screening import fhirtypes as ft
from limbguard.screening import sqlast as q

ROW_ALIAS: Final = "r"
MALFORMED_COLUMN: Final = "_malformed"
RESOURCE_TYPE_COLUMN: Final = "resourceType"
COLUMN_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
REPEAT_DEPTH: Final = 8  # levels unrolled for `repeat`; deeper data stops the query
# FHIR ids: [A-Za-z0-9\-\.]{1,64} (R4 datatypes, id). A reference "Type/id" may be
# absolute (.../Type/id) and versioned (.../_history/n).
_REFERENCE: Final = r"(?:^|/)({type})/([A-Za-z0-9\-\.]{{1,64}})(?:/_history/[^/]+)?$"
_CONSTANT_TYPES: Final = {
    "valueBase64Binary": "base64Binary",
    "valueBoolean": "boolean",
    "valueCanonical": "canonical",
    "valueCode": "code",
    "valueDate": "date",
    "valueDateTime": "dateTime",
    "valueDecimal": "decimal",
    "valueId": "id",
    "valueInstant": "instant",
    "valueInteger": "integer",
    "valueInteger64": "integer64",
    "valueOid": "oid",
    "valuePositiveInt": "positiveInt",
    "valueString": "string",
    "valueTime": "time",
    "valueUnsignedInt": "unsignedInt",
    "valueUri": "uri",
    "valueUrl": "url",
    "valueUuid": "uuid",
}


class ViewError(ValueError):
    """A ViewDefinition that is invalid or uses what this compiler does not support."""


# --- the schema a view reads ----------------------------------------------------------


@dataclass
class SchemaNode:
    """An element position the view reads: its type, whether it repeats, the children
    read below it. ``raw`` marks a cut-off recursion read as JSON text."""

    fhir_type: ft.FhirType
    many: bool
    children: dict[str, SchemaNode] = field(default_factory=dict)
    raw: bool = False

    def child(self, name: str, fhir_type: ft.FhirType, many: bool) -> SchemaNode:
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = SchemaNode(fhir_type, many)
        return node

    def element_type(self) -> exp.DataType:
        if self.raw or self.fhir_type.primitive:
            return q.scalar_type("VARCHAR" if self.raw else self.fhir_type.sql_type())
        # A complex value nobody looks inside still needs one field: every FHIR element
        # has `id`, so the struct keeps one slot per element (counts stay right).
        fields = sorted(self.children.items()) or [("id", SchemaNode(ft.STRING, False))]
        return q.struct_type([(name, node.column_type()) for name, node in fields])

    def column_type(self) -> exp.DataType:
        inner = self.element_type()
        return q.array_type(inner) if self.many and not self.raw else inner


# --- compiled values ------------------------------------------------------------------


@dataclass(frozen=True)
class Val:
    """A compiled FHIRPath value: an array when ``many`` (never NULL, no NULL items),
    else a nullable scalar. ``sql`` is None only for the resource itself (the row)."""

    sql: exp.Expression | None
    type: ft.FhirType | None
    many: bool
    schema: SchemaNode | None = None
    choice: ft.Element | None = None  # a choice element waiting for ofType()
    guard: exp.Expression | None = None  # the resource, filtered by where()

    def sql_type(self) -> exp.DataType:
        if self.schema is not None:
            return self.schema.element_type()
        return q.scalar_type(self.type.sql_type() if self.type else "VARCHAR")


@dataclass
class _Scope:
    dialect: str
    constants: Mapping[str, Val]
    names: Iterator[int]
    row_index: exp.Expression
    root: Val
    repeat_depth: int = REPEAT_DEPTH
    lazy: dict[int, SchemaNode] = field(default_factory=dict)

    def fresh(self, stem: str = "x") -> str:
        return f"{stem}{next(self.names)}"


@dataclass(frozen=True)
class OutColumn:
    name: str
    type: exp.DataType
    collection: bool
    fhir_type: str
    row_index: bool = False


@dataclass(frozen=True)
class CompiledView:
    """A view compiled for one dialect: the elements to read (``source``, the resource's
    schema) and ``select(table)``, the query over a table holding them."""

    resource: str
    name: str
    dialect: str
    source: SchemaNode
    columns: tuple[OutColumn, ...]
    _query: exp.Select

    def source_columns(self) -> list[tuple[str, exp.DataType]]:
        """Top-level columns to read, ``resourceType`` first."""
        fields = [(RESOURCE_TYPE_COLUMN, q.scalar_type("VARCHAR"))]
        fields += [
            (name, node.column_type())
            for name, node in sorted(self.source.children.items())
            if name != RESOURCE_TYPE_COLUMN
        ]
        return fields

    def select(self, table: str) -> exp.Select:
        query = self._query.copy()
        for node in query.find_all(exp.Table):
            if node.name == "__source__":
                node.set("this", exp.Identifier(this=table, quoted=False))
        return query

    def sql(self, table: str) -> str:
        return q.render(self.select(table), self.dialect)


# --- the compiler ---------------------------------------------------------------------


def _fail(message: str) -> ViewError:
    return ViewError(message)


def _parse(path: object, where: str) -> fp.Node:
    try:
        return fp.parse(path)
    except fp.FhirPathError as error:
        raise _fail(f"{where}: {error}") from None


_LAZY: Final = "limbguard_schema"


def _typed_by(node: SchemaNode, scope: _Scope, *, array: bool) -> exp.Cast:
    """A typed empty array (or NULL) of ``node``'s element type. The type is filled in
    when the whole view is compiled (`_settle_types`): paths read later may still add
    fields to ``node``, and Spark (unlike DuckDB) wants exactly matching struct types."""
    cast = (
        q.empty_array(q.scalar_type("VARCHAR")) if array else q.typed_null(q.scalar_type("VARCHAR"))
    )
    scope.lazy[id(node)] = node
    cast.meta[_LAZY] = (id(node), array)
    return cast


def _settle_types(query: exp.Expression, scope: _Scope) -> None:
    for cast in query.find_all(exp.Cast):
        mark = cast.meta.get(_LAZY)
        if mark is not None:
            node = scope.lazy[mark[0]]
            element = node.element_type()
            cast.set("to", q.array_type(element) if mark[1] else element)


def _empty(val: Val, scope: _Scope) -> exp.Expression:
    if val.schema is not None:
        return _typed_by(val.schema, scope, array=True)
    return q.empty_array(val.sql_type())


def _many_sql(val: Val, scope: _Scope) -> exp.Expression:
    """The value as an array (never NULL)."""
    if val.sql is None:
        raise _fail("the resource itself cannot be used as a value here")
    if val.many:
        return val.sql
    return q.case([(q.is_null(val.sql), _empty(val, scope))], q.array(val.sql))


def _single_sql(val: Val, scope: _Scope, what: str) -> exp.Expression:
    """The value as a scalar; several values stop the query (FHIRPath singleton rule)."""
    if val.sql is None:
        raise _fail("the resource itself cannot be used as a value here")
    if not val.many:
        return val.sql
    return q.case(
        [
            (
                exp.GT(this=q.size(val.sql), expression=q.number(1)),
                q.raise_error(what, scope.dialect),
            )
        ],
        q.item(val.sql, q.number(0)),
    )


def _as_many(val: Val, scope: _Scope) -> Val:
    return val if val.many else replace(val, sql=_many_sql(val, scope), many=True)


def _primitive(val: Val) -> bool:
    return val.type is not None and val.type.primitive


def _access(
    base: Val, element: ft.Element, json_name: str, fhir_type: ft.FhirType, scope: _Scope
) -> Val:
    if base.schema is None:
        raise _fail(f"{json_name}: cannot read an element of a primitive value")
    many = element.many
    node = base.schema.child(json_name, fhir_type, many)
    if base.sql is None:  # the resource row: a column
        sql: exp.Expression = q.column(json_name, ROW_ALIAS)
        if base.guard is not None:
            sql = q.case([(base.guard, sql)])
        if many:
            sql = q.coalesce(sql, _typed_by(node, scope, array=True))
            if fhir_type.primitive:
                name = scope.fresh()
                sql = q.keep(sql, name, q.not_null(q.var(name)))
        return Val(sql, fhir_type, many, node)
    if not base.many:
        sql = q.dot(base.sql, json_name)
        if many:
            sql = q.coalesce(sql, _typed_by(node, scope, array=True))
            if fhir_type.primitive:
                name = scope.fresh()
                sql = q.keep(sql, name, q.not_null(q.var(name)))
        return Val(sql, fhir_type, many, node)
    name = scope.fresh()
    inner = q.dot(q.var(name), json_name)
    if many:
        present = q.keep(base.sql, name, q.not_null(inner))
        sql = q.flatten(q.transform(present, name, q.dot(q.var(name), json_name)))
        if fhir_type.primitive:
            other = scope.fresh()
            sql = q.keep(sql, other, q.not_null(q.var(other)))
    else:
        other = scope.fresh()
        sql = q.keep(q.transform(base.sql, name, inner), other, q.not_null(q.var(other)))
    return Val(sql, fhir_type, True, node)


def _member(base: Val, name: str, scope: _Scope) -> Val:
    if base.choice is not None:
        raise _fail(f"{base.choice.name}: a choice element needs ofType() before .{name}")
    if base.type is None or base.type.primitive:
        raise _fail(f"{name}: not an element of a primitive value")
    element = ft.elements(base.type.model).get(name)
    if element is None:
        raise _fail(f"{name}: not an element of {base.type.code}")
    if element.choices:
        return replace(base, choice=element)
    assert element.type is not None
    return _access(base, element, element.json_name, element.type, scope)


def _of_type(base: Val, type_name: str, scope: _Scope) -> Val:
    if base.choice is not None:
        found = base.choice.choice(type_name)
        if found is None:
            return Val(q.null(), None, False)
        json_name, fhir_type = found
        return _access(replace(base, choice=None), base.choice, json_name, fhir_type, scope)
    if base.type is not None and base.type.code.lower() == type_name.lower():
        return base
    return Val(_empty(base, scope) if base.many else q.null(), base.type, base.many)


def _lambda(base: Val, scope: _Scope) -> tuple[str, Val]:
    name = scope.fresh()
    return name, Val(q.var(name), base.type, False, base.schema)


def _where(base: Val, criteria: fp.Node, scope: _Scope) -> Val:
    if base.sql is None:  # where() on the resource itself
        condition = _boolean(_compile(criteria, base, scope), scope, "where()")
        guard = condition if base.guard is None else exp.And(this=base.guard, expression=condition)
        return replace(base, guard=guard)
    if base.many:
        name, item = _lambda(base, scope)
        condition = _boolean(_compile(criteria, item, scope), scope, "where()")
        return replace(base, sql=q.keep(base.sql, name, condition))
    condition = _boolean(_compile(criteria, base, scope), scope, "where()")
    return replace(base, sql=q.case([(condition, base.sql)]))


def _boolean(val: Val, scope: _Scope, what: str) -> exp.Expression:
    if val.type is not None and val.type.code != "boolean":
        raise _fail(f"{what}: expected a boolean, got {val.type.code}")
    return _single_sql(val, scope, f"{what}: several values where one boolean was expected")


def _exists(val: Val) -> exp.Expression:
    if val.sql is None:
        return q.boolean(True) if val.guard is None else q.coalesce(val.guard, q.boolean(False))
    if val.many:
        return exp.GT(this=q.size(val.sql), expression=q.number(0))
    return q.not_null(val.sql)


def _reference_key(base: Val, args: Sequence[fp.Node], scope: _Scope) -> Val:
    if base.type is None or base.type.code != "Reference":
        raise _fail("getReferenceKey(): only on a Reference")
    if len(args) > 1:
        raise _fail("getReferenceKey(): at most one type")
    wanted = "[A-Za-z]+"
    if args:
        if not isinstance(args[0], fp.Identifier):
            raise _fail("getReferenceKey(): the argument is a resource type name")
        wanted = re.escape(args[0].name)
    pattern = q.string(_REFERENCE.format(type=wanted))
    reference = _member(base, "reference", scope)

    def key(value: exp.Expression) -> exp.Expression:
        extracted = exp.RegexpExtract(this=value, expression=pattern, group=q.number(2))
        return exp.Nullif(this=extracted, expression=q.string(""))

    if reference.many:
        assert reference.sql is not None
        name = scope.fresh()
        other = scope.fresh()
        keys = q.keep(
            q.transform(reference.sql, name, key(q.var(name))), other, q.not_null(q.var(other))
        )
        return Val(keys, ft.STRING, True)
    assert reference.sql is not None
    return Val(key(reference.sql), ft.STRING, False)


def _call(node: fp.Call, focus: Val, scope: _Scope) -> Val:
    base = focus if node.target is None else _compile(node.target, focus, scope)
    name, args = node.name, node.args

    def arity(*allowed: int) -> None:
        if len(args) not in allowed:
            raise _fail(f"{name}(): wrong number of arguments")

    if name == "ofType":
        arity(1)
        if not isinstance(args[0], fp.Identifier):
            raise _fail("ofType(): the argument is a type name")
        return _of_type(base, args[0].name, scope)
    if base.choice is not None:
        raise _fail(f"{base.choice.name}: a choice element needs ofType() before {name}()")
    if name == "where":
        arity(1)
        return _where(base, args[0], scope)
    if name in ("exists", "empty"):
        arity(0, 1)
        target = _where(base, args[0], scope) if args else base
        found = _exists(target)
        return Val(found if name == "exists" else exp.Not(this=found), ft.BOOLEAN, False)
    if name == "count":
        arity(0)
        if base.sql is None:
            return Val(q.number(1), ft.INTEGER, False)
        sql = (
            q.size(base.sql)
            if base.many
            else q.case([(q.is_null(base.sql), q.number(0))], q.number(1))
        )
        return Val(sql, ft.INTEGER, False)
    if name in ("first", "last", "single"):
        arity(0)
        if not base.many:
            return base
        assert base.sql is not None
        if name == "first":
            index: exp.Expression = q.number(0)
        elif name == "last":
            index = exp.Sub(this=q.size(base.sql), expression=q.number(1))
        else:
            return replace(
                base, sql=_single_sql(base, scope, "single(): several values"), many=False
            )
        return replace(base, sql=q.item(base.sql, index), many=False)
    if name == "not":
        arity(0)
        return Val(exp.Not(this=_boolean(base, scope, "not()")), ft.BOOLEAN, False)
    if name == "join":
        arity(0, 1)
        separator: exp.Expression = q.string("")
        if args:
            sep = _compile(args[0], scope.root, scope)
            separator = _single_sql(sep, scope, "join(): one separator")
        values = _many_sql(base, scope)
        return Val(exp.ArrayToString(this=values, expression=separator), ft.STRING, False)
    if name == "getResourceKey":
        arity(0)
        if base.sql is not None:
            raise _fail("getResourceKey(): only on the resource")
        return _member(base, "id", scope)
    if name == "getReferenceKey":
        return _reference_key(base, args, scope)
    if name == "extension":
        arity(1)
        url = _compile(args[0], scope.root, scope)
        extensions = _member(base, "extension", scope)
        name_ = scope.fresh()
        url_sql = _single_sql(url, scope, "extension(): one url")
        condition = exp.EQ(this=q.dot(q.var(name_), "url"), expression=url_sql)
        if extensions.schema is not None:
            extensions.schema.child("url", ft.FhirType("uri"), False)
        return replace(extensions, sql=q.keep(_many_sql(extensions, scope), name_, condition))
    if name in ("lowBoundary", "highBoundary"):
        raise _fail(f"{name}(): not supported (experimental in SQL on FHIR v2)")
    raise _fail(f"{name}(): not a supported function")


def _literal(node: fp.Literal) -> Val:
    if node.kind == "empty" or node.value is None:
        return Val(q.null(), None, False)
    if node.kind == "boolean":
        return Val(q.boolean(bool(node.value)), ft.BOOLEAN, False)
    if node.kind == "integer":
        assert isinstance(node.value, int)
        return Val(q.number(node.value), ft.INTEGER, False)
    if node.kind == "decimal":
        assert isinstance(node.value, float)
        return Val(q.cast(q.number(node.value), q.scalar_type("DOUBLE")), ft.DECIMAL, False)
    return Val(q.string(str(node.value)), ft.FhirType(node.kind), False)


def _comparable(val: Val, scope: _Scope, what: str) -> exp.Expression:
    return _single_sql(val, scope, f"{what}: several values where one was expected")


def _equality(left: Val, right: Val, scope: _Scope) -> exp.Expression:
    if not left.many and not right.many:
        assert left.sql is not None
        assert right.sql is not None
        return exp.EQ(this=left.sql, expression=right.sql)
    a, b = _many_sql(left, scope), _many_sql(right, scope)
    empty = exp.Or(
        this=exp.EQ(this=q.size(a), expression=q.number(0)),
        expression=exp.EQ(this=q.size(b), expression=q.number(0)),
    )
    return q.case(
        [(empty, exp.Cast(this=q.null(), to=q.scalar_type("BOOLEAN")))],
        exp.EQ(this=a, expression=b),
    )


_ARITHMETIC: Final = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div}
_COMPARE: Final = {"<": exp.LT, ">": exp.GT, "<=": exp.LTE, ">=": exp.GTE}


def _binary(node: fp.Binary, focus: Val, scope: _Scope) -> Val:
    left = _compile(node.left, focus, scope)
    right = _compile(node.right, focus, scope)
    op = node.op
    if op in ("=", "!="):
        equal = _equality(left, right, scope)
        return Val(equal if op == "=" else exp.Not(this=equal), ft.BOOLEAN, False)
    if op in _COMPARE:
        a, b = _comparable(left, scope, op), _comparable(right, scope, op)
        compared = typing.cast(exp.Expression, _COMPARE[op](this=a, expression=b))
        return Val(compared, ft.BOOLEAN, False)
    if op in ("and", "or", "xor", "implies"):
        a, b = _boolean(left, scope, op), _boolean(right, scope, op)
        if op == "and":
            return Val(exp.And(this=a, expression=b), ft.BOOLEAN, False)
        if op == "or":
            return Val(exp.Or(this=a, expression=b), ft.BOOLEAN, False)
        if op == "xor":
            return Val(exp.NEQ(this=a, expression=b), ft.BOOLEAN, False)
        return Val(exp.Or(this=exp.Not(this=a), expression=b), ft.BOOLEAN, False)
    if op in _ARITHMETIC:
        a, b = _comparable(left, scope, op), _comparable(right, scope, op)
        string_like = left.type is not None and left.type.sql_type() == "VARCHAR"
        if op == "+" and string_like:
            return Val(exp.DPipe(this=a, expression=b, safe=True), ft.STRING, False)
        if op == "/":
            a = q.cast(a, q.scalar_type("DOUBLE"))
            return Val(
                exp.Div(this=a, expression=q.cast(b, q.scalar_type("DOUBLE"))), ft.DECIMAL, False
            )
        numeric = ft.DECIMAL if ft.DECIMAL in (left.type, right.type) else (left.type or ft.DECIMAL)
        computed = typing.cast(exp.Expression, _ARITHMETIC[op](this=a, expression=b))
        return Val(computed, numeric, False)
    if op == "&":
        a = q.coalesce(_comparable(left, scope, op), q.string(""))
        b = q.coalesce(_comparable(right, scope, op), q.string(""))
        return Val(exp.DPipe(this=a, expression=b, safe=True), ft.STRING, False)
    if op == "|":
        merged = exp.ArrayDistinct(this=q.concat(_many_sql(left, scope), _many_sql(right, scope)))
        return Val(merged, left.type or right.type, True, left.schema or right.schema)
    if op in ("in", "contains"):
        element, collection = (left, right) if op == "in" else (right, left)
        value = _comparable(element, scope, op)
        found = exp.ArrayContains(this=_many_sql(collection, scope), expression=value)
        return Val(q.case([(q.is_null(value), q.null())], found), ft.BOOLEAN, False)
    raise _fail(f"operator {op!r} is not supported")


def _compile(node: fp.Node, focus: Val, scope: _Scope) -> Val:
    if isinstance(node, fp.Identifier):
        if focus.type is not None and focus.sql is None and node.name == focus.type.code:
            return focus  # Patient.name: the leading type name is the resource
        return _member(focus, node.name, scope)
    if isinstance(node, fp.Member):
        base = _compile(node.target, focus, scope)
        return base if node.name == "$this" else _member(base, node.name, scope)
    if isinstance(node, fp.This):
        return focus
    if isinstance(node, fp.Literal):
        return _literal(node)
    if isinstance(node, fp.Constant):
        if node.name == "rowIndex":
            return Val(scope.row_index, ft.INTEGER, False)
        if node.name in ("resource", "rootResource", "context"):
            return scope.root
        if node.name not in scope.constants:
            raise _fail(f"%{node.name}: no such constant")
        return scope.constants[node.name]
    if isinstance(node, fp.Call):
        return _call(node, focus, scope)
    if isinstance(node, fp.Index):
        base = _compile(node.target, focus, scope)
        index = _comparable(_compile(node.index, scope.root, scope), scope, "[]")
        if base.sql is None:
            raise _fail("[]: cannot index the resource")
        if not base.many:
            return replace(
                base, sql=q.case([(exp.EQ(this=index, expression=q.number(0)), base.sql)])
            )
        return replace(base, sql=q.item(base.sql, index), many=False)
    if isinstance(node, fp.Unary):
        value = _compile(node.operand, focus, scope)
        if node.op == "+":
            return value
        return replace(value, sql=exp.Neg(this=_comparable(value, scope, "-")), many=False)
    if isinstance(node, fp.Binary):
        return _binary(node, focus, scope)
    raise _fail(f"unsupported expression {node!r}")


def compile_path(path: object, focus: Val, scope: _Scope, where: str) -> Val:
    value = _compile(_parse(path, where), focus, scope)
    if value.choice is not None:
        raise _fail(f"{where}: choice element {value.choice.name} needs ofType()")
    return value


# --- selects --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """Rows of a select for one focus: an array of structs, or (``single``) one struct."""

    sql: exp.Expression
    columns: tuple[OutColumn, ...]
    single: bool

    def as_array(self) -> exp.Expression:
        return q.array(self.sql) if self.single else self.sql


def _row_type(columns: Sequence[OutColumn]) -> exp.DataType:
    return q.struct_type([(c.name, c.type) for c in columns])


def _null_row(columns: Sequence[OutColumn]) -> exp.Expression:
    """The row forEachOrNull gives for an empty collection: NULLs, and 0 for %rowIndex
    (the index of that one row)."""
    return q.struct(
        (c.name, q.cast(q.number(0), c.type) if c.row_index else q.typed_null(c.type))
        for c in columns
    )


def _column(spec: Any, focus: Val, scope: _Scope) -> tuple[OutColumn, exp.Expression]:
    if not isinstance(spec, dict):
        raise _fail("column: each column is an object")
    name = spec.get("name")
    if not isinstance(name, str) or not COLUMN_NAME.match(name):
        raise _fail(f"column: invalid name {name!r}")
    collection = spec.get("collection", False)
    if not isinstance(collection, bool):
        raise _fail(f"column {name}: collection is true or false")
    value = compile_path(spec.get("path"), focus, scope, f"column {name}")
    if value.sql is None:
        raise _fail(f"column {name}: a column cannot hold the whole resource")
    if value.type is not None and not value.type.primitive:
        raise _fail(f"column {name}: {value.type.code} is not a primitive value")
    declared = spec.get("type")
    fhir_code = (
        declared if isinstance(declared, str) else (value.type.code if value.type else "string")
    )
    scalar = q.scalar_type(
        value.type.sql_type() if value.type else ft.FhirType(fhir_code).sql_type()
    )
    if collection:
        sql = _many_sql(replace(value, schema=None), scope)
        return OutColumn(name, q.array_type(scalar), True, fhir_code), sql
    sql = _single_sql(value, scope, f"column {name}: several values, but collection is not true")
    row_index = spec.get("path") == "%rowIndex"
    return OutColumn(name, scalar, False, fhir_code, row_index), q.cast(sql, scalar)


def _cross(parts: Sequence[_Rows], scope: _Scope) -> _Rows:
    result = parts[0]
    for part in parts[1:]:
        columns = result.columns + part.columns
        if result.single and part.single:
            result = _Rows(_merge(result, part), columns, True)
            continue
        a, b = scope.fresh("a"), scope.fresh("b")
        row = q.struct(
            [(c.name, q.dot(q.var(a), c.name)) for c in result.columns]
            + [(c.name, q.dot(q.var(b), c.name)) for c in part.columns]
        )
        inner = q.transform(part.as_array(), b, row)
        result = _Rows(q.flatten(q.transform(result.as_array(), a, inner)), columns, False)
    names = [c.name for c in result.columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(f"column names must be unique: {', '.join(duplicates)}")
    return result


def _merge(a: _Rows, b: _Rows) -> exp.Expression:
    """Two single rows as one struct (their fields side by side)."""
    fields: list[tuple[str, exp.Expression]] = []
    for part in (a, b):
        assert isinstance(part.sql, exp.Struct)
        for prop in part.sql.expressions:
            fields.append((prop.this.name, prop.expression))
    return q.struct(fields)


def _select(spec: Any, focus: Val, scope: _Scope) -> _Rows:
    if not isinstance(spec, dict):
        raise _fail("select: each select is an object")
    for key in ("forEach", "forEachOrNull"):
        if key in spec and not isinstance(spec[key], str):
            raise _fail(f"{key}: must be a FHIRPath string")
    if "forEach" in spec and "forEachOrNull" in spec:
        raise _fail("select: forEach and forEachOrNull together")
    path = spec.get("forEach", spec.get("forEachOrNull"))
    if "repeat" in spec:
        return _repeat(spec, focus, scope)
    if path is None:
        return _body(spec, focus, scope)
    collection = _as_many(compile_path(path, focus, scope, "forEach"), scope)
    if collection.schema is None and collection.type is not None and not collection.type.primitive:
        raise _fail("forEach: cannot iterate this value")
    return _each(spec, collection, scope, or_null="forEachOrNull" in spec)


def _each(spec: dict[str, Any], collection: Val, scope: _Scope, *, or_null: bool) -> _Rows:
    assert collection.sql is not None
    name, index = scope.fresh(), scope.fresh("i")
    element = Val(q.var(name), collection.type, False, collection.schema)
    offset = q.lambda_index_base(scope.dialect)
    inner_index = (
        exp.Sub(this=q.var(index), expression=q.number(offset)) if offset else q.var(index)
    )
    inner_scope = replace(scope, row_index=inner_index)
    body = _body(spec, element, inner_scope)
    rows: exp.Expression
    if body.single:  # one row per element: no inner arrays to flatten
        rows = q.transform_indexed(collection.sql, name, index, body.sql)
    else:
        rows = q.flatten(q.transform_indexed(collection.sql, name, index, body.as_array()))
    if or_null:
        empty = exp.EQ(this=q.size(collection.sql), expression=q.number(0))
        rows = q.case([(empty, q.array(_null_row(body.columns)))], rows)
    return _Rows(rows, body.columns, False)


def _body(spec: dict[str, Any], focus: Val, scope: _Scope) -> _Rows:
    return _cross(_parts(spec, focus, scope), scope)


def _parts(spec: dict[str, Any], focus: Val, scope: _Scope) -> list[_Rows]:
    """The row sets of a select, to be combined by cross product (in this order)."""
    parts: list[_Rows] = []
    columns = spec.get("column", [])
    if not isinstance(columns, list):
        raise _fail("column: must be a list")
    if columns:
        built = [_column(c, focus, scope) for c in columns]
        parts.append(
            _Rows(q.struct((c.name, sql) for c, sql in built), tuple(c for c, _ in built), True)
        )
    nested = spec.get("select", [])
    if not isinstance(nested, list):
        raise _fail("select: must be a list")
    parts.extend(_select(s, focus, scope) for s in nested)
    union = spec.get("unionAll")
    if union is not None:
        if not isinstance(union, list) or not union:
            raise _fail("unionAll: must be a non-empty list")
        branches = [_select(s, focus, scope) for s in union]
        first = branches[0].columns
        for other in branches[1:]:
            if [c.name for c in other.columns] != [c.name for c in first]:
                raise _fail("unionAll: every branch must have the same columns in the same order")
        unified = tuple(
            replace(
                c,
                type=c.type
                if all(o.columns[i].type == c.type for o in branches)
                else q.scalar_type("VARCHAR"),
            )
            for i, c in enumerate(first)
        )
        arrays = [_recast(b, unified, scope) for b in branches]
        parts.append(_Rows(q.concat(arrays[0], *arrays[1:]), unified, False))
    if not parts:
        raise _fail("select: needs a column, a select or a unionAll")
    return parts


def _recast(rows: _Rows, columns: Sequence[OutColumn], scope: _Scope) -> exp.Expression:
    if all(a.type == b.type for a, b in zip(rows.columns, columns, strict=True)):
        return rows.as_array()
    name = scope.fresh("u")
    row = q.struct((c.name, q.cast(q.dot(q.var(name), c.name), c.type)) for c in columns)
    return q.transform(rows.as_array(), name, row)


def _absorb(target: SchemaNode, probe: SchemaNode) -> None:
    """Read at ``target`` every element the ``probe`` shape needs."""
    for name, child in probe.children.items():
        node = target.child(name, child.fhir_type, child.many)
        if child.fhir_type.primitive:
            continue
        if child.children:
            _absorb(node, child)
        else:
            node.child("id", ft.STRING, False)


def _conform(value: exp.Expression, shape: SchemaNode, scope: _Scope) -> exp.Expression:
    """``value`` reshaped to exactly the fields of ``shape`` (recursively), so that
    nodes read at different depths share one struct type."""
    fields: list[tuple[str, exp.Expression]] = []
    children = sorted(shape.children.items()) or [("id", SchemaNode(ft.STRING, False))]
    for name, child in children:
        inner = q.dot(value, name)
        if not child.fhir_type.primitive:
            if child.many:
                item = scope.fresh("p")
                inner = q.transform(inner, item, _conform(q.var(item), child, scope))
            else:
                inner = q.case(
                    [(q.is_null(inner), _typed_by(child, scope, array=False))],
                    _conform(inner, child, scope),
                )
        fields.append((name, inner))
    return q.struct(fields)


def _declared_columns(spec: dict[str, Any]) -> list[OutColumn]:
    found = []
    for column in spec.get("column", []) if isinstance(spec.get("column"), list) else []:
        if isinstance(column, dict) and isinstance(column.get("name"), str):
            declared = column.get("type")
            code = declared if isinstance(declared, str) else "string"
            scalar = q.scalar_type(ft.FhirType(code).sql_type())
            many = column.get("collection") is True
            found.append(
                OutColumn(column["name"], q.array_type(scalar) if many else scalar, many, code)
            )
    for nested in spec.get("select", []) if isinstance(spec.get("select"), list) else []:
        found.extend(_declared_columns(nested))
    union = spec.get("unionAll")
    if isinstance(union, list) and union:
        found.extend(_declared_columns(union[0]))
    return found


def _repeat(spec: dict[str, Any], focus: Val, scope: _Scope) -> _Rows:
    """``repeat``: the body for every node reached by applying the paths again and again,
    depth first (a node, then its children), unrolled to ``scope.repeat_depth`` levels."""
    paths = spec.get("repeat")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise _fail("repeat: a non-empty list of FHIRPath strings")
    trees = [_parse(p, "repeat") for p in paths]

    def expand(base: Val) -> list[Val]:
        found = []
        for tree in trees:
            try:
                found.append(_as_many(_compile(tree, base, scope), scope))
            except ViewError:
                continue  # a path that names no element of this type reaches nothing
        return found

    tops = expand(focus)
    node_type = next((t.type for t in tops if t.type is not None and not t.type.primitive), None)
    if node_type is None:
        if tops or (not spec.get("column") and not spec.get("select")):
            raise _fail("repeat: the paths must reach complex elements")
        node_type = focus.type
    assert node_type is not None
    shape = SchemaNode(node_type, False)
    probe = Val(q.var("probe"), node_type, False, shape)
    if not tops:  # nothing reachable: no rows, with the columns the body declares
        columns = tuple(_declared_columns(spec))
        return _Rows(q.empty_array(_row_type(columns)), columns, False)
    _body(spec, probe, scope)

    # Unrolling repeats each path at each level, so several paths grow the query as
    # len(paths) ** depth: their depth is cut to keep it small (documented limit).
    limit = scope.repeat_depth if len(trees) == 1 else max(2, scope.repeat_depth // len(trees))

    def collect(nodes: Val, depth: int) -> exp.Expression:
        assert nodes.sql is not None
        assert nodes.schema is not None
        _absorb(nodes.schema, shape)
        name = scope.fresh("n")
        node = Val(q.var(name), node_type, False, nodes.schema)
        here = q.array(_conform(q.var(name), shape, scope))
        if depth >= limit:
            return q.flatten(q.transform(nodes.sql, name, here))
        below = [collect(child, depth + 1) for child in expand(node)]
        return q.flatten(q.transform(nodes.sql, name, q.concat(here, *below)))

    flat = [collect(top, 1) for top in tops]
    nodes = Val(q.concat(flat[0], *flat[1:]), node_type, True, shape)
    return _each(spec, nodes, scope, or_null=False)


# --- the view -------------------------------------------------------------------------


def _constants(view: Mapping[str, Any]) -> dict[str, Val]:
    found: dict[str, Val] = {}
    specs = view.get("constant", [])
    if not isinstance(specs, list):
        raise _fail("constant: must be a list")
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise _fail("constant: each constant has a name")
        values = [(k, v) for k, v in spec.items() if k.startswith("value")]
        if len(values) != 1 or values[0][0] not in _CONSTANT_TYPES:
            raise _fail(f"constant {spec['name']}: needs exactly one value[x]")
        key, value = values[0]
        code = _CONSTANT_TYPES[key]
        fhir_type = ft.FhirType(code)
        sql: exp.Expression
        if code == "boolean":
            sql = q.boolean(bool(value))
        elif fhir_type.sql_type() in ("BIGINT", "DOUBLE"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _fail(f"constant {spec['name']}: {key} must be a number")
            sql = q.cast(q.number(value), q.scalar_type(fhir_type.sql_type()))
        else:
            sql = q.string(str(value))
        found[spec["name"]] = Val(sql, fhir_type, False)
    return found


def _fields(part: _Rows) -> list[tuple[OutColumn, exp.Expression]]:
    assert isinstance(part.sql, exp.Struct)
    by_name = {prop.this.name: prop.expression for prop in part.sql.expressions}
    return [(c, by_name[c.name]) for c in part.columns]


def compile_view(
    view: object,
    dialect: str,
    *,
    repeat_depth: int = REPEAT_DEPTH,
    flag_malformed: bool = False,
) -> CompiledView:
    """Compile a ViewDefinition (parsed JSON) for ``dialect`` ("duckdb" or "spark").

    ``flag_malformed`` keeps one row for each source row that is not a resource of the
    view's type (a malformed line reads as a row without ``resourceType``), marked by a
    last column ``_malformed``, so a screen counts them in the same pass that builds
    the view; the spec's output (the default) has exactly the declared columns."""
    if dialect not in q.DIALECTS:
        raise ValueError(f"dialect: one of {', '.join(q.DIALECTS)}")
    if not isinstance(view, dict) or not view:
        raise _fail("a ViewDefinition is a non-empty object")
    resource = view.get("resource")
    if not isinstance(resource, str):
        raise _fail("resource: required (the FHIR resource type the view reads)")
    try:
        resource_type = ft.resource(resource)
    except ValueError as error:
        raise _fail(str(error)) from None
    selects = view.get("select")
    if not isinstance(selects, list) or not selects:
        raise _fail("select: a non-empty list")
    root_schema = SchemaNode(resource_type, False)
    root = Val(None, resource_type, False, root_schema)
    scope = _Scope(dialect, _constants(view), itertools.count(1), q.number(0), root, repeat_depth)
    parts = _parts({"select": selects}, root, scope)
    columns = tuple(c for part in parts for c in part.columns)
    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(f"column names must be unique: {', '.join(duplicates)}")
    is_resource = exp.EQ(
        this=q.column(RESOURCE_TYPE_COLUMN, ROW_ALIAS), expression=q.string(resource)
    )
    conditions: list[exp.Expression] = []
    wheres = view.get("where", [])
    if not isinstance(wheres, list):
        raise _fail("where: must be a list")
    for spec in wheres:
        path = spec.get("path") if isinstance(spec, dict) else None
        value = compile_path(path, root, scope, "where")
        if value.type is None or value.type.code != "boolean":
            raise _fail(f"where: {path!r} is not a boolean expression")
        conditions.append(_boolean(value, scope, "where"))
    malformed = exp.Not(this=q.coalesce(is_resource, q.boolean(False)))
    condition: exp.Expression = is_resource
    for extra in conditions:
        condition = exp.And(this=condition, expression=exp.Paren(this=extra))
    if flag_malformed:
        condition = exp.Or(this=malformed, expression=exp.Paren(this=condition))
    source = exp.Table(
        this=exp.Identifier(this="__source__"),
        alias=exp.TableAlias(this=exp.Identifier(this=ROW_ALIAS)),
    )
    # Single-row parts stay plain projections; only the parts that make several rows
    # per resource are built as arrays of structs and unnested (once).
    singles = {c.name: sql for part in parts if part.single for c, sql in _fields(part)}
    multis = [part for part in parts if not part.single]
    flag_column = [exp.alias_(malformed, q.ident(MALFORMED_COLUMN))] if flag_malformed else []
    if not multis:
        projections = [exp.alias_(singles[c.name], q.ident(c.name)) for c in columns]
        query = exp.select(*projections, *flag_column).from_(source).where(condition)
    else:
        combined = _cross(multis, scope)
        rows_sql = combined.as_array()
        if flag_malformed:
            rows_sql = q.case([(malformed, q.array(_null_row(combined.columns)))], rows_sql)
        inner_columns = [exp.alias_(sql, q.ident(name)) for name, sql in singles.items()]
        inner = (
            exp.select(*inner_columns, *flag_column, exp.alias_(exp.Explode(this=rows_sql), "x"))
            .from_(source)
            .where(condition)
        )
        multi_names = {c.name for c in combined.columns}
        projections = [
            exp.alias_(
                q.dot(exp.column("x"), c.name) if c.name in multi_names else q.column(c.name),
                q.ident(c.name),
            )
            for c in columns
        ]
        if flag_malformed:
            projections.append(exp.alias_(q.column(MALFORMED_COLUMN), q.ident(MALFORMED_COLUMN)))
        query = exp.select(*projections).from_(inner.subquery("q"))
    _settle_types(query, scope)
    name = view.get("name")
    return CompiledView(
        resource=resource,
        name=name if isinstance(name, str) else resource.lower(),
        dialect=dialect,
        source=root_schema,
        columns=columns,
        _query=query,
    )
