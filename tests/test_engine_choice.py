"""`evaluate --engine`: both engines publish the same bytes; light commands never load polars."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualiscore.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SCHEME = str(ROOT / "rules/cs-quality/2026Q2.yaml")
DATA = str(ROOT / "data/sample/interactions.csv")


def run(out: Path, *extra: str) -> dict[str, bytes]:
    result = CliRunner().invoke(cli, ["evaluate", SCHEME, DATA, "-o", str(out), "-q", *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {p.name: p.read_bytes() for p in out.iterdir()}


def test_engines_publish_identical_scorecards(tmp_path: Path) -> None:
    rows = run(tmp_path / "rows", "--engine", "rows")
    columnar = run(tmp_path / "columnar", "--engine", "columnar")
    auto = run(tmp_path / "auto")
    for name in ("scorecards.jsonl", "scorecards.csv", "rejects.csv"):
        assert rows[name] == columnar[name] == auto[name], name
    assert json.loads(columnar["manifest.json"])["options"]["engine"] == "columnar"
    assert json.loads(auto["manifest.json"])["options"]["engine"] == "columnar"
    assert json.loads(rows["manifest.json"])["options"]["engine"] == "rows"


@pytest.mark.parametrize("args", [
    ["--help"],
    ["validate", "rules/cs-quality/2026Q2.yaml"],
    ["diff", "rules/cs-quality/2026Q1.yaml", "rules/cs-quality/2026Q2.yaml"],
    ["test", "rules/cs-quality/2026Q2.yaml"],
])
def test_light_commands_do_not_import_polars(args: list[str]) -> None:
    code = ("import sys\nfrom qualiscore.cli import main\ntry:\n    main(" + repr(args) + ")\n"
            "except SystemExit:\n    pass\nprint('POLARS' if 'polars' in sys.modules else 'LIGHT')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.strip().endswith("LIGHT"), proc.stdout + proc.stderr


def test_explain_from_an_output_directory_does_not_import_polars(tmp_path: Path) -> None:
    run(tmp_path / "out", "--engine", "rows")
    args = ["explain", str(tmp_path / "out"), "--subject", "A001/2026-04"]
    code = ("import sys\nfrom qualiscore.cli import main\ntry:\n    main(" + repr(args) + ")\n"
            "except SystemExit:\n    pass\nprint('POLARS' if 'polars' in sys.modules else 'LIGHT')")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.stdout.strip().endswith("LIGHT"), proc.stdout + proc.stderr
