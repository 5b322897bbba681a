"""`qualiscore verify`: confirm a published run, or say what differs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click

from .. import verdict
from ..errors import OutputError, UsageError
from ..i18n import _
from ..manifest import read_manifest, write_file_atomically
from ..options import EngineName
from ..verdict import FORMATS
from ..verify import EXIT_SIGNER_UNCHECKED, Report, verify
from . import DSN_FILE, Command, command_line, echo, style
from ._params import PSEUDONYMISE_KEY, SPARK_MASTER


@click.command("verify", cls=Command)
@click.argument("outdir", type=click.Path(exists=True, file_okay=False))
@click.option("--base", type=click.Path(exists=True, file_okay=False), default=None,
              help="Directory the manifest's relative paths are resolved against (default: current).")
@click.option("--trusted-keys", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="The committee's trusted-keys.yaml: the run must be signed by a key it lists, valid on the day "
                   "the run was signed (default: the trusted-keys.yaml next to the run's schemes or above them, "
                   "up to the root of their git repository).")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Require the run to be signed by this Ed25519 public key (PEM): a trusted-keys file of one key, "
                   "on any date.")
@click.option("--rules-rev", metavar="REV", default=None,
              help="Require every scheme of the run to be exactly its file at this revision of the rules repository "
                   "(a tag such as approved/2026Q2, a branch or a commit).")
@click.option("--rules-repo", type=click.Path(exists=True, file_okay=False), default=None,
              help="The rules repository (a clone will do); default: the git repository holding each scheme file.")
@click.option("--format", "fmt", type=click.Choice(["text", *FORMATS]), default=None,
              help="text (default) prints the verdict; json, md or html write the verification record: dated, "
                   "with every check and its result, sealed, printable (to -o FILE, or standard output).")
@click.option("-o", "--output", "record_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write the verification record to FILE (its format from --format, else from the suffix "
                   ".json, .md or .html) and print the verdict as text.")
@click.option("--record-key", type=click.Path(exists=True, dir_okay=False), default=None, metavar="KEY",
              help="Sign the verification record with your Ed25519 private key (see `qualiscore keygen`).")
@click.option("--engine", type=click.Choice(["rows", "spark"]), default="rows", show_default=True,
              help="What recomputes the run: rows, the reference, or spark, whose executors also hash the inputs "
                   "recorded as URIs (hdfs://, s3a://) that this machine cannot open (needs qualiscore[spark]).")
@SPARK_MASTER
@PSEUDONYMISE_KEY
@DSN_FILE
def command(outdir: str, base: str | None, trusted_keys: str | None, public_key: str | None, rules_rev: str | None,
            rules_repo: str | None, fmt: str | None, record_path: str | None, record_key: str | None,
            engine: str, spark_master: str | None, pseudonymise_key: bytes | None) -> None:
    """Confirm that OUTDIR was produced by its scheme and inputs, untouched, and who signed it.

    Checks the signature (manifest.json.sig) and whether its key is trusted, the SHA-256
    of the scheme, inputs and outputs recorded in manifest.json, that OUTDIR holds
    nothing else (reports written later by `qualiscore report` are checked against
    reports.json, and are not covered by the signature), then recomputes the
    scorecards and compares them byte for byte. A changed input is named line
    by line (from the run's row-digests.bin), with the subjects whose score or
    grade it moves.

    The signer is looked up in --trusted-keys FILE (or the one --public-key); without
    either, in the trusted-keys.yaml nearest to the run's schemes, which verify names.
    A signed run is verified when its key is listed there and valid on the day it was
    signed: "signed by OWNER (FINGERPRINT) at TIME by OPERATOR on HOST".

    The manifest records where each scheme file sat in its git repository when run;
    verify checks that record, notes a scheme run with uncommitted changes, and, when a
    scheme file changed since, shows what changed, reading the version that ran from
    git. --rules-rev REV requires each scheme to be exactly its file at REV: the proof
    that the approved version was used.

    \b
    Exit status: 0 reproduced exactly (and signed by a trusted key, when signed);
    3 the trusted-keys file cannot be used (each mistake at its line);
    9 signature invalid, signer not trusted (or not on that day), or not signed
    although trusted keys were given or found; 10 scheme changed (with
    --rules-rev: or not the file at REV); 11 input changed; 12 engine version
    differs; 13 output file edited, missing or added; 14 recomputation differs (or
    the manifest's git record of a scheme is wrong); 16 manifest.json damaged;
    17 reproduced and the signature is valid, but no trusted keys were given or
    found to check the signer (the mildest: any other problem's status comes first);
    18 a query input (.sql) could not be run again to check its rows: no DSN given
    (QUALISCORE_DSN or --dsn-file), or the database refused;
    19 the run pseudonymised personal fields and no --pseudonymise-key was given;
    20 the key given is not the run's (its id differs from the manifest's);
    2 --rules-repo is not a repository or has no revision REV.
    Examples:
      qualiscore verify out/
      qualiscore verify out/ --trusted-keys rules/trusted-keys.yaml
      qualiscore verify out/ --rules-rev approved/2026Q2
      qualiscore verify out/ --rules-rev main --rules-repo ~/rules --format json
      qualiscore verify out/ --rules-rev approved/2026Q2 -o audit/2026-04-verification.html
      qualiscore verify out/ --engine spark --spark-master yarn

    The verification record (--format json|md|html, or -o FILE) names the
    verifier, the time, the tool version, the signer, every hash and every check
    with its result; it is sealed by the SHA-256 of its content (signed with
    --record-key) and embeds itself as data, so `qualiscore check-record FILE`
    can confirm later that it is the record as written.
    """
    if spark_master is not None and engine != "spark":
        raise click.UsageError(_("--spark-master says where the spark engine runs: give --engine spark too"))
    record_fmt = _record_format(fmt, record_path, record_key)
    report = verify(outdir, base=base, public_key=public_key, trusted_keys=trusted_keys, rules_rev=rules_rev,
                    rules_repo=rules_repo, pseudonymise_key=pseudonymise_key, engine=cast(EngineName, engine),
                    spark_master=spark_master)
    if record_fmt is not None:
        record = verdict.build(report, read_manifest(outdir), command=command_line())
        if record_key is not None:
            verdict.sign(record, Path(record_key))
        data = verdict.render(record, record_fmt)
        if record_path is None:
            echo(data.decode("utf-8"), nl=False)  # already escaped: the same bytes as a record file
            sys.exit(report.exit_code)
        try:
            write_file_atomically(Path(record_path), data)
        except OSError as exc:
            raise OutputError(_("cannot write {path}: {reason}", path=record_path, reason=exc.strerror or exc),
                              hint=_("check the path and permissions")) from None
    _print(report, outdir)
    if record_path is not None:
        echo("  " + _("verification record: {path} (check it later with `qualiscore check-record {path}`)",
                      path=record_path))
    sys.exit(report.exit_code)


def _record_format(fmt: str | None, path: str | None, key: str | None) -> str | None:
    """The verification record's format, or None for the text verdict alone."""
    if fmt not in (None, "text"):
        return fmt
    if path is None:
        if key is not None:
            raise UsageError(_("--record-key signs a verification record, and none is asked for"),
                             hint=_("add --format md|json|html, or -o FILE"))
        return None
    suffix = Path(path).suffix.lower().lstrip(".")
    chosen = {"markdown": "md", "htm": "html"}.get(suffix, suffix)
    if fmt == "text" or chosen not in FORMATS:
        raise UsageError(_("-o {path}: a verification record is written as json, md or html", path=path),
                         hint=_("name the file .json, .md or .html, or give --format json|md|html"))
    return chosen


def _print(report: Report, outdir: str) -> None:
    """The verdict as text: what differs, or that the run is reproduced, and who signed it."""
    if report.ok or report.exit_code == EXIT_SIGNER_UNCHECKED:
        head = (style(_("verified"), fg="green", bold=True) if report.ok
                else style(_("signature valid, signer not checked"), fg="yellow", bold=True))
        echo(_("{verdict}: {outdir} is reproduced exactly from its scheme and inputs (all hashes match)",
               verdict=head, outdir=outdir))
        for line in _signed(report):
            echo(f"  {line}")
        for d in report.discrepancies:
            echo(f"  {d.kind}: {d.message}")
        for line in report.approved:
            echo("  " + _("approved: {line}", line=line))
        for name in report.later_reports:
            echo("  " + (_("note: {name} was written after the run by `qualiscore report` (its SHA-256 matches "
                           "reports.json); it is not covered by the manifest or its signature", name=name)
                         if report.signer else
                         _("note: {name} was written after the run by `qualiscore report` (its SHA-256 matches "
                           "reports.json); it is not covered by the manifest", name=name)))
        for d in report.notes:
            echo(style("  " + _("note: {kind}: {message}", kind=d.kind, message=d.message), fg="yellow"))
    else:
        head = style(_("NOT verified"), fg="red", bold=True)
        echo(_("{verdict}: {outdir}", verdict=head, outdir=outdir))
        for d in report.discrepancies:
            echo(f"  {d.kind}: {d.message}")
            for line in d.details:
                echo(f"      {line}")
        for line in _signed(report):
            echo(f"  {line}")
        if not report.recomputed:
            kinds = {d.kind for d in report.discrepancies}
            why = _("an input was a table in memory, which no file holds") if "input-in-memory" in kinds \
                else _("the query's rows could not be read again") if "input-unreachable" in kinds \
                else _("the run's pseudonymisation key was not given") if kinds & {"key-missing", "key-mismatch"} \
                else _("the scheme or an input is not the one the run used")
            echo("  " + _("(not recomputed: {why})", why=why))
        for line in report.approved:
            echo("  " + _("approved: {line}", line=line))
        for d in report.notes:
            echo(style("  " + _("note: {kind}: {message}", kind=d.kind, message=d.message), fg="yellow"))


def _signed(report: Report) -> list[str]:
    """Who signed, when and where, and the trusted keys that say so; nothing when a discrepancy says why not."""
    if any(d.kind == "signature" for d in report.discrepancies):
        return []
    keys = [_("trusted keys: {files}", files=", ".join(report.trusted_keys))] \
        if report.signature_status == "trusted" else []
    return [report.signed, *keys]
