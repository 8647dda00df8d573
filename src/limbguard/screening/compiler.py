"""Compile a SQL on FHIR v2 ViewDefinition into one SQL query for DuckDB or Spark.

Spec: SQL on FHIR v2 (HL7, https://sql-on-fhir.org/ig/2.0.0), StructureDefinition
ViewDefinition and its notes: ``select`` / ``column`` / ``forEach`` / ``forEachOrNull`` /
``unionAll`` / ``repeat`` / ``where`` / ``constant``, ``%rowIndex``, and the required
functions ``getResourceKey()`` / ``getReferenceKey([type])``.

How: paths compile type-directed (`paths.py`), which also yields the schema to read
(only the elements the view uses, `CompiledView.source`). Each ``select`` that makes
several rows per resource is built as an array of row structs (``forEach`` is a
``transform``, ``unionAll`` an array concatenation, sibling selects a cross product),
unnested once at the top; the parts that make one row per resource stay plain
projections, so a view without ``forEach``/``unionAll``/``repeat`` is a projection. A
view whose only such part is one ``forEach``/``forEachOrNull`` with columns read off
each element unnests the collection itself and reads the columns off the unnested
element (no row structs built).

The tree is sqlglot's; `sqlast.render` writes it in the engine's dialect. Views that
break the spec's rules (no resource, bad FHIRPath, unknown element, non-boolean
``where``, mismatched ``unionAll`` columns, unknown constant) raise `ViewError`; a column
that is not a collection but meets several values stops the query at run time, as the
spec requires.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import sqlglot.expressions as exp

from limbguard.screening import fhirtypes as ft
from limbguard.screening import sqlast as q
from limbguard.screening.paths import (
    REPEAT_DEPTH,
    ROW_ALIAS,
    SchemaNode,
    Scope,
    Val,
    as_many,
    boolean,
    compile_node,
    compile_path,
    fail,
    many_sql,
    parse_path,
    settle_types,
    single_sql,
    typed_by,
)
from limbguard.screening.paths import ViewError as ViewError

MALFORMED_COLUMN: Final = "_malformed"
RESOURCE_TYPE_COLUMN: Final = "resourceType"
COLUMN_NAME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
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


# --- selects --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Each:
    """A ``forEach``/``forEachOrNull`` whose rows are fields read off each element
    (``fields``: column expressions over the lambda variable ``name``), so the
    collection itself can be unnested rather than an array of row structs built."""

    collection: exp.Expression
    name: str
    fields: tuple[tuple[OutColumn, exp.Expression], ...]
    or_null: bool


@dataclass(frozen=True)
class _Rows:
    """Rows of a select for one focus: an array of structs, or (``single``) one struct."""

    sql: exp.Expression
    columns: tuple[OutColumn, ...]
    single: bool
    each: _Each | None = None

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


def _column(spec: Any, focus: Val, scope: Scope) -> tuple[OutColumn, exp.Expression]:
    if not isinstance(spec, dict):
        raise fail("column: each column is an object")
    name = spec.get("name")
    if not isinstance(name, str) or not COLUMN_NAME.match(name):
        raise fail(f"column: invalid name {name!r}")
    collection = spec.get("collection", False)
    if not isinstance(collection, bool):
        raise fail(f"column {name}: collection is true or false")
    value = compile_path(spec.get("path"), focus, scope, f"column {name}")
    if value.sql is None:
        raise fail(f"column {name}: a column cannot hold the whole resource")
    if value.type is not None and not value.type.primitive:
        raise fail(f"column {name}: {value.type.code} is not a primitive value")
    declared = spec.get("type")
    fhir_code = (
        declared if isinstance(declared, str) else (value.type.code if value.type else "string")
    )
    scalar = q.scalar_type(
        value.type.sql_type() if value.type else ft.FhirType(fhir_code).sql_type()
    )
    if collection:
        sql = many_sql(replace(value, schema=None), scope)
        return OutColumn(name, q.array_type(scalar), True, fhir_code), sql
    sql = single_sql(value, scope, f"column {name}: several values, but collection is not true")
    row_index = spec.get("path") == "%rowIndex"
    return OutColumn(name, scalar, False, fhir_code, row_index), q.cast(sql, scalar)


def _cross(parts: Sequence[_Rows], scope: Scope) -> _Rows:
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
        raise fail(f"column names must be unique: {', '.join(duplicates)}")
    return result


def _merge(a: _Rows, b: _Rows) -> exp.Expression:
    """Two single rows as one struct (their fields side by side)."""
    fields: list[tuple[str, exp.Expression]] = []
    for part in (a, b):
        assert isinstance(part.sql, exp.Struct)
        for prop in part.sql.expressions:
            fields.append((prop.this.name, prop.expression))
    return q.struct(fields)


def _select(spec: Any, focus: Val, scope: Scope) -> _Rows:
    if not isinstance(spec, dict):
        raise fail("select: each select is an object")
    for key in ("forEach", "forEachOrNull"):
        if key in spec and not isinstance(spec[key], str):
            raise fail(f"{key}: must be a FHIRPath string")
    if "forEach" in spec and "forEachOrNull" in spec:
        raise fail("select: forEach and forEachOrNull together")
    path = spec.get("forEach", spec.get("forEachOrNull"))
    if "repeat" in spec:
        return _repeat(spec, focus, scope)
    if path is None:
        return _body(spec, focus, scope)
    collection = as_many(compile_path(path, focus, scope, "forEach"), scope)
    if collection.schema is None and collection.type is not None and not collection.type.primitive:
        raise fail("forEach: cannot iterate this value")
    return _each(spec, collection, scope, or_null="forEachOrNull" in spec)


def _each(spec: dict[str, Any], collection: Val, scope: Scope, *, or_null: bool) -> _Rows:
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
    each = None
    if body.single and all(_reads_element(sql, name) for _, sql in _fields(body)):
        each = _Each(collection.sql, name, tuple(_fields(body)), or_null)
    return _Rows(rows, body.columns, False, each)


def _reads_element(sql: exp.Expression, name: str) -> bool:
    """Whether ``sql`` is the lambda variable ``name`` or a field of it, cast: NULL
    for a NULL element, as in the row forEachOrNull gives for an empty collection
    (so neither %rowIndex nor anything outside the element)."""
    node = sql.this if isinstance(sql, exp.Cast) else sql
    while isinstance(node, exp.Dot):
        node = node.this
    return node == q.var(name)


def _unnested(
    each: _Each, malformed: exp.Expression | None
) -> tuple[exp.Expression, dict[str, exp.Expression]]:
    """The elements to unnest as ``x`` (one NULL element for an empty collection under
    forEachOrNull, and for a malformed row) and each column read off ``x``."""
    keep_one = [malformed] if malformed is not None else []
    if each.or_null:
        keep_one.append(exp.EQ(this=q.size(each.collection), expression=q.number(0)))
    elements = each.collection.copy()
    if keep_one:
        condition = keep_one[0]
        for extra in keep_one[1:]:
            condition = exp.Or(this=condition, expression=extra)
        elements = q.case([(condition, q.array(q.null()))], elements)
    element = q.var(each.name)

    def on_x(node: exp.Expression) -> exp.Expression:
        return exp.column("x") if node == element else node

    fields = {c.name: sql.copy().transform(on_x) for c, sql in each.fields}
    return elements, fields


def _body(spec: dict[str, Any], focus: Val, scope: Scope) -> _Rows:
    return _cross(_parts(spec, focus, scope), scope)


def _parts(spec: dict[str, Any], focus: Val, scope: Scope) -> list[_Rows]:
    """The row sets of a select, to be combined by cross product (in this order)."""
    parts: list[_Rows] = []
    columns = spec.get("column", [])
    if not isinstance(columns, list):
        raise fail("column: must be a list")
    if columns:
        built = [_column(c, focus, scope) for c in columns]
        parts.append(
            _Rows(q.struct((c.name, sql) for c, sql in built), tuple(c for c, _ in built), True)
        )
    nested = spec.get("select", [])
    if not isinstance(nested, list):
        raise fail("select: must be a list")
    parts.extend(_select(s, focus, scope) for s in nested)
    union = spec.get("unionAll")
    if union is not None:
        if not isinstance(union, list) or not union:
            raise fail("unionAll: must be a non-empty list")
        branches = [_select(s, focus, scope) for s in union]
        first = branches[0].columns
        for other in branches[1:]:
            if [c.name for c in other.columns] != [c.name for c in first]:
                raise fail("unionAll: every branch must have the same columns in the same order")
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
        raise fail("select: needs a column, a select or a unionAll")
    return parts


def _recast(rows: _Rows, columns: Sequence[OutColumn], scope: Scope) -> exp.Expression:
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


def _conform(value: exp.Expression, shape: SchemaNode, scope: Scope) -> exp.Expression:
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
                    [(q.is_null(inner), typed_by(child, scope, array=False))],
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


def _repeat(spec: dict[str, Any], focus: Val, scope: Scope) -> _Rows:
    """``repeat``: the body for every node reached by applying the paths again and again,
    depth first (a node, then its children), unrolled to ``scope.repeat_depth`` levels."""
    paths = spec.get("repeat")
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise fail("repeat: a non-empty list of FHIRPath strings")
    trees = [parse_path(p, "repeat") for p in paths]

    def expand(base: Val) -> list[Val]:
        found = []
        for tree in trees:
            try:
                found.append(as_many(compile_node(tree, base, scope), scope))
            except ViewError:
                continue  # a path that names no element of this type reaches nothing
        return found

    tops = expand(focus)
    node_type = next((t.type for t in tops if t.type is not None and not t.type.primitive), None)
    if node_type is None:
        if tops or (not spec.get("column") and not spec.get("select")):
            raise fail("repeat: the paths must reach complex elements")
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
        raise fail("constant: must be a list")
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise fail("constant: each constant has a name")
        values = [(k, v) for k, v in spec.items() if k.startswith("value")]
        if len(values) != 1 or values[0][0] not in _CONSTANT_TYPES:
            raise fail(f"constant {spec['name']}: needs exactly one value[x]")
        key, value = values[0]
        code = _CONSTANT_TYPES[key]
        fhir_type = ft.FhirType(code)
        sql: exp.Expression
        if code == "boolean":
            sql = q.boolean(bool(value))
        elif fhir_type.sql_type() in ("BIGINT", "DOUBLE"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(f"constant {spec['name']}: {key} must be a number")
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
        raise fail("a ViewDefinition is a non-empty object")
    resource = view.get("resource")
    if not isinstance(resource, str):
        raise fail("resource: required (the FHIR resource type the view reads)")
    try:
        resource_type = ft.resource(resource)
    except ValueError as error:
        raise fail(str(error)) from None
    selects = view.get("select")
    if not isinstance(selects, list) or not selects:
        raise fail("select: a non-empty list")
    root_schema = SchemaNode(resource_type, False)
    root = Val(None, resource_type, False, root_schema)
    scope = Scope(dialect, _constants(view), itertools.count(1), q.number(0), root, repeat_depth)
    parts = _parts({"select": selects}, root, scope)
    columns = tuple(c for part in parts for c in part.columns)
    names = [c.name for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise fail(f"column names must be unique: {', '.join(duplicates)}")
    is_resource = exp.EQ(
        this=q.column(RESOURCE_TYPE_COLUMN, ROW_ALIAS), expression=q.string(resource)
    )
    conditions: list[exp.Expression] = []
    wheres = view.get("where", [])
    if not isinstance(wheres, list):
        raise fail("where: must be a list")
    for spec in wheres:
        path = spec.get("path") if isinstance(spec, dict) else None
        value = compile_path(path, root, scope, "where")
        if value.type is None or value.type.code != "boolean":
            raise fail(f"where: {path!r} is not a boolean expression")
        conditions.append(boolean(value, scope, "where"))
    malformed = exp.Not(this=q.coalesce(is_resource, q.boolean(False)))
    condition: exp.Expression = is_resource
    for extra in conditions:
        condition = exp.And(this=condition, expression=exp.Paren(this=extra))
    keep: exp.Expression | None = condition
    if flag_malformed:
        # Every row is kept (flagged) unless a view's ``where`` drops a resource; the
        # bare "malformed or of the type" always holds, so it is not evaluated.
        keep = exp.Or(this=malformed, expression=exp.Paren(this=condition)) if conditions else None
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
        query = exp.select(*projections, *flag_column).from_(source)
        if keep is not None:
            query = query.where(keep)
    else:
        each = multis[0].each if len(multis) == 1 else None
        read_off_x: dict[str, exp.Expression]
        if each is not None:
            # One collection whose rows read its elements: unnest the elements.
            rows_sql, read_off_x = _unnested(each, malformed if flag_malformed else None)
        else:
            combined = _cross(multis, scope)
            rows_sql = combined.as_array()
            if flag_malformed:
                rows_sql = q.case([(malformed, q.array(_null_row(combined.columns)))], rows_sql)
            read_off_x = {c.name: q.dot(exp.column("x"), c.name) for c in combined.columns}
        inner_columns = [exp.alias_(sql, q.ident(name)) for name, sql in singles.items()]
        inner = exp.select(
            *inner_columns, *flag_column, exp.alias_(exp.Explode(this=rows_sql), "x")
        ).from_(source)
        if keep is not None:
            inner = inner.where(keep)
        projections = [
            exp.alias_(read_off_x.get(c.name, q.column(c.name)), q.ident(c.name)) for c in columns
        ]
        if flag_malformed:
            projections.append(exp.alias_(q.column(MALFORMED_COLUMN), q.ident(MALFORMED_COLUMN)))
        query = exp.select(*projections).from_(inner.subquery("q"))
    settle_types(query, scope)
    name = view.get("name")
    return CompiledView(
        resource=resource,
        name=name if isinstance(name, str) else resource.lower(),
        dialect=dialect,
        source=root_schema,
        columns=columns,
        _query=query,
    )
