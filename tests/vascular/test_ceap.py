"""CEAP 2020 parsing, validation and canonical printing.

Source: Lurie F, Passman M, Meisner M, et al. The 2020 update of the CEAP
classification system and reporting standards. J Vasc Surg Venous Lymphat Disord
2020;8:342-352 (Tables I-IV; examples of basic and advanced CEAP), with the 2004
numbering from Eklöf B et al., J Vasc Surg 2004;40:1248-1252. Parsing conventions:
clinical_reference.md §4.6 (project decisions).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from limbguard.vascular import ceap
from limbguard.vascular._base import InvalidInput
from limbguard.vascular.ceap import CeapError, Segment

# The reference's worked example (§4.5) in its three published spellings.
ADVANCED_2020 = "C2,3,4b,6,S Ep As,p,d Pr GSVa,GSVb,CPV,FV,POPV"
ADVANCED_2004 = "C2,3,4b,6,S Ep As,p,d Pr2,3,18,13,14"
BASIC = "C6,S Ep As,p,d Pr"


def test_basic_ceap_example() -> None:
    c = ceap.parse(BASIC)
    assert c.clinical == ["C6"]
    assert c.highest == 6
    assert c.symptomatic is True
    assert c.etiology == ["Ep"]
    assert c.anatomy == ["As", "Ap", "Ad"]
    assert c.pathophysiology == ["Pr"]
    assert c.segments == {}
    assert c.level is None
    assert str(c) == BASIC


def test_advanced_ceap_example_and_its_2004_numeric_form_are_the_same() -> None:
    c = ceap.parse(ADVANCED_2020)
    assert c.clinical == ["C2", "C3", "C4b", "C6"]
    assert c.highest == 6
    assert c.segments == {"Pr": ["GSVa", "GSVb", "FV", "POPV", "CPV"]}
    assert ceap.parse(ADVANCED_2004) == c
    assert str(c) == "C2,3,4b,6,S Ep As,p,d Pr GSVa,GSVb,FV,POPV,CPV"


def test_groups_may_also_be_separated_by_commas() -> None:
    assert ceap.parse("C2,3,4b,6,S, Ep, As,p,d, Pr2,3,18,13,14") == ceap.parse(ADVANCED_2020)


@pytest.mark.parametrize("text", ["C2s", "C2S", "C2,S", "C2, s", "c2 ,S"])
def test_symptomatic_attached_or_as_the_last_comma_item(text: str) -> None:
    c = ceap.parse(text)
    assert (c.clinical, c.symptomatic, str(c)) == (["C2"], True, "C2,S")


@pytest.mark.parametrize("text", ["C2a", "C2A", "C2,A", "C4,a", "C4bA", "C6ra"])
def test_asymptomatic_modifier(text: str) -> None:
    assert ceap.parse(text).symptomatic is False


def test_symptoms_not_stated_is_none() -> None:
    assert ceap.parse("C3 Ep").symptomatic is None


@pytest.mark.parametrize(
    ("text", "clinical", "highest"),
    [
        ("C0", ["C0"], 0),
        ("C0s", ["C0"], 0),
        ("C1", ["C1"], 1),
        ("C2r", ["C2r"], 2),
        ("C2R", ["C2r"], 2),
        ("C3", ["C3"], 3),
        ("C4", ["C4"], 4),
        ("C4a", ["C4a"], 4),
        ("C4B", ["C4b"], 4),
        ("C4c", ["C4c"], 4),
        ("C4a,4b,4c", ["C4a", "C4b", "C4c"], 4),
        ("C5", ["C5"], 5),
        ("C6", ["C6"], 6),
        ("C6r", ["C6r"], 6),
        ("C6,2r,4a", ["C2r", "C4a", "C6"], 6),
        ("C2,C4c", ["C2", "C4c"], 4),
        ("C2r,5,6r", ["C2r", "C5", "C6r"], 6),
    ],
)
def test_clinical_classes(text: str, clinical: list[str], highest: int) -> None:
    c = ceap.parse(text)
    assert c.clinical == clinical
    assert c.highest == highest


@pytest.mark.parametrize(
    ("text", "etiology"),
    [
        ("C2 Ep", ["Ep"]),
        ("C2 Es", ["Es"]),
        ("C2 Esi", ["Esi"]),
        ("C2 Ese", ["Ese"]),
        ("C2 Ec", ["Ec"]),
        ("C2 En", ["En"]),
        ("C2 Ec,p", ["Ep", "Ec"]),
        ("C2 Ep,si,se", ["Ep", "Esi", "Ese"]),
        ("C2 EP ESI", ["Ep", "Esi"]),
    ],
)
def test_etiology_codes_and_comma_shorthand(text: str, etiology: list[str]) -> None:
    assert ceap.parse(text).etiology == etiology


@pytest.mark.parametrize(
    ("text", "anatomy", "pathophysiology"),
    [
        ("C2 As Pr", ["As"], ["Pr"]),
        ("C2 Ad,s Po", ["As", "Ad"], ["Po"]),
        ("C2 As Ap Ad Pr,o", ["As", "Ap", "Ad"], ["Pr", "Po"]),
        ("C2 An Pn", ["An"], ["Pn"]),
        ("C2 as,P,d pr,O", ["As", "Ap", "Ad"], ["Pr", "Po"]),
    ],
)
def test_anatomy_and_pathophysiology(
    text: str, anatomy: list[str], pathophysiology: list[str]
) -> None:
    c = ceap.parse(text)
    assert (c.anatomy, c.pathophysiology) == (anatomy, pathophysiology)


def test_segments_follow_their_own_p_code() -> None:
    c = ceap.parse("C3 Esi Ad Pr FV,POPV Po CIV,EIV")
    assert c.pathophysiology == ["Pr", "Po"]
    assert c.segments == {"Pr": ["FV", "POPV"], "Po": ["CIV", "EIV"]}
    assert str(c) == "C3 Esi Ad Pr FV,POPV Po CIV,EIV"


def test_the_papers_pr_o_with_one_segment_list_is_kept_as_one_group() -> None:
    c = ceap.parse("C3 Es Ad Pr,o FV, POPV")
    assert c.segments == {"Pr,o": ["FV", "POPV"]}
    assert str(c) == "C3 Es Ad Pr,o FV,POPV"
    assert ceap.parse("C3 Es Ad Pr,Po FV POPV") == c
    assert ceap.parse("C3 Es Ad Pr FV,POPV Po FV,POPV") != c


def test_a_p_code_without_segments_beside_one_with_segments() -> None:
    c = ceap.parse("C2 Po CIV, Pr")
    assert c.segments == {"Po": ["CIV"]}
    assert str(c) == "C2 Pr Po CIV"
    assert ceap.parse(str(c)) == c


@pytest.mark.parametrize(
    ("number", "names"), [(n, [s.value for s in segs]) for n, segs in ceap.LEGACY_SEGMENTS.items()]
)
def test_every_legacy_number_maps_to_its_2020_segments(number: int, names: list[str]) -> None:
    assert ceap.parse(f"C2 Pr{number}").segments == {"Pr": names}
    assert ceap.parse(f"C2 Pr {number}").segments == {"Pr": names}


def test_legacy_numbers_cover_1_to_18_and_every_segment_but_the_new_ones() -> None:
    assert sorted(ceap.LEGACY_SEGMENTS) == list(range(1, 19))
    mapped = {s for segs in ceap.LEGACY_SEGMENTS.values() for s in segs}
    new_or_subdivided = {
        Segment.AASV,
        Segment.PRV,
        Segment.ATV,
        Segment.PTV,
        Segment.GAV,
        Segment.SOV,
    }
    assert mapped == set(Segment) - new_or_subdivided


@pytest.mark.parametrize("segment", list(Segment))
def test_every_segment_abbreviation_parses_in_any_case(segment: Segment) -> None:
    system = segment.system.value
    for spelling in (segment.value, segment.value.lower(), segment.value.upper()):
        assert ceap.parse(f"C2 {system} Pr {spelling}").segments == {"Pr": [segment.value]}


def test_level_of_investigation() -> None:
    for level in ("LI", "LII", "LIII", "lii"):
        assert ceap.parse(f"C2 Ep As Pr GSVa {level}").level == ceap.Level(level.upper())
    assert str(ceap.parse("c2s ep as pr 2 liii")) == "C2,S Ep As Pr GSVa LIII"


def test_result_is_immutable_and_hashable() -> None:
    c = ceap.parse(ADVANCED_2020)
    c.clinical.append("C5")
    assert c.clinical == ["C2", "C3", "C4b", "C6"]
    assert hash(c) == hash(ceap.parse(ADVANCED_2004))


# --- errors point at the offending token -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "token", "message"),
    [
        ("", 0, "", "empty"),
        ("   ", 0, "   ", "empty"),
        (",C2", 0, ",", "unexpected comma"),
        ("C2,,3", 3, ",", "unexpected comma"),
        ("C2,", 2, ",", "dangling comma"),
        ("Ep As Pr", 0, "Ep", "must start with the clinical class"),
        ("C7", 0, "C7", "run from C0 to C6"),
        ("C2,9", 3, "9", "run from C0 to C6"),
        ("C4A", 0, "C4A", "ambiguous"),
        ("C3r", 0, "C3r", "only C2 and C6"),
        ("C2b", 0, "C2b", "exist only for C4"),
        ("C2x", 0, "C2x", "unexpected 'x' after C2"),
        ("C2sa", 0, "C2sa", "unexpected 'sa'"),
        ("C2,2", 3, "2", "C2 is listed twice"),
        ("C0,2", 3, "2", "cannot be combined with C0"),
        ("C2,0", 3, "0", "C0 cannot be combined"),
        ("C4,4a", 3, "4a", "say the same thing twice"),
        ("C6r,6", 4, "6", "say the same thing twice"),
        ("C2,2r", 3, "2r", "say the same thing twice"),
        ("C2,S,3", 5, "3", "S/A must be the last item"),
        ("C2s,3", 4, "3", "S/A must be the last item"),
        ("C2s,A", 4, "A", "S/A is given twice"),
        ("C2 S", 3, "S", "unrecognised item"),
        ("C2 C3", 3, "C3", "joined by commas"),
        ("C2 Ep Xy", 6, "Xy", "unrecognised item after the etiology group"),
        ("C2 Ep,p", 6, "p", "Ep is listed twice"),
        ("C2 En,p", 6, "p", "cannot be combined with En"),
        ("C2 Es,si", 6, "si", "say the same thing twice"),
        ("C2 As Ep", 6, "Ep", "etiology must come before anatomy"),
        ("C2 Pr As", 6, "As", "anatomy must come before pathophysiology"),
        ("C2 As,n", 6, "n", "cannot be combined"),
        ("C2 Pn,r", 6, "r", "cannot be combined"),
        ("C2 Pr,r", 6, "r", "Pr is listed twice"),
        ("C2 GSVa", 3, "GSVa", "segments follow a P code"),
        ("C2 Ep 2", 6, "2", "segments follow a P code"),
        ("C2 Pr 0", 6, "0", "run from 1 to 18"),
        ("C2 Pr19", 3, "Pr19", "run from 1 to 18"),
        ("C2 Pr GSV", 6, "GSV", "unrecognised item"),
        ("C2 Pr GSVa,GSVa", 11, "GSVa", "GSVa is listed twice"),
        ("C2 Pr 1,Tel", 8, "Tel", "Tel is listed twice"),
        ("C2 Pr GSVa,o", 11, "o", "P codes come before their segments"),
        ("C2 As Pr FV", 9, "FV", "FV belongs to Ad, not listed in As"),
        ("C2 As,p Pr GSVa,FV", 16, "FV", "not listed in As,Ap"),
        ("C2 An Pr GSVa", 9, "GSVa", "An (no anatomic location) takes no segments"),
        ("C2 Pn CIV", 6, "CIV", "Pn (no pathophysiology) takes no segments"),
        ("C2 Pn5", 3, "Pn5", "takes no segments"),
        ("C2 LII Ep", 7, "Ep", "nothing may follow the level"),
        ("C2 LIV", 3, "LIV", "unrecognised item"),
        ("C2; Ep", 0, "C2;", "unexpected ';' after C2"),
    ],
)
def test_errors_point_at_the_offending_token(
    text: str, position: int, token: str, message: str
) -> None:
    with pytest.raises(CeapError) as caught:
        ceap.parse(text)
    error = caught.value
    assert (error.position, error.token) == (position, token)
    assert isinstance(error, ValueError)
    assert error.field == "text"
    assert str(error).startswith("text: ")
    assert message in str(error)
    assert f"at position {position} ({token!r})" in str(error)


@pytest.mark.parametrize("bad", [None, 2, b"C2", ["C2"]])
def test_non_strings_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidInput, match=r"^text: must be a string"):
        ceap.parse(bad)  # type: ignore[arg-type]


def test_overlong_text_is_rejected_at_the_limit() -> None:
    with pytest.raises(CeapError) as caught:
        ceap.parse("C2 " + "Ep " * 200)
    assert caught.value.position == ceap.MAX_TEXT_LENGTH


# --- property: any valid spelling parses, and its canonical form parses back -----------


@dataclass(frozen=True)
class Case:
    text: str
    clinical: frozenset[str]
    symptomatic: bool | None
    etiology: frozenset[str]
    anatomy: frozenset[str]
    pathophysiology: frozenset[str]
    segments: dict[frozenset[str], frozenset[str]]


def _some(draw: st.DrawFn, options: list[str]) -> list[str]:
    """A shuffled non-empty subset."""
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, unique=True))
    return draw(st.permutations(chosen))


def _spell(draw: st.DrawFn, code: str) -> str:
    return draw(st.sampled_from([code, code.lower(), code.upper()]))


def _joined(draw: st.DrawFn, codes: list[str]) -> str:
    """ "Ep,c" / "Ep, Ec" / "Ep Ec" style spellings of one letter group."""
    text = _spell(draw, codes[0])
    for code in codes[1:]:
        sep = draw(st.sampled_from([",", ", ", " , ", " "]))
        item = code[1:] if sep != " " and draw(st.booleans()) else code
        text += sep + _spell(draw, item)
    return text


def _clinical(draw: st.DrawFn, classes: list[str], symptomatic: bool | None) -> str:
    items: list[str] = []
    for i, code in enumerate(classes):
        digit, sub = code[1], code[2:]
        if sub == "a":
            pass  # "A" right after 4 is refused as ambiguous, so "a" stays lower case
        else:
            sub = draw(st.sampled_from([sub, sub.upper()]))
        prefix = draw(st.sampled_from(["C", "c"])) if i == 0 or draw(st.booleans()) else ""
        items.append(prefix + digit + sub)
    text = items[0] + "".join(draw(st.sampled_from([",", ", ", " ,"])) + x for x in items[1:])
    if symptomatic is None:
        return text
    letter = draw(st.sampled_from(["S", "s"] if symptomatic else ["A", "a"]))
    attachable = classes[-1] != "C4" or symptomatic
    if attachable and draw(st.booleans()):
        return text + letter
    return text + draw(st.sampled_from([",", ", "])) + letter


def _segments(draw: st.DrawFn, segments: list[str], *, attach: bool) -> str:
    legacy = {segs[0].value: str(n) for n, segs in ceap.LEGACY_SEGMENTS.items() if len(segs) == 1}
    items = [
        legacy[s] if s in legacy and draw(st.booleans()) else _spell(draw, s) for s in segments
    ]
    body = items[0] + "".join(draw(st.sampled_from([",", ", ", " "])) + x for x in items[1:])
    if attach and items[0].isdigit() and draw(st.booleans()):
        return body
    return draw(st.sampled_from([" ", ", "])) + body


@st.composite
def valid_ceap(draw: st.DrawFn) -> Case:
    if draw(st.integers(0, 9)) == 0:
        classes = ["C0"]
    else:
        levels = [
            draw(st.sampled_from([[], ["C1"]])),
            draw(st.sampled_from([[], ["C2"], ["C2r"]])),
            draw(st.sampled_from([[], ["C3"]])),
            draw(
                st.one_of(
                    st.just([]),
                    st.just(["C4"]),
                    st.lists(st.sampled_from(["C4a", "C4b", "C4c"]), min_size=1, unique=True),
                )
            ),
            draw(st.sampled_from([[], ["C5"]])),
            draw(st.sampled_from([[], ["C6"], ["C6r"]])),
        ]
        classes = [c for level in levels for c in level] or ["C3"]
    classes = draw(st.permutations(classes))
    symptomatic = draw(st.sampled_from([None, True, False]))
    parts = [_clinical(draw, classes, symptomatic)]

    etiology: list[str] = []
    if draw(st.booleans()):
        secondary = draw(st.sampled_from([[], ["Es"], ["Esi"], ["Ese"], ["Esi", "Ese"]]))
        etiology = ["En"] if draw(st.integers(0, 5)) == 0 else _some(draw, ["Ep", "Ec", *secondary])
        parts.append(_joined(draw, etiology))
    anatomy: list[str] = []
    if draw(st.booleans()):
        anatomy = ["An"] if draw(st.integers(0, 5)) == 0 else _some(draw, ["As", "Ap", "Ad"])
        parts.append(_joined(draw, anatomy))
    pathophysiology: list[str] = []
    groups: dict[frozenset[str], frozenset[str]] = {}
    if draw(st.booleans()):
        pathophysiology = ["Pn"] if draw(st.integers(0, 5)) == 0 else _some(draw, ["Pr", "Po"])
        allowed = [s.value for s in Segment if not anatomy or s.system.value in anatomy]
        can_locate = "Pn" not in pathophysiology and "An" not in anatomy
        together = len(pathophysiology) == 2 and draw(st.booleans())
        code_groups = [pathophysiology] if together else [[p] for p in pathophysiology]
        texts = []
        for codes in code_groups:
            text = _spell(draw, codes[0]) + "".join(
                draw(st.sampled_from([",", ", "])) + _spell(draw, draw(st.sampled_from([c, c[1:]])))
                for c in codes[1:]
            )
            if can_locate and draw(st.booleans()):
                segments = _some(draw, allowed)
                groups[frozenset(codes)] = frozenset(segments)
                text += _segments(draw, segments, attach=len(codes) == 1)
            texts.append(text)
        parts.append(" ".join(draw(st.permutations(texts))))
    if draw(st.booleans()):
        parts.append(_spell(draw, draw(st.sampled_from(["LI", "LII", "LIII"]))))

    separators = [draw(st.sampled_from([" ", "  ", ", ", "\t", " ,"])) for _ in parts[1:]]
    text = parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:], strict=True))
    return Case(
        text,
        frozenset(classes),
        symptomatic,
        frozenset(etiology),
        frozenset(anatomy),
        frozenset(pathophysiology),
        groups,
    )


@given(valid_ceap())
def test_canonical_form_parses_back_to_the_same_classification(case: Case) -> None:
    parsed = ceap.parse(case.text)
    assert ceap.parse(str(parsed)) == parsed
    assert str(ceap.parse(str(parsed))) == str(parsed)


@given(valid_ceap())
def test_every_spelling_parses_to_what_it_says(case: Case) -> None:
    parsed = ceap.parse(case.text)
    assert frozenset(parsed.clinical) == case.clinical
    assert parsed.highest == max(int(c[1]) for c in case.clinical)
    assert parsed.symptomatic is case.symptomatic
    assert frozenset(parsed.etiology) == case.etiology
    assert frozenset(parsed.anatomy) == case.anatomy
    assert frozenset(parsed.pathophysiology) == case.pathophysiology
    found = {frozenset(g.codes): frozenset(g.segments) for g in parsed.segment_groups}
    assert found == case.segments


@given(st.text(max_size=40))
def test_arbitrary_text_either_parses_or_raises_ceap_error(text: str) -> None:
    error: CeapError | None = None
    try:
        parsed = ceap.parse(text)
    except CeapError as caught:
        error = caught
    if error is None:
        assert ceap.parse(str(parsed)) == parsed
    else:
        assert 0 <= error.position <= len(text)
        assert text[error.position :].startswith(error.token)
