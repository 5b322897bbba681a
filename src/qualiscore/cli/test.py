"""`qualiscore test`: run the fixture tests of schemes and of *.tests.yaml files."""

from __future__ import annotations

import json
import sys

import click

from .._display import visible
from ..errors import EXIT_FINDINGS
from ..testing import iter_results
from . import echo, style


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also list passing tests.")
def command(paths: tuple[str, ...], fmt: str, verbose: bool) -> None:
    """Run the fixture tests of schemes (their `tests:`) and of *.tests.yaml files.

    Exit status: 0 all passed, 1 any failure.

    \b
    Examples:
      qualiscore test rules/
      qualiscore test rules/cs-quality/2026Q2.yaml --format json
    """
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
                    echo(f"{style('PASS', fg='green')} {visible(r.file)} · {visible(r.name)}")
                continue
            echo(f"{style('FAIL', fg='red', bold=True)} {visible(r.file)} · {visible(r.name)}")
            if r.error:
                echo("  " + r.error.replace("\n", "\n  "))
            for m in r.mismatches:
                echo(f"  {m.what}: expected {m.expected!r}, got {m.actual!r}")
        colour = "red" if failed else "green"
        echo(style(f"{len(results) - len(failed)} passed, {len(failed)} failed", fg=colour))
    if failed:
        sys.exit(EXIT_FINDINGS)
