"""`qualiscore test`: run the fixture tests of schemes and of *.tests.yaml files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .._display import visible
from ..errors import EXIT_FINDINGS
from ..i18n import _
from ..testing import LOAD, TestResult, iter_results
from . import DSN_FILE, Command, echo, style


@click.command("test", cls=Command)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also list passing tests.")
@click.option("--explain", is_flag=True,
              help="Under each failing test, print the explanation of its scorecard (as `qualiscore explain`).")
@click.option("--update", is_flag=True,
              help="Write the computed values into the failing expectations (comments and layout kept), "
                   "print the diff, then run the tests again.")
@click.option("--dry-run", is_flag=True, help="With --update: print the diff, write nothing.")
@DSN_FILE
def command(paths: tuple[str, ...], fmt: str, verbose: bool, explain: bool, update: bool, dry_run: bool) -> None:
    """Run the fixture tests of schemes (their `tests:`) and of *.tests.yaml files.

    --explain shows, under each failing test, how its scorecard was computed: every
    indicator's value, points, weight and contribution. --update writes the computed
    values into the expectations that failed (only those, in place: comments and layout
    stay), prints the change as a diff and runs the tests again; check the new values
    against your own arithmetic before you keep them. A file whose scheme does not
    validate is not changed.

    Exit status: 0 all passed (after --update: all pass with the new values), 1 any failure.

    \b
    Examples:
      qualiscore test rules/
      qualiscore test rules/cs-quality/2026Q2.yaml --format json
      qualiscore test rules/cs-quality/2026Q3.yaml --explain
      qualiscore test rules/cs-quality/2026Q3.yaml --update --dry-run
      qualiscore test rules/cs-quality/2026Q3.yaml --update
    """
    if fmt == "json" and (explain or update):
        raise click.UsageError(_("--explain and --update print text; leave out --format json"))
    if dry_run and not update:
        raise click.UsageError(_("--dry-run goes with --update"))
    results = list(iter_results(paths))
    failed = [r for r in results if not r.passed]
    if fmt == "json":
        echo(json.dumps({
            "passed": len(results) - len(failed), "failed": len(failed),
            "results": [{"file": r.file, "scheme": r.scheme, "name": r.name, "passed": r.passed, "error": r.error,
                         "mismatches": [{"what": m.what, "expected": m.expected, "actual": m.actual}
                                        for m in r.mismatches]} for r in results],
        }, ensure_ascii=False, indent=2, default=str))
    else:
        for r in results:
            if r.passed:
                if verbose:
                    echo(style(_("PASS"), fg="green") + " " + _heading(r))
                continue
            echo(_failed(r))
            if r.error:
                echo("  " + r.error.replace("\n", "\n  "))
            for m in r.mismatches:
                echo("  " + _("{what}: expected {expected!r}, got {actual!r}", what=m.what, expected=m.expected,
                              actual=m.actual))
            if explain and r.card is not None:
                echo(_explanation(r))
        echo(_counts(results, failed))
        if update and failed:
            written = _update(failed, dry_run)
            if written and not dry_run:
                echo()
                echo(_("after the update:"))
                results = list(iter_results(paths))
                failed = [r for r in results if not r.passed]
                for r in failed:
                    echo(_failed(r))
                echo(_counts(results, failed))
    if failed:
        sys.exit(EXIT_FINDINGS)


def _heading(result: TestResult) -> str:
    """``file · test name`` of a result (a file that did not load: its test named "(load)")."""
    name = _("(load)") if result.name == LOAD else visible(result.name)
    return f"{visible(result.file)} · {name}"


def _failed(result: TestResult) -> str:
    return style(_("FAIL"), fg="red", bold=True) + " " + _heading(result)


def _counts(results: list[TestResult], failed: list[TestResult]) -> str:
    return style(_("{passed} passed, {failed} failed", passed=len(results) - len(failed), failed=len(failed)),
                 fg="red" if failed else "green")


def _explanation(result: TestResult) -> str:
    """The explanation tree of a failing test's scorecard, indented under its expectations."""
    from ..explain import explain_text
    from ..scorecard import scorecard_dict
    from .explain import shown

    assert result.card is not None
    text = explain_text(shown(scorecard_dict(result.card)), result.card.decimals)
    return "  " + _("how the scorecard was computed:") + "\n" + "".join(f"    {line}\n" for line in text.splitlines()).rstrip("\n")


def _update(failed: list[TestResult], dry_run: bool) -> int:
    """Write (or with ``dry_run`` only show) the computed values of each file's failing tests; how many."""
    from ..expectations import by_file, update_expectations
    from ..loader import load_path

    count = 0
    for file, results in by_file(failed).items():
        echo()
        if any(r.name == LOAD for r in results):
            echo(style(_("not updated: {file}", file=file), fg="yellow")
                 + _(" — it does not load or validate; fix what `qualiscore validate` reports first"))
            continue
        change = update_expectations(load_path(file), results)
        if change.new != change.old:
            echo(change.diff(), nl=False)
            if not dry_run:
                bom = b"\xef\xbb\xbf" if Path(file).read_bytes().startswith(b"\xef\xbb\xbf") else b""
                Path(file).write_bytes(bom + change.new.encode("utf-8"))
        if not change.written:
            echo(_("nothing written in {file}", file=file))
        elif dry_run:
            echo(_("would write {n} value(s) in {file}", n=len(change.written), file=file))
        else:
            echo(_("wrote {n} value(s) in {file}", n=len(change.written), file=file))
        for why in change.skipped:
            echo(style("  " + _("not updated: "), fg="yellow") + visible(why))
        count += len(change.written)
    return count
