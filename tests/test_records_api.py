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


# The names the columnar engine used before engine_api existed. Delete this test with the
# block of old names in records/__init__.py.
OLD_NAMES = {
    "_BUILDERS": "PARSER_BUILDERS",
    "_Bad": "RejectedValue",
    "_Collector": "Collector",
    "_FieldReader": "FieldReader",
    "_KNOWN_FORMATS": "KNOWN_FORMATS",
    "_MISSING": "MISSING",
    "_Typer": "Typer",
    "_UNFORESEEN": "UNFORESEEN_ERRORS",
    "_always_missing": "always_missing_column",
    "_always_none": "always_none",
    "_bool_tables": "boolean_tables",
    "_clip": "clip_value",
    "_closest": "closest_hint",
    "_format_of": "input_format",
    "_hash_file": "hash_file",
    "_hashable": "hashable_or_none",
    "_header_index": "column_index",
    "_open_checked": "check_file",
    "_problem_from": "problem_from_error",
    "_q": "quote_value",
    "_read_csv": "read_csv",
    "_read_jsonl": "read_jsonl",
    "_read_parquet": "read_parquet",
    "_scan": "scan_text",
    "_value_converter": "typed_cell_parser",
}


@pytest.mark.parametrize(("old", "new"), sorted(OLD_NAMES.items()))
def test_old_names_are_the_declared_ones(old: str, new: str) -> None:
    assert getattr(records, old) is getattr(engine_api, new)
