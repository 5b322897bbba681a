"""`qualiscore sample`: one period's inspection sample for reviewers, drawn reproducibly."""

from __future__ import annotations

from pathlib import Path

import click

from .._display import display_width
from ..engine import resolve_engine
from ..i18n import _
from ..options import ENGINES
from ..provenance import MANIFEST
from ..publish import publish
from ..sampling import (
    REJECTS,
    SAMPLE,
    STRATA,
    WORKBOOK,
    chosen_version,
    draw,
    options_dict,
    read_source,
    render,
)
from ..schemes import load_versions
from ..signing import SIGNATURE_FILE, sign_manifest
from . import Command, command_line, echo
from ._params import PSEUDONYMISE_KEY


@click.command("sample", cls=Command)
@click.argument("scheme", type=click.Path(exists=True))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("--period", required=True, metavar="PERIOD",
              help="The period to sample, as the plan's `every` names it: 2026-W14 (week), 2026-04 (month), "
                   "2026-04-03 (day), 2026-Q2, 2026.")
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory, replaced atomically; only an earlier sample's output is replaced (see --force).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx"]),
              help="Also write sample.xlsx for reviewers.")
@click.option("--encoding", default=None, help="Input text encoding (default: UTF-8, else GB18030).")
@click.option("--sheet", default=None, help="Worksheet of .xlsx inputs (default: the first).")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="How the inputs are read; both engines draw the same sample, byte for byte.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Sign the sample with this Ed25519 private key (see `qualiscore keygen`): manifest.json.sig, "
                   "checked by `qualiscore verify` as for a run.")
@click.option("--operator", default=None, metavar="NAME",
              help="Who draws the signed sample (default: the login name). Needs --sign-key.")
@click.option("--force", is_flag=True, help="Replace OUTDIR even if it holds more than an earlier output.")
@PSEUDONYMISE_KEY
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def command(scheme: str, data: tuple[str, ...], period: str, outdir: str, formats: tuple[str, ...],
            encoding: str | None, sheet: str | None, engine: str, sign_key: str | None, operator: str | None,
            force: bool, pseudonymise_key: bytes | None, quiet: bool) -> None:
    """Draw the inspection sample of one PERIOD from DATA with SCHEME's sampling plan.

    SCHEME is a scheme file, or a directory of its versions (the version in force on the
    period's first day is used). DATA are the exports of the source the plan samples
    (NAME=PATH or plain paths). The draw depends only on the plan, the period and each
    record's id: shuffling the rows or splitting the export into files gives the same
    sample, and `qualiscore verify OUTDIR` draws it again to confirm it.

    \b
    Writes sample.csv (the records for reviewers: stratum, then the plan's fields),
    strata.csv (population, excluded, eligible, sampled and rate of each stratum),
    rejects.csv (rows not read, with reasons) and manifest.json (scheme, inputs, period,
    and every file's SHA-256).
    Examples:
      qualiscore sample rules/cs-quality/2026Q3.yaml interactions=data/sample/q3/interactions.csv \\
          --period 2026-W28 -o sample-w28/
      qualiscore sample rules/cs-quality/ calls.csv --period 2026-W28 -o sample-w28/ --format xlsx
    """
    if operator is not None and not sign_key:
        raise click.UsageError(_("--operator is recorded in the signature; give --sign-key too"))
    chosen = chosen_version(load_versions(scheme, locate=True), period)
    dataset = read_source(chosen, data, engine, encoding, sheet, period, pseudonymise_key)
    drawn = draw(chosen, period, dataset)
    options = options_dict(scheme, data, period, resolve_engine(engine), encoding, sheet, "xlsx" in formats,
                           pseudonymise_key)
    files = render(drawn, options, xlsx="xlsx" in formats)
    if sign_key:
        files[SIGNATURE_FILE] = sign_manifest(files[MANIFEST], Path(sign_key), operator=operator,
                                              command=command_line())
    protect = [scheme, *data, *(d.partition("=")[2] for d in data if "=" in d), *([sign_key] if sign_key else [])]
    with publish(outdir, force=force, protect=protect) as stage:
        stage.write(files)
    if quiet:
        return
    out = stage.out
    echo(_("rows read {read} = kept {kept} + rejected {rejected}; {in_period} in {period}", read=drawn.rows_read,
           kept=drawn.rows_read - drawn.rows_rejected, rejected=drawn.rows_rejected, in_period=drawn.in_period,
           period=period))
    header = [_("stratum"), _("population"), _("excluded"), _("eligible"), _("sampled")]
    rows = [[s.key, *map(str, (s.population, s.excluded, s.eligible, s.sampled))] for s in drawn.strata]
    width = max((display_width(s.key) for s in drawn.strata), default=display_width(header[0]))
    widths = [width, *(max(display_width(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header) if k)]
    for cells in [header, *rows]:
        echo("  ".join(_padded(cell, widths[k], left=k == 0) for k, cell in enumerate(cells)))
    echo(_("sample {n} record(s) of {scheme} {version}: {path}", n=len(drawn.rows), scheme=chosen.id,
           version=chosen.version, path=Path(out) / SAMPLE))
    if "xlsx" in formats:
        echo(_("for reviewers: {path}", path=Path(out) / WORKBOOK))
    echo(_("strata:  {path}", path=Path(out) / STRATA))
    if drawn.rows_rejected:
        echo(_("rejects: {path}", path=Path(out) / REJECTS))
    echo(_("manifest: {path} (confirm it with `qualiscore verify {out}`)", path=Path(out) / "manifest.json", out=out))


def _padded(cell: str, width: int, *, left: bool) -> str:
    """``cell`` padded to ``width`` terminal cells: on the right (``left``-aligned), else on the left."""
    pad = " " * max(0, width - display_width(cell))
    return cell + pad if left else pad + cell
