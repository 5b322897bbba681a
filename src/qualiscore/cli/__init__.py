"""Command-line interface: thin click commands over the library, one module per command.

Commands are loaded when they run: `qualiscore --help` lists them from
:data:`COMMANDS` without importing any, so help and `validate` stay fast and never
load the columnar engine. click stays in this package: the library raises
QualiscoreError, and the group turns it into a message and its exit status.

Everything the commands print goes through :func:`echo`, which shows the control
characters of text from schemes and data as escapes (`_display.visible`): only the
command line's own newlines and colours reach the terminal.
"""

from __future__ import annotations

import importlib
import io
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from .. import __version__
from .._display import visible
from ..errors import EXIT_MEMORY, EXIT_OUTPUT, QualiscoreError

__all__ = ["COMMANDS", "DSN_FILE", "LazyCommand", "cli", "command_line", "echo", "fail", "main", "style"]

# What click.style writes for the colours the commands use (red, green, yellow, cyan, bold,
# dim, reset). Each only changes how text already shown looks; no other sequence is let through.
_OWN_STYLES = re.compile(r"(\x1b\[(?:[012]|3[1236])m)")


def _printable(text: str) -> str:
    """``text`` as the terminal may receive it: every line :func:`~qualiscore._display.visible`,
    the line breaks and the command line's own colours kept."""
    parts = _OWN_STYLES.split(text)
    return "".join(part if i % 2 else "\n".join(map(visible, part.split("\n"))) for i, part in enumerate(parts))


def echo(message: str = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of :func:`_printable` text: how every command prints."""
    click.echo(_printable(message), err=err, nl=nl)


def style(text: str, **styles: Any) -> str:
    """``click.style`` of ``text`` shown :func:`~qualiscore._display.visible` (one line, maybe from data)."""
    return click.style(visible(text), **styles)


def fail(message: str, exit_code: int) -> NoReturn:
    """Leave the command as click leaves on its own errors (``Error: message`` on stderr), with ``exit_code``."""
    click.ClickException(_printable(message)).show()
    raise click.exceptions.Exit(exit_code)


def _use_dsn_file(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Read a query input's DSN from this file for the rest of the command (records.database)."""
    if value is None:
        return
    from ..records.database import reset_dsn_file, use_dsn_file

    token = use_dsn_file(value)
    ctx.call_on_close(lambda: reset_dsn_file(token))


# `--dsn-file FILE` of every command that reads data: where a .sql input's database is (docs/database.md).
# Here, not in _params, so that `validate` loads no other module of this package.
DSN_FILE = click.option(
    "--dsn-file", type=click.Path(dir_okay=False), default=None, metavar="FILE", expose_value=False,
    callback=_use_dsn_file, is_eager=True,
    help="For a .sql query input: read the database's DSN (postgresql://USER:PASSWORD@HOST:PORT/DB or "
         "mysql://…) from this file, one line, kept private; default: the environment variable QUALISCORE_DSN "
         "(see docs/database.md).")


ARGV = "qualiscore.argv"  # where the group keeps the command line in click's context


def command_line() -> list[str]:
    """The command line as run, ``["qualiscore", "evaluate", ...]``, whatever the program was called."""
    argv = click.get_current_context().meta.get(ARGV)
    return list(argv) if argv is not None else ["qualiscore", *sys.argv[1:]]


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command lives (``"module:attribute"``) and its one-line help, shown without importing it."""

    target: str
    help: str


COMMANDS: Mapping[str, LazyCommand] = {
    "calibrate": LazyCommand("qualiscore.cli.calibrate:command",
                             "Compare reviewers who scored the same records: agreement per item and per reviewer."),
    "check-record": LazyCommand("qualiscore.cli.check_record:command",
                                "Confirm that a verification record written by `verify` is as it was written."),
    "diff": LazyCommand("qualiscore.cli.diff:command",
                        "Show what changed between two versions of a scheme, rule by rule."),
    "evaluate": LazyCommand("qualiscore.cli.evaluate:command",
                            "Score DATA (CSV, JSONL, Excel .xlsx or Parquet) with SCHEME and write scorecards "
                            "to OUTDIR."),
    "explain": LazyCommand("qualiscore.cli.explain:command",
                           "Explain one scorecard: every value, band, weight and contribution."),
    "init": LazyCommand("qualiscore.cli.init:command",
                        "Write a commented starter scheme that validates, to edit from there."),
    "keygen": LazyCommand("qualiscore.cli.keygen:command",
                          "Create an Ed25519 key pair NAME.pem (private) and NAME.pub.pem for signing runs."),
    "report": LazyCommand("qualiscore.cli.report:command",
                          "Write a readable report of OUTDIR, an output directory of `evaluate`."),
    "reveal": LazyCommand("qualiscore.cli.reveal:command",
                          "Show the values behind TOKENs of a pseudonymised run, read again from its inputs with its "
                          "key."),
    "revise": LazyCommand("qualiscore.cli.revise:command",
                          "Write the next version of a scheme: new dates, a changelog to fill in, tests moved."),
    "sample": LazyCommand("qualiscore.cli.sample:command",
                          "Draw the inspection sample of one PERIOD from DATA with SCHEME's sampling plan."),
    "schema": LazyCommand("qualiscore.cli.schema:command",
                          "Print the JSON Schema of the scheme format, for editors and other tools."),
    "synth": LazyCommand("qualiscore.cli.synth:command",
                         "Write deterministic synthetic records: interactions (cs), QA inspection forms (qa), the "
                         "same forms scored by several reviewers (qa-reviews, for `calibrate`), or one run's four "
                         "sources (cs-sources: interactions, surveys, inspections, complaints), or the reviewers' "
                         "checklist results of a drawn sample (reviews --sample sample.csv)."),
    "test": LazyCommand("qualiscore.cli.test:command",
                        "Run the fixture tests of schemes (their `tests:`) and of *.tests.yaml files."),
    "validate": LazyCommand("qualiscore.cli.validate:command",
                            "Check scheme files (or directories of versions) and report every finding."),
    "verify": LazyCommand("qualiscore.cli.verify:command",
                          "Confirm that OUTDIR was produced by its scheme and inputs, untouched, and who signed "
                          "it."),
}


class _Group(click.Group):
    """Loads a command only when it is asked for (click's LazyGroup), and turns the library's
    errors into click exceptions that keep their exit codes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = ("qualiscore", *args)  # as run: what a signature records (see `command_line`)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = COMMANDS[cmd_name].target.split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command), COMMANDS[cmd_name].target
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, from :data:`COMMANDS` for commands not loaded yet, shortened as click does."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name].help)
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QualiscoreError as exc:  # printed without a traceback, leaving with the error's exit code
            echo(exc.format(), err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except click.ClickException as exc:  # click's own message may quote a path or a value from data
            shown = io.StringIO()
            exc.show(file=shown)
            echo(shown.getvalue(), err=True, nl=False)
            raise click.exceptions.Exit(exc.exit_code) from None
        except BrokenPipeError:  # `qualiscore … | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            fail(f"error[io] {exc.filename or ''}: {exc.strerror or exc}", EXIT_OUTPUT)
        except MemoryError:
            fail("error[out-of-memory] the process ran out of memory; nothing was written, and an earlier "
                 "output directory is as it was\n  hint: allow the process more memory (ulimit -v, the "
                 "container's limit), or split the input by period and run once per part", EXIT_MEMORY)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="qualiscore")
def cli() -> None:
    """Score customer-service quality from readable, versioned YAML schemes.

    \b
    Examples:
      qualiscore validate rules/
      qualiscore init rules/my-scheme/2026Q3.yaml
    """


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    cli.main(args=argv, prog_name="qualiscore")
