"""`qualiscore validate`: every finding of every scheme, with the offending source line."""

from __future__ import annotations

import dataclasses
import json
import sys
from functools import partial
from pathlib import Path

import click

from .._display import display_width, visible
from ..datacheck import SAMPLE_ROWS, Sampled, check_data
from ..errors import EXIT_FINDINGS
from ..i18n import _
from ..validation import checked_files, validate_paths
from . import DSN_FILE, Command, echo, style


@click.command("validate", cls=Command)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json for CI and editors.")
@click.option("--strict", is_flag=True, help="Treat warnings as failures.")
@click.option("--data", "data", multiple=True, type=click.Path(), metavar="[NAME=]FILE",
              help="Also check this data file against the scheme: every field's column in its header, and its "
                   "first rows typed as a run would (repeat for several files). For a scheme with several "
                   "record sources, NAME=FILE checks the file against that source's own contract.")
@click.option("--sample", type=click.IntRange(min=1), default=SAMPLE_ROWS, show_default=True,
              help="With --data: how many rows of each file to check.")
@click.option("--encoding", default=None, help="With --data: the files' text encoding (default: UTF-8, else GB18030).")
@click.option("--sheet", default=None, help="With --data: the worksheet of .xlsx files (default: the first).")
@DSN_FILE
def command(paths: tuple[str, ...], fmt: str, strict: bool, data: tuple[str, ...], sample: int,
            encoding: str | None, sheet: str | None) -> None:
    """Check scheme files (or directories of versions) and report every finding.

    A directory's *.tests.yaml files are checked too: their keys, and the files they name.
    With --data, one scheme (a file, or a directory of its versions) is also held
    against data files before a run: a field whose column is missing from a header
    is an error, and rows the sample would reject are a warning, each located in the
    file (row and field), in well under a second.

    Exit status: 0 clean, 1 errors (or warnings with --strict), 2 usage error.

    \b
    Examples:
      qualiscore validate rules/cs-quality/2026Q2.yaml
      qualiscore validate rules/ --format json --strict
      qualiscore validate rules/cs-quality/2026Q2.yaml --data exports/2026-06.csv
      qualiscore validate rules/cs-quality/2026Q3.yaml --data interactions=calls.csv --data surveys=survey.xlsx
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        named = [p for p in missing if "=" in p]
        raise click.BadParameter(
            _("{paths} does not exist (to check the data of a source, write --data before each: --data {named})",
              paths=", ".join(missing), named=named[0]) if named else
            _("{paths} does not exist", paths=", ".join(missing)), param_hint="PATHS")
    if data and len(paths) != 1:
        raise click.BadParameter(_("--data checks data against one scheme: give one scheme file or directory of "
                                   "versions"), param_hint="PATHS")
    findings = validate_paths(paths)
    files = [str(f) for p in paths for f in checked_files(p)]
    sampled: tuple[Sampled, ...] = ()
    if data and not any(f.severity == "error" for f in findings):
        from ..schemes import load_versions

        checked = check_data(load_versions(paths[0]), data, sample=sample, encoding=encoding, sheet=sheet)
        findings = [*findings, *checked.findings]
        sampled = checked.inputs
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if fmt == "json":
        echo(json.dumps({"files": files, "errors": errors, "warnings": warnings,
                         "findings": [f.as_dict() for f in findings],
                         **({"data": [dataclasses.asdict(s) for s in sampled]} if data else {})},
                        ensure_ascii=False, indent=2))
    else:
        for f in findings:
            colour = "red" if f.severity == "error" else "yellow"
            line = f.format(mark=partial(style, fg=colour, bold=True))
            echo(line + source_excerpt(f.location.file, f.location.line, f.location.column))
        for s in sampled:
            counts = {"path": s.path, "rows": s.rows, "scored": s.rows - s.rejected, "rejected": s.rejected}
            echo(_("{path}: all {rows} row(s) checked, {scored} would be scored, {rejected} rejected", **counts)
                 if s.whole else
                 _("{path}: the first {rows} row(s) checked, {scored} would be scored, {rejected} rejected", **counts))
        summary = _("{files} file(s) checked: {errors} error(s), {warnings} warning(s)", files=len(files) + len(data),
                    errors=errors, warnings=warnings)
        echo(style(summary, fg="red" if errors else "yellow" if warnings else "green"), err=bool(findings))
    if errors or (strict and warnings):
        sys.exit(EXIT_FINDINGS)


def source_excerpt(path: str | None, line: int | None, column: int | None) -> str:
    """The offending source line with a caret under the column (no colour when piped)."""
    if not path or not line:
        return ""
    try:
        text = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    if not 0 < line <= len(text):
        return ""
    src = text[line - 1]
    caret = ""
    if column:
        pad = display_width(src[: column - 1])
        caret = "\n" + " " * (pad + 8) + style("^", fg="red", bold=True)  # under "{line:5d} | "
    return f"\n{line:5d} | {visible(src)}{caret}"
