"""Every command explains itself with an example, and long runs stay quiet when piped."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from conftest import Cli
from qualiscore.cli import COMMANDS
from qualiscore.cli import cli as group

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_has_an_example(cli: Cli, name: str) -> None:
    result = cli(name, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output, f"`qualiscore {name} --help` shows no example"
    assert "qualiscore " in result.output.split("Example", 1)[1]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_has_an_example_in_chinese(cli: Cli, name: str) -> None:
    """The examples are the English ones, word for word, under a Chinese heading."""
    english = cli(name, "--help").output
    result = cli(name, "--help", "--lang", "zh-CN")
    assert result.exit_code == 0
    assert "示例" in result.output, f"`qualiscore {name} --help --lang zh-CN` shows no example"
    shown = english.split("Example", 1)[1].split("\n", 1)[1]
    for line in shown.splitlines():
        if line.lstrip().startswith("qualiscore "):
            assert line in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_command_table_matches_the_command(name: str) -> None:
    """`qualiscore --help` lists a command from the table without loading it: the table must say what it does."""
    command = group.get_command(click.Context(group), name)
    assert isinstance(command, click.Command) and command.name == name
    listed = click.Command(name, help=COMMANDS[name].help)
    for limit in (30, 45, 80, 1000):
        assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), limit


def test_group_help_is_what_click_prints_with_every_command_loaded(cli: Cli) -> None:
    loaded = click.Group("qualiscore", help=group.help, params=group.params,
                         context_settings=group.context_settings,
                         commands={name: group.get_command(click.Context(group), name) for name in COMMANDS})
    for width in (60, 80, 100):
        expected = cli("--help", prog_name="qualiscore", terminal_width=width).output
        with click.Context(loaded, info_name="qualiscore", terminal_width=width,
                           **group.context_settings) as ctx:
            assert loaded.get_help(ctx) + "\n" == expected


def test_no_progress_bar_when_stderr_is_not_a_terminal(cli: Cli, tmp_path: Path) -> None:
    result = cli("evaluate", str(ROOT / "rules/cs-quality/2026Q2.yaml"), str(ROOT / "data/sample/interactions.csv"),
                 "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "scoring" not in result.output and "records/s" not in result.output
    assert result.output.startswith("rows read 3000 = scored 2970 + rejected 30")
