"""`qualiscore evaluate`: score the data, write the output directory atomically, print a summary."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import cast

import click
from tqdm import tqdm

from .._display import display_width, visible
from ..analysis import Summary
from ..engine import Run
from ..i18n import _
from ..manifest import MANIFEST, render_outputs, with_outputs
from ..options import ENGINES, EngineName, RejectLimit, RunOptions
from ..publish import publish
from ..runs import check_publishable, execute
from ..signing import SIGNATURE_FILE, key_fingerprint, sign_manifest
from . import DSN_FILE, Command, command_line, echo
from ._params import DATE, FIELDS, PSEUDONYMISE_KEY, REJECT_LIMIT, SPARK_MASTER


@click.command("evaluate", cls=Command)
@click.argument("scheme", type=click.Path(exists=True))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory, replaced atomically; only an earlier run's output is replaced "
                   "(see --force). A symbolic link publishes into the directory it points to.")
@click.option("--by", type=FIELDS, default=None, metavar="FIELD[,FIELD]",
              help="Re-evaluate at another grouping, e.g. team.")
@click.option("--encoding", default=None, help="Input text encoding (default: UTF-8, else GB18030).")
@click.option("--max-rejects", type=REJECT_LIMIT, default=None, metavar="N|P%",
              help="Fail (publishing nothing) when more rows than this are rejected.")
@click.option("--as-of", type=DATE, default=None,
              help="With a directory of versions: use the version in force on this date for all records.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Sign the run with this Ed25519 private key (see `qualiscore keygen`): writes manifest.json.sig "
                   "beside the manifest, with the manifest's SHA-256, the time, the operator, the host and this "
                   "command line.")
@click.option("--operator", default=None, metavar="NAME",
              help="Who runs the signed run, as manifest.json.sig records it (default: the login name). "
                   "Needs --sign-key.")
@click.option("--force", is_flag=True,
              help="Replace OUTDIR even if it holds more than an earlier run's output. Never the current directory, "
                   "a directory above it, the home or root directory, or one holding the scheme, an input or the key.")
@click.option("--allow-empty", is_flag=True,
              help="Publish a run that scores no row (empty inputs, every row rejected) instead of failing (exit 15).")
@click.option("--allow-missing-columns", is_flag=True,
              help="Publish although a field's column is missing from an input's header (its rows are rejected, "
                   "or read as empty when nullable) instead of failing (exit 15).")
@click.option("--report", "with_report", is_flag=True,
              help="Also write OUTDIR/report.html, listed in the manifest (needs qualiscore[report]).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "parquet"]),
              help="Also write scorecards.xlsx (summary, scorecards, indicators, rejects, manifest sheets) "
                   "or scorecards.parquet; repeat for both.")
@click.option("--sheet", default=None, help="Worksheet of .xlsx inputs (default: the first); or write book.xlsx#Sheet.")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="columnar (needs qualiscore[fast]) is fast; rows is the reference; spark (needs qualiscore[spark] "
                   "and Java 17+) reads DATA (files, directories, globs, hdfs:// or s3a:// URIs) on a Spark cluster; "
                   "all give the same bytes. auto: columnar when installed.")
@SPARK_MASTER
@PSEUDONYMISE_KEY
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@DSN_FILE
def command(scheme: str, data: tuple[str, ...], outdir: str, by: tuple[str, ...] | None, encoding: str | None,
            max_rejects: RejectLimit | None, as_of: dt.datetime | None, sign_key: str | None, operator: str | None,
            force: bool,
            allow_empty: bool, allow_missing_columns: bool, with_report: bool, formats: tuple[str, ...],
            sheet: str | None, engine: str, spark_master: str | None, pseudonymise_key: bytes | None,
            quiet: bool) -> None:
    """Score DATA (CSV, JSONL, Excel .xlsx or Parquet) with SCHEME and write scorecards to OUTDIR.

    SCHEME is a scheme file, or a directory of its versions: each subject period is
    then scored by the version in force at its start. A scheme with several record
    sources takes each input as NAME=PATH (repeat a name for several files of one
    source): interactions=calls.csv surveys=survey.xlsx complaints=tickets.csv.

    \b
    Writes scorecards.jsonl, scorecards.csv, rejects.csv, row-digests.bin (a
    digest per input line, so `verify` can name lines changed later) and
    manifest.json, which lists every other file written with its SHA-256. Publishes nothing,
    and exits 15, when no row is scored or a field's column is missing from an
    input's header (see --allow-empty, --allow-missing-columns); exits 5 when
    --max-rejects is exceeded.
    Examples:
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data/sample/interactions.csv -o out/
      qualiscore evaluate rules/cs-quality/ data/sample/interactions-q1q2.csv -o out/
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --by team
      qualiscore evaluate rules/cs-quality/2026Q3.yaml interactions=calls.csv surveys=survey.csv \\
          inspections=qa.csv complaints=tickets.csv -o out/
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --sign-key committee.pem --operator 张三
      qualiscore evaluate rules/cs-quality/2026Q2.yaml 'hdfs://nn/cs/2026/*.parquet' -o out/ --engine spark \\
          --spark-master yarn
    """
    if spark_master is not None and engine != "spark":
        raise click.UsageError(_("--spark-master says where the spark engine runs: give --engine spark too"))
    if operator is not None and not sign_key:
        raise click.UsageError(_("--operator is recorded in the signature; give --sign-key too"))
    if operator is not None and not operator.strip():
        raise click.UsageError(_("--operator must name who runs the run"))
    options = RunOptions(engine=cast(EngineName, engine), by=by, as_of=as_of.date() if as_of else None,
                         encoding=encoding, sheet=sheet, max_rejects=max_rejects, formats=formats,
                         scheme_path=scheme, data=data, allow_empty=allow_empty,
                         allow_missing_columns=allow_missing_columns, pseudonymise_key=pseudonymise_key,
                         spark_master=spark_master)
    with progress_bar(quiet) as bar:
        run = execute(scheme, data, options, progress=bar)
    check_publishable(run, options)
    if max_rejects is not None:
        max_rejects.check(run.rows_rejected, run.rows_read, run.dataset.inputs)
    files = render_outputs(run)
    protect = [scheme, *data, *(d.partition("=")[2] for d in data if "=" in d), *([sign_key] if sign_key else [])]
    with publish(outdir, force=force, protect=protect) as stage:
        if with_report:
            from ..report import Published, build_report  # qualiscore[report]: loaded only when asked for

            stage.write(files)  # the report reads the run from the stage, then is listed in its manifest
            signer = key_fingerprint(Path(sign_key)) if sign_key else None
            report = build_report(stage.path, published=Published(Path(outdir).name, signer=signer),
                                  pseudonymise_key=pseudonymise_key)
            files = with_outputs(run, files, {REPORT: report.encode("utf-8")})
        if sign_key:
            files[SIGNATURE_FILE] = sign_manifest(files[MANIFEST], Path(sign_key), operator=operator,
                                                  command=command_line())
        stage.write(files)
    if not quiet:
        summary(run, stage.out)


REPORT = "report.html"


def progress_bar(quiet: bool) -> tqdm:
    """A progress bar on stderr for runs longer than a second; silent when piped or with --quiet."""
    return tqdm(total=0, desc=_("scoring"), unit=_(" records"), unit_scale=True, delay=1.0, leave=False,
                disable=True if quiet else None, file=sys.stderr)


def summary(run: Run, out: Path) -> None:
    facts = Summary.of(run)
    echo(facts.rows_line())
    for line in facts.source_lines():
        echo(line)
    echo(facts.scorecards_line(visible))
    if (uncertain := facts.uncertain_line()) is not None:
        echo(uncertain)
    where = [(_("scorecards:"), _("{csv} (full detail: {jsonl})", csv=out / "scorecards.csv",
                                   jsonl=out / "scorecards.jsonl"))]
    where += [(name.split(".")[1] + ":", str(out / name))
              for name in ("scorecards.xlsx", "scorecards.parquet") if (out / name).is_file()]
    if run.rows_rejected:
        where.append((_("rejects:"), _("{path} (most rejected: {reasons})", path=out / "rejects.csv",
                                       reasons=facts.most_rejected)))
    where.append((_("manifest:"), str(out / "manifest.json")))
    if (out / REPORT).is_file():
        where.append((_("report:"), str(out / REPORT)))
    width = max(11, *(display_width(label) for label, _text in where))
    for label, text in where:
        echo(label + " " * (width - display_width(label)) + " " + text)
