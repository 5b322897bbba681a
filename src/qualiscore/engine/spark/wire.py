"""Typed frames as they cross Spark: one Arrow schema Spark declares, and back to the exact Polars schema.

The columnar engine's typed frame (records typed against a contract: one column per
field, date-times as wall-clock microseconds with a fold column, ``__src`` and ``__row``)
is what Spark reads, shuffles and hands to each group. Spark's Arrow types are narrower
than Polars' (``string`` not ``large_string``, no time zone-free timestamp it leaves
alone), so date-times travel as their integer microseconds and every column is cast
back to the frame's own dtype on arrival: the group sees the frame the reader made.
Anything else an executor sends back (problems, scorecards, errors) travels pickled in
the one binary column ``__meta``.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..._polars import pl
from ...i18n import _

META = "__meta"  # a pickled payload; null on a row of the typed frame
WIRE_ROWS = 65_536  # rows per Arrow batch sent to Spark
_WIRE = {pl.Int32: pa.int32(), pl.Int64: pa.int64(), pl.Float64: pa.float64(), pl.Boolean: pa.bool_(),
         pl.Date: pa.date32(), pl.String: pa.string()}


def wire_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type a frame's column has on the way through Spark."""
    if isinstance(dtype, pl.Datetime):
        return pa.int64()
    for polars_type, arrow_type in _WIRE.items():
        if dtype == polars_type:
            return arrow_type
    raise TypeError(_("no wire type for {dtype}", dtype=dtype))  # the typed frame holds only the types above


def wire_schema(schema: Mapping[str, pl.DataType]) -> pa.Schema:
    """The Arrow schema of a typed frame's rows and the meta column, as Spark declares it."""
    return pa.schema([*(pa.field(n, wire_type(t)) for n, t in schema.items()), pa.field(META, pa.binary())])


def spark_schema(schema: Mapping[str, pl.DataType]) -> Any:
    """The same schema as Spark's StructType (``mapInArrow`` and ``applyInArrow`` declare their output)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(wire_schema(schema))


def to_wire(frame: pl.DataFrame, schema: Mapping[str, pl.DataType]) -> pa.Table:
    """Rows of a typed frame (in ``schema``'s column order) as Spark takes them."""
    target = wire_schema(schema)
    cols = [pl.col(n).cast(pl.Int64) if isinstance(t, pl.Datetime) else pl.col(n) for n, t in schema.items()]
    rows = frame.select(cols).with_columns(pl.lit(None, pl.Binary).alias(META))
    # In slices, each converted on its own: an Arrow string column holds at most 2 GiB of text.
    slices = [rows.slice(k, WIRE_ROWS).to_arrow(compat_level=pl.CompatLevel.oldest()).cast(target)
              for k in range(0, rows.height, WIRE_ROWS)]
    return pa.concat_tables(slices) if slices else rows.to_arrow().cast(target)


def from_wire(table: pa.Table, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The typed frame of the rows in ``table`` (meta rows left out), with its exact dtypes."""
    frame = pl.from_arrow(table.filter(pc.is_null(table.column(META))).drop([META]))
    assert isinstance(frame, pl.DataFrame)
    return frame.select(pl.col(n).cast(t) for n, t in schema.items())


def meta_table(payloads: Iterable[object], schema: Mapping[str, pl.DataType]) -> pa.Table:
    """Payloads as meta rows (every column of the frame null)."""
    blobs = [pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in payloads]
    target = wire_schema(schema)
    columns = [pa.nulls(len(blobs), f.type) for f in target if f.name != META]
    return pa.Table.from_arrays([*columns, pa.array(blobs, pa.binary())], schema=target)


def payloads(blobs: Iterable[bytes | None]) -> list[Any]:
    """The payloads of meta rows, as sent."""
    return [pickle.loads(b) for b in blobs if b is not None]
