"""`qualiscore schema`: the packaged JSON Schema, for editors in other repositories."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli

ROOT = Path(__file__).resolve().parents[1]


def test_schema_prints_the_shipped_schema(cli: Cli) -> None:
    result = cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads((ROOT / "schemas" / "scheme.schema.json").read_text("utf-8"))


def test_schema_writes_a_file(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "schemas" / "scheme.schema.json"
    result = cli("schema", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text("utf-8"))["title"].startswith("qualiscore evaluation scheme")
