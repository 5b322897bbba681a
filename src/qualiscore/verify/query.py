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
from ..records.database import DSN_HINT, QueryTable, find_dsn, read_query
from .discrepancy import Discrepancy


def check_query(entry: Mapping[str, Any], path: Path) -> tuple[Discrepancy | None, QueryTable | None, str | None]:
    """(what is wrong, or None; the rows when they are the run's; the SHA-256 of the rows found, or None)."""
    name = entry["path"]
    recorded = entry.get("rows_sha256")
    if recorded is None:
        return Discrepancy("input-unreachable", name, f"the manifest records no SHA-256 of the rows the query "
                           f"{name} returned, so they cannot be checked"), None, None
    try:
        dsn = find_dsn()
        if dsn is None:
            return Discrepancy(
                "input-unreachable", name,
                f"the query {name} cannot be run again: no database was given (the run read {entry['rows_read']} "
                f"rows from {entry.get('server', 'its server')})", details=(f"to check its rows, {DSN_HINT}",)), \
                None, None
        table = read_query(str(path), dsn)
    except QualiscoreError as exc:
        return Discrepancy("input-unreachable", name, f"the query {name} cannot be run again: {exc.message}",
                           details=(exc.hint,) if exc.hint else ()), None, None
    if table.sha256 != recorded:
        return Discrepancy(
            "input-changed", name,
            f"the query {name} now returns different rows: {table.rows} rows (SHA-256 {table.sha256[:12]}…), "
            f"where the run read {entry['rows_read']} (SHA-256 {recorded[:12]}…)"), None, table.sha256
    return None, table, table.sha256
