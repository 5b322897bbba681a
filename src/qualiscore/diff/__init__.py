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

Importing the package loads no engine and no record reader (:mod:`.impact` imports
them when it runs), so validation can read changelogs through :mod:`.changelog`.

The command (``qualiscore diff OLD NEW``) lives with the CLI. Exit status: 0
equivalent, 1 different, 2 usage error, 3 a side is not a valid scheme (4
unreadable data with ``--data``).
"""

from __future__ import annotations

from .changelog import ChangelogReview, Unmentioned, changelog_findings, review_changelog
from .changes import CATEGORIES, KINDS, Change, diff_documents
from .impact import DimensionMean, Impact, IndicatorDelta, IndicatorMean, SubjectMove, impact
from .render import change_lines, render_json, render_markdown, render_text
from .sides import check_document, load_side
from .values import normalise_expression

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
    "change_lines",
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
