"""Tables in memory: a Polars or pandas DataFrame, a pyarrow Table, anything with the Arrow stream.

Every table a caller hands over becomes a Polars DataFrame here, once, by Arrow
(:func:`table_of`), so each engine reads the same columns. A table in memory is then a
*typed table*, read like a Parquet file (records.tables): each field's column is found
by the header rules (exact name, else trimmed; a missing nullable column is noted, a
missing required one rejects every row), and each cell is typed by the typed-cell
rules (a number is a number, a date-time a date-time, a naive date-time is read in the
contract's zone, text is parsed by the text rules, null is null). Its row numbers are
1-based positions in the table, its format ``arrow``, its name ``<memory>``, and its
SHA-256 that of the table written as an Arrow IPC stream by Polars (uncompressed), so a
manifest can say which table was scored even though no file holds it.

Polars is imported only when a table is read (``qualiscore[fast]``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

from ..errors import UsageError
from ..i18n import _

if TYPE_CHECKING:
    from .._polars import pl

MEMORY = "<memory>"  # the input name of a table in memory, in problems and the manifest
FORMAT = "arrow"


@dataclass(frozen=True, slots=True, eq=False)
class Table:
    """A table in memory, as every engine reads it: a Polars DataFrame, its name and the SHA-256 of its Arrow stream.

    It is Arrow data itself (``__arrow_c_stream__``), so it can be handed to any engine as a source.
    """

    frame: pl.DataFrame
    sha256: str
    name: str = MEMORY

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.frame.__arrow_c_stream__(requested_schema)

    @property
    def rows(self) -> int:
        return self.frame.height


def is_table(data: object) -> bool:
    """Whether ``data`` is a table this module reads (checked without importing Polars or pandas)."""
    kind = type(data)
    if kind.__module__.split(".")[0] in ("polars", "pandas") and kind.__name__ in ("DataFrame", "LazyFrame"):
        return True
    return hasattr(data, "__arrow_c_stream__")


def table_of(data: Any, name: str = MEMORY) -> Table:
    """``data`` (a Polars DataFrame or LazyFrame, a pandas DataFrame, a pyarrow Table, RecordBatch or
    RecordBatchReader, or anything with ``__arrow_c_stream__``) as a :class:`Table`, converted once.

    A pandas index is not a column (``reset_index()`` first to score it). UsageError when
    Polars is not installed or ``data`` is no table.
    """
    if isinstance(data, Table):
        return data
    try:
        from .._polars import pl
    except ImportError:
        from .._install import install_hint

        raise UsageError(_("reading a table in memory needs polars: {hint}", hint=install_hint('fast'))) from None
    if isinstance(data, pl.LazyFrame):
        frame = data.collect()
    elif isinstance(data, pl.DataFrame):
        frame = data
    elif is_table(data):
        try:
            frame = pl.DataFrame(data)
        except (TypeError, ValueError, pl.exceptions.PolarsError) as exc:
            raise UsageError(_("cannot read {kind} as a table: {error}", kind=type(data).__name__, error=exc),
                             hint=_("pass a Polars or pandas DataFrame, or Arrow data (a pyarrow Table)")) from None
    else:
        raise UsageError(_("a {kind} is not a table", kind=type(data).__name__),
                         hint=_("pass input file paths, a Polars or pandas DataFrame, or Arrow data (a pyarrow Table, "
                                "anything with __arrow_c_stream__)"))
    return Table(frame, arrow_sha256(frame), name)


class _Digest:
    """A file-like object that only hashes what is written to it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return len(data)

    def flush(self) -> None:
        pass


def arrow_sha256(frame: pl.DataFrame) -> str:
    """The SHA-256 of ``frame`` as an uncompressed Arrow IPC stream, hashed as it is written (no copy kept)."""
    digest = _Digest()
    frame.write_ipc_stream(cast("IO[bytes]", digest), compression="uncompressed")
    return digest.hash.hexdigest()
