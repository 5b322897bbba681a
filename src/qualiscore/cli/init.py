"""`qualiscore init`: a commented starter scheme that validates."""

from __future__ import annotations

from pathlib import Path

import click

from ..i18n import _
from ..starter import starter_scheme
from . import Command, echo


@click.command("init", cls=Command)
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scheme", "scheme_id", default=None, help="Scheme id (default: the parent directory's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def command(path: Path, scheme_id: str | None, force: bool) -> None:
    """Write a commented starter scheme that validates, to edit from there.

    \b
    Example:
      qualiscore init rules/my-scheme/2026Q3.yaml
    """
    if path.exists() and not force:
        raise click.UsageError(_("{path} already exists; use --force to overwrite it", path=path))
    version = path.stem
    scheme_id = scheme_id or (path.parent.name if path.parent.name not in ("", ".") else "my-scheme")
    text = starter_scheme(scheme_id.lower(), version)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(_("cannot write {path}: {reason}",
                                     path=path, reason=exc.strerror)) from exc
    echo(_("wrote {path}\nnext: edit it, then run `qualiscore validate {path}`", path=path))
