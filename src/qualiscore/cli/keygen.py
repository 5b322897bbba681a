"""`qualiscore keygen`: an Ed25519 key pair for signing runs."""

from __future__ import annotations

from pathlib import Path

import click

from ..signing import generate_keypair
from . import echo


@click.command("keygen")
@click.argument("name", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def command(name: Path, force: bool) -> None:
    """Create an Ed25519 key pair NAME.pem (private) and NAME.pub.pem for signing runs.

    \b
    Example:
      qualiscore keygen committee
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --sign-key committee.pem
      qualiscore verify out/ --public-key committee.pub.pem
    """
    private, public = name.with_name(name.name + ".pem"), name.with_name(name.name + ".pub.pem")
    for p in (private, public):
        if p.exists() and not force:
            raise click.UsageError(f"{p} already exists; use --force to overwrite it")
    fp = generate_keypair(private, public)
    echo(f"wrote {private} (keep it secret) and {public} (give it to auditors)\nfingerprint {fp}")
