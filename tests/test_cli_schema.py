"""`qualiscore schema`: the packaged JSON Schema, for editors in other repositories."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from qualiscore.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def test_schema_prints_the_shipped_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads((ROOT / "schemas" / "scheme.schema.json").read_text("utf-8"))


def test_schema_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "schemas" / "scheme.schema.json"
    result = CliRunner().invoke(cli, ["schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text("utf-8"))["title"].startswith("qualiscore evaluation scheme")
