"""`qualiscore reveal`: the values behind a pseudonymised run's tokens, for a holder of its key."""

from __future__ import annotations

from pathlib import Path

import click

from ..reveal import FORMATS, render, reveal
from . import Command, echo
from ._params import KeyFile


@click.command("reveal", cls=Command)
@click.argument("outdir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("tokens", nargs=-1)
@click.option("--pseudonymise-key", "pseudonymise_key", type=KeyFile(), required=True, metavar="FILE",
              help="The key the run was made with (its id must be the one manifest.json records).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: a table; csv: token,field,value with a header; json: an array of objects.")
def command(outdir: Path, tokens: tuple[str, ...], pseudonymise_key: bytes, fmt: str) -> None:
    """Show the values behind TOKENs of a pseudonymised run, read again from its inputs with its key.

    OUTDIR is an output directory of `evaluate` (or `sample`) of a scheme whose contract
    pseudonymises personal fields. Its inputs are read again as manifest.json names them
    (their SHA-256 must be the recorded one) and every value of each pseudonymised field
    is turned into its token with the key: no table of tokens and values is stored
    anywhere. Without TOKENs, every token of the run is listed. The output holds
    personal data: keep it where the key is kept.

    \b
    Examples:
      qualiscore reveal out/ p:46qzhaevqkyqgbyle3ym --pseudonymise-key qualiscore.key
      qualiscore reveal out/ --pseudonymise-key qualiscore.key --format csv > tokens.csv
    """
    echo(render(reveal(outdir, pseudonymise_key, tokens), fmt), nl=False)
