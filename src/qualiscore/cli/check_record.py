"""`qualiscore check-record`: confirm a filed verification record, and show what it says."""

from __future__ import annotations

import click

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
        who = f"by {checked.signer}" if checked.signer else "not signed"
        raise SignatureError(f"{record} is {who}, not by {signed_by}", hint="ask the verifier for their record")
    facts = checked.record
    verdict = "VERIFIED" if facts["verified"] else f"NOT VERIFIED (exit {facts['exit_code']})"
    echo(style("record intact", fg="green", bold=True) + f": {record} is the verification record as written "
         f"(seal {facts['seal']['sha256'][:16]}…" + (f", signed by {checked.signer}" if checked.signer else
                                                        ", not signed") + ")")
    v = facts["verifier"]
    echo(f"  it records: {verdict} for {facts['outdir']}, at {facts['verified_at']} by {v['operator']} on "
         f"{v['host']} (qualiscore {v['qualiscore']})")
    passed = sum(c["result"] == "pass" for c in facts["checks"])
    echo(f"  {len(facts['checks'])} checks: {passed} passed, "
         f"{sum(c['result'] == 'fail' for c in facts['checks'])} failed, "
         f"{sum(c['result'] == 'not checked' for c in facts['checks'])} not checked")
