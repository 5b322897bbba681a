"""`qualiscore calibrate`: do the reviewers agree? Agreement per item, and per reviewer."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import click

from ..calibration import calibrate
from ..calibration.render import counts_line, files, items_csv, json_text, markdown, text
from ..errors import EXIT_FINDINGS, NothingScoredError, OutputError
from ..i18n import _
from ..options import RejectLimit
from ..runs import reject_reasons
from ..schemes import load_scheme
from . import Command, echo
from ._params import REJECT_LIMIT


@click.command("calibrate", cls=Command)
@click.argument("scheme", type=click.Path(exists=True, dir_okay=False))
@click.argument("results", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outdir", default=None, type=click.Path(file_okay=False),
              help="Also write calibration.csv (items), reviewers.csv, calibration.json, calibration.md (the report "
                   "section) and rejects.csv into this directory, each file replaced atomically.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "md"]), default="text", show_default=True,
              help="What to print: the tables, the JSON document, calibration.csv, or the Markdown report section.")
@click.option("--encoding", default=None, help="Input text encoding (default: UTF-8, else GB18030).")
@click.option("--sheet", default=None, help="Worksheet of .xlsx inputs (default: the first); or write book.xlsx#Sheet.")
@click.option("--max-rejects", type=REJECT_LIMIT, default=None, metavar="N|P%",
              help="Fail (exit 5, writing nothing) when more rows than this are rejected.")
def command(scheme: str, results: tuple[str, ...], outdir: str | None, fmt: str, encoding: str | None,
            sheet: str | None, max_rejects: RejectLimit | None) -> None:
    """Compare reviewers who scored the same records: agreement per item and per reviewer.

    SCHEME's `calibration:` names the reviewer field and the items. RESULTS are CSV, JSONL, Excel .xlsx or Parquet files with one row per reviewed record
    and reviewer: the form's record id, the reviewer field and the item columns, each
    typed by the form's own contract. Rows that break it are rejected with a reason
    (rejects.csv with -o), and rows read = used + rejected is printed.

    For each item and for the total score: Krippendorff's alpha (at the item's level),
    Cohen's kappa (two reviewers) or Fleiss' kappa (more) on the records every reviewer
    rated, the percent agreement, and whether alpha reaches min_alpha. For each reviewer:
    how often they differ from the consensus and by how much on average.
    Needs qualiscore[stats].

    Exit status: 0 every item calibrated, 1 some item not, 2 usage error, 4 unreadable
    data, 5 --max-rejects exceeded, 15 no row used.

    \b
    Examples:
      qualiscore calibrate rules/qa-form/2026Q2.yaml data/sample/qa-reviews.csv
      qualiscore calibrate rules/qa-form/2026Q2.yaml week1.csv week2.xlsx -o calibration/ --format json
    """
    form = load_scheme(scheme)
    result = calibrate(form, results, encoding=encoding, sheet=sheet)
    dataset = result.dataset
    if max_rejects is not None:
        max_rejects.check(dataset.rows_rejected, dataset.rows_read, dataset.inputs)
    if not dataset.rows_accepted:
        what = counts_line(result) + (_("; most rejected: {reasons}", reasons=reject_reasons(dataset.problems))
                                      if dataset.problems else "")
        raise NothingScoredError(_("no reviewer's row could be used: {what}; nothing was written", what=what),
                                 hint=_("check the files against the form's records contract and its reviewer field"))
    if outdir is not None:
        _write(Path(outdir), files(result))
    if fmt == "json":
        echo(json_text(result), nl=False)
    elif fmt == "csv":
        echo(items_csv(result), nl=False)
    elif fmt == "md":
        echo(markdown(result), nl=False)
    else:
        echo(text(result), nl=False)
        if dataset.problems:
            reasons = reject_reasons(dataset.problems)
            echo(_("most rejected: {reasons} (every row: {path})", reasons=reasons, path=Path(outdir) / "rejects.csv")
                 if outdir else _("most rejected: {reasons} (write them with -o DIR)", reasons=reasons))
        if outdir is not None:
            echo(_("written: {files}", files=", ".join(str(Path(outdir) / name) for name in files(result))))
    if not result.calibrated:
        raise click.exceptions.Exit(EXIT_FINDINGS)


def _write(outdir: Path, outputs: Mapping[str, bytes]) -> None:
    """Each file written beside its final name, synced, then renamed over it: never seen half written."""
    try:
        outdir.mkdir(parents=True, exist_ok=True)
        for name, data in outputs.items():
            fd, temp = tempfile.mkstemp(dir=outdir, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temp, outdir / name)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
    except OSError as exc:
        raise OutputError(_("cannot write {path}: {reason}", path=outdir, reason=exc.strerror or exc),
                          hint=_("check the free space, the path and the permissions")) from None
