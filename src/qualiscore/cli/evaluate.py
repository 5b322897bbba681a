"""`qualiscore evaluate`: score the data, write the output directory atomically, print a summary."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import cast

import click
from tqdm import tqdm

from .._display import visible
from ..engine import Run
from ..manifest import render_outputs, write_outputs
from ..options import ENGINES, EngineName, RejectLimit, RunOptions
from ..runs import execute
from ..signing import SIGNATURE_FILE, sign_manifest
from . import echo
from ._params import DATE, FIELDS, REJECT_LIMIT


@click.command("evaluate")
@click.argument("scheme", type=click.Path(exists=True))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory (replaced atomically).")
@click.option("--by", type=FIELDS, default=None, metavar="FIELD[,FIELD]",
              help="Re-evaluate at another grouping, e.g. team.")
@click.option("--encoding", default=None, help="Input text encoding (default: UTF-8, else GB18030).")
@click.option("--max-rejects", type=REJECT_LIMIT, default=None, metavar="N|P%",
              help="Fail (publishing nothing) when more rows than this are rejected.")
@click.option("--as-of", type=DATE, default=None,
              help="With a directory of versions: use the version in force on this date for all records.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Sign manifest.json with this Ed25519 private key (see `qualiscore keygen`).")
@click.option("--force", is_flag=True, help="Replace OUTDIR even if it is not an earlier run's output.")
@click.option("--report", "with_report", is_flag=True, help="Also write OUTDIR/report.html (needs qualiscore[report]).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "parquet"]),
              help="Also write scorecards.xlsx (summary, scorecards, indicators, rejects, manifest sheets) "
                   "or scorecards.parquet; repeat for both.")
@click.option("--sheet", default=None, help="Worksheet of .xlsx inputs (default: the first); or write book.xlsx#Sheet.")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="columnar (needs qualiscore[fast]) is fast; rows is the reference; both give the same bytes. "
                   "auto: columnar when installed.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def command(scheme: str, data: tuple[str, ...], outdir: str, by: tuple[str, ...] | None, encoding: str | None,
            max_rejects: RejectLimit | None, as_of: dt.datetime | None, sign_key: str | None, force: bool,
            with_report: bool, formats: tuple[str, ...], sheet: str | None, engine: str, quiet: bool) -> None:
    """Score DATA (CSV, JSONL, Excel .xlsx or Parquet) with SCHEME and write scorecards to OUTDIR.

    SCHEME is a scheme file, or a directory of its versions: each subject period is
    then scored by the version in force at its start.

    \b
    Writes scorecards.jsonl, scorecards.csv, rejects.csv and manifest.json.
    Examples:
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data/sample/interactions.csv -o out/
      qualiscore evaluate rules/cs-quality/ data/sample/interactions-q1q2.csv -o out/
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --by team
    """
    options = RunOptions(engine=cast(EngineName, engine), by=by, as_of=as_of.date() if as_of else None,
                         encoding=encoding, sheet=sheet, max_rejects=max_rejects, formats=formats,
                         scheme_path=scheme, data=data)
    with progress_bar(quiet) as bar:
        run = execute(scheme, data, options, progress=bar)
    if max_rejects is not None:
        max_rejects.check(run.rows_rejected, run.rows_read, run.dataset.inputs)
    files = render_outputs(run)
    if sign_key:
        files[SIGNATURE_FILE] = sign_manifest(files["manifest.json"], Path(sign_key))
    out = write_outputs(files, outdir, force=force)
    if not quiet:
        summary(run, out)
    if with_report:
        from ..report import write_report  # qualiscore[report]: loaded only when a report is asked for

        path = write_report(out)
        if not quiet:
            echo(f"report:     {path}")


def progress_bar(quiet: bool) -> tqdm:
    """A progress bar on stderr for runs longer than a second; silent when piped or with --quiet."""
    return tqdm(total=0, desc="scoring", unit=" records", unit_scale=True, delay=1.0, leave=False,
                disable=True if quiet else None, file=sys.stderr)


def summary(run: Run, out: Path) -> None:
    echo(f"rows read {run.rows_read} = scored {run.rows_scored} + rejected {run.rows_rejected}")
    grades = Counter(c.grade or "(none)" for c in run.scorecards)
    order = [g.name for s in run.schemes for g in s.grades] + ["(none)"]
    dist = ", ".join(f"{visible(g)} {grades[g]}" for g in dict.fromkeys(order) if grades.get(g))
    versions = ", ".join(f"{s.id} {s.version}" for s in run.schemes)
    echo(f"{len(run.scorecards)} scorecard(s) by {versions}: {dist or 'none'}")
    echo(f"scorecards: {out / 'scorecards.csv'} (full detail: {out / 'scorecards.jsonl'})")
    for name in (n for n in ("scorecards.xlsx", "scorecards.parquet") if (out / n).is_file()):
        echo(f"{name.split('.')[1] + ':':<11} {out / name}")
    if run.rows_rejected:
        echo(f"rejects:    {out / 'rejects.csv'}")
    echo(f"manifest:   {out / 'manifest.json'}")
