"""Every command explains itself with an example, and long runs stay quiet when piped."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from qualiscore.cli import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_help_has_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"`qualiscore {name} --help` shows no example"
    assert "qualiscore " in result.output.split("Example", 1)[1]


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", str(ROOT / "rules/cs-quality/2026Q2.yaml"),
                                      str(ROOT / "data/sample/interactions.csv"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "scoring" not in result.output and "records/s" not in result.output
    assert result.output.startswith("rows read 3000 = scored 2970 + rejected 30")
