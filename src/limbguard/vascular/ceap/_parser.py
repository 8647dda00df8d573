"""CEAP text -> `Ceap`, with errors that name the offending token and its position.

Grammar (clinical_reference.md §4.5-4.6; letters are case-insensitive except where
noted). Items are separated by whitespace and/or commas; groups come in the order
C, E, A, P, then an optional level of investigation:

    C     "C" class {"," class} ["," S|A]        class: 0-6, 2r, 4a/4b/4c, 6r, with or
                                                 without its "C"; S/A may be attached
                                                 to the last class ("C2s", "C4bA")
    E     "E" x {"," x}                          x: p, s, si, se, c, n  ("Ec,p")
    A     "A" x {"," x}                          x: s, p, d, n          ("As,p,d")
    P     "P" x {"," x} [segments] {P ...}       x: r, o, n; segments follow their own
                                                 P code ("Pr FV,POPV Po CIV,EIV")
    level "LI" | "LII" | "LIII"

Segments are 2020 abbreviations or legacy numbers 1-18, also attached ("Pr2,3,18").
Groups may also be separated by commas ("C6,S, Ep, As,p,d, Pr"). Only C is required.

A bare letter after a comma continues the current group, so "Ep, s" means Ep and Es:
S/A is read only inside the C group. After "C4" a capital "A" is refused as ambiguous
(subclass C4a, or asymptomatic?): write "C4a" or "C4,A".

Beyond syntax, the parser refuses (project decisions, see `_vocab.EXCLUSIVE`/`PARENT`):
a code listed twice; C0, En, An or Pn beside another code of its letter; a subclass
beside its own parent ("C4,4a", "Es,si"); both S and A; segments after Pn or An; and
a segment whose system (As/Ap/Ad) is missing from a stated A group. Positions in
errors are 0-based character offsets into the text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Final, TypeVar

from limbguard.vascular._base import InvalidInput
from limbguard.vascular.ceap._model import Ceap, SegmentGroup
from limbguard.vascular.ceap._vocab import (
    EXCLUSIVE,
    LEGACY_SEGMENTS,
    PARENT,
    AnatomicSystem,
    ClinicalClass,
    Etiology,
    Level,
    Pathophysiology,
    Segment,
)

# Longer input is not a CEAP string (the longest sensible one is ~150 characters).
MAX_TEXT_LENGTH: Final = 500
# Parsed texts kept (at most MAX_TEXT_LENGTH characters each): a registry repeats a few
# hundred spellings, and re-parsing one costs ~25 µs against < 1 µs from the cache.
PARSE_CACHE_SIZE: Final = 4096

# ASCII only: Unicode digits or case folding ("ſ" matches "s") would slip past the codes.
_C_FULL: Final = re.compile(r"[Cc]([0-9])(.*)", re.ASCII)
_C_BARE: Final = re.compile(r"([0-9])(.*)", re.ASCII)
_MODIFIER: Final = re.compile(r"[SsAa]", re.ASCII)
_E: Final = re.compile(r"E(si|se|p|s|c|n)", re.ASCII | re.IGNORECASE)
_E_BARE: Final = re.compile(r"si|se|p|s|c|n", re.ASCII | re.IGNORECASE)
_A: Final = re.compile(r"A([spdn])", re.ASCII | re.IGNORECASE)
_A_BARE: Final = re.compile(r"[spdn]", re.ASCII | re.IGNORECASE)
_P: Final = re.compile(r"P([ron])([0-9]*)", re.ASCII | re.IGNORECASE)
_P_BARE: Final = re.compile(r"[ron]", re.ASCII | re.IGNORECASE)
_LEVEL: Final = re.compile(r"L(I{1,3})", re.ASCII | re.IGNORECASE)
_NUMBER: Final = re.compile(r"[0-9]+", re.ASCII)

_SEGMENTS: Final[Mapping[str, Segment]] = MappingProxyType({s.value.upper(): s for s in Segment})
_C, _E_GROUP, _A_GROUP, _P_GROUP, _LEVEL_GROUP = range(5)
_GROUP_NAMES: Final = ("clinical class", "etiology", "anatomy", "pathophysiology", "level")

_Code = TypeVar("_Code", ClinicalClass, Etiology, AnatomicSystem, Pathophysiology)


class CeapError(InvalidInput):
    """Bad CEAP text; `position` (0-based) and `token` point at the offending item."""

    def __init__(self, position: int, token: str, message: str) -> None:
        super().__init__("text", f"{message} at position {position} ({token!r})")
        self.position = position
        self.token = token


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    after_comma: bool

    def error(self, message: str) -> CeapError:
        return CeapError(self.start, self.text, message)


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    comma: int | None = None
    i = 0
    while i < len(text):
        if text[i] == ",":
            if comma is not None or not tokens:
                raise CeapError(i, ",", "unexpected comma")
            comma = i
            i += 1
        elif text[i].isspace():
            i += 1
        else:
            j = i
            while j < len(text) and text[j] != "," and not text[j].isspace():
                j += 1
            tokens.append(_Token(text[i:j], i, comma is not None))
            comma = None
            i = j
    if comma is not None:
        raise CeapError(comma, ",", "dangling comma at the end")
    if not tokens:
        raise CeapError(0, text, "empty CEAP text")
    return tokens


def _add(codes: dict[_Code, _Token], code: _Code, token: _Token) -> None:
    """Record `code`, refusing repeats, exclusive codes in company and parent + child."""
    if code in codes:
        raise token.error(f"{code.value} is listed twice")
    for other in codes:
        if code in EXCLUSIVE or other in EXCLUSIVE:
            raise token.error(f"{code.value} cannot be combined with {other.value}")
        if PARENT.get(code) is other or PARENT.get(other) is code:
            raise token.error(f"{code.value} and {other.value} say the same thing twice")
    codes[code] = token


@dataclass
class _Group:
    codes: list[Pathophysiology] = field(default_factory=list)
    segments: dict[Segment, _Token] = field(default_factory=dict)


@dataclass
class _Parser:
    group: int = _C
    classes: dict[ClinicalClass, _Token] = field(default_factory=dict)
    symptomatic: bool | None = None
    modifier: _Token | None = None
    etiology: dict[Etiology, _Token] = field(default_factory=dict)
    anatomy: dict[AnatomicSystem, _Token] = field(default_factory=dict)
    pathophysiology: dict[Pathophysiology, _Token] = field(default_factory=dict)
    groups: list[_Group] = field(default_factory=list)
    level: Level | None = None

    def feed(self, token: _Token) -> None:
        text = token.text
        if self.group == _LEVEL_GROUP:
            raise token.error("nothing may follow the level of investigation")
        if self.group == _C and token.after_comma and self._clinical_item(token):
            return
        if m := _E.fullmatch(text):
            self._enter(_E_GROUP, token)
            _add(self.etiology, Etiology("E" + m[1].lower()), token)
        elif self.group == _E_GROUP and token.after_comma and _E_BARE.fullmatch(text):
            _add(self.etiology, Etiology("E" + text.lower()), token)
        elif m := _A.fullmatch(text):
            self._enter(_A_GROUP, token)
            _add(self.anatomy, AnatomicSystem("A" + m[1].lower()), token)
        elif self.group == _A_GROUP and token.after_comma and _A_BARE.fullmatch(text):
            _add(self.anatomy, AnatomicSystem("A" + text.lower()), token)
        elif m := _P.fullmatch(text):
            self._pathophysiology(token, m[1], m[2], bare=False)
        elif self.group == _P_GROUP and token.after_comma and _P_BARE.fullmatch(text):
            self._pathophysiology(token, text, "", bare=True)
        elif m := _LEVEL.fullmatch(text):
            self._enter(_LEVEL_GROUP, token)
            self.level = Level("L" + m[1].upper())
        elif text.upper() in _SEGMENTS or _NUMBER.fullmatch(text):
            self._segments(token, text)
        elif _C_FULL.fullmatch(text):
            raise token.error("clinical classes go in the first group, joined by commas")
        else:
            raise token.error(f"unrecognised item after the {_GROUP_NAMES[self.group]} group")

    def _enter(self, group: int, token: _Token) -> None:
        if group < self.group:
            raise token.error(f"{_GROUP_NAMES[group]} must come before {_GROUP_NAMES[self.group]}")
        self.group = group

    def start(self, token: _Token) -> None:
        m = _C_FULL.fullmatch(token.text)
        if m is None:
            raise token.error("CEAP must start with the clinical class C0-C6")
        self._clinical(token, m[1], m[2])

    def _clinical_item(self, token: _Token) -> bool:
        """Continue the C group with a class or S/A; False if the item is not one."""
        if _MODIFIER.fullmatch(token.text):
            self._modifier(token, token.text)
            return True
        m = _C_FULL.fullmatch(token.text) or _C_BARE.fullmatch(token.text)
        if m is None:
            return False
        self._clinical(token, m[1], m[2])
        return True

    def _clinical(self, token: _Token, digit: str, rest: str) -> None:
        if self.modifier is not None:
            raise token.error("S/A must be the last item of the clinical class")
        if int(digit) > 6:
            raise token.error("clinical classes run from C0 to C6")
        sub = rest[:1]
        if sub in ("r", "R") and digit in "26":
            code, rest = f"C{digit}r", rest[1:]
        elif sub in ("r", "R"):
            raise token.error("only C2 and C6 have a recurrent form (r)")
        elif digit == "4" and sub == "A":
            raise token.error("ambiguous: write C4a (pigmentation/eczema) or C4,A (asymptomatic)")
        elif sub in ("a", "b", "c", "B", "C") and digit == "4":
            code, rest = f"C4{sub.lower()}", rest[1:]
        elif sub in ("b", "c", "B", "C"):
            raise token.error("subclasses a, b and c exist only for C4")
        else:
            code = f"C{digit}"
        _add(self.classes, ClinicalClass(code), token)
        if rest:
            if not _MODIFIER.fullmatch(rest):
                raise token.error(f"unexpected {rest!r} after {code}")
            self._modifier(token, rest)

    def _modifier(self, token: _Token, letter: str) -> None:
        if self.modifier is not None:
            raise token.error("S/A is given twice")
        self.modifier = token
        self.symptomatic = letter in ("s", "S")

    def _pathophysiology(self, token: _Token, letter: str, number: str, *, bare: bool) -> None:
        """A full code ("Po") opens a new segment group unless it is comma-joined to a
        group that has no segments yet ("Pr,Po"); a bare letter ("o") must be."""
        self._enter(_P_GROUP, token)
        code = Pathophysiology("P" + letter.lower())
        current = self.groups[-1] if self.groups else None
        if bare and current is not None and current.segments:
            raise token.error("P codes come before their segments")
        if current is None or current.segments or not token.after_comma:
            current = _Group()
            self.groups.append(current)
        _add(self.pathophysiology, code, token)
        current.codes.append(code)
        if number:
            self._segments(token, number)

    def _segments(self, token: _Token, text: str) -> None:
        if self.group != _P_GROUP:
            raise token.error("segments follow a P code (e.g. Pr GSVa,FV)")
        group = self.groups[-1]
        if Pathophysiology.PN in group.codes:
            raise token.error("Pn (no pathophysiology) takes no segments")
        if _NUMBER.fullmatch(text):
            if int(text) not in LEGACY_SEGMENTS:
                raise token.error("legacy segment numbers run from 1 to 18")
            segments = LEGACY_SEGMENTS[int(text)]
        else:
            segments = (_SEGMENTS[text.upper()],)
        for segment in segments:
            if AnatomicSystem.AN in self.anatomy:
                raise token.error("An (no anatomic location) takes no segments")
            if self.anatomy and segment.system not in self.anatomy:
                listed = ",".join(a.value for a in self.anatomy)
                raise token.error(f"{segment} belongs to {segment.system}, not listed in {listed}")
            if segment in group.segments:
                raise token.error(f"{segment} is listed twice")
            group.segments[segment] = token

    def result(self) -> Ceap:
        groups = sorted(
            (
                SegmentGroup(_ordered(g.codes), _ordered(list(g.segments)))
                for g in self.groups
                if g.segments
            ),
            key=lambda g: _rank(g.codes[0]),
        )
        return Ceap(
            clinical_classes=_ordered(list(self.classes)),
            symptomatic=self.symptomatic,
            etiology_codes=_ordered(list(self.etiology)),
            anatomy_codes=_ordered(list(self.anatomy)),
            pathophysiology_codes=_ordered(list(self.pathophysiology)),
            segment_groups=tuple(groups),
            level=self.level,
        )


_Enum = TypeVar("_Enum", bound=StrEnum)


# Cached: listing an Enum's members on every comparison was ~40 % of a parse. Keyed by
# type too, as members of different StrEnums with the same value compare equal.
@lru_cache(maxsize=None, typed=True)
def _rank(code: StrEnum) -> int:
    return list(type(code)).index(code)


def _ordered(codes: list[_Enum]) -> tuple[_Enum, ...]:
    return tuple(sorted(codes, key=_rank))


def parse(text: str) -> Ceap:
    """Parse a CEAP 2020 classification (basic or advanced; 2004 numbers accepted).

    Returns a normalised `Ceap`; `str()` of it is the canonical 2020 spelling and
    parses back to an equal object. Raises `CeapError` (a `ValueError`) whose
    `position` and `token` point at the first offending item, or `InvalidInput` when
    `text` is not a string.
    """
    if not isinstance(text, str):
        raise InvalidInput("text", f"must be a string, got {text!r}")
    if len(text) > MAX_TEXT_LENGTH:
        raise CeapError(MAX_TEXT_LENGTH, text[MAX_TEXT_LENGTH:], "text is too long")
    return _parse_text(text)


# A `Ceap` is immutable all the way down, so one parsed object can be shared by every
# caller; errors are raised afresh each time (lru_cache does not store exceptions).
@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_text(text: str) -> Ceap:
    first, *rest = _tokens(text)
    parser = _Parser()
    parser.start(first)
    for token in rest:
        parser.feed(token)
    return parser.result()
