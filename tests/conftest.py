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
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pgserver import postgres  # noqa: F401  (the session's PostgreSQL server, a fixture)
from qualiscore.cli import cli as qualiscore
from qualiscore.engine import Run
from qualiscore.model import Scheme

# --------------------------------------------------------------------------- language

# Messages are English unless a test asks for another language (--lang, QUALISCORE_LANG or the
# locale): whatever the machine's locale, and for subprocesses and Spark's workers too.
for _variable in ("QUALISCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"

# --------------------------------------------------------------------------- golden files

UPDATE_GOLDEN = os.environ.get("QUALISCORE_UPDATE_GOLDEN") == "1"


def assert_golden(path: Path, actual: str) -> None:
    """``actual`` is the text of the golden file ``path``; QUALISCORE_UPDATE_GOLDEN=1 writes it instead."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing; run with QUALISCORE_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8"), (
        f"output differs from {path.name}; if the change is intended, rerun with QUALISCORE_UPDATE_GOLDEN=1")


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
HAS_SPARK = HAS_POLARS and importlib.util.find_spec("pyspark") is not None
NO_SPARK = ("pyspark is not installed (pip install -e '.[spark]')" if not HAS_SPARK else
            "no Java runtime: Spark needs Java 17 or later" if not (shutil.which("java") or os.environ.get("JAVA_HOME"))
            else None)
ENGINES = [
    REFERENCE,
    pytest.param("columnar", marks=pytest.mark.skipif(not HAS_POLARS, reason="polars is not installed")),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.skipif(NO_SPARK is not None, reason=str(NO_SPARK))]),
]
SPARK_MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark() -> Any:
    """One local Spark session per test process (each pytest-xdist worker starts its own)."""
    if NO_SPARK is not None:
        pytest.skip(NO_SPARK)
    from qualiscore.engine.spark import session

    return session(SPARK_MASTER)

# In-memory records, or one input file read as a real export would be; by source name for a
# scheme with several sources.
Source = Sequence[Mapping[str, Any]] | Path | Mapping[str, Sequence[Mapping[str, Any]] | Path]


def run_on(engine: str, scheme: Scheme, source: Source, *, by: Sequence[str] | None = None,
           as_of: dt.date | None = None) -> Run:
    """Evaluate ``scheme`` over ``source`` with the engine named ``engine``: the one adapter.

    Every engine takes the same inputs through the façade: in-memory records typed once by
    ``records_from_dicts`` (a Dataset), or the input file itself.
    """
    from qualiscore.engine import evaluate
    from qualiscore.options import RunOptions
    from qualiscore.records import records_from_dicts

    data: Any
    if isinstance(source, Mapping):
        contracts = {s.name: s.contract for s in scheme.sources}
        data = {name: [rows] if isinstance(rows, Path) else records_from_dicts(rows, contracts[name], source=name)
                for name, rows in source.items()}
    else:
        data = source if isinstance(source, Path) else records_from_dicts(source, scheme.records)
    options = RunOptions(engine=engine, by=tuple(by) if by else None, as_of=as_of)  # type: ignore[arg-type]
    return evaluate(scheme, data, options)


@dataclass(frozen=True, slots=True)
class Engine:
    """``run(scheme, rows, *, by=None, as_of=None) -> Run`` on one engine."""

    name: str

    def __call__(self, scheme: Scheme, rows: Source, *, by: Sequence[str] | None = None,
                 as_of: dt.date | None = None) -> Run:
        return run_on(self.name, scheme, rows, by=by, as_of=as_of)

    @property
    def is_reference(self) -> bool:
        return self.name == REFERENCE

    @property
    def reference(self) -> Engine:
        """The reference engine, whose outputs every other engine must give byte for byte."""
        return dataclasses.replace(self, name=REFERENCE)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "spark":
        request.getfixturevalue("spark")  # started once, then the active session every run uses
    return Engine(request.param)

