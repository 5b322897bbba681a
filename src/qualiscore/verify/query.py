"""What ``verify`` finds of a query input: the rows its query returns now, against the rows the run read.

A run whose input is a query (records.database) records the query file's SHA-256 and
the SHA-256 of the rows it returned. The file is checked like any input; the rows can
only be checked by running the query again, which needs the database: without a DSN,
or when the server refuses, the run is ``input-unreachable`` (exit 18), and the message
says how to give the DSN. Rows that differ are ``input-changed`` (exit 11), as a changed
file is; the same rows are handed to the recomputation, so the query runs once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import QualiscoreError
from ..i18n import _
from ..records.database import DSN_HINT, QueryTable, find_dsn, read_query
from .discrepancy import Discrepancy


def check_query(entry: Mapping[str, Any], path: Path) -> tuple[Discrepancy | None, QueryTable | None, str | None]:
    """(what is wrong, or None; the rows when they are the run's; the SHA-256 of the rows found, or None)."""
    name = entry["path"]
    recorded = entry.get("rows_sha256")
    if recorded is None:
        return Discrepancy("input-unreachable", name, _("the manifest records no SHA-256 of the rows the query "
                                                        "{name} returned, so they cannot be checked", name=name)), \
            None, None
    try:
        dsn = find_dsn()
        if dsn is None:
            server = entry["server"] if "server" in entry else _("its server")
            hint = _(DSN_HINT)
            return Discrepancy(
                "input-unreachable", name,
                _("the query {name} cannot be run again: no database was given (the run read {rows} rows from "
                  "{server})", name=name, rows=entry["rows_read"],
                  server=server),
                details=(_("to check its rows, {hint}", hint=hint),)), None, None
        table = read_query(str(path), dsn)
    except QualiscoreError as exc:
        return Discrepancy("input-unreachable", name, _("the query {name} cannot be run again: {reason}", name=name,
                                                        reason=exc.message),
                           details=(exc.hint,) if exc.hint else ()), None, None
    if table.sha256 != recorded:
        return Discrepancy(
            "input-changed", name,
            _("the query {name} now returns different rows: {rows} rows (SHA-256 {sha256}…), where the run read "
              "{rows_read} (SHA-256 {recorded}…)", name=name, rows=table.rows, sha256=table.sha256[:12],
              rows_read=entry["rows_read"], recorded=recorded[:12])), None, table.sha256
    return None, table, table.sha256
