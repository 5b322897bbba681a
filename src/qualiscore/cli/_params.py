"""Option types shared by the commands that run a scheme (`evaluate`, `explain`, `sample`, `verify`, ...)."""

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



class KeyFile(click.ParamType):
    """``--pseudonymise-key FILE``: the key's bytes (privacy.read_key), never its path's text, so no command
    passes the path on by mistake."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> bytes:
        if isinstance(value, bytes):
            return value
        from ..privacy import read_key

        return read_key(value)  # a UsageError, which the group prints as every library error


PSEUDONYMISE_KEY = click.option(
    "--pseudonymise-key", "pseudonymise_key", type=KeyFile(), default=None, metavar="FILE",
    help="The secret key of a scheme's pseudonymised personal fields (docs/privacy.md): the same key gives the "
         "same tokens. Make one with `head -c 32 /dev/urandom > qualiscore.key`; the manifest records only its id.")


SPARK_MASTER = click.option(
    "--spark-master", default=None, metavar="URL",
    help="With --engine spark: the Spark master (local[4], spark://host:7077, yarn, k8s://…); default: the "
         "session spark-submit started, else every core of this machine (docs/scale-out.md).")
