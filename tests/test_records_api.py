"""The boundary of qualiscore.records: its public names, and what an engine may use besides.

``qualiscore.records.engine_api`` is the declared internal API the columnar engine is
built on; every name it lists must exist, be importable and say in the docstring what
an engine may rely on.
"""

from __future__ import annotations

import re

import pytest

from qualiscore import records
from qualiscore.records import engine_api

PUBLIC = [
    "MAX_VALUE_CHARS",
    "PROBLEM_CODES",
    "Dataset",
    "InputFile",
    "Problem",
    "read_records",
    "records_from_dicts",
    "split_sheet",
]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_names_stay_importable(name: str) -> None:
    assert name in records.__all__
    assert getattr(records, name) is not None


@pytest.mark.parametrize("name", engine_api.__all__)
def test_engine_api_names_exist(name: str) -> None:
    assert getattr(engine_api, name) is not None
    namespace: dict[str, object] = {}
    exec(f"from qualiscore.records.engine_api import {name}", namespace)
    assert namespace[name] is getattr(engine_api, name)


@pytest.mark.parametrize("name", engine_api.__all__)
def test_engine_api_names_are_documented(name: str) -> None:
    """Each name has a note in the module docstring saying what an engine relies on."""
    doc = engine_api.__doc__ or ""
    assert re.search(rf"^\* ``{re.escape(name)}``.*—|^\* ``\w+`` and ``{re.escape(name)}``", doc, re.M), name


def test_engine_api_lists_everything_it_imports() -> None:
    """No name slips in undeclared: what the module imports is what ``__all__`` lists."""
    own = {n for n in vars(engine_api) if not n.startswith("_") and n != "annotations"}
    assert own == set(engine_api.__all__)
