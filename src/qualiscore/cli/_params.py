"""Option types shared by the commands that run a scheme (`evaluate`, `explain`)."""

from __future__ import annotations

from typing import Any

import click

from ..errors import UsageError
from ..options import RejectLimit
from . import CommandError


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
        try:
            return RejectLimit.parse(value)
        except UsageError as exc:
            raise CommandError(exc) from None


FIELDS = FieldList()
REJECT_LIMIT = RejectLimitType()
DATE = click.DateTime(["%Y-%m-%d"])
