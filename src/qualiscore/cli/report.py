"""``qualiscore report OUTDIR``: a readable report of an output directory."""

from __future__ import annotations

from pathlib import Path

import click

from ..i18n import _
from ..report import FORMATS, write_report
from . import Command, echo
from ._params import PSEUDONYMISE_KEY


@click.command("report", cls=Command)
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Report file (default: OUTDIR/report.html or OUTDIR/report.md). A report written into OUTDIR "
                   "is recorded in OUTDIR/reports.json; a file of the run itself is never overwritten.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: one self-contained page with charts; md: a summary to paste in a review.")
@click.option("--by-dir", "by_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Output directory of `evaluate --by FIELD` to chart as a breakdown (repeatable).")
@click.option("--no-recompute", is_flag=True,
              help="Do not re-evaluate the scheme's breakdowns (team, channel…) from the run's inputs.")
@PSEUDONYMISE_KEY
def command(outdir: Path, path: Path | None, fmt: str, by_dirs: tuple[str, ...], no_recompute: bool,
            pseudonymise_key: bytes | None) -> None:
    """Write a readable report of OUTDIR, an output directory of `evaluate`.

    The HTML page needs no network (charts, styles and data are inlined) and needs
    plotly: pip install 'qualiscore[report]'. Breakdowns per team and channel are
    scored from each group's pooled records: recomputed from the run's inputs when
    they are unchanged on disk, or read from --by-dir directories.

    A report written into OUTDIR is recorded with its SHA-256 (and the manifest's)
    in OUTDIR/reports.json, so `qualiscore verify` can tell it from a file added by
    hand; neither the manifest nor its signature covers it (see docs/auditing.md).

    \b
    Examples:
      qualiscore report out/
      qualiscore report out/ --format md -o review.md
      qualiscore report out/ --by-dir out-team --by-dir out-channel
    """
    target = write_report(outdir, path, fmt, by_dirs=by_dirs, recompute=not no_recompute,
                          pseudonymise_key=pseudonymise_key)
    size = format(target.stat().st_size, ",")
    echo(_("report: {path} ({size} bytes)", path=target, size=size))
