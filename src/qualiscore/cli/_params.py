"""Option types shared by the commands that run a scheme (`evaluate`, `explain`), and ``--dsn-file``."""

from __future__ import annotations

from typing import Any

import click

from ..options import RejectLimit


class FieldList(click.ParamType):
    """``--by team,channel``: field names, or None when none are given."""

    name = "fields"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...] | None:
        if isinstance(value, tuple):
            return value
        return tuple(f.strip() for f in str(value).split(",") if f.strip()) or None


class RejectLimitType(click.ParamType):
    """``--max-rejects N|P%``, parsed by :meth:`RejectLimit.parse`, the one grammar of the limit."""

    name = "limit"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> RejectLimit:
        if isinstance(value, RejectLimit):
            return value
        return RejectLimit.parse(value)  # a UsageError, which the group prints as every library error


FIELDS = FieldList()
REJECT_LIMIT = RejectLimitType()
DATE = click.DateTime(["%Y-%m-%d"])


def _use_dsn_file(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Read a query input's DSN from this file for the rest of the command (records.database)."""
    if value is None:
        return
    from ..records.database import reset_dsn_file, use_dsn_file

    token = use_dsn_file(value)
    ctx.call_on_close(lambda: reset_dsn_file(token))


# `--dsn-file FILE` of every command that reads data: where a .sql input's database is (docs/database.md).
DSN_FILE = click.option(
    "--dsn-file", type=click.Path(dir_okay=False), default=None, metavar="FILE", expose_value=False,
    callback=_use_dsn_file, is_eager=True,
    help="For a .sql query input: read the database's DSN (postgresql://USER:PASSWORD@HOST:PORT/DB or "
         "mysql://…) from this file, one line, kept private; default: the environment variable QUALISCORE_DSN "
         "(see docs/database.md).")
