"""A parser for the FHIRPath subset that SQL on FHIR v2 views use.

Grammar and operator precedence follow the FHIRPath N1 specification (HL7, section
"Operator precedence"): ``.``/``[]`` > unary ``+ -`` > ``* / div mod`` > ``+ - &`` >
``is as`` > ``|`` > ``< > <= >=`` > ``= ~ != !~`` > ``in contains`` > ``and`` >
``or xor`` > ``implies``. The parser only builds a tree; what each node means in SQL is
`compiler.py`'s business, which rejects the functions it does not implement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


class FhirPathError(ValueError):
    """A FHIRPath expression that does not parse, or that the compiler cannot handle."""


@dataclass(frozen=True)
class Node:
    """Base of the expression tree."""


@dataclass(frozen=True)
class Literal(Node):
    value: str | int | float | bool | None
    kind: str  # "string", "integer", "decimal", "boolean", "date", "dateTime", "time", "empty"


@dataclass(frozen=True)
class Identifier(Node):
    """An element name (or a type name, as the argument of ofType)."""

    name: str


@dataclass(frozen=True)
class This(Node):
    """``$this``."""


@dataclass(frozen=True)
class Constant(Node):
    """``%name``: a view constant or an environment variable (``%rowIndex``)."""

    name: str


@dataclass(frozen=True)
class Member(Node):
    target: Node
    name: str


@dataclass(frozen=True)
class Call(Node):
    """A function call; ``target`` is None for a call on the current focus."""

    target: Node | None
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Index(Node):
    target: Node
    index: Node


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


_TOKEN: Final = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<datetime>@T?\d[\d\-:T.+Z]*)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<delimited>`(?:[^`\\]|\\.)*`)
  | (?P<constant>%(?:[A-Za-z_][A-Za-z0-9_]*|`(?:[^`\\]|\\.)*`|'(?:[^'\\]|\\.)*'))
  | (?P<special>\$this|\$index|\$total)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|!~|\{\}|[.\[\](),=~<>+\-*/&|{}])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES: Final = {
    "'": "'",
    '"': '"',
    "`": "`",
    "r": "\r",
    "n": "\n",
    "t": "\t",
    "f": "\f",
    "\\": "\\",
    "/": "/",
}

# Binding power of infix operators (higher binds tighter), FHIRPath N1 precedence.
_INFIX: Final = {
    "implies": 1,
    "or": 2,
    "xor": 2,
    "and": 3,
    "in": 4,
    "contains": 4,
    "=": 5,
    "~": 5,
    "!=": 5,
    "!~": 5,
    "<": 6,
    ">": 6,
    "<=": 6,
    ">=": 6,
    "|": 7,
    "is": 8,
    "as": 8,
    "+": 9,
    "-": 9,
    "&": 9,
    "*": 10,
    "/": 10,
    "div": 10,
    "mod": 10,
}
_UNARY_POWER: Final = 11


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _unescape(body: str) -> str:
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        nxt = next(chars, "")
        if nxt == "u":
            digits = "".join(next(chars, "") for _ in range(4))
            out.append(chr(int(digits, 16)))
        else:
            out.append(_ESCAPES.get(nxt, nxt))
    return "".join(out)


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FhirPathError(f"unexpected {text[pos]!r} at {pos} in {text!r}")
        kind = match.lastgroup or ""
        if kind != "ws":
            found.append(_Token(kind, match.group(), pos))
        pos = match.end()
    found.append(_Token("end", "", len(text)))
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            raise FhirPathError(f"expected {text!r} at {token.pos} in {self.text!r}")

    def expression(self, power: int = 0) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            if token.text == "." and token.kind == "op":
                self.take()
                left = self.invocation(left)
                continue
            if token.text == "[" and token.kind == "op":
                self.take()
                index = self.expression()
                self.expect("]")
                left = Index(left, index)
                continue
            op = token.text if token.kind in ("op", "ident") else ""
            bind = _INFIX.get(op, 0)
            if bind <= power:
                return left
            self.take()
            if op in ("is", "as"):
                left = Call(left, "ofType" if op == "as" else "is", (self.type_name(),))
                continue
            left = Binary(op, left, self.expression(bind))

    def type_name(self) -> Node:
        token = self.take()
        if token.kind not in ("ident", "delimited"):
            raise FhirPathError(f"expected a type name at {token.pos} in {self.text!r}")
        name = token.text.strip("`")
        while self.peek().text == ".":
            self.take()
            name = self.take().text.strip("`")  # FHIR.Quantity -> Quantity
        return Identifier(name)

    def prefix(self) -> Node:
        token = self.take()
        if token.kind == "op" and token.text in ("+", "-"):
            return Unary(token.text, self.expression(_UNARY_POWER))
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "op" and token.text in ("{}", "{"):
            if token.text == "{":
                self.expect("}")
            return Literal(None, "empty")
        if token.kind == "string":
            return Literal(_unescape(token.text[1:-1]), "string")
        if token.kind == "number":
            if "." in token.text:
                return Literal(float(token.text), "decimal")
            return Literal(int(token.text), "integer")
        if token.kind == "datetime":
            body = token.text[1:]
            kind = "time" if body.startswith("T") else ("dateTime" if "T" in body else "date")
            return Literal(body.lstrip("T"), kind)
        if token.kind == "constant":
            name = token.text[1:]
            if name[:1] in ("`", "'"):
                name = _unescape(name[1:-1])
            return Constant(name)
        if token.kind == "special":
            if token.text != "$this":
                raise FhirPathError(f"{token.text} is not supported")
            return This()
        if token.kind in ("ident", "delimited"):
            self.at -= 1
            return self.invocation(None)
        raise FhirPathError(f"unexpected {token.text or 'end'!r} at {token.pos} in {self.text!r}")

    def invocation(self, target: Node | None) -> Node:
        token = self.take()
        if token.kind == "special" and token.text == "$this":
            return This() if target is None else Member(target, "$this")
        if token.kind not in ("ident", "delimited"):
            raise FhirPathError(f"expected a name at {token.pos} in {self.text!r}")
        name = token.text
        if token.kind == "delimited":
            name = _unescape(name[1:-1])
        elif name in ("true", "false") and target is None:
            return Literal(name == "true", "boolean")
        if self.peek().text == "(" and token.kind == "ident":
            self.take()
            args: list[Node] = []
            if self.peek().text != ")":
                args.append(self.expression())
                while self.peek().text == ",":
                    self.take()
                    args.append(self.expression())
            self.expect(")")
            return Call(target, name, tuple(args))
        return Identifier(name) if target is None else Member(target, name)


def parse(text: object) -> Node:
    """The tree of a FHIRPath expression; FhirPathError when it does not parse."""
    if not isinstance(text, str) or not text.strip():
        raise FhirPathError(f"a FHIRPath expression must be a non-empty string, got {text!r}")
    parser = _Parser(text)
    node = parser.expression()
    if parser.peek().kind != "end":
        token = parser.peek()
        raise FhirPathError(f"unexpected {token.text!r} at {token.pos} in {text!r}")
    return node
