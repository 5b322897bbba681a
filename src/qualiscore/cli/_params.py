"""Option types shared by the commands that run a scheme (`evaluate`, `explain`)."""

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

