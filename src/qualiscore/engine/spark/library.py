"""Scoring from a notebook or a Spark job: a Spark DataFrame (or input paths) and a scheme in, Spark
DataFrames of scorecards and rejects out, and the usual output directory on request.

A DataFrame is first written as Parquet to ``staging`` (a directory every executor can
read: a local one in local mode, an ``hdfs://`` or ``s3a://`` one on a cluster) and
read back as the inputs ``<dataframe>/part-00000.parquet``, ``…-00001``, in the order
Spark wrote its partitions; each reject names its part and row there. Input paths are
read as ``qualiscore evaluate --engine spark`` reads them.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ...analysis import Result, SchemeSource
from ...model import Scheme
from ...options import RunOptions
from ...runs import execute
from ...schemes import load_versions
from .engine import ENGINE
from .files import Listed, expand
from .session import session

DATAFRAME = "<dataframe>"


@dataclass(frozen=True, slots=True)
class SparkResult:
    """A Spark run: ``scorecards`` and ``rejects`` as Spark DataFrames (the columns of scorecards.csv and
    rejects.csv), ``result`` the notebook Result (summary, explain, Polars frames), ``write`` the output
    directory ``evaluate -o`` writes."""

    result: Result
    scorecards: Any
    rejects: Any

    def write(self, outdir: str | os.PathLike[str], *, force: bool = False) -> Path:
        return self.result.write(outdir, force=force)


def score(scheme: SchemeSource, data: Any, *, spark: Any = None, by: str | Sequence[str] | None = None,
          as_of: dt.date | None = None, encoding: str | None = None, staging: str | None = None) -> SparkResult:
    """Score ``data`` (a Spark DataFrame, or input paths, directories, globs or URIs) with ``scheme`` on Spark.

    ``spark``: the session (default: the active one, else a local one); ``staging``: where a
    DataFrame is written for reading (default: a temporary local directory, right for local mode).
    """
    spark = spark if spark is not None else session()
    fields = (by,) if isinstance(by, str) else tuple(by) if by is not None else None
    scheme_path = os.fspath(scheme) if isinstance(scheme, (str, os.PathLike)) else None
    paths = (os.fspath(data),) if isinstance(data, (str, os.PathLike)) else None
    if paths is None and not _is_dataframe(data):
        paths = tuple(os.fspath(p) for p in data)
    options = RunOptions(engine="spark", by=fields, as_of=as_of, encoding=encoding, scheme_path=scheme_path,
                         data=paths or (DATAFRAME,))
    loaded: list[Scheme] = [scheme] if isinstance(scheme, Scheme) else \
        load_versions(scheme_path, locate=True) if scheme_path is not None else list(cast(Sequence[Scheme], scheme))
    if paths is not None:
        run = execute(loaded, list(paths), options)
    else:
        with tempfile.TemporaryDirectory(prefix="qualiscore-dataframe-") as tmp:
            where = staging or os.path.join(tmp, "parts")
            data.write.mode("overwrite").parquet(where)
            parts = expand(spark, [where if "://" in where else os.path.abspath(where)])
            named = [Listed(f"{DATAFRAME}/part-{k:05d}.parquet", p.uri) for k, p in enumerate(parts)]
            run = ENGINE.score_files(loaded, named, options)
    result = Result(run, options)
    return SparkResult(result, _frame(spark, result.scorecards_frame()), _frame(spark, result.rejects_frame()))


def _is_dataframe(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "write") and hasattr(data, "mapInArrow")


def _frame(spark: Any, frame: Any) -> Any:
    return spark.createDataFrame(frame.to_arrow()) if frame.height else spark.createDataFrame([], _schema(frame))


def _schema(frame: Any) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(frame.to_arrow().schema)


__all__ = ["DATAFRAME", "SparkResult", "score"]
