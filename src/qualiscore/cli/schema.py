"""`qualiscore schema`: the JSON Schema of the scheme format, for editors and other tools."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..i18n import _
from ..validation import scheme_schema
from . import Command, echo


@click.command("schema", cls=Command)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
def command(output: Path | None) -> None:
    """Print the JSON Schema of the scheme format, for editors and other tools.

    \b
    Example (a rules repository of your own):
      qualiscore schema -o schemas/scheme.schema.json
      # first line of each scheme: # yaml-language-server: $schema=../../schemas/scheme.schema.json
    """
    text = json.dumps(scheme_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    echo(_("wrote {path}", path=output))
