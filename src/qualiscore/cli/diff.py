"""``qualiscore diff OLD NEW``: what changed between two versions of a scheme, and what it does to data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..diff import (
    check_document,
    diff_documents,
    impact,
    load_side,
    render_json,
    render_markdown,
    render_text,
    review_changelog,
)
from ..errors import EXIT_FINDINGS, EXIT_OK
from . import DSN_FILE, Command, echo, style
from ._params import PSEUDONYMISE_KEY


@click.command("diff", cls=Command)
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(["text", "md", "json"]), default="text", show_default=True,
              help="md: a report to paste into a review; json: for scripts.")
@click.option("--data", "data", multiple=True, type=click.Path(dir_okay=False, path_type=Path), metavar="[NAME=]FILE",
              help="Also score these records (CSV/JSONL/Excel/Parquet) with both versions and show the impact; "
                   "repeatable. For schemes with several record sources, NAME=FILE for each source's input.")
@click.option("--encoding", default=None, help="With --data: input text encoding (default: UTF-8, else GB18030).")
@PSEUDONYMISE_KEY
@DSN_FILE
def command(old: str, new: str, fmt: str, data: tuple[Path, ...], encoding: str | None,
            pseudonymise_key: bytes | None) -> None:
    """Show what changed between two versions of a scheme, rule by rule.

    OLD and NEW are scheme files, or REV:path to read a committed version with
    `git show` (e.g. HEAD~1:rules/cs-quality/2026Q2.yaml). The comparison is semantic:
    reformatting, comments, reordering and explicit defaults are no change.

    The changelog belongs to its version: NEW's changelog is shown after the changes,
    with every rule change that no changelog line names (when NEW supersedes OLD) and
    any placeholder line left by `qualiscore revise`.

    Exit status: 0 equivalent, 1 different, 2 usage error, 3 a side is not a valid scheme.

    \b
    Examples:
      qualiscore diff rules/cs-quality/2026Q1.yaml rules/cs-quality/2026Q2.yaml
      qualiscore diff HEAD~1:rules/cs-quality/2026Q2.yaml rules/cs-quality/2026Q2.yaml --format md
      qualiscore diff rules/cs-quality/2026Q1.yaml rules/cs-quality/2026Q2.yaml --data q1.csv
      qualiscore diff rules/cs-quality/2026Q3.yaml drafts/2026Q4.yaml --data interactions=calls.csv \\
          --data surveys=survey.csv --data inspections=qa.csv --data complaints=tickets.csv
    """
    old_doc, new_doc = load_side(old), load_side(new)
    old_scheme, new_scheme = check_document(old_doc), check_document(new_doc)
    changes = diff_documents(old_doc, new_doc)
    changelog = review_changelog(old_doc, new_doc, changes)
    result = impact(old_scheme, new_scheme, [str(p) for p in data], encoding, pseudonymise_key) if data else None
    if fmt == "json":
        echo(render_json(old_doc, new_doc, changes, result, changelog=changelog), nl=False)
    elif fmt == "md":
        echo(render_markdown(old_doc, new_doc, changes, result, changelog=changelog), nl=False)
    else:  # click strips the colours when the output is not a terminal
        echo(render_text(old_doc, new_doc, changes, result, style=style, changelog=changelog), nl=False)
    sys.exit(EXIT_FINDINGS if changes else EXIT_OK)
