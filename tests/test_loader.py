"""Tests for qualiscore.loader: YAML text -> plain data + source map, and every refusal."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from qualiscore import loader
from qualiscore.errors import Location, SchemeLoadError
from qualiscore.loader import MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_SCALAR, Document, load_path, load_text

PARSERS = ["libyaml", "python"] if hasattr(yaml, "CSafeLoader") else ["python"]


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml and with PyYAML's pure-Python parser: results must agree."""
    if request.param == "python":
        monkeypatch.setattr(loader, "_Loader", yaml.SafeLoader)
    return request.param


def refusal(text: str | bytes, path: str = "<string>") -> SchemeLoadError:
    with pytest.raises(SchemeLoadError) as info:
        load_text(text, path)
    err = info.value
    assert err.location is not None
    assert err.location.file == path
    assert err.hint
    assert err.code.startswith(("yaml-", "file-"))
    assert err.format()  # printable without a traceback
    return err


def where(err: SchemeLoadError) -> tuple[int | None, int | None]:
    assert err.location is not None
    return err.location.line, err.location.column


# --- values: YAML 1.2 core schema -------------------------------------------------------------

CORE_SCHEMA = [
    # null
    ("null", None),
    ("Null", None),
    ("NULL", None),
    ("~", None),
    ("", None),
    ("nULL", "nULL"),
    ("none", "none"),
    # bool: only the six spellings of true/false
    ("true", True),
    ("True", True),
    ("TRUE", True),
    ("false", False),
    ("False", False),
    ("FALSE", False),
    ("tRUE", "tRUE"),
    ("yes", "yes"),
    ("no", "no"),
    ("Yes", "Yes"),
    ("NO", "NO"),
    ("on", "on"),
    ("off", "off"),
    ("ON", "ON"),
    ("y", "y"),
    ("n", "n"),
    ("Y", "Y"),
    # int
    ("0", 0),
    ("17", 17),
    ("-17", -17),
    ("+5", 5),
    ("007", 7),
    ("0o17", 15),
    ("0x1F", 31),
    ("0x1f", 31),
    ("0X1F", "0X1F"),
    ("0o8", "0o8"),
    ("-0x1F", "-0x1F"),
    ("1_000", "1_000"),
    ("0b101", "0b101"),
    ("1:30", "1:30"),
    ("٣", "٣"),  # a non-ASCII digit is not a number
    ("12 345", "12 345"),
    # float
    ("1.5", 1.5),
    ("-2e3", -2000.0),
    ("1e3", 1000.0),
    ("2E-2", 0.02),
    (".5", 0.5),
    ("-.5", -0.5),
    ("1.", 1.0),
    ("+1.5e+2", 150.0),
    (".inf", math.inf),
    (".Inf", math.inf),
    ("+.INF", math.inf),
    ("-.Inf", -math.inf),
    ("inf", "inf"),
    ("nan", "nan"),
    (".", "."),
    ("1.5.2", "1.5.2"),
    ("e3", "e3"),
    ("1,5", "1,5"),
    # dates and times stay strings
    ("2026-04-01", "2026-04-01"),
    ("2026-04-01T10:00:00Z", "2026-04-01T10:00:00Z"),
    ("2026-04-01 10:00:00", "2026-04-01 10:00:00"),
    ("12:30:00", "12:30:00"),
    # quoted scalars are always strings
    ("'1'", "1"),
    ('"true"', "true"),
    ("'null'", "null"),
    ('"~"', "~"),
    ("''", ""),
    ('""', ""),
    ("'0x1F'", "0x1F"),
    ("'it''s'", "it's"),
    ('"tab\\there \\u00e9"', "tab\there é"),
    # plain strings
    ("hello world", "hello world"),
    ("接通时长", "接通时长"),
    ("trailing  ", "trailing"),
]


@pytest.mark.parametrize(("written", "expected"), CORE_SCHEMA, ids=[repr(c[0]) for c in CORE_SCHEMA])
def test_core_schema_scalars(parser: str, written: str, expected: Any) -> None:
    doc = load_text(f"value: {written}\n")
    value = doc.data["value"]
    assert value == expected
    assert type(value) is type(expected)  # True is not 1, 1.0 is not 1


@pytest.mark.parametrize("written", [".nan", ".NaN", ".NAN"])
def test_nan(written: str) -> None:
    value = load_text(f"value: {written}").data["value"]
    assert isinstance(value, float)
    assert math.isnan(value)


def test_scalars_in_lists_resolve_too(parser: str) -> None:
    doc = load_text("xs: [1, '1', yes, null, 2026-04-01, 1.5, true]\n")
    assert doc.data == {"xs": [1, "1", "yes", None, "2026-04-01", 1.5, True]}


def test_block_scalars(parser: str) -> None:
    text = "lit: |\n  one\n  two\nfold: >\n  one\n  two\n\n  three\nstrip: |-\n  x\nnum: |\n  12\n"
    assert load_text(text).data == {
        "lit": "one\ntwo\n",
        "fold": "one two\nthree\n",
        "strip": "x",
        "num": "12\n",
    }


def test_nested_structures_and_empty_collections(parser: str) -> None:
    text = "a:\n  b:\n    - {c: 1, d: [2, 3]}\n    - []\n  e: {}\n"
    assert load_text(text).data == {"a": {"b": [{"c": 1, "d": [2, 3]}, []], "e": {}}}


def test_data_contains_only_plain_python_types() -> None:
    text = "a: 1\nb: [x, 2.5, ~, true, {c: d}]\nwhen: 2026-04-01\nt: 10:00\n"

    def check(value: Any) -> None:
        assert type(value) in (dict, list, str, int, float, bool, type(None))
        if isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)

    check(load_text(text).data)


@pytest.mark.parametrize(
    ("text", "expected_key"),
    [
        ("1: x", "1"),
        ("0x1F: x", "31"),
        ("007: x", "7"),
        ("true: x", "true"),
        ("True: x", "true"),
        ("FALSE: x", "false"),
        ("~: x", "null"),
        ("null: x", "null"),
        ("yes: x", "yes"),
        ("1.50: x", "1.50"),
        ("'1': x", "1"),
        ('"a b": x', "a b"),
        ("2026-04-01: x", "2026-04-01"),
        ("? |\n  block\n: x", "block\n"),
    ],
)
def test_mapping_keys_become_strings(parser: str, text: str, expected_key: str) -> None:
    assert load_text(text).data == {expected_key: "x"}


def test_key_order_is_preserved() -> None:
    assert list(load_text("z: 1\na: 2\nm: 3\n").data) == ["z", "a", "m"]


def test_flow_mapping_entry_without_value_is_null(parser: str) -> None:
    assert load_text("a: {b, c: 1}").data == {"a": {"b": None, "c": 1}}


# --- source map ---------------------------------------------------------------------------------

SCHEME = """\
name: demo scheme
version: 3
# comment
dimensions:
  - id: speed
    weight: 2
    label: "Fast reply"
    notes: 'it''s'
    description: |

      First line
      Second line
  - id: tone
    tags: [a, "b c", {x: 1}]
"quoted key": yes
folded: >-
    folded text
empty:
"""

VALUE_POSITIONS = {
    "": (1, 1),
    "/name": (1, 7),
    "/version": (2, 10),
    "/dimensions": (5, 3),
    "/dimensions/0": (5, 5),
    "/dimensions/0/id": (5, 9),
    "/dimensions/0/weight": (6, 13),
    "/dimensions/0/label": (7, 13),  # after the opening quote
    "/dimensions/0/notes": (8, 13),
    "/dimensions/0/description": (11, 7),  # first content line of the block scalar
    "/dimensions/1": (13, 5),
    "/dimensions/1/id": (13, 9),
    "/dimensions/1/tags": (14, 11),
    "/dimensions/1/tags/0": (14, 12),
    "/dimensions/1/tags/1": (14, 16),
    "/dimensions/1/tags/2": (14, 22),
    "/dimensions/1/tags/2/x": (14, 26),
    "/quoted key": (15, 15),
    "/folded": (17, 5),
    "/empty": (18, 7),
}

KEY_POSITIONS = {
    "/name": (1, 1),
    "/version": (2, 1),
    "/dimensions": (4, 1),
    "/dimensions/0/id": (5, 5),
    "/dimensions/0/weight": (6, 5),
    "/dimensions/0/label": (7, 5),
    "/dimensions/0/notes": (8, 5),
    "/dimensions/0/description": (9, 5),
    "/dimensions/1/id": (13, 5),
    "/dimensions/1/tags": (14, 5),
    "/dimensions/1/tags/2/x": (14, 23),
    "/quoted key": (15, 2),  # after the opening quote, like values
    "/folded": (16, 1),
    "/empty": (18, 1),
}


def test_scheme_data() -> None:
    doc = load_text(SCHEME, "scheme.yaml")
    assert isinstance(doc, Document)
    assert doc.path == "scheme.yaml"
    assert doc.text == SCHEME
    assert doc.data == {
        "name": "demo scheme",
        "version": 3,
        "dimensions": [
            {
                "id": "speed",
                "weight": 2,
                "label": "Fast reply",
                "notes": "it's",
                "description": "\nFirst line\nSecond line\n",
            },
            {"id": "tone", "tags": ["a", "b c", {"x": 1}]},
        ],
        "quoted key": "yes",
        "folded": "folded text",
        "empty": None,
    }


def test_value_positions(parser: str) -> None:
    assert dict(load_text(SCHEME).values) == VALUE_POSITIONS


def test_key_positions(parser: str) -> None:
    assert dict(load_text(SCHEME).keys) == KEY_POSITIONS


def test_source_map_is_read_only() -> None:
    doc = load_text(SCHEME)
    with pytest.raises(TypeError):
        doc.values["/x"] = (1, 1)  # type: ignore[index]
    with pytest.raises(AttributeError):
        doc.data = {}  # type: ignore[misc]


def test_positions_count_characters_not_bytes(parser: str) -> None:
    doc = load_text("名前: 😀 x\nb: ['é', \"ü\"]\n")
    assert doc.values["/名前"] == (1, 5)
    assert doc.values["/b/0"] == (2, 6)
    assert doc.values["/b/1"] == (2, 11)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_positions_with_either_line_ending(parser: str, newline: str) -> None:
    doc = load_text(newline.join(["a: 1", "b:", "  - x", "c: |", "  text", "d: 2", ""]))
    assert doc.data == {"a": 1, "b": ["x"], "c": "text\n", "d": 2}
    assert doc.values["/b/0"] == (3, 5)
    assert doc.values["/c"] == (5, 3)
    assert doc.values["/d"] == (6, 4)


def test_block_scalar_position_edge_cases(parser: str) -> None:
    text = "a: |2\n    indented\nb: >+\n\n\n  late\nc: |\nd: x\n"
    doc = load_text(text)
    assert doc.data["a"] == "  indented\n"
    assert doc.values["/a"] == (2, 5)  # first non-blank character of the first content line
    assert doc.values["/b"] == (6, 3)  # blank lines are skipped
    assert doc.data["c"] == ""
    assert doc.values["/c"] == (7, 4)  # no content: the indicator itself


def test_multiline_plain_and_quoted_scalars(parser: str) -> None:
    doc = load_text('a: one\n  two\nb: "x\n  y"\n')
    assert doc.data == {"a": "one two", "b": "x y"}
    assert doc.values["/a"] == (1, 4)
    assert doc.values["/b"] == (3, 5)


@pytest.mark.parametrize(
    ("text", "pointer", "value"),
    [
        ("a/b: 1", "/a~1b", 1),
        ("c~d: 2", "/c~0d", 2),
        ("'~1': 3", "/~01", 3),
        ("'/~': 4", "/~1~0", 4),
        ("'': 5", "/", 5),
        ("x: {'': {'': 6}}", "/x//", 6),
        ("'a b': 7", "/a b", 7),
        ("list: [0, [8]]", "/list/1/0", 8),
    ],
)
def test_json_pointer_escaping(text: str, pointer: str, value: Any) -> None:
    doc = load_text(text)
    assert pointer in doc.values
    assert _resolve_pointer(doc.data, pointer) == value


def test_escape_pointer_token() -> None:
    assert loader.escape_pointer_token("a/b~c") == "a~1b~0c"
    assert loader.escape_pointer_token("~1") == "~01"


def _resolve_pointer(data: Any, pointer: str) -> Any:
    if pointer == "":
        return data
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        data = data[int(token)] if isinstance(data, list) else data[token]
    return data


def test_every_pointer_resolves() -> None:
    doc = load_text(SCHEME)
    for pointer in doc.values:
        _resolve_pointer(doc.data, pointer)
    assert set(doc.keys) <= set(doc.values)


# --- locate and scalar_style --------------------------------------------------------------------


def test_locate_known_value_and_key() -> None:
    doc = load_text(SCHEME, "s.yaml")
    assert doc.locate("/dimensions/0/weight") == Location("s.yaml", 6, 13, "/dimensions/0/weight")
    assert doc.locate("/dimensions/0/weight", key=True) == Location("s.yaml", 6, 5, "/dimensions/0/weight")


def test_locate_falls_back_to_nearest_ancestor() -> None:
    doc = load_text(SCHEME, "s.yaml")
    # A missing property is reported at the mapping that should contain it, under its own pointer.
    assert doc.locate("/dimensions/1/weight") == Location("s.yaml", 13, 5, "/dimensions/1/weight")
    assert doc.locate("/dimensions/7/a/b") == Location("s.yaml", 5, 3, "/dimensions/7/a/b")
    assert doc.locate("/nope") == Location("s.yaml", 1, 1, "/nope")
    assert doc.locate("/nope", key=True) == Location("s.yaml", 1, 1, "/nope")
    # A list item has no key: key=True falls back to the value.
    assert doc.locate("/dimensions/1", key=True) == Location("s.yaml", 13, 5, "/dimensions/1")
    assert doc.locate("") == Location("s.yaml", 1, 1, "")


def test_locate_on_document_without_map_entries() -> None:
    doc = Document(data={}, path="p", text="", values={}, keys={})
    assert doc.locate("/a/b") == Location("p", None, None, "/a/b")


def test_scalar_style() -> None:
    doc = load_text(SCHEME)
    assert doc.scalar_style("/name") == "plain"
    assert doc.scalar_style("/dimensions/0/label") == '"'
    assert doc.scalar_style("/dimensions/0/notes") == "'"
    assert doc.scalar_style("/dimensions/0/description") == "|"
    assert doc.scalar_style("/folded") == ">"
    assert doc.scalar_style("/dimensions") is None
    assert doc.scalar_style("/missing") is None


# --- refusals -----------------------------------------------------------------------------------

# (id, text, code, line, column, pointer)
REFUSALS = [
    ("anchor", "a: &x 1\nb: 2\n", "yaml-alias", 1, 4, "/a"),
    ("alias", "a: 1\nb: *x\n", "yaml-alias", 2, 4, "/b"),
    ("anchor-on-mapping", "a: &x\n  b: 1\n", "yaml-alias", 1, 4, "/a"),
    ("alias-in-list", "a: [1, *x]\n", "yaml-alias", 1, 8, "/a/1"),
    ("merge-key", "base: &b {x: 1}\nother:\n  <<: *b\n", "yaml-alias", 1, 7, "/base"),
    ("merge-key-without-alias", "other:\n  x: 1\n  <<: {y: 2}\n", "yaml-merge-key", 3, 3, "/other/<<"),
    ("merge-key-in-flow", "m: {a: 1, <<: {b: 2}}\n", "yaml-merge-key", 1, 11, "/m/<<"),
    ("integer-over-64-bits", "a: 9223372036854775808\n", "yaml-integer-too-large", 1, 4, "/a"),
    ("hex-over-64-bits", "a: 0x" + "f" * 4000 + "\n", "yaml-integer-too-large", 1, 4, "/a"),
    ("octal-over-64-bits", "a: [1, 0o1000000000000000000000]\n", "yaml-integer-too-large", 1, 8, "/a/1"),
    ("key-over-64-bits", "m:\n  0x" + "f" * 40 + ": 1\n", "yaml-integer-too-large", 2, 3, "/m"),
    ("tag-python", "a: !!python/object/apply:os.system ['echo hi']\n", "yaml-tag", 1, 4, "/a"),
    ("tag-str", "a: !!str 1\n", "yaml-tag", 1, 4, "/a"),
    ("tag-custom", "x: 1\nb:\n  c: !custom {}\n", "yaml-tag", 3, 6, "/b/c"),
    ("tag-non-specific", "a: ! 1\n", "yaml-tag", 1, 4, "/a"),
    ("tag-verbatim", "a: !<tag:yaml.org,2002:int> 1\n", "yaml-tag", 1, 4, "/a"),
    ("tag-on-root", "!!map\na: 1\n", "yaml-tag", 1, 1, ""),
    ("tag-on-key", "!!str a: 1\n", "yaml-tag", 1, 1, ""),
    ("duplicate", "a: 1\nb: 2\na: 3\n", "yaml-duplicate-key", 3, 1, "/a"),
    ("duplicate-quoted", "a: 1\n'a': 2\n", "yaml-duplicate-key", 2, 2, "/a"),
    ("duplicate-flow", "m: {k: 1, k: 2}\n", "yaml-duplicate-key", 1, 11, "/m/k"),
    ("duplicate-same-number", "m:\n  1: a\n  0x1: b\n", "yaml-duplicate-key", 3, 3, "/m/1"),
    ("duplicate-same-bool", "m:\n  true: a\n  True: b\n", "yaml-duplicate-key", 3, 3, "/m/true"),
    ("key-not-scalar", "? [a]\n: 1\n", "yaml-key-not-scalar", 1, 3, ""),
    ("key-flow-mapping", "a: {{b: 1}: 2}\n", "yaml-key-not-scalar", 1, 5, "/a"),
    ("multiple-documents", "a: 1\n---\nb: 2\n", "yaml-multiple-documents", 2, 1, None),
    ("multiple-after-end-marker", "a: 1\n...\n---\nb: 2\n", "yaml-multiple-documents", 3, 1, None),
    ("implicit-after-end-marker", "a: 1\n...\nb: 2\n", "yaml-syntax", 3, 1, None),
    ("multiple-explicit", "---\na: 1\n---\na: 1\n", "yaml-multiple-documents", 3, 1, None),
    ("empty", "", "yaml-empty", 1, 1, ""),
    ("only-whitespace", "  \n\n\t\n", "yaml-empty", 1, 1, ""),
    ("only-comments", "# a comment\n   # another\n", "yaml-empty", 1, 1, ""),
    ("only-comments-no-newline", "\t# tab, then a comment", "yaml-empty", 1, 1, ""),
    ("only-comments-crlf", "\r\n# c\r\n\r\n", "yaml-empty", 1, 1, ""),
    ("only-marker", "---\n", "yaml-empty", 1, 1, ""),
    ("marker-and-end", "--- # nothing\n...\n", "yaml-empty", 1, 1, ""),
    ("not-mapping-list", "# header\n- a\n- b\n", "yaml-not-mapping", 2, 1, ""),
    ("not-mapping-scalar", "just text\n", "yaml-not-mapping", 1, 1, ""),
    ("not-mapping-null", "null\n", "yaml-not-mapping", 1, 1, ""),
    ("not-mapping-quoted-empty", "''\n", "yaml-not-mapping", 1, 2, ""),
    ("not-mapping-number", "--- 42\n", "yaml-not-mapping", 1, 5, ""),
    ("control-nul", "a: 1\nb: x\x00y\n", "yaml-encoding", 2, 5, None),
    ("control-escape", "a: \x1b[31m\n", "yaml-encoding", 1, 4, None),
    ("control-del", "a: 1\n\n  \x7f", "yaml-encoding", 3, 3, None),
    ("surrogate", "a: \udcff\n", "yaml-encoding", 1, 4, None),
    ("syntax-colon", "a: b: c\n", "yaml-syntax", 1, 5, None),
    ("syntax-tab-indent", "a:\n\tb: 1\n", "yaml-syntax", 2, 1, None),
    ("syntax-unclosed-flow", "a: [1, 2\nb: 3\n", "yaml-syntax", 2, 2, None),
    ("syntax-unclosed-quote", "a: 'open\n", "yaml-syntax", 2, 1, None),
]


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "pointer"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refusals(parser: str, text: str, code: str, line: int, column: int, pointer: str | None) -> None:
    err = refusal(text, "bad.yaml")
    assert err.code == code, err.format()
    if code == "yaml-syntax" and parser == "python":
        # The pure-Python parser words and places some syntax errors differently.
        assert err.location is not None and err.location.line is not None
        return
    assert where(err) == (line, column), err.format()
    assert err.location is not None
    assert err.location.pointer == pointer


def test_error_codes_are_distinct() -> None:
    codes = {
        "yaml-syntax",
        "yaml-alias",
        "yaml-duplicate-key",
        "yaml-tag",
        "yaml-too-large",
        "yaml-too-deep",
        "yaml-scalar-too-long",
        "yaml-too-many-nodes",
        "yaml-encoding",
        "yaml-multiple-documents",
        "yaml-empty",
        "yaml-not-mapping",
        "yaml-key-not-scalar",
        "yaml-merge-key",
        "yaml-integer-too-large",
    }
    seen = {case[2] for case in REFUSALS}
    assert seen <= codes


def test_syntax_error_message_is_readable() -> None:
    err = refusal("name: x\nlabel: a: b\n")
    assert err.code == "yaml-syntax"
    assert "mapping values are not allowed" in err.message
    assert where(err) == (2, 9)
    assert str(err).startswith("<string>:2:9: error[yaml-syntax]")


def test_tab_error_has_a_tab_hint() -> None:
    err = refusal("a:\n\tb: 1\n")
    assert err.hint is not None and "spaces" in err.hint


def test_duplicate_key_message_names_key_and_first_line() -> None:
    err = refusal("dims:\n  - id: a\n    weight: 1\n\n    weight: 2\n")
    assert err.code == "yaml-duplicate-key"
    assert "'weight'" in err.message
    assert "line 3" in err.message
    assert where(err) == (5, 5)
    assert err.location is not None and err.location.pointer == "/dims/0/weight"


def test_duplicate_key_message_shows_written_form() -> None:
    err = refusal("1: a\n01: b\n")
    assert "'1'" in err.message and "'01'" in err.message


def test_same_key_in_different_mappings_is_fine() -> None:
    assert load_text("a: {id: 1}\nb: {id: 2}\n").data == {"a": {"id": 1}, "b": {"id": 2}}


def test_tag_message_uses_short_form() -> None:
    err = refusal("a: !!python/object/apply:os.system ['echo pwned']\n")
    assert "!!python/object/apply:os.system" in err.message


def test_not_mapping_message_names_the_type() -> None:
    assert "a list" in refusal("- 1\n").message
    assert "a string" in refusal("hello\n").message
    assert "a number" in refusal("3\n").message


# --- limits -------------------------------------------------------------------------------------


def test_depth_limit_boundary(parser: str) -> None:
    # The root mapping is level 1.
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert load_text(ok).data["a"] is not None
    err = refusal("a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH)
    assert err.code == "yaml-too-deep"
    assert where(err) == (1, 3 + MAX_DEPTH)
    assert err.location is not None and err.location.pointer == "/a" + "/0" * (MAX_DEPTH - 1)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 10_000, id="flow-sequences"),
        pytest.param("a: " + "{a: " * 10_000, id="flow-mappings"),
        pytest.param("- " * 10_000 + "x", id="block-sequences"),
        pytest.param("".join(" " * i + "k:\n" for i in range(1_000)), id="block-mappings"),
        pytest.param("a: " + "[" * 10_000 + "]" * 10_000, id="balanced"),
    ],
)
def test_deep_nesting_is_refused_not_recursion_error(parser: str, text: str) -> None:
    err = refusal(text)
    assert err.code == "yaml-too-deep"
    assert err.location is not None and err.location.line is not None


def test_deep_nesting_beyond_recursion_limit() -> None:
    depth = sys.getrecursionlimit() * 3
    err = refusal("a: " + "[" * depth + "]" * depth)
    assert err.code == "yaml-too-deep"


def test_scalar_length_limit(parser: str) -> None:
    assert len(load_text("a: " + "x" * MAX_SCALAR).data["a"]) == MAX_SCALAR
    err = refusal("a: 1\nb: " + "x" * (MAX_SCALAR + 1))
    assert err.code == "yaml-scalar-too-long"
    assert where(err) == (2, 4)
    assert err.location is not None and err.location.pointer == "/b"


def test_scalar_length_limit_applies_to_quoted_and_block_scalars() -> None:
    assert refusal("a: '" + "x" * (MAX_SCALAR + 1) + "'").code == "yaml-scalar-too-long"
    assert refusal("a: |\n" + ("  " + "y" * 99 + "\n") * 700).code == "yaml-scalar-too-long"


def test_huge_integer_is_refused_not_value_error() -> None:
    err = refusal("a: " + "9" * 5_000)
    assert err.code == "yaml-integer-too-large"
    assert where(err) == (1, 4)
    assert "(5,000 characters)" in err.message  # the value is not printed in full
    assert load_text("a: '" + "9" * 5_000 + "'").data["a"] == "9" * 5_000


@pytest.mark.parametrize("text", ["9223372036854775807", "-9223372036854775808", "0x7fffffffffffffff",
                                  "0o777777777777777777777", "0x" + "0" * 100 + "1", "+0", "-0"])
def test_integers_of_64_bits_load(text: str) -> None:
    value = load_text(f"a: {text}").data["a"]
    assert isinstance(value, int) and value == int(text, 0)


def test_a_quoted_merge_key_is_a_plain_key() -> None:
    assert load_text("m: {'<<': 1, \"<<x\": 2}").data == {"m": {"<<": 1, "<<x": 2}}


def test_node_limit() -> None:
    # root mapping + key + list = 3 nodes, then the items
    assert len(load_text("a: [" + "1," * (MAX_NODES - 3) + "]").data["a"]) == MAX_NODES - 3
    err = refusal("a: [" + "1," * (MAX_NODES - 2) + "]")
    assert err.code == "yaml-too-many-nodes"
    assert err.location is not None
    assert err.location.pointer == f"/a/{MAX_NODES - 3}"
    assert where(err) == (1, 5 + 2 * (MAX_NODES - 3))


def test_node_limit_counts_keys_and_collections(parser: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loader, "MAX_NODES", 7)
    text = "a: 1\nb: {c: [2]}\n"  # root, a, 1, b, {}, c, [], 2 = 8 nodes
    err = refusal(text)
    assert err.code == "yaml-too-many-nodes"
    assert where(err) == (2, 9)
    assert err.location is not None and err.location.pointer == "/b/c/0"
    monkeypatch.setattr(loader, "MAX_NODES", 8)
    assert load_text(text).data == {"a": 1, "b": {"c": [2]}}


def test_size_limit_for_text() -> None:
    body = "a: " + "x" * 60_000 + "\n"
    lines = [f"k{i}: {'x' * 100}\n" for i in range(MAX_BYTES // 110)]
    assert len("".join(lines).encode()) <= MAX_BYTES
    load_text("".join(lines))
    err = refusal(body * 20)
    assert err.code == "yaml-too-large"
    assert f"{MAX_BYTES:,}" in err.message


def test_size_limit_counts_utf8_bytes_not_characters() -> None:
    text = "a: " + "é" * (MAX_BYTES // 2)  # fewer characters than MAX_BYTES, more bytes
    assert len(text) < MAX_BYTES
    assert refusal(text).code == "yaml-too-large"
    assert refusal(text.encode()).code == "yaml-too-large"


def test_two_megabyte_scalar_is_refused() -> None:
    assert refusal("a: " + "x" * 2_000_000).code == "yaml-too-large"


# --- hostile inputs -----------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs(parser: str) -> None:
    err = refusal(BILLION_LAUGHS)
    assert err.code == "yaml-alias"
    assert where(err) == (1, 4)


def test_alias_without_anchor_is_refused_at_the_first_alias() -> None:
    # Aliases to an anchor that never appears: refused at the first one, nothing is expanded.
    text = "x: [" + ",".join(["*a"] * 1000) + "]\n"
    err = refusal(text)
    assert err.code == "yaml-alias"
    assert where(err) == (1, 5)


def test_python_object_apply_is_refused(parser: str) -> None:
    err = refusal("!!python/object/apply:os.system\nargs: ['touch /tmp/pwned']\n")
    assert err.code == "yaml-tag"
    err = refusal("a: !!python/object/apply:os.system ['touch /tmp/pwned']\n")
    assert err.code == "yaml-tag"


def test_duplicate_keys_nested_deep(parser: str) -> None:
    depth = 30
    lines = [" " * (2 * i) + f"l{i}:" for i in range(depth)]
    indent = " " * (2 * depth)
    lines += [f"{indent}k: 1", f"{indent}other: 2", f"{indent}k: 3", ""]
    err = refusal("\n".join(lines))
    assert err.code == "yaml-duplicate-key"
    assert where(err) == (depth + 3, 2 * depth + 1)
    assert err.location is not None
    assert err.location.pointer == "".join(f"/l{i}" for i in range(depth)) + "/k"
    assert f"line {depth + 1}" in err.message


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(bytes(range(256)) * 4, id="all-bytes"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png-header"),
        pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", id="zip-header"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00", id="elf-header"),
        pytest.param(b"a: 1\n" + b"\x00" * 100, id="nul-padding"),
    ],
)
def test_binary_garbage(garbage: bytes) -> None:
    err = refusal(garbage)
    assert err.code == "yaml-encoding"
    assert err.location is not None and err.location.line is not None


def test_multiple_documents_hostile() -> None:
    err = refusal("a: 1\n" + "---\na: 1\n" * 1000)
    assert err.code == "yaml-multiple-documents"
    assert where(err) == (2, 1)


# --- encoding and BOM ---------------------------------------------------------------------------


def test_bytes_are_decoded_as_utf8() -> None:
    doc = load_text("name: Café 😀\n".encode())
    assert doc.data == {"name": "Café 😀"}
    assert doc.text == "name: Café 😀\n"


@pytest.mark.parametrize("text", [b"\xef\xbb\xbfa: 1\nb: x\n", "\ufeffa: 1\nb: x\n"])
def test_bom_is_stripped(text: str | bytes) -> None:
    doc = load_text(text)
    assert doc.data == {"a": 1, "b": "x"}
    assert not doc.text.startswith("\ufeff")
    assert doc.keys["/a"] == (1, 1)
    assert doc.values["/b"] == (2, 4)


def test_bom_then_bad_byte_is_located_after_bom() -> None:
    err = refusal(b"\xef\xbb\xbfab: \xff")
    assert where(err) == (1, 5)


@pytest.mark.parametrize(
    ("raw", "line", "column"),
    [
        (b"a: \xff", 1, 4),
        (b"a: 1\nb: caf\xc3\xa9 \xc3\n", 2, 9),  # column counts characters, not bytes
        (b"a: 1\n\nc: \xe2\x82", 3, 4),  # truncated sequence at the end
        (b"a: 1\r\nb: 2\rc: \x80", 3, 4),  # CRLF and CR line breaks count like the parser's
        (b"\xed\xa0\x80: 1", 1, 1),  # encoded surrogate
        ("a: 1\n".encode("utf-16"), 1, 1),  # UTF-16 with BOM
        ("a: é".encode("latin-1"), 1, 4),
    ],
)
def test_encoding_errors_are_located(raw: bytes, line: int, column: int) -> None:
    err = refusal(raw)
    assert err.code == "yaml-encoding"
    assert where(err) == (line, column)
    assert "UTF-8" in err.message


def test_bytearray_and_memoryview_are_accepted() -> None:
    assert load_text(bytearray(b"a: 1")).data == {"a": 1}
    assert load_text(memoryview(b"a: 1")).data == {"a": 1}


def test_non_text_argument_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        load_text(42)  # type: ignore[arg-type]


def test_unicode_line_separators_do_not_break_values() -> None:
    doc = load_text('a: "x\\u2028y"\nb: 1\n')
    assert doc.data == {"a": "x\u2028y", "b": 1}


# --- load_path ----------------------------------------------------------------------------------


def test_load_path_reads_a_file(tmp_path: Path) -> None:
    file = tmp_path / "scheme.yaml"
    file.write_bytes(SCHEME.encode())
    doc = load_path(file)
    assert doc.path == str(file)
    assert doc.data["name"] == "demo scheme"
    assert doc.locate("/version").file == str(file)
    assert load_path(str(file)).data == doc.data


def test_load_path_keeps_the_display_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "s.yaml").write_text("a: 1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_path("s.yaml").path == "s.yaml"
    with pytest.raises(SchemeLoadError) as info:
        load_path("missing.yaml")
    assert info.value.location == Location(file="missing.yaml")


def test_load_path_errors_are_located_in_the_file(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("a: 1\na: 2\n", encoding="utf-8")
    with pytest.raises(SchemeLoadError) as info:
        load_path(file)
    assert info.value.code == "yaml-duplicate-key"
    assert info.value.location == Location(str(file), 2, 1, "/a")


def test_load_path_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(SchemeLoadError) as info:
        load_path(missing)
    assert info.value.code == "file-not-found"
    assert info.value.location is not None and info.value.location.file == str(missing)
    assert info.value.hint


def test_load_path_missing_parent_is_not_found(tmp_path: Path) -> None:
    file = tmp_path / "file.yaml"
    file.write_text("a: 1", encoding="utf-8")
    with pytest.raises(SchemeLoadError) as info:
        load_path(file / "child.yaml")
    assert info.value.code == "file-not-found"


def test_load_path_directory(tmp_path: Path) -> None:
    with pytest.raises(SchemeLoadError) as info:
        load_path(tmp_path)
    assert info.value.code == "file-unreadable"
    assert info.value.location == Location(file=str(tmp_path))


def test_load_path_nul_in_path() -> None:
    with pytest.raises(SchemeLoadError) as info:
        load_path("bad\x00name.yaml")
    assert info.value.code == "file-unreadable"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_load_path_permission_denied(tmp_path: Path) -> None:
    file = tmp_path / "secret.yaml"
    file.write_text("a: 1", encoding="utf-8")
    file.chmod(0)
    try:
        with pytest.raises(SchemeLoadError) as info:
            load_path(file)
        assert info.value.code == "file-unreadable"
    finally:
        file.chmod(0o600)


def test_load_path_unreadable_via_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("a: 1", encoding="utf-8")

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("builtins.open", deny)
    with pytest.raises(SchemeLoadError) as info:
        load_path(file)
    assert info.value.code == "file-unreadable"
    assert "Permission denied" in info.value.message


def test_load_path_too_large_file(tmp_path: Path) -> None:
    file = tmp_path / "big.yaml"
    file.write_bytes(b"a: " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(SchemeLoadError) as info:
        load_path(file)
    assert info.value.code == "yaml-too-large"
    assert info.value.location == Location(file=str(file))


def test_load_path_exactly_max_bytes_is_allowed(tmp_path: Path) -> None:
    file = tmp_path / "edge.yaml"
    line = b"k: " + b"x" * 60 + b"\n"
    count = MAX_BYTES // len(line)
    body = b"".join(b"k%d: " % i + b"x" * (len(line) - 5 - len(str(i))) + b"\n" for i in range(count))
    body += b"#" * (MAX_BYTES - len(body))
    assert len(body) == MAX_BYTES
    file.write_bytes(body)
    assert len(load_path(file).data) == count


def test_load_path_huge_sparse_file_is_refused_from_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "huge.yaml"
    with open(file, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)

    def no_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file over the limit must not be opened")

    monkeypatch.setattr("builtins.open", no_open)
    with pytest.raises(SchemeLoadError) as info:
        load_path(file)
    assert info.value.code == "yaml-too-large"
    assert "104,857,600" in info.value.message


def test_load_path_bounds_the_read_when_stat_lies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pipes and devices report size 0; the read itself must still be bounded."""
    file = tmp_path / "pipe.yaml"
    file.write_bytes(b"a: " + b"x" * (MAX_BYTES + 10))
    real_stat = os.stat

    class FakeStat:
        st_mode = real_stat(file).st_mode
        st_size = 0

    monkeypatch.setattr(loader.os, "stat", lambda path: FakeStat())
    with pytest.raises(SchemeLoadError) as info:
        load_path(file)
    assert info.value.code == "yaml-too-large"


def test_load_path_binary_file(tmp_path: Path) -> None:
    file = tmp_path / "image.yaml"
    file.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(SchemeLoadError) as info:
        load_path(file)
    assert info.value.code == "yaml-encoding"
    assert info.value.location is not None and info.value.location.file == str(file)


# --- realistic size -----------------------------------------------------------------------------


def test_three_hundred_line_scheme() -> None:
    parts = ["name: big\nversion: 1\ndimensions:\n"]
    for d in range(20):
        parts.append(f"  - id: dim{d}\n    weight: {d + 1}\n    indicators:\n")
        for i in range(4):
            parts.append(
                f"      - id: ind{d}_{i}\n        measure: {{mean: handle_time_s}}\n"
                f"        score: {{linear: {{from: 600, to: 60}}}}\n"
            )
    text = "".join(parts)
    assert text.count("\n") >= 300
    doc = load_text(text)
    assert len(doc.data["dimensions"]) == 20
    assert doc.data["dimensions"][19]["indicators"][3]["score"] == {"linear": {"from": 600, "to": 60}}
    assert doc.locate("/dimensions/19/indicators/3/id").line == text.count("\n") - 2


# --------------------------------------------------------------------------- full-width punctuation


def test_full_width_colon_is_named_at_its_own_position(parser: str) -> None:
    error = refusal("title: demo\ndimensions:\n  - id: a\n    target： 0.80\n    weight: 1\n", "x.yaml")
    assert error.code == "yaml-full-width-colon"
    assert error.message == "full-width colon '：' (U+FF1A) — type ':' (half-width)"
    assert (error.location.line, error.location.column) == (4, 11)


def test_full_width_text_in_a_value_is_not_blamed(parser: str) -> None:
    error = refusal("title: 客服（2026）：质量\nitems: [1, 2\nnext: 3\n")
    assert error.code == "yaml-syntax"


def test_full_width_colon_in_quoted_text_or_a_comment_is_not_blamed(parser: str) -> None:
    error = refusal("title: '目标：0.80'  # 注：说明\nitems: [1, 2\nnext: 3\n")
    assert error.code == "yaml-syntax"
