"""`qualiscore synth`: deterministic synthetic records to try schemes on."""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import synth
from ..i18n import _
from . import Command, echo


@click.command("synth", cls=Command)
@click.argument("kind", type=click.Choice(["cs", "qa", "qa-reviews", "cs-sources", "reviews"]))
@click.option("-n", "rows", type=click.IntRange(min=0), default=1000, show_default=True, help="Number of rows.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--start", default="2026-04-01", show_default=True, help="First day, YYYY-MM-DD.")
@click.option("--months", type=click.IntRange(min=1), default=1, show_default=True, help="Months covered (cs, cs-sources).")
@click.option("--agents", type=click.IntRange(min=1), default=None, help="Number of agents (cs, cs-sources; default n/400, ≥ 5).")
@click.option("--dirty", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Fraction of rows that break the contract, to exercise rejects.")
@click.option("--reviewers", type=click.IntRange(min=2), default=None,
              help="Reviewers who each score every interaction (qa-reviews; default 4).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("--sample", "sample", type=click.Path(exists=True, dir_okay=False), default=None,
              help="reviews: the sample.csv of `qualiscore sample` whose interactions are reviewed.")
@click.option("-o", "--output", default="-", show_default=True,
              help="Output file; - for standard output. For cs-sources, a directory (required).")
def command(kind: str, rows: int, seed: int, start: str, months: int, agents: int | None, dirty: float,
            reviewers: int | None, fmt: str, sample: str | None, output: str) -> None:
    """Write deterministic synthetic records: interactions (cs), QA inspection forms (qa),
    the same forms scored by several reviewers (qa-reviews, for `calibrate`), or one run's
    four sources (cs-sources: interactions, surveys, inspections, complaints), or the
    reviewers' checklist results of a drawn sample (reviews --sample sample.csv).

    The same arguments always give the same bytes. cs-sources writes OUTPUT/interactions.csv,
    surveys.csv, inspections.csv and complaints.csv, for a scheme with sources:.

    \b
    Examples:
      qualiscore synth cs -n 3000 --months 3 --agents 24 -o data/sample/interactions.csv
      qualiscore synth qa -n 300 -o qa.csv
      qualiscore synth qa-reviews -n 200 --reviewers 4 -o reviews.csv
      qualiscore synth cs-sources -n 3000 --start 2026-07-01 --months 3 --agents 24 -o data/sample/q3
      qualiscore synth reviews --sample sample-w28/sample.csv --dirty 0.05 -o reviews-w28.csv
    """
    if (kind == "reviews") != (sample is not None):
        raise click.UsageError(_("--sample FILE goes with the kind reviews, and reviews needs it"))
    if kind in ("qa", "qa-reviews") and (months != 1 or agents is not None):
        raise click.UsageError(_("--months and --agents apply to kinds cs and cs-sources only (qa covers one month)"))
    if reviewers is not None and kind != "qa-reviews":
        raise click.UsageError(_("--reviewers applies to kind qa-reviews only"))
    if kind == "qa-reviews" and fmt != "csv":
        raise click.UsageError(_("qa-reviews writes CSV only"))
    if kind == "cs-sources" and (output == "-" or fmt != "csv"):
        raise click.UsageError(_("cs-sources writes four CSV files: give their directory with -o DIR"))
    target: Any = sys.stdout if output == "-" else output
    try:
        if kind == "reviews":
            assert sample is not None
            written = synth.write_reviews_csv(sample, target, seed=seed, dirty=dirty)
            if output != "-":
                echo(_("wrote {n} reviews to {output}", n=written, output=output), err=True)
            return
        if kind == "cs-sources":
            counts = synth.write_sources_csv(output, rows, seed=seed, start=start, months=months, agents=agents,
                                             dirty=dirty)
            echo(_("wrote {tables} to {output}", tables=", ".join(f"{n} {table}" for table, n in counts.items()),
                   output=output), err=True)
            return
        if kind == "qa-reviews":
            written = synth.write_qa_reviews_csv(target, rows, seed=seed, start=start, dirty=dirty,
                                                 reviewers=reviewers or 4)
        elif kind == "cs":
            writer = synth.write_csv if fmt == "csv" else synth.write_jsonl
            written = writer(target, rows, seed=seed, start=start, months=months, agents=agents, dirty=dirty)
        else:
            writer = synth.write_qa_csv if fmt == "csv" else synth.write_qa_jsonl
            written = writer(target, rows, seed=seed, start=start, dirty=dirty)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if output != "-":
        echo(_("wrote {n} rows to {output}", n=written, output=output), err=True)
