"""Fixtures shared by every test module.

``cli`` runs `qualiscore ARGS` in-process.

``engine`` runs a test on every engine (rows, and columnar when Polars is installed), in the
manner of narwhals' ``constructor`` fixture: a test written against it is inherited by every
engine that is added to ``ENGINES``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from qualiscore.cli import cli as qualiscore
from qualiscore.engine import Run
from qualiscore.model import Scheme

# --------------------------------------------------------------------------- CLI

# cli("evaluate", scheme, data, "-o", out) -> Result; see the fixture.
Cli = Callable[..., Result]


@pytest.fixture
def cli() -> Cli:
    """Run `qualiscore ARGS` in-process through click's CliRunner, without colour.

    An exception the CLI does not turn into a message propagates, since a traceback is
    a bug; ``catch=True`` keeps it in ``Result.exception`` for tests that expect one.
    """
    def invoke(*args: str, catch: bool = False, **kwargs: Any) -> Result:
        return CliRunner().invoke(qualiscore, list(args), color=False, catch_exceptions=catch, **kwargs)

    return invoke


# --------------------------------------------------------------------------- engine

REFERENCE = "rows"
HAS_POLARS = importlib.util.find_spec("polars") is not None
ENGINES = [
    REFERENCE,
    pytest.param("columnar", marks=pytest.mark.skipif(not HAS_POLARS, reason="polars is not installed")),
]

# In-memory records, or one input file read as a real export would be.
Source = Sequence[Mapping[str, Any]] | Path


def run_on(engine: str, scheme: Scheme, source: Source, workdir: Path, *,
           by: Sequence[str] | None = None, as_of: dt.date | None = None) -> Run:
    """Evaluate ``scheme`` over ``source`` with the engine named ``engine``: the one adapter.

    The columnar engine reads files only, so in-memory records reach it as JSON Lines, which
    is how ``records_from_dicts`` types them for the rows engine.
    """
    from qualiscore.engine import evaluate, evaluate_versions
    from qualiscore.records import read_records, records_from_dicts

    if engine == REFERENCE:
        if isinstance(source, Path):
            dataset = read_records(source, scheme.records)
        else:
            dataset = records_from_dicts(source, scheme.records)
        if as_of is not None:
            return evaluate_versions([scheme], lambda _: dataset, by=by, as_of=as_of)
        return evaluate(scheme, dataset, by=by)
    if engine == "columnar":
        from qualiscore.engine import columnar

        path = source if isinstance(source, Path) else _jsonl(source, workdir)
        if as_of is not None:
            return columnar.evaluate_versions([scheme], [path], by=by, as_of=as_of)
        return columnar.evaluate(scheme, [path], by=by)
    raise ValueError(f"no engine named {engine!r}")


def _jsonl(rows: Sequence[Mapping[str, Any]], workdir: Path) -> Path:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".jsonl", dir=workdir, delete=False) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=_iso) + "\n")
    return Path(f.name)


def _iso(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a record value")


@dataclass(frozen=True, slots=True)
class Engine:
    """``run(scheme, rows, *, by=None, as_of=None) -> Run`` on one engine."""

    name: str
    workdir: Path

    def __call__(self, scheme: Scheme, rows: Source, *, by: Sequence[str] | None = None,
                 as_of: dt.date | None = None) -> Run:
        return run_on(self.name, scheme, rows, self.workdir, by=by, as_of=as_of)

    @property
    def is_reference(self) -> bool:
        return self.name == REFERENCE

    @property
    def reference(self) -> Engine:
        """The reference engine, whose outputs every other engine must give byte for byte."""
        return dataclasses.replace(self, name=REFERENCE)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return Engine(request.param, tmp_path)

