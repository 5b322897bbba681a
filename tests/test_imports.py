"""The import budget of the command line (as click's own tests/test_imports.py keeps one).

Each check runs a fresh interpreter and looks at ``sys.modules`` afterwards: help and
`validate` must not pay for the engines, the report or the optional
packages, and importing the CLI must load only the command group and click.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Never loaded by `qualiscore --help` or `qualiscore validate`.
# (`validate` reads changelogs with qualiscore.diff, which loads no engine: LIBRARY checks that.)
HEAVY = ("polars", "plotly", "openpyxl", "cryptography", "qualiscore.report")
# Nor these, once `import qualiscore` stops importing the engine, the readers and the scheme loader.
LIBRARY = ("qualiscore.engine", "qualiscore.records")
LIGHT_COMMANDS = [["--help"], ["validate", "rules/"]]


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code`` (which may end in SystemExit)."""
    program = ("import sys, json\ntry:\n" + "".join(f"    {line}\n" for line in code.splitlines())
               + "except SystemExit:\n    pass\nprint('\\n' + json.dumps(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", program], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(proc.stdout.rsplit("\n", 2)[-2]))


def within(names: set[str], prefixes: tuple[str, ...]) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)}


def command(args: list[str]) -> str:
    return f"from qualiscore.cli import main\nmain({args!r})"


@pytest.mark.parametrize("args", LIGHT_COMMANDS, ids=" ".join)
def test_light_commands_load_nothing_heavy(args: list[str]) -> None:
    assert not within(modules_after(command(args)), HEAVY)


@pytest.mark.parametrize("args", LIGHT_COMMANDS, ids=" ".join)
def test_light_commands_load_no_engine_and_no_readers(args: list[str]) -> None:
    assert not within(modules_after(command(args)), LIBRARY)


def test_help_loads_no_command_module() -> None:
    loaded = modules_after(command(["--help"]))
    assert within(loaded, ("qualiscore.cli",)) == {"qualiscore.cli"}


def test_validate_loads_its_own_command_only() -> None:
    loaded = modules_after(command(["validate", "rules/"]))
    assert within(loaded, ("qualiscore.cli",)) == {"qualiscore.cli", "qualiscore.cli.validate"}
    assert not within(loaded, ("qualiscore.runs", "qualiscore.manifest", "qualiscore.verify", "tqdm"))


def test_importing_the_cli_adds_only_the_group_and_click() -> None:
    added = modules_after("import qualiscore.cli") - modules_after("import qualiscore")
    assert "qualiscore.cli" in added
    assert within(added, ("qualiscore",)) <= {"qualiscore.cli", "qualiscore.errors", "qualiscore._display",
                                             "qualiscore.i18n"}
    third_party = {n.split(".")[0] for n in added} - set(sys.stdlib_module_names) - {"qualiscore", "click"}
    assert not third_party


def test_the_library_does_not_import_click() -> None:
    """Only qualiscore.cli speaks click; errors, runs and the rest are usable without it."""
    loaded = modules_after("import qualiscore.errors, qualiscore.runs, qualiscore.verify, qualiscore.testing")
    assert "click" not in loaded


@pytest.mark.parametrize("entry", [["-m", "qualiscore"], ["-m", "qualiscore.cli"],
                                   ["-c", "from qualiscore.cli import main; main()"]])
def test_entry_points(entry: list[str]) -> None:
    proc = subprocess.run([sys.executable, *entry, "--version"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("qualiscore, version ")
