"""Stage 1 of the pipeline: untrusted YAML text -> plain Python data plus a source map.

Schemes come from users and from version control, so this stage treats its input
as hostile: it refuses anything a scheme never needs (anchors, aliases, tags,
several documents) and anything that could exhaust time or memory (size, depth,
node count, scalar length) *before* building values. PyYAML (libyaml when
available) only tokenizes and parses; values are built here from the event
stream with YAML 1.2 core-schema resolution, so ``no`` stays a string and
``2026-04-01`` stays a date string. Working from events without recursion keeps
memory bounded and makes deep nesting a clean error rather than a RecursionError.

Every refusal is a :class:`SchemeLoadError` with a distinct ``code``, a
:class:`Location` and a hint.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NoReturn, Protocol

import yaml

from qualiscore.errors import Location, SchemeLoadError
from qualiscore.i18n import N_, _

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_INT_BITS",
    "MAX_NODES",
    "MAX_SCALAR",
    "Document",
    "escape_pointer_token",
    "load_path",
    "load_text",
]

MAX_BYTES = 1_048_576
MAX_DEPTH = 64
MAX_SCALAR = 65_536
MAX_NODES = 200_000
# Integers are signed 64-bit, whatever base they are written in: every engine can hold them
# exactly and convert them to a float, and a message can always print them.
MAX_INT_BITS = 64
_INT_MIN, _INT_MAX = -(1 << (MAX_INT_BITS - 1)), (1 << (MAX_INT_BITS - 1)) - 1
# The most significant digits a 64-bit integer has in each base (longer texts are refused unread).
_INT_DIGITS = {10: len(str(_INT_MAX)), 8: len(f"{_INT_MAX:o}"), 16: len(f"{_INT_MAX:x}")}

# libyaml when compiled in: several times faster, and its parser is a state machine, not recursive.
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_BOM = "\ufeff"
# Characters YAML allows in a stream (same set as PyYAML's and libyaml's readers).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Line breaks as the YAML 1.1 parsers count them, so our positions agree with theirs.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")

# A line with something other than blanks and a comment. Without one the document is empty
# (PyYAML would call a tab on an otherwise blank line a syntax error).
_CONTENT_LINE = re.compile("(?:^|[\r\n\x85\u2028\u2029])[ \t]*[^ \t\r\n\x85\u2028\u2029#]")
# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT_DEC = re.compile(r"[-+]?[0-9]+")
_INT_OCT = re.compile(r"0o[0-7]+")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
# Only plain scalars starting with one of these can resolve to something other than str.
_NON_STR_START = frozenset("0123456789+-.~nNtTfF")

_YAML_TAG_PREFIX = "tag:yaml.org,2002:"
_STYLES = {None: "plain", "": "plain", "'": "'", '"': '"', "|": "|", ">": ">"}

# Hints, translated where they are given.
_HINT_SYNTAX = N_(
    "fix the YAML syntax near this position: check indentation (spaces, not tabs) and quote "
    "values that contain ': ', ' #', or start with a special character"
)
_HINT_ALIAS = N_("write the repeated content out in full; anchors (&name) and aliases (*name) are not "
                 "supported")
_HINT_TAG = N_("remove the tag; schemes use plain YAML values (quote a value to make it a string)")
_HINT_DUPLICATE = N_("remove or rename one of the two entries; each key may appear once per mapping")
_HINT_MERGE = N_("write the merged keys out in full; merge keys (<<) are not supported")
_HINT_ENCODING = N_("save the file as plain UTF-8 text without control characters")


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded YAML document: plain data plus where each value and key came from.

    ``values`` and ``keys`` map RFC 6901 JSON pointers to 1-based (line, column) of the
    first content character (after the opening quote of a quoted scalar; the first
    non-blank character of the first content line of a block scalar).
    """

    data: Any
    path: str
    text: str
    values: Mapping[str, tuple[int, int]]
    keys: Mapping[str, tuple[int, int]]
    styles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Source span (start, end index into ``text``) of scalars whose value is not their source
    # text verbatim: quoted, block or folded over several lines.
    spans: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def locate(self, pointer: str, *, key: bool = False) -> Location:
        """Location of ``pointer`` (its key with ``key=True``), else of its nearest known ancestor.

        The fallback lets later stages report a *missing* property at the mapping
        that should contain it.
        """
        if key and pointer in self.keys:
            line, column = self.keys[pointer]
            return Location(file=self.path, line=line, column=column, pointer=pointer)
        current = pointer
        while True:
            position = self.values.get(current)
            if position is not None:
                chars = self._chars(current) if current == pointer and current in self.spans else None
                return Location(file=self.path, line=position[0], column=position[1], pointer=pointer, chars=chars)
            if not current:
                return Location(file=self.path, pointer=pointer)
            current = current.rpartition("/")[0]

    def _chars(self, pointer: str) -> tuple[tuple[int, int], ...] | None:
        """Source position of each character of a string scalar's value.

        Aligns the value with its source text: characters match in order, and what
        lies between them is whitespace folded away, quotes, or an escape sequence
        (which stands for the character it produces).
        """
        value = self.data_at(pointer)
        if not isinstance(value, str):
            return None
        start, end = self.spans[pointer]
        text = self.text
        line_starts = self._line_starts()
        i = start
        if self.styles.get(pointer) in ("'", '"'):
            i += 1
        elif self.styles.get(pointer) in ("|", ">"):
            brk = _LINE_BREAK.search(text, i, end)
            i = brk.end() if brk else end
        out = []
        for c in value:
            j = i
            while j < end and text[j] != c and text[j] in " \t\r\n'\"\\":
                if text[j] == "\\" and self.styles.get(pointer) == '"':
                    break  # an escape sequence produces c
                j += 1
            if j < end and text[j] == "\\" and self.styles.get(pointer) == '"' and c != "\\":
                nxt = text[j + 1] if j + 1 < end else ""
                width = {"x": 4, "u": 6, "U": 10}.get(nxt, 2)
                out.append(_char_position(line_starts, j))
                i = j + width
                continue
            out.append(_char_position(line_starts, min(j, end)))
            i = j + 1
        return tuple(out)

    def _line_starts(self) -> list[int]:
        starts = [0]
        starts.extend(m.end() for m in _LINE_BREAK.finditer(self.text))
        return starts

    def data_at(self, pointer: str) -> Any:
        """The value at a JSON pointer (None when there is none)."""
        node = self.data
        for token in pointer.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node = node.get(token)
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def scalar_style(self, pointer: str) -> str | None:
        """How the scalar at ``pointer`` was written: ``plain``, ``'``, ``"``, ``|`` or ``>``.

        ``None`` for collections and unknown pointers. Lets later stages tell
        ``"1"`` (deliberately a string) from ``1``.
        """
        return self.styles.get(pointer)


def _char_position(line_starts: list[int], index: int) -> tuple[int, int]:
    """1-based (line, column) of a character index, given the indexes where lines start."""
    line = bisect.bisect_right(line_starts, index)
    return line, index - line_starts[line - 1] + 1


def escape_pointer_token(token: str) -> str:
    """Escape one JSON-pointer reference token (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def load_path(path: str | os.PathLike[str]) -> Document:
    """Load a scheme file, refusing oversized files from ``stat`` before reading a byte."""
    display = os.fsdecode(os.fspath(path))
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found(display) from None
    except (OSError, ValueError) as exc:
        raise _unreadable(display, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise SchemeLoadError(
            _("{path} is a directory, not a YAML file", path=display),
            location=Location(file=display),
            hint=_("pass the path of a scheme file"),
            code="file-unreadable",
        )
    if info.st_size > MAX_BYTES:
        raise _too_large(display, info.st_size)
    try:
        with open(path, "rb") as handle:
            # Bounded read: st_size lies for pipes, /dev/zero and files growing meanwhile.
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _not_found(display) from None
    except (OSError, ValueError) as exc:
        raise _unreadable(display, exc) from None
    return load_text(raw, display)


def load_text(text: str | bytes, path: str = "<string>") -> Document:
    """Parse YAML ``text`` (str, or bytes that must be UTF-8) into a :class:`Document`.

    ``path`` is only used as the display name in locations. Raises only
    :class:`SchemeLoadError` for bad input (a ``TypeError`` for a non-text argument,
    which is a programming error).
    """
    source = _decode(text, path)
    try:
        return _Builder(source, path).build()
    except SchemeLoadError:
        raise
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, source, path) from None
    except yaml.YAMLError as exc:  # e.g. a ReaderError without a mark
        raise _unmarked_yaml_error(exc, source, path) from None
    except RecursionError:  # defensive: the builder is iterative
        raise SchemeLoadError(
            _("YAML nesting is too deep to parse"),
            location=Location(file=path),
            hint=_("flatten the document; at most {limit} nested levels are allowed", limit=MAX_DEPTH),
            code="yaml-too-deep",
        ) from None
    except (ValueError, UnicodeError) as exc:  # defensive: should be unreachable
        raise SchemeLoadError(
            _("cannot parse YAML: {problem}", problem=exc),
            location=Location(file=path),
            hint=_(_HINT_SYNTAX),
            code="yaml-syntax",
        ) from None


# --- decoding -----------------------------------------------------------------------------------


def _decode(text: str | bytes, path: str) -> str:
    """Size-check, BOM-strip and UTF-8-decode the input; refuse control characters with a position."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
        if len(raw) > MAX_BYTES:
            raise _too_large(path, len(raw))
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _encoding_error(raw, exc, path) from None
    elif isinstance(text, str):
        # Every character is at least one byte and at most four: only measure when it matters.
        if len(text) > MAX_BYTES or (
            len(text) * 4 > MAX_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES
        ):
            raise _too_large(path, len(text.encode("utf-8", "surrogatepass")))
        source = text[1:] if text.startswith(_BOM) else text
    else:
        raise TypeError(_("load_text() expects str or bytes, not {kind}", kind=type(text).__name__))
    bad = _NOT_PRINTABLE.search(source)
    if bad is not None:
        line, column = _position(source, bad.start())
        char = bad.group()
        if "\ud800" <= char <= "\udfff":
            message = _("a surrogate code point (U+{code:04X}) is not allowed in YAML; "
                        "the file may be binary",
                        code=ord(char))
        else:
            message = _("a control character (U+{code:04X}) is not allowed in YAML; the file may be binary",
                        code=ord(char))
        raise SchemeLoadError(
            message,
            location=Location(file=path, line=line, column=column),
            hint=_(_HINT_ENCODING),
            code="yaml-encoding",
        )
    return source


def _encoding_error(raw: bytes, exc: UnicodeDecodeError, path: str) -> SchemeLoadError:
    """Locate the first byte that is not UTF-8 as a line and a character column."""
    valid = raw[: exc.start].decode("utf-8")  # everything before the first bad byte decodes
    line, column = _position(valid, len(valid))
    return SchemeLoadError(
        _("the file is not valid UTF-8 (byte 0x{byte:02x}: {reason})",
          byte=raw[exc.start], reason=exc.reason),
        location=Location(file=path, line=line, column=column),
        hint=_("save the file as UTF-8 (a UTF-8 byte order mark is fine)"),
        code="yaml-encoding",
    )


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of character ``index``, counting line breaks like PyYAML."""
    line, line_start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line += 1
        line_start = match.end()
    return line, index - line_start + 1


class _Mark(Protocol):
    """A 0-based parser position; PyYAML's marks and libyaml's are different classes with these fields."""

    index: int
    line: int
    column: int


def _marks(event: yaml.Event) -> tuple[_Mark, _Mark]:
    """Where a parsed node starts and ends: the parser marks every event; only hand-made events lack marks."""
    start, end = event.start_mark, event.end_mark
    assert start is not None and end is not None
    return start, end


def _mark_position(mark: _Mark, source: str) -> tuple[int, int]:
    """1-based (line, column) of a parser mark.

    libyaml puts end-of-stream marks on a line after the last one when the text does not
    end with a line break; clamp those to the real end of the text.
    """
    if mark.index >= len(source):
        return _position(source, len(source))
    return mark.line + 1, mark.column + 1


def _too_large(path: str, size: int) -> SchemeLoadError:
    return SchemeLoadError(
        _("the document is {size:,} bytes; at most {limit:,} are allowed", size=size, limit=MAX_BYTES),
        location=Location(file=path),
        hint=_("split the scheme or remove unneeded content; schemes are small text files"),
        code="yaml-too-large",
    )


def _not_found(path: str) -> SchemeLoadError:
    return SchemeLoadError(_("file not found: {path}", path=path), location=Location(file=path),
                           hint=_("check the path and the current directory"), code="file-not-found")


def _unreadable(path: str, exc: BaseException) -> SchemeLoadError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return SchemeLoadError(
        _("cannot read {path}: {reason}", path=path, reason=reason),
        location=Location(file=path),
        hint=_("check that the path names a readable file"),
        code="file-unreadable",
    )


# --- parser errors ------------------------------------------------------------------------------


def _syntax_error(exc: yaml.MarkedYAMLError, source: str, path: str) -> SchemeLoadError:
    """Turn a PyYAML/libyaml scanner or parser error into a readable, located error."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    location = Location(file=path)
    if mark is not None:
        line, column = _mark_position(mark, source)
        location = Location(file=path, line=line, column=column)
    if "maximum nesting depth" in problem:  # libyaml's own limit (1000), met while scanning ahead
        return SchemeLoadError(
            _("the document is nested more than {limit} levels deep", limit=MAX_DEPTH),
            location=location,
            hint=_("flatten the structure; at most {limit} nested mappings/lists are allowed",
                   limit=MAX_DEPTH),
            code="yaml-too-deep",
        )
    full_width = _full_width(source, mark.line if mark is not None else None, problem, path)
    if full_width is not None:
        return full_width
    if mark is not None and 0 <= mark.index < len(source) and source[mark.index] == "\t":
        return SchemeLoadError(
            _("a tab character is not allowed here"),
            location=location,
            hint=_("indent with spaces; YAML does not allow tabs for indentation"),
            code="yaml-syntax",
        )
    message = _yaml_words(problem)
    if exc.context and exc.problem:
        context = _yaml_words(exc.context)
        if exc.context_mark is not None and exc.context_mark is not exc.problem_mark:
            message = _("{problem} ({context} that starts on line {line})", problem=message, context=context,
                        line=exc.context_mark.line + 1)
        else:
            message = _("{problem} ({context})", problem=message, context=context)
    return SchemeLoadError(message, location=location, hint=_(_HINT_SYNTAX), code="yaml-syntax")


# What the YAML parsers (libyaml and PyYAML) say most often, so that it can be translated; any
# other problem is shown in the parser's words.
_YAML_WORDS = {w: w for w in (
    N_("invalid YAML"),
    N_("mapping values are not allowed here"),
    N_("mapping values are not allowed in this context"),
    N_("could not find expected ':'"),
    N_("could not find expected ':' (did you forget a space after the colon?)"),
    N_("found character that cannot start any token"),
    N_("found unexpected end of stream"),
    N_("found unexpected ':'"),
    N_("found unknown escape character"),
    N_("found a tab character that violate indentation"),
    N_("found a tab character where an indentation space is expected"),
    N_("did not find expected key"),
    N_("did not find expected node content"),
    N_("did not find expected <document start>"),
    N_("did not find expected ',' or ']'"),
    N_("did not find expected ',' or '}}'"),
    N_("did not find expected '-' indicator"),
    N_("did not find expected comment or line break"),
    N_("expected <block end>, but found '-'"),
    N_("expected <block end>, but found '<block mapping start>'"),
    N_("expected <block end>, but found '<scalar>'"),
    N_("expected ',' or ']', but got '<scalar>'"),
    N_("expected ',' or '}}', but got '<scalar>'"),
    N_("block sequence entries are not allowed in this context"),
    N_("block sequence entries are not allowed here"),
    N_("while scanning a simple key"),
    N_("while scanning a quoted scalar"),
    N_("while scanning a plain scalar"),
    N_("while scanning a block scalar"),
    N_("while scanning for the next token"),
    N_("while parsing a block mapping"),
    N_("while parsing a block collection"),
    N_("while parsing a block node"),
    N_("while parsing a flow sequence"),
    N_("while parsing a flow mapping"),
    N_("while parsing a flow node"),
    N_("while parsing a node"),
    N_("while parsing a quoted scalar"),
    N_("while scanning an anchor"),
    N_("while scanning an alias"),
    N_("while scanning a tag"),
    N_("did not find expected alphabetic or numeric character"),
)}


def _yaml_words(text: str) -> str:
    """A YAML parser's problem or context, in the current language when it is one of _YAML_WORDS.

    The table's keys are messages, whose literal braces are doubled; the parser's text is not.
    """
    message = _YAML_WORDS.get(text.replace("{", "{{").replace("}", "}}"))
    return _(message) if message is not None else text


# Half-width quoted text and comments, where a full-width colon is only text.
_QUOTED_OR_COMMENT = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"|(?:^|\s)#.*")
# A key ended by a full-width colon (``target： 0.80``, ``- {min： 0.8}``): no ':' before it on the line.
_FULL_WIDTH_KEY = re.compile(r"\s*(?:-\s+)?[^\s:：][^:]*?：")


def _full_width(source: str, line: int | None, problem: str, path: str) -> SchemeLoadError | None:
    """A YAML error caused by a full-width colon typed with a Chinese input method, at that colon.

    The parser reports such a key where it gives up, often on the next line; the error's line
    and the two before it are searched, nearest first, outside quoted text and comments. Other
    full-width punctuation (，（）“”) is ordinary text in a YAML value, so it is not blamed.
    """
    if line is None:
        return None
    lines = _LINE_BREAK.split(source)
    for number in range(min(line, len(lines) - 1), max(line - 3, -1), -1):
        key = _FULL_WIDTH_KEY.match(_QUOTED_OR_COMMENT.sub(lambda m: " " * len(m[0]), lines[number]))
        if key:
            return SchemeLoadError(
                _("full-width colon '：' (U+FF1A) — type ':' (half-width)"),
                location=Location(file=path, line=number + 1, column=key.end()),
                hint=_("switch the input method to English punctuation for YAML keys "
                       "(the YAML parser said: {problem})", problem=_yaml_words(problem)),
                code="yaml-full-width-colon",
            )
    return None


def _unmarked_yaml_error(exc: yaml.YAMLError, source: str, path: str) -> SchemeLoadError:
    position = getattr(exc, "position", None)
    if isinstance(position, int) and 0 <= position <= len(source):
        line, column = _position(source, position)
        location = Location(file=path, line=line, column=column)
    else:
        location = Location(file=path)
    return SchemeLoadError(
        _("cannot read YAML: {problem}", problem=exc), location=location, hint=_(_HINT_SYNTAX),
        code="yaml-syntax",
    )


# --- building -----------------------------------------------------------------------------------


class _Frame:
    """An open mapping or sequence while its events stream past."""

    __slots__ = ("container", "is_map", "key", "pointer", "seen")

    def __init__(self, container: dict[str, Any] | list[Any], pointer: str) -> None:
        self.container = container
        self.pointer = pointer
        self.is_map = isinstance(container, dict)
        self.key: str | None = None  # the key waiting for its value
        self.seen: dict[str, int] = {}  # key -> line of its first occurrence


class _Builder:
    """Builds data and the source map from parser events, enforcing every limit as it goes."""

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path
        self.values: dict[str, tuple[int, int]] = {}
        self.keys: dict[str, tuple[int, int]] = {}
        self.styles: dict[str, str] = {}
        self.spans: dict[str, tuple[int, int]] = {}

    def build(self) -> Document:
        if not _CONTENT_LINE.search(self.source):
            self._empty()
        stack: list[_Frame] = []
        root: Any = None
        root_event: yaml.Event | None = None
        documents = 0
        nodes = 0
        for event in self._events():
            if isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    self._too_many_nodes(event, stack)
                self._check_node(event, stack)
                if len(event.value) > MAX_SCALAR:
                    self._fail(
                        _("a scalar has {size:,} characters; at most {limit:,} are allowed",
                          size=len(event.value), limit=MAX_SCALAR),
                        event,
                        self._pointer_for_next(stack),
                        _("shorten the value or keep large content in a separate file"),
                        "yaml-scalar-too-long",
                    )
                if stack and stack[-1].is_map and stack[-1].key is None:
                    self._key(stack[-1], event, stack)
                    continue
                value = self._resolve(event, stack)
                pointer = self._attach(stack, value, event)
                self.styles[pointer] = _STYLES.get(event.style, "plain")
                if isinstance(value, str):
                    start, end = _marks(event)
                    if event.style or start.line != end.line:
                        self.spans[pointer] = (start.index, end.index)
                if not stack:
                    root, root_event = value, event
            elif isinstance(event, yaml.CollectionStartEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    self._too_many_nodes(event, stack)
                self._check_node(event, stack)
                if stack and stack[-1].is_map and stack[-1].key is None:
                    self._fail(
                        _("a mapping key must be a plain value, not a list or mapping"),
                        event,
                        stack[-1].pointer,
                        _("use a string as the key"),
                        "yaml-key-not-scalar",
                    )
                if len(stack) >= MAX_DEPTH:
                    self._fail(
                        _("the document is nested more than {limit} levels deep", limit=MAX_DEPTH),
                        event,
                        self._pointer_for_next(stack),
                        _("flatten the structure; at most {limit} nested mappings/lists are allowed",
                          limit=MAX_DEPTH),
                        "yaml-too-deep",
                    )
                container: dict[str, Any] | list[Any] = (
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                )
                pointer = self._attach(stack, container, event)
                if not stack:
                    root, root_event = container, event
                stack.append(_Frame(container, pointer))
            elif isinstance(event, yaml.CollectionEndEvent):
                stack.pop()
            elif isinstance(event, yaml.AliasEvent):
                self._fail(
                    _("alias *{name} is not allowed", name=event.anchor),
                    event,
                    self._pointer_for_next(stack),
                    _(_HINT_ALIAS),
                    "yaml-alias",
                )
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self._fail(
                        _("the file contains more than one YAML document"),
                        event,
                        None,
                        _("keep one scheme per file: remove the second '---' and what follows, "
                          "or split the file"),
                        "yaml-multiple-documents",
                    )
        return self._document(root, root_event)

    def _events(self) -> Iterator[yaml.Event]:
        loader = _Loader(self.source)
        try:
            while loader.check_event():
                yield loader.get_event()
        finally:
            loader.dispose()

    def _document(self, root: Any, root_event: yaml.Event | None) -> Document:
        if root_event is None or (
            isinstance(root_event, yaml.ScalarEvent)
            and root_event.value == ""
            and _STYLES.get(root_event.style) == "plain"
        ):
            self._empty()
        if not isinstance(root, dict):
            line, column = self.values[""]
            raise SchemeLoadError(
                _("the top level is {kind}, but a scheme must be a mapping of keys to values",
                  kind=_describe(root)),
                location=Location(file=self.path, line=line, column=column, pointer=""),
                hint=_("start the file with `key: value` lines, e.g. `name: my-scheme`"),
                code="yaml-not-mapping",
            )
        return Document(
            data=root,
            path=self.path,
            text=self.source,
            values=MappingProxyType(self.values),
            keys=MappingProxyType(self.keys),
            styles=MappingProxyType(self.styles),
            spans=MappingProxyType(self.spans),
        )

    def _empty(self) -> NoReturn:
        raise SchemeLoadError(
            _("the document is empty"),
            location=Location(file=self.path, line=1, column=1, pointer=""),
            hint=_("a scheme is a YAML mapping, e.g. `name: my-scheme`"),
            code="yaml-empty",
        )

    def _check_node(self, event: yaml.ScalarEvent | yaml.CollectionStartEvent, stack: list[_Frame]) -> None:
        """Refuse anchors and explicit tags the moment they appear."""
        if event.anchor is not None:
            self._fail(
                _("anchor &{name} is not allowed", name=event.anchor),
                event,
                self._pointer_for_next(stack),
                _(_HINT_ALIAS),
                "yaml-alias",
            )
        tag = event.tag
        if tag is not None:
            if tag.startswith(_YAML_TAG_PREFIX):
                tag = "!!" + tag[len(_YAML_TAG_PREFIX) :]
            self._fail(
                _("explicit tag {tag} is not allowed", tag=tag),
                event,
                self._pointer_for_next(stack),
                _(_HINT_TAG),
                "yaml-tag",
            )

    def _key(self, frame: _Frame, event: yaml.ScalarEvent, stack: list[_Frame]) -> None:
        """Record a mapping key as a string, refusing duplicates.

        Keys resolve like values, then become text: ``1`` and ``0x1`` -> "1", ``True`` ->
        "true", ``~`` -> "null"; a float key keeps its written form. So keys that YAML
        considers equal are caught as duplicates.
        """
        key = _key_text(self._resolve(event, stack), event.value)
        position = self._content_position(event)
        pointer = f"{frame.pointer}/{escape_pointer_token(key)}"
        if key == "<<" and _STYLES.get(event.style) == "plain":
            self._fail(_("merge key << is not allowed"), event, pointer, _(_HINT_MERGE), "yaml-merge-key",
                       position=position)
        first = frame.seen.get(key)
        if first is not None:
            if event.value != key:
                message = _("duplicate key {key!r} (written {written!r}); first defined on line {line}",
                            key=key, written=event.value, line=first)
            else:
                message = _("duplicate key {key!r}; first defined on line {line}", key=key, line=first)
            self._fail(
                message,
                event,
                pointer,
                _(_HINT_DUPLICATE),
                "yaml-duplicate-key",
                position=position,
            )
        frame.seen[key] = position[0]
        frame.key = key
        self.keys[pointer] = position

    def _attach(self, stack: list[_Frame], value: Any, event: yaml.NodeEvent) -> str:
        """Put ``value`` into the open container (or make it the root); return its pointer."""
        if not stack:
            pointer = ""
        else:
            frame = stack[-1]
            container = frame.container
            if isinstance(container, dict):
                key = frame.key
                assert key is not None
                pointer = f"{frame.pointer}/{escape_pointer_token(key)}"
                container[key] = value
                frame.key = None
            else:
                pointer = f"{frame.pointer}/{len(container)}"
                container.append(value)
        self.values[pointer] = self._content_position(event)
        return pointer

    def _pointer_for_next(self, stack: list[_Frame]) -> str:
        """Pointer of the node the parser is about to produce (best effort, for error locations)."""
        if not stack:
            return ""
        frame = stack[-1]
        if frame.is_map:
            if frame.key is None:
                return frame.pointer
            return f"{frame.pointer}/{escape_pointer_token(frame.key)}"
        return f"{frame.pointer}/{len(frame.container)}"

    def _content_position(self, event: yaml.NodeEvent) -> tuple[int, int]:
        """1-based position of the first content character of a node."""
        mark = event.start_mark
        assert mark is not None  # the parser marks every event
        style = getattr(event, "style", None)
        if style in ("'", '"'):
            return mark.line + 1, mark.column + 2
        if style in ("|", ">"):
            return self._block_content_position(event)
        return _mark_position(mark, self.source)

    def _block_content_position(self, event: yaml.NodeEvent) -> tuple[int, int]:
        """First non-blank character of a block scalar's first content line (else its indicator)."""
        start, end = _marks(event)
        source = self.source
        header_end = _LINE_BREAK.search(source, start.index, end.index)
        if header_end is not None:
            index = header_end.end()
            line = start.line + 1
            line_start = index
            while index < end.index:
                char = source[index]
                if char == " ":
                    index += 1
                    continue
                brk = _LINE_BREAK.match(source, index)
                if brk is None:
                    return line + 1, index - line_start + 1
                index = line_start = brk.end()
                line += 1
        return start.line + 1, start.column + 1

    def _resolve(self, event: yaml.ScalarEvent, stack: list[_Frame]) -> Any:
        """YAML 1.2 core-schema value of a scalar; quoted and block scalars are strings."""
        value: str = event.value
        if _STYLES.get(event.style) != "plain" or (value and value[0] not in _NON_STR_START):
            return value
        if value in _NULLS:
            return None
        boolean = _BOOLS.get(value)
        if boolean is not None:
            return boolean
        if _INT_DEC.fullmatch(value):
            return self._integer(value, 10, event, stack)
        if _INT_OCT.fullmatch(value):
            return self._integer(value, 8, event, stack)
        if _INT_HEX.fullmatch(value):
            return self._integer(value, 16, event, stack)
        if _FLOAT.fullmatch(value):
            return float(value)
        if _INF.fullmatch(value):
            return -math.inf if value[0] == "-" else math.inf
        if _NAN.fullmatch(value):
            return math.nan
        return value

    def _integer(self, text: str, base: int, event: yaml.ScalarEvent, stack: list[_Frame]) -> int:
        """The value of an integer scalar, refused when it does not fit in MAX_INT_BITS.

        The limit is on the value, so no base hides a huge number; its digits are
        counted before any conversion, so a long text costs no time.
        """
        sign = -1 if text[0] == "-" else 1
        digits = text.lstrip("+-")
        digits = digits[2:] if base != 10 else digits
        digits = digits.lstrip("0") or "0"
        value = sign * int(digits, base) if len(digits) <= _INT_DIGITS[base] else None
        if value is None or not _INT_MIN <= value <= _INT_MAX:
            shown = text if len(text) <= 24 else _("{start}… ({size:,} characters)",
                                                   start=text[:20], size=len(text))
            self._fail(
                _("the integer {shown} is too large: integers must fit in {bits} bits ({low:,} to {high:,})",
                  shown=shown, bits=MAX_INT_BITS, low=_INT_MIN, high=_INT_MAX),
                event,
                self._pointer_for_next(stack),
                _("use a smaller number, a float such as 1e30, or quote the value to keep it as text"),
                "yaml-integer-too-large",
            )
        return value

    def _too_many_nodes(self, event: yaml.NodeEvent, stack: list[_Frame]) -> NoReturn:
        self._fail(
            _("the document has more than {limit:,} values", limit=MAX_NODES),
            event,
            self._pointer_for_next(stack),
            _("a scheme should be far smaller; remove generated or repeated content"),
            "yaml-too-many-nodes",
        )

    def _fail(
        self,
        message: str,
        event: yaml.Event,
        pointer: str | None,
        hint: str,
        code: str,
        *,
        position: tuple[int, int] | None = None,
    ) -> NoReturn:
        if position is None:
            position = _mark_position(_marks(event)[0], self.source)
        line, column = position
        raise SchemeLoadError(
            message,
            location=Location(file=self.path, line=line, column=column, pointer=pointer),
            hint=hint,
            code=code,
        )


def _key_text(value: Any, written: str) -> str:
    """The string form of a resolved mapping key."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return written


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return _("a list")
    if value is None:
        return _("null")
    if isinstance(value, bool):
        return _("a boolean")
    if isinstance(value, (int, float)):
        return _("a number")
    return _("a string")
