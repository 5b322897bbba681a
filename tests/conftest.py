"""Fixtures shared by every test module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result

from qualiscore.cli import cli as qualiscore

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
