"""``qualiscore revise SOURCE VERSION``: the next version of a scheme, as a draft for the committee."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import click

from ..errors import EXIT_FINDINGS
from ..i18n import _
from ..revise import Revision, revise, write_revision
from ..testing import iter_results
from . import Command, echo, style


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise click.BadParameter(_("{value!r} is not a date; write it as YYYY-MM-DD", value=value))


@click.command("revise", cls=Command)
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("version")
@click.option("--from", "start", metavar="DATE", callback=_date,
              help="The new version's effective_from (default: the day after SOURCE's effective_to).")
@click.option("--to", "end", metavar="DATE", callback=_date,
              help="The new version's effective_to (default: a period as long as SOURCE's; a quarter "
                   "gives the next quarter).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The new file (default: VERSION.yaml next to SOURCE).")
@click.option("--force", is_flag=True, help="Replace the new file and its fixture copies if they exist.")
def command(source: Path, version: str, start: dt.date | None, end: dt.date | None, output: Path | None,
            force: bool) -> None:
    """Write the next version of a scheme: new dates, a changelog to fill in, tests moved.

    The new file is SOURCE with: version VERSION (also in the title and header
    comments), supersedes SOURCE's version, the next effective period, one
    placeholder changelog line, the approval left to fill in, and its tests' dates
    moved into the new period (records files are copied with their dates moved).
    Comments and layout are kept. It validates and passes its tests as written;
    then the committee changes the rules and writes the changelog.

    Exit status: 0 written, 1 written but a test of the new version fails, 2 usage
    error (bad VERSION or dates, the file exists), 3 SOURCE is not a valid scheme.

    \b
    Examples:
      qualiscore revise rules/cs-quality/2026Q2.yaml 2026Q3
      qualiscore revise rules/cs-quality/2026Q2.yaml 2026H2 --from 2026-07-01 --to 2026-12-31
      qualiscore revise rules/cs-quality/2026Q2.yaml 2026Q3 -o drafts/2026Q3.yaml --force
    """
    revision = revise(source, version, start=start, end=end, output=output)
    write_revision(revision, force=force)
    failed = _report(revision)
    if failed:
        sys.exit(EXIT_FINDINGS)


def _report(r: Revision) -> int:
    """Print what was written, how it checks, and what the committee does next; the number of failing tests."""
    echo(_("wrote {path}", path=r.path))
    echo("  " + _("{scheme} {version}: in force {start} … {end}, supersedes {old}", scheme=r.scheme, version=r.version,
                  start=r.effective_from, end=r.effective_to, old=r.old_version))
    echo("  " + _("changelog: one placeholder line, to replace with the changes of this version"))
    echo("  " + _("approval: approved_by and approved_on left as comments, to fill in on approval"))
    if r.weekday_aligned:
        keeps = _("each keeps its weekday")
    elif r.shift.months:
        keeps = _("each keeps its day of the month")
    else:
        keeps = _("each keeps its time of day")
    echo("  " + _("tests: {tests}, with {moved} record date(s) moved {shift} later ({keeps})", tests=r.tests,
                  moved=r.dates_moved, shift=r.shift.describe(), keeps=keeps))
    for copy in r.fixtures:
        echo(_("wrote {path}", path=copy.path))
        echo("  " + _("copy of {source} with {moved} date(s) moved", source=copy.source, moved=copy.moved))
    unread = r.dates_kept + sum(copy.kept for copy in r.fixtures)
    if unread:
        echo(style("  " + _("note: {n} date(s) could not be read and were left as they were; check the tests",
                            n=unread), fg="yellow"))
    for name in r.fixtures_kept:
        echo(style("  " + _("note: {name} is not CSV or JSON Lines: its test keeps its old dates", name=name),
                   fg="yellow"))

    results = list(iter_results([r.path]))
    failed = [t for t in results if not t.passed]
    warnings = ", ".join(sorted({f.code for f in r.findings})) or _("none")
    echo(_("checked: validates ({n} warning(s): {codes}); {passed} of {total} test(s) pass", n=len(r.findings),
           codes=warnings, passed=len(results) - len(failed), total=len(results)))
    for f in r.findings:
        echo(f"  {f.format()}")
    for t in failed:
        echo(style("  " + _("FAIL {name}", name=t.name), fg="red"))
        if t.error:
            echo("    " + t.error.replace("\n", "\n    "))
        for m in t.mismatches:
            echo("    " + _("{what}: expected {expected!r}, got {actual!r}", what=m.what, expected=m.expected,
                            actual=m.actual))

    folder = r.path.parent
    checked = f"{folder}/" if folder == r.source.parent else str(r.path)
    data = " ".join(f"--data {name}=LAST_QUARTER_{name.upper()}.csv" for name in r.sources) or "--data LAST_QUARTER.csv"
    echo("")
    echo(_("Next steps for the committee:\n"
           "  1. edit {path}: change the rules, and replace the TODO line of the changelog with\n"
           "     one line per change, naming what changed (the id or name of the indicator, dimension,\n"
           "     grade, veto or constant)\n"
           "  2. check it:         qualiscore validate {checked}\n"
           "  3. run its tests:    qualiscore test {path}\n"
           "     (update the expected results of the tests your changes affect)\n"
           "  4. see the effect on last quarter's data:\n"
           "     qualiscore diff {source} {path} {data}\n"
           "  5. on approval: uncomment approved_by and approved_on, fill them in, and delete the\n"
           "     \"Not approved yet\" line above them", path=r.path, checked=checked, source=r.source, data=data))
    return len(failed)
