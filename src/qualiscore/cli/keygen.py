"""`qualiscore keygen`: an Ed25519 key pair for signing runs, and its entry for trusted-keys.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..i18n import _
from ..signing import generate_keypair
from ..trust import FORMAT, TRUSTED_KEYS, entry
from . import Command, echo


@click.command("keygen", cls=Command)
@click.argument("name", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--owner", default=None, metavar="NAME",
              help="Who holds the key, as the entry for trusted-keys.yaml names it (default: NAME's file name).")
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def command(name: Path, owner: str | None, force: bool) -> None:
    """Create an Ed25519 key pair NAME.pem (private) and NAME.pub.pem for signing runs.

    Prints the key's fingerprint and its entry for the committee's trusted-keys.yaml,
    ready to paste under `keys:` (its valid_from is today; add valid_to to end it).

    \b
    Example:
      qualiscore keygen committee --owner 服务质量委员会
      # paste the entry into rules/trusted-keys.yaml and commit it
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --sign-key committee.pem --operator 张三
      qualiscore verify out/ --trusted-keys rules/trusted-keys.yaml
    """
    if owner is not None and not owner.strip():
        raise click.UsageError(_("--owner must name who holds the key"))
    private, public = name.with_name(name.name + ".pem"), name.with_name(name.name + ".pub.pem")
    for p in (private, public):
        if p.exists() and not force:
            raise click.UsageError(_("{path} already exists; use --force to overwrite it", path=p))
    fp = generate_keypair(private, public)
    echo(_("wrote {private} (keep it secret) and {public} (give it to auditors)\nfingerprint {fingerprint}",
           private=private, public=public, fingerprint=fp))
    echo("\n" + _("Entry for {file} in the rules repository (paste it under `keys:`; a new file starts with\n"
                  "`format: {format}` and `keys:`):", file=TRUSTED_KEYS, format=FORMAT) + "\n")
    echo(entry(owner if owner is not None else name.name, fp, public.read_text(encoding="ascii"), dt.date.today()),
         nl=False)
