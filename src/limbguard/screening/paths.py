"""FHIRPath (the subset SQL on FHIR v2 views use) compiled to a sqlglot expression.

The compiler is type-directed: the FHIR R4 types (`fhirtypes`) say, for every element a
path touches, its type and whether it repeats. So it records the schema to read (only
the elements used, `SchemaNode`) and keeps FHIRPath's collection semantics exactly: a
repeating value is a SQL array that is never NULL and holds no NULLs, a single value is
a nullable scalar; several values where one is required stop the query at run time
(FHIRPath's singleton rule). Functions: where, exists, empty, count, first, last,
single, not, join, ofType, extension, getResourceKey, getReferenceKey; operators
= != < > <= >= and or xor implies + - * / & | in contains; constants and %rowIndex.
`compiler.py` builds the view's selects on top of these values.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import sqlglot.expressions as exp

from limbguard.screening import fhirpath as fp
from limbguard.screening import fhirtypes as ft
from limbguard.screening import sqlast as q

ROW_ALIAS: Final = "r"
# Levels unrolled for `repeat`; deeper nesting is not read (a documented limit).
REPEAT_DEPTH: Final = 8
# FHIR ids: [A-Za-z0-9\-\.]{1,64} (R4 datatypes, id). A reference "Type/id" may be
# absolute (.../Type/id) and versioned (.../_history/n).
_REFERENCE: Final = r"(?:^|/)({type})/([A-Za-z0-9\-\.]{{1,64}})(?:/_history/[^/]+)?$"


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
class Scope:
    dialect: str
    constants: Mapping[str, Val]
    names: Iterator[int]
    row_index: exp.Expression
    root: Val
    repeat_depth: int = REPEAT_DEPTH
    lazy: dict[int, SchemaNode] = field(default_factory=dict)

    def fresh(self, stem: str = "x") -> str:
        return f"{stem}{next(self.names)}"


# --- FHIRPath to SQL -----------------------------------------------------------------------


def fail(message: str) -> ViewError:
    return ViewError(message)


def parse_path(path: object, where: str) -> fp.Node:
    try:
        return fp.parse(path)
    except fp.FhirPathError as error:
        raise fail(f"{where}: {error}") from None


_LAZY: Final = "limbguard_schema"


def typed_by(node: SchemaNode, scope: Scope, *, array: bool) -> exp.Cast:
    """A typed empty array (or NULL) of ``node``'s element type. The type is filled in
    when the whole view is compiled (`settle_types`): paths read later may still add
    fields to ``node``, and Spark (unlike DuckDB) wants exactly matching struct types."""
    cast = (
        q.empty_array(q.scalar_type("VARCHAR")) if array else q.typed_null(q.scalar_type("VARCHAR"))
    )
    scope.lazy[id(node)] = node
    cast.meta[_LAZY] = (id(node), array)
    return cast


def settle_types(query: exp.Expression, scope: Scope) -> None:
    for cast in query.find_all(exp.Cast):
        mark = cast.meta.get(_LAZY)
        if mark is not None:
            node = scope.lazy[mark[0]]
            element = node.element_type()
            cast.set("to", q.array_type(element) if mark[1] else element)


def _empty(val: Val, scope: Scope) -> exp.Expression:
    if val.schema is not None:
        return typed_by(val.schema, scope, array=True)
    return q.empty_array(val.sql_type())


def many_sql(val: Val, scope: Scope) -> exp.Expression:
    """The value as an array (never NULL)."""
    if val.sql is None:
        raise fail("the resource itself cannot be used as a value here")
    if val.many:
        return val.sql
    return q.case([(q.is_null(val.sql), _empty(val, scope))], q.array(val.sql))


def single_sql(val: Val, scope: Scope, what: str) -> exp.Expression:
    """The value as a scalar; several values stop the query (FHIRPath singleton rule)."""
    if val.sql is None:
        raise fail("the resource itself cannot be used as a value here")
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


def as_many(val: Val, scope: Scope) -> Val:
    return val if val.many else replace(val, sql=many_sql(val, scope), many=True)


def _access(
    base: Val, element: ft.Element, json_name: str, fhir_type: ft.FhirType, scope: Scope
) -> Val:
    if base.schema is None:
        raise fail(f"{json_name}: cannot read an element of a primitive value")
    many = element.many
    node = base.schema.child(json_name, fhir_type, many)
    if base.sql is None:  # the resource row: a column
        sql: exp.Expression = q.column(json_name, ROW_ALIAS)
        if base.guard is not None:
            sql = q.case([(base.guard, sql)])
        if many:
            sql = q.coalesce(sql, typed_by(node, scope, array=True))
            if fhir_type.primitive:
                name = scope.fresh()
                sql = q.keep(sql, name, q.not_null(q.var(name)))
        return Val(sql, fhir_type, many, node)
    if not base.many:
        sql = q.dot(base.sql, json_name)
        if many:
            sql = q.coalesce(sql, typed_by(node, scope, array=True))
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
        values, body = base.sql, inner
        if isinstance(values, exp.ArrayFilter) and len(values.expression.expressions) == 1:
            # where() then an element: the element of each item meeting the criteria
            # (else NULL, dropped below) in one pass over the list rather than two.
            lam = values.expression
            kept = lam.expressions[0].name
            body = q.case([(lam.this, q.dot(q.var(kept), json_name))])
            values, name = values.this, kept
        sql = q.keep(q.transform(values, name, body), other, q.not_null(q.var(other)))
    return Val(sql, fhir_type, True, node)


def _member(base: Val, name: str, scope: Scope) -> Val:
    if base.choice is not None:
        raise fail(f"{base.choice.name}: a choice element needs ofType() before .{name}")
    if base.type is None or base.type.primitive:
        raise fail(f"{name}: not an element of a primitive value")
    element = ft.elements(base.type.model).get(name)
    if element is None:
        raise fail(f"{name}: not an element of {base.type.code}")
    if element.choices:
        return replace(base, choice=element)
    assert element.type is not None
    return _access(base, element, element.json_name, element.type, scope)


def _of_type(base: Val, type_name: str, scope: Scope) -> Val:
    if base.choice is not None:
        found = base.choice.choice(type_name)
        if found is None:
            return Val(q.null(), None, False)
        json_name, fhir_type = found
        return _access(replace(base, choice=None), base.choice, json_name, fhir_type, scope)
    if base.type is not None and base.type.code.lower() == type_name.lower():
        return base
    return Val(_empty(base, scope) if base.many else q.null(), base.type, base.many)


def _lambda(base: Val, scope: Scope) -> tuple[str, Val]:
    name = scope.fresh()
    return name, Val(q.var(name), base.type, False, base.schema)


def _where(base: Val, criteria: fp.Node, scope: Scope) -> Val:
    if base.sql is None:  # where() on the resource itself
        condition = boolean(compile_node(criteria, base, scope), scope, "where()")
        guard = condition if base.guard is None else exp.And(this=base.guard, expression=condition)
        return replace(base, guard=guard)
    if base.many:
        name, item = _lambda(base, scope)
        condition = boolean(compile_node(criteria, item, scope), scope, "where()")
        return replace(base, sql=q.keep(base.sql, name, condition))
    condition = boolean(compile_node(criteria, base, scope), scope, "where()")
    return replace(base, sql=q.case([(condition, base.sql)]))


def boolean(val: Val, scope: Scope, what: str) -> exp.Expression:
    if val.type is not None and val.type.code != "boolean":
        raise fail(f"{what}: expected a boolean, got {val.type.code}")
    return single_sql(val, scope, f"{what}: several values where one boolean was expected")


def _exists(val: Val) -> exp.Expression:
    if val.sql is None:
        return q.boolean(True) if val.guard is None else q.coalesce(val.guard, q.boolean(False))
    if val.many:
        return exp.GT(this=q.size(val.sql), expression=q.number(0))
    return q.not_null(val.sql)


_TYPE_NAME: Final = re.compile(r"^[A-Za-z]+/$")  # a resource type and its "/"


def _reference_key(base: Val, args: Sequence[fp.Node], scope: Scope) -> Val:
    if base.type is None or base.type.code != "Reference":
        raise fail("getReferenceKey(): only on a Reference")
    if len(args) > 1:
        raise fail("getReferenceKey(): at most one type")
    wanted = "[A-Za-z]+"
    prefix = ""
    if args:
        if not isinstance(args[0], fp.Identifier):
            raise fail("getReferenceKey(): the argument is a resource type name")
        wanted = re.escape(args[0].name)
        prefix = f"{args[0].name}/"
    pattern = q.string(_REFERENCE.format(type=wanted))
    reference = _member(base, "reference", scope)

    def key(value: exp.Expression) -> exp.Expression:
        extracted = exp.RegexpExtract(this=value, expression=pattern, group=q.number(2))
        general = exp.Nullif(this=extracted, expression=q.string(""))
        if not _TYPE_NAME.match(prefix):
            return general
        # The common case, a relative "Type/id", without a regular expression (they
        # cost more than reading the line): the id is what follows the prefix, when
        # there is something and no other "/". LIKE tests both in one scan each (the
        # prefix is letters only, so it has no LIKE wildcard).
        simple = exp.And(
            this=exp.Like(this=value, expression=q.string(prefix + "_%")),
            expression=exp.Not(this=exp.Like(this=value.copy(), expression=q.string("%/%/%"))),
        )
        rest = exp.Substring(this=value.copy(), start=q.number(len(prefix) + 1))
        return q.case([(simple, rest)], general)

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


def _call(node: fp.Call, focus: Val, scope: Scope) -> Val:
    base = focus if node.target is None else compile_node(node.target, focus, scope)
    name, args = node.name, node.args

    def arity(*allowed: int) -> None:
        if len(args) not in allowed:
            raise fail(f"{name}(): wrong number of arguments")

    if name == "ofType":
        arity(1)
        if not isinstance(args[0], fp.Identifier):
            raise fail("ofType(): the argument is a type name")
        return _of_type(base, args[0].name, scope)
    if base.choice is not None:
        raise fail(f"{base.choice.name}: a choice element needs ofType() before {name}()")
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
                base, sql=single_sql(base, scope, "single(): several values"), many=False
            )
        return replace(base, sql=q.item(base.sql, index), many=False)
    if name == "not":
        arity(0)
        return Val(exp.Not(this=boolean(base, scope, "not()")), ft.BOOLEAN, False)
    if name == "join":
        arity(0, 1)
        separator: exp.Expression = q.string("")
        if args:
            sep = compile_node(args[0], scope.root, scope)
            separator = single_sql(sep, scope, "join(): one separator")
        values = many_sql(base, scope)
        return Val(exp.ArrayToString(this=values, expression=separator), ft.STRING, False)
    if name == "getResourceKey":
        arity(0)
        if base.sql is not None:
            raise fail("getResourceKey(): only on the resource")
        return _member(base, "id", scope)
    if name == "getReferenceKey":
        return _reference_key(base, args, scope)
    if name == "extension":
        arity(1)
        url = compile_node(args[0], scope.root, scope)
        extensions = _member(base, "extension", scope)
        name_ = scope.fresh()
        url_sql = single_sql(url, scope, "extension(): one url")
        condition = exp.EQ(this=q.dot(q.var(name_), "url"), expression=url_sql)
        if extensions.schema is not None:
            extensions.schema.child("url", ft.FhirType("uri"), False)
        return replace(extensions, sql=q.keep(many_sql(extensions, scope), name_, condition))
    if name in ("lowBoundary", "highBoundary"):
        raise fail(f"{name}(): not supported (experimental in SQL on FHIR v2)")
    raise fail(f"{name}(): not a supported function")


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


def _comparable(val: Val, scope: Scope, what: str) -> exp.Expression:
    return single_sql(val, scope, f"{what}: several values where one was expected")


def _equality(left: Val, right: Val, scope: Scope) -> exp.Expression:
    if not left.many and not right.many:
        assert left.sql is not None
        assert right.sql is not None
        return exp.EQ(this=left.sql, expression=right.sql)
    a, b = many_sql(left, scope), many_sql(right, scope)
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


def _binary(node: fp.Binary, focus: Val, scope: Scope) -> Val:
    left = compile_node(node.left, focus, scope)
    right = compile_node(node.right, focus, scope)
    op = node.op
    if op in ("=", "!="):
        equal = _equality(left, right, scope)
        return Val(equal if op == "=" else exp.Not(this=equal), ft.BOOLEAN, False)
    if op in _COMPARE:
        a, b = _comparable(left, scope, op), _comparable(right, scope, op)
        compared = typing.cast(exp.Expression, _COMPARE[op](this=a, expression=b))
        return Val(compared, ft.BOOLEAN, False)
    if op in ("and", "or", "xor", "implies"):
        a, b = boolean(left, scope, op), boolean(right, scope, op)
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
        merged = exp.ArrayDistinct(this=q.concat(many_sql(left, scope), many_sql(right, scope)))
        return Val(merged, left.type or right.type, True, left.schema or right.schema)
    if op in ("in", "contains"):
        element, collection = (left, right) if op == "in" else (right, left)
        value = _comparable(element, scope, op)
        found = exp.ArrayContains(this=many_sql(collection, scope), expression=value)
        return Val(q.case([(q.is_null(value), q.null())], found), ft.BOOLEAN, False)
    raise fail(f"operator {op!r} is not supported")


def compile_node(node: fp.Node, focus: Val, scope: Scope) -> Val:
    if isinstance(node, fp.Identifier):
        if focus.type is not None and focus.sql is None and node.name == focus.type.code:
            return focus  # Patient.name: the leading type name is the resource
        return _member(focus, node.name, scope)
    if isinstance(node, fp.Member):
        base = compile_node(node.target, focus, scope)
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
            raise fail(f"%{node.name}: no such constant")
        return scope.constants[node.name]
    if isinstance(node, fp.Call):
        return _call(node, focus, scope)
    if isinstance(node, fp.Index):
        base = compile_node(node.target, focus, scope)
        index = _comparable(compile_node(node.index, scope.root, scope), scope, "[]")
        if base.sql is None:
            raise fail("[]: cannot index the resource")
        if not base.many:
            return replace(
                base, sql=q.case([(exp.EQ(this=index, expression=q.number(0)), base.sql)])
            )
        return replace(base, sql=q.item(base.sql, index), many=False)
    if isinstance(node, fp.Unary):
        value = compile_node(node.operand, focus, scope)
        if node.op == "+":
            return value
        return replace(value, sql=exp.Neg(this=_comparable(value, scope, "-")), many=False)
    if isinstance(node, fp.Binary):
        return _binary(node, focus, scope)
    raise fail(f"unsupported expression {node!r}")


def compile_path(path: object, focus: Val, scope: Scope, where: str) -> Val:
    value = compile_node(parse_path(path, where), focus, scope)
    if value.choice is not None:
        raise fail(f"{where}: choice element {value.choice.name} needs ofType()")
    return value
