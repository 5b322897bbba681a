"""`qualiscore check-record`: confirm a filed verification record, and show what it says."""

from __future__ import annotations

import click

from ..i18n import _
from ..verdict import check_record
from . import Command, echo, style


@click.command("check-record", cls=Command)
@click.argument("record", type=click.Path(exists=True, dir_okay=False))
@click.option("--signed-by", metavar="FINGERPRINT", default=None,
              help="Require the record to be signed by this key (its SHA256:… fingerprint, as keygen prints it).")
def command(record: str, signed_by: str | None) -> None:
    """Confirm that a verification record written by `verify` is as it was written.

    RECORD is the .json, .md or .html file of `verify --format … -o RECORD`. The
    record's data must match its seal (the SHA-256 of its content), its signature
    (when it was written with --record-key) must be valid, and the readable text must
    be exactly the rendering of that data: an edited verdict, check or date is found.
    To know whether the run itself still verifies, run `qualiscore verify` again.

    \b
    Exit status: 0 the record is as written; 9 its signature is invalid, or not by
    --signed-by; 13 it was edited after it was written; 16 it is not a
    verification record (or is damaged beyond reading).
    Examples:
      qualiscore check-record audit/2026-04-verification.html
      qualiscore check-record audit/2026-04-verification.md --signed-by SHA256:ajtk…
    """
    from ..signing import SignatureError

    checked = check_record(record)
    if signed_by is not None and checked.signer != signed_by:
        message = (_("{record} is by {signer}, not by {wanted}", record=record, signer=checked.signer,
                     wanted=signed_by) if checked.signer
                   else _("{record} is not signed, not by {wanted}", record=record, wanted=signed_by))
        raise SignatureError(message, hint=_("ask the verifier for their record"))
    facts = checked.record
    verdict = _("VERIFIED") if facts["verified"] else _("NOT VERIFIED (exit {code})", code=facts["exit_code"])
    seal = facts["seal"]["sha256"][:16]
    intact = style(_("record intact"), fg="green", bold=True)
    echo(_("{intact}: {record} is the verification record as written (seal {seal}…, signed by {signer})",
           intact=intact, record=record, seal=seal, signer=checked.signer) if checked.signer else
         _("{intact}: {record} is the verification record as written (seal {seal}…, not signed)", intact=intact,
           record=record, seal=seal))
    v = facts["verifier"]
    echo("  " + _("it records: {verdict} for {outdir}, at {time} by {operator} on {host} (qualiscore {version})",
                  verdict=verdict, outdir=facts["outdir"], time=facts["verified_at"], operator=v["operator"],
                  host=v["host"], version=v["qualiscore"]))
    results = [c["result"] for c in facts["checks"]]
    echo("  " + _("{n} checks: {passed} passed, {failed} failed, {unchecked} not checked", n=len(results),
                  passed=results.count("pass"), failed=results.count("fail"),
                  unchecked=results.count("not checked")))
