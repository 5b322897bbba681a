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

import copy
import gettext
import importlib
import inspect
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import click
import click._textwrap

from .. import __version__
from .._display import display_width, visible, wide
from ..errors import EXIT_MEMORY, EXIT_OUTPUT, QualiscoreError
from ..i18n import LANGUAGES, _, choose, kept, language_of, translated, translated_plural

__all__ = ["COMMANDS", "DSN_FILE", "Command", "LazyCommand", "cli", "command_line", "echo", "fail", "main",
           "style"]

# click's own texts ("Usage:", "Missing argument …") go through gettext's global domain;
# they are looked up in qualiscore's catalog instead, in the language of the command line.
for _name, _module in list(sys.modules.items()):
    if _name.startswith("click.") and getattr(_module, "_", None) is gettext.gettext:
        _module._ = translated  # type: ignore[attr-defined]
    if _name.startswith("click.") and getattr(_module, "ngettext", None) is gettext.ngettext:
        _module.ngettext = translated_plural  # type: ignore[attr-defined]

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


# Chinese (and any other wide) text has no spaces to break at and takes two columns a character.
def _has_wide(text: str) -> bool:
    return any(map(wide, text))


def _pieces(chunk: str) -> list[str]:
    """Where a line may break in ``chunk``: around each wide character; a run of others stays whole."""
    out: list[str] = []
    for char in chunk:
        if wide(char) or not out or wide(out[-1][-1]):
            out.append(char)
        else:
            out[-1] += char
    return out


_NO_LINE_START = set("，。、：；？！）」』》〉】…%")  # full-width punctuation stays with the text before it


class _WideTextWrapper(click._textwrap.TextWrapper):
    """click's help wrapper, measuring by terminal columns and breaking between wide characters
    (never before closing punctuation, never inside an option name) when the text has any."""

    def wrap(self, text: str) -> list[str]:
        if not _has_wide(text):
            return super().wrap(text)
        self.break_on_hyphens = False
        return super().wrap(text)

    def _wrap_chunks(self, chunks: list[str]) -> list[str]:
        if not any(map(_has_wide, chunks)):
            return super()._wrap_chunks(chunks)
        pieces: list[str] = []
        for chunk in chunks:
            for part in _pieces(chunk):
                if pieces and (part[0] in _NO_LINE_START or pieces[-1][-1:] in "（「『《〈【"):
                    pieces[-1] += part
                else:
                    pieces.append(part)
        pieces.reverse()
        lines: list[str] = []
        while pieces:
            indent = self.subsequent_indent if lines else self.initial_indent
            room = max(self.width - display_width(indent), 2)
            if lines and not pieces[-1].strip():
                pieces.pop()
                continue
            line: list[str] = []
            used = 0
            while pieces and used + display_width(pieces[-1]) <= room:
                used += display_width(pieces[-1])
                line.append(pieces.pop())
            if not line:  # one piece wider than the line: as much of it as fits
                piece, taken = pieces.pop(), ""
                for char in piece:
                    if taken and display_width(taken + char) > room:
                        break
                    taken += char
                line.append(taken)
                if piece[len(taken):]:
                    pieces.append(piece[len(taken):])
            while line and not line[-1].strip():
                line.pop()
            lines.append(indent + "".join(line))
        return lines


click._textwrap.TextWrapper = _WideTextWrapper  # type: ignore[misc]


class _Formatter(click.HelpFormatter):
    """click's help layout, measured in terminal columns (a translated metavar may be wide)."""

    def write_heading(self, heading: str) -> None:
        if _has_wide(heading):  # "选项：", with the full-width colon Chinese takes
            self.write(f"{'':>{self.current_indent}}{heading}：\n")
        else:
            super().write_heading(heading)

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        table = list(rows)
        if not any(_has_wide(first) for first, _second in table):
            return super().write_dl(table, col_max, col_spacing)
        first_col = min(max(display_width(first) for first, _second in table), col_max) + col_spacing
        for first, second in table:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = click.formatting.wrap_text(second, max(self.width - first_col - 2, 10),
                                               preserve_paragraphs=True).splitlines() or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")
        return None


class _Context(click.Context):
    formatter_class = _Formatter


def _lang_given(args: list[str]) -> str | None:
    """The value of ``--lang`` in ``args`` (before a ``--``), read before click parses them, so that
    its usage errors and ``--help`` (whatever their place on the line) are in that language."""
    for i, arg in enumerate(args):
        if arg == "--":
            return None
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


# `--lang` of the group and of every command: the language of what qualiscore prints and of the
# human-readable files it writes (docs/languages.md). Its value is applied in `_Translated.parse_args`.
class _Language(click.ParamType):
    name = "language"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(LANGUAGES) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        lang = language_of(value)
        if lang is None:
            self.fail(_("{value!r} is not a language qualiscore speaks: use one of {languages}",
                        value=value, languages=", ".join(LANGUAGES)), param, ctx)
        return lang


LANG = click.Option(
    ["--lang"], type=_Language(), default=None, expose_value=False,
    help="The language of messages, help and reports: en or zh-CN (default: QUALISCORE_LANG, else the "
         "locale's language, LC_ALL / LC_MESSAGES / LANG; English for any other).")


class _Translated(click.Command):
    """Help in the language chosen: its texts are the catalog's keys, translated when shown."""

    context_class = _Context

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        lang = _lang_given(args)
        if lang is not None and language_of(lang) is not None:
            choose(lang)  # until the group's main returns (see _Group.main)
        for param in self.params:  # click names a path type once, in the language of the import
            if isinstance(param.type, click.Path):
                param.type.name = translated(_path_kind(param.type))
        return super().parse_args(ctx, args)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        self._help_option = None  # click keeps it, its help worded in the language of the first call
        return super().get_help_option(ctx)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        shown = copy.copy(self)
        shown.help = translated(inspect.cleandoc(self.help)) if self.help else self.help
        shown.epilog = translated(inspect.cleandoc(self.epilog)) if self.epilog else self.epilog
        shown.params = [_translated_param(p) for p in self.params]
        super(_Translated, shown).format_help(ctx, formatter)


def _translated_param(param: click.Parameter) -> click.Parameter:
    if not isinstance(param, click.Option) or not param.help:
        return param
    shown = copy.copy(param)
    shown.help = translated(inspect.cleandoc(param.help))
    return shown


def _path_kind(path: click.Path) -> str:
    """What click calls a path type in its metavar and messages, in English (as click.Path.__init__ words it)."""
    return "file" if path.file_okay and not path.dir_okay else "directory" if path.dir_okay and not path.file_okay \
        else "path"


class Command(_Translated):
    """Every qualiscore command: ``@click.command(name, cls=Command)``; adds ``--lang``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(LANG)


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


class _Group(_Translated, click.Group):
    """Loads a command only when it is asked for (click's LazyGroup), and turns the library's
    errors into click exceptions that keep their exit codes."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with kept():  # --lang holds for this command line only, however it ends (--help, a usage error)
            return super().main(*args, **kwargs)

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
            command = self.commands.get(name) or click.Command(name, help=translated(COMMANDS[name].help))
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section(translated("Commands")):
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
            fail(_("error[io] {file}: {reason}", file=exc.filename or "", reason=exc.strerror or exc), EXIT_OUTPUT)
        except MemoryError:
            fail(_("error[out-of-memory] the process ran out of memory; nothing was written, and an earlier "
                   "output directory is as it was\n  hint: allow the process more memory (ulimit -v, the "
                   "container's limit), or split the input by period and run once per part"), EXIT_MEMORY)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             params=[LANG])
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
