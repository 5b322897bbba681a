"""Property tests for qualiscore.loader: it never fails with anything but a located SchemeLoadError,
and it reads back what PyYAML writes."""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualiscore import loader
from qualiscore.errors import SchemeLoadError
from qualiscore.loader import Document, load_text

PARSERS = ["libyaml", "python"] if hasattr(yaml, "CSafeLoader") else ["python"]
PROPERTY = settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@contextlib.contextmanager
def using(parser: str) -> Iterator[None]:
    """Use libyaml or PyYAML's pure-Python parser for the duration of the block."""
    cls = yaml.SafeLoader if parser == "python" else getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with mock.patch.object(loader, "_Loader", cls):
        yield


def load_or_refuse(text: str | bytes, parser: str) -> Document | SchemeLoadError:
    """Load ``text``; any exception other than a located SchemeLoadError fails the test."""
    with using(parser):
        try:
            doc = load_text(text, "prop.yaml")
        except SchemeLoadError as err:
            assert err.location is not None
            assert err.location.file == "prop.yaml"
            assert err.code.startswith("yaml-")
            assert err.hint
            if err.location.line is not None:
                assert err.location.line >= 1
                assert err.location.column is not None and err.location.column >= 1
            err.format()
            return err
    check_document(doc)
    return doc


def resolve(data: Any, pointer: str) -> Any:
    if pointer == "":
        return data
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        data = data[int(token)] if isinstance(data, list) else data[token]
    return data


def check_document(doc: Document) -> None:
    """Invariants of every loaded document."""
    assert isinstance(doc.data, dict)
    lines = len(re.split("\r\n|[\r\n\x85\u2028\u2029]", doc.text))
    for pointer, (line, column) in doc.values.items():
        resolve(doc.data, pointer)
        assert 1 <= line <= lines
        assert column >= 1
    assert set(doc.keys) <= set(doc.values)
    for pointer in doc.keys:
        assert pointer != ""
        location = doc.locate(pointer, key=True)
        assert location.line is not None and location.pointer == pointer


# --- never anything but SchemeLoadError --------------------------------------------------------


@PROPERTY
@given(text=st.text(), parser=st.sampled_from(PARSERS))
def test_arbitrary_text(text: str, parser: str) -> None:
    load_or_refuse(text, parser)


@PROPERTY
@given(raw=st.binary(), parser=st.sampled_from(PARSERS))
def test_arbitrary_bytes(raw: bytes, parser: str) -> None:
    load_or_refuse(raw, parser)


@PROPERTY
@given(raw=st.binary(), parser=st.sampled_from(PARSERS))
def test_arbitrary_bytes_after_a_valid_prefix(raw: bytes, parser: str) -> None:
    load_or_refuse(b"\xef\xbb\xbfname: x\nlist:\n  - " + raw, parser)


TOKENS = [
    "a", "b", "key", "1", "-1", "0x1F", "1.5", ".inf", "yes", "true", "null", "~", "2026-04-01",
    ":", ": ", " ", "  ", "    ", "\t", "\n", "\r\n", "\n  ", "\n    ", "- ", "-", "? ",
    "[", "]", "{", "}", ",", ", ", "'", '"', "''", "\\", "\\n", "\\u00e9", "#", " # c",
    "|", "|-", "|+", "|2", ">", ">-", "&x ", "*x", "&", "*", "!!str ", "!x ", "!", "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n", "---", "--- ", "...", "\n---\n", "\n...\n", "é", "😀", "\ufeff",
    "\x85", "\u2028", "\x00", "\x07", "@", "`", "%", "<<", "=",
]  # fmt: skip


@PROPERTY
@given(parts=st.lists(st.sampled_from(TOKENS), max_size=40), parser=st.sampled_from(PARSERS))
def test_yaml_like_token_soup(parts: list[str], parser: str) -> None:
    load_or_refuse("".join(parts), parser)


@st.composite
def block_documents(draw: st.DrawFn) -> str:
    """Mostly well-formed block YAML with random indentation slips and odd scalars."""
    lines = []
    for _ in range(draw(st.integers(1, 15))):
        indent = " " * draw(st.sampled_from([0, 0, 2, 2, 4, 1, 3]))
        key = draw(st.sampled_from(["a", "b", "id", "'q'", '"d"', "1", "true", "~", "a/b", "x~y"]))
        value = draw(st.sampled_from(["", " 1", " x", " [1, 2]", " {k: v}", " |", " >", " 'it''s'", " yes"]))
        bullet = draw(st.sampled_from(["", "", "- "]))
        lines.append(f"{indent}{bullet}{key}:{value}")
        if value in (" |", " >"):
            lines.append(indent + "  text line")
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@PROPERTY
@given(text=block_documents(), parser=st.sampled_from(PARSERS))
def test_block_documents(text: str, parser: str) -> None:
    load_or_refuse(text, parser)


@settings(max_examples=60, deadline=None, database=None)
@given(text=block_documents())
def test_parsers_agree(text: str) -> None:
    """libyaml and the pure-Python parser give the same data and source map, or both refuse."""
    results = [load_or_refuse(text, parser) for parser in PARSERS]
    if len(results) < 2:
        return
    c, python = results
    if isinstance(c, Document) and isinstance(python, Document):
        assert c.data == python.data
        assert c.values == python.values
        assert c.keys == python.keys
    else:
        assert isinstance(c, SchemeLoadError) and isinstance(python, SchemeLoadError)
        if c.code != "yaml-syntax":
            assert c.code == python.code


# --- round trip through PyYAML's emitter ------------------------------------------------------

# Strings the YAML 1.2 core schema reads as something else. PyYAML's emitter follows YAML 1.1 and
# writes some of them (e.g. 0o17, 1e3) unquoted, so the round trip would legitimately differ.
CORE_NON_STRING = re.compile(
    r"~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
)
# U+0085 is left out: with allow_unicode, PyYAML writes it raw into a single-quoted scalar, where
# YAML 1.1 folds it as a line break, so PyYAML does not read its own output back either.
strings = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x85"), max_size=30).filter(
    lambda s: not CORE_NON_STRING.fullmatch(s)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(1 << (loader.MAX_INT_BITS - 1)), (1 << (loader.MAX_INT_BITS - 1)) - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings
    | st.sampled_from(["yes", "no", "on", "off", "2026-04-01", "1_000", "a: b", "- x", "#"])
)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(strings, children, max_size=4),
    max_leaves=15,
)


def same(a: Any, b: Any) -> bool:
    """Equality that also tells True from 1 and 1.0 from 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


@PROPERTY
@given(
    data=st.dictionaries(strings, json_like, max_size=6),
    flow=st.sampled_from([False, True, None]),
    unicode=st.booleans(),
    width=st.sampled_from([20, 80, 1000]),
    parser=st.sampled_from(PARSERS),
)
def test_round_trip(data: dict[str, Any], flow: bool | None, unicode: bool, width: int, parser: str) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=unicode, width=width, sort_keys=False)
    with using(parser):
        doc = load_text(text, "dumped.yaml")
    assert same(doc.data, data), text
    check_document(doc)
    for pointer in doc.values:
        if pointer:
            assert doc.locate(pointer).line is not None


@PROPERTY
@given(data=st.dictionaries(strings, json_like, min_size=1, max_size=6))
def test_round_trip_from_bytes_with_bom(data: dict[str, Any]) -> None:
    raw = b"\xef\xbb\xbf" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
    assert same(load_text(raw).data, data)


LIMIT = 1 << (loader.MAX_INT_BITS - 1)
AROUND_THE_LIMIT = st.one_of(
    st.integers(-(1 << 300), 1 << 300),
    st.integers(LIMIT - 1000, LIMIT + 1000),
    st.integers(-LIMIT - 1000, -LIMIT + 1000),
)


@PROPERTY
@given(value=AROUND_THE_LIMIT, base=st.sampled_from([10, 8, 16]), zeros=st.integers(0, 40),
       key=st.booleans(), parser=st.sampled_from(PARSERS))
def test_integer_limit_is_by_value_whatever_the_base(value: int, base: int, zeros: int, key: bool,
                                                     parser: str) -> None:
    """An integer loads exactly when it fits in MAX_INT_BITS, however it is written (leading zeros,
    octal, hexadecimal, as a key or a value); otherwise it is refused at its position, never crashing."""
    if base != 10:
        value = abs(value)  # YAML 1.2 core: 0o and 0x integers carry no sign
    digits = {10: str(abs(value)), 8: f"0o{'0' * zeros}{value:o}", 16: f"0x{'0' * zeros}{value:X}"}[base]
    text = ("-" if value < 0 else "") + ("0" * zeros if base == 10 else "") + digits
    fits = -LIMIT <= value < LIMIT
    result = load_or_refuse(f"m:\n  {text}: 1\n" if key else f"m: {text}\n", parser)
    if fits:
        assert isinstance(result, Document)
        assert result.data["m"] == ({str(value): 1} if key else value)
    else:
        assert isinstance(result, SchemeLoadError) and result.code == "yaml-integer-too-large"
        assert (result.location.line, result.location.column) == ((2, 3) if key else (1, 4))
        assert len(result.message) < 300  # the number is not printed in full
