"""Semantic diff of two versions of a scheme, and their impact on the same data.

A committee revises a scheme every quarter; an auditor must be able to read exactly
what changed, rule by rule, and check it against the changelog.

* :mod:`.changes`: the differ, which compares two loaded documents by meaning and
  returns :class:`Change` objects;
* :mod:`.changelog`: the new version's changelog read against those changes: rule
  changes no line names, and placeholder lines (also as validation findings);
* :mod:`.sides`: loading a side (a file, or ``REV:path`` from git) and checking it;
* :mod:`.impact`: the same records scored with both versions, summarised once as an
  :class:`Impact`;
* :mod:`.render`: text, Markdown and JSON over the same changes and impact.

Importing the package loads only the differ and the changelog check; :mod:`.impact`,
:mod:`.render` and :mod:`.sides` load on first use (and :mod:`.impact` loads the engine
only when it runs), so validation can read changelogs through :mod:`.changelog`.

The command (``qualiscore diff OLD NEW``) lives with the CLI. Exit status: 0
equivalent, 1 different, 2 usage error, 3 a side is not a valid scheme (4
unreadable data with ``--data``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .changelog import ChangelogReview, Unmentioned, changelog_findings, review_changelog
from .changes import CATEGORIES, KINDS, Change, diff_documents
from .values import normalise_expression

if TYPE_CHECKING:
    from .impact import DimensionMean, Impact, IndicatorDelta, IndicatorMean, SubjectMove, impact
    from .render import render_json, render_markdown, render_text
    from .sides import check_document, load_side

# Loaded on first use, so that validate, which reads changelogs, pays only for the differ.
_LAZY = {
    **dict.fromkeys(("DimensionMean", "Impact", "IndicatorDelta", "IndicatorMean", "SubjectMove", "impact"), "impact"),
    **dict.fromkeys(("render_json", "render_markdown", "render_text"), "render"),
    **dict.fromkeys(("check_document", "load_side"), "sides"),
}

__all__ = [
    "CATEGORIES",
    "KINDS",
    "Change",
    "ChangelogReview",
    "DimensionMean",
    "Impact",
    "IndicatorDelta",
    "IndicatorMean",
    "SubjectMove",
    "Unmentioned",
    "changelog_findings",
    "check_document",
    "diff_documents",
    "impact",
    "load_side",
    "normalise_expression",
    "render_json",
    "render_markdown",
    "render_text",
    "review_changelog",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
