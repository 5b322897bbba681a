"""Computed values written into failing tests' ``expect:`` (``qualiscore test --update``).

A committee that changed a weight on purpose should not retype twenty numbers by hand.
The file is edited as text at the positions the YAML parser gives for each expected
scalar, so comments, order and layout survive; only expectations that exist are
rewritten, and the result must read back as exactly the intended document.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Location, QualiscoreError, SchemeLoadError
from .i18n import _
from .loader import Document, load_text
from .revise import scalar_text
from .testing import Mismatch, TestResult

__all__ = ["Update", "by_file", "update_expectations"]


@dataclass(frozen=True, slots=True)
class Update:
    """The new text of one file, what was rewritten in it and what could not be."""

    path: str
    old: str
    new: str
    written: tuple[str, ...]  # "test name: indicators.csat.points"
    skipped: tuple[str, ...]  # the same, with why it was not written

    def diff(self) -> str:
        """A unified diff of the change, as ``diff -u`` prints it."""
        return "".join(difflib.unified_diff(self.old.splitlines(keepends=True), self.new.splitlines(keepends=True),
                                            f"a/{self.path}", f"b/{self.path}"))


@dataclass(frozen=True, slots=True)
class _Edit:
    start: int
    end: int
    text: str


def update_expectations(doc: Document, results: Iterable[TestResult]) -> Update:
    """The text of ``doc`` with the computed value of every failing expectation of ``results`` written in."""
    root = yaml.compose(doc.text, Loader=yaml.SafeLoader)
    expected = copy.deepcopy(doc.data)
    edits: list[_Edit] = []
    written: list[str] = []
    skipped: list[str] = []
    for result in results:
        if result.error is not None:
            skipped.append(_("{name}: not run ({error})", name=result.name, error=result.error.splitlines()[0]))
            continue
        test = _child(root, ("tests", result.pointer.rsplit("/", 1)[-1]))
        for m in result.mismatches:
            label = f"{result.name}: {m.what}"
            node = _child(test, ("expect", *m.path)) if m.path else None
            edit = _edit(node, m) if node is not None else None
            if edit is None:
                why = (_("written as lines of its own; correct it by hand") if node is not None
                       else _("no value to write"))
                skipped.append(_("{label} ({why}: expected {expected!r}, got {actual!r})", label=label, why=why,
                                 expected=m.expected, actual=m.actual))
                continue
            edits.append(edit)
            _set(expected, ["tests", int(result.pointer.rsplit("/", 1)[-1]), "expect", *m.path], m.computed)
            written.append(label)
    new = _apply(doc.text, edits)
    if edits:
        try:
            back = load_text(new, doc.path).data
        except SchemeLoadError as exc:
            raise _failed(doc.path, exc.message) from None
        if back != expected:
            raise _failed(doc.path, _("the edited text does not read back as the intended document"))
    return Update(doc.path, doc.text, new, tuple(written), tuple(skipped))


def _child(node: yaml.Node | None, keys: Sequence[str]) -> yaml.Node | None:
    """The node at ``keys`` below ``node`` (mapping keys, or sequence indexes as text), if there is one."""
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
        else:
            return None
    return node


def _edit(node: yaml.Node, m: Mismatch) -> _Edit | None:
    """The replacement of an expected value's own text; None for a block list, whose lines are left alone."""
    if isinstance(node, yaml.ScalarNode) and node.style not in ("|", ">"):
        text = _yaml_value(m.computed, node.style if isinstance(m.computed, str) else None)
    elif isinstance(node, yaml.SequenceNode) and node.flow_style and isinstance(m.computed, list):
        text = "[" + ", ".join(_yaml_value(v, None) for v in m.computed) + "]"
    else:
        return None
    return _Edit(node.start_mark.index, node.end_mark.index, text)


def _yaml_value(value: Any, style: str | None) -> str:
    """``value`` as YAML text: numbers as the test format writes them (``100``, ``46.51``), text in its style."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return {math.inf: ".inf", -math.inf: "-.inf"}.get(value, ".nan")
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, str):
        return scalar_text(value, style)
    return json.dumps(value, ensure_ascii=False, default=str)


def _set(data: Any, keys: Sequence[Any], value: Any) -> None:
    for key in keys[:-1]:
        data = data[key]
    data[keys[-1]] = value


def _apply(text: str, edits: Sequence[_Edit]) -> str:
    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text


def _failed(path: str, why: str) -> QualiscoreError:
    return QualiscoreError(_("could not write the computed values into {path}: {why}", path=path, why=why),
                           location=Location(file=path), code="update-failed",
                           hint=_("nothing was written; correct the expected values by hand, and please report this "
                                  "with the file"))


def by_file(results: Iterable[TestResult]) -> Mapping[str, list[TestResult]]:
    """Failing results grouped by the file that holds them, in order."""
    out: dict[str, list[TestResult]] = {}
    for r in results:
        if not r.passed:
            out.setdefault(r.file, []).append(r)
    return out
