"""Command-line interface: thin click commands over the library.

Commands import what they need inside their body, so `--help` and `validate` stay
fast and never load the columnar engine.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import EXIT_FINDINGS, EXIT_MEMORY, EXIT_OUTPUT, EXIT_USAGE, CommandError, QualiscoreError


def _source_excerpt(path: str | None, line: int | None, column: int | None) -> str:
    """The offending source line with a caret under the column (no colour when piped)."""
    if not path or not line:
        return ""
    try:
        text = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        return ""
    if not 0 < line <= len(text):
        return ""
    src = text[line - 1]
    caret = ""
    if column:
        # East Asian wide characters take two cells on a terminal.
        import unicodedata

        pad = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in src[: column - 1])
        caret = "\n" + " " * (pad + 7) + click.style("^", fg="red", bold=True)
    return f"\n{line:5d} | {src}{caret}"


class _Group(click.Group):
    """Turns the library's errors into click exceptions that keep their exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QualiscoreError as exc:
            raise CommandError(exc) from None
        except BrokenPipeError:  # `qualiscore … | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:
            err = click.ClickException(f"error[io] {exc.filename or ''}: {exc.strerror or exc}")
            err.exit_code = EXIT_OUTPUT
            raise err from None
        except MemoryError:
            err = click.ClickException(
                "error[out-of-memory] the process ran out of memory; nothing was written, and an earlier "
                "output directory is as it was\n  hint: allow the process more memory (ulimit -v, the "
                "container's limit), or split the input by period and run once per part")
            err.exit_code = EXIT_MEMORY
            raise err from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="qualiscore")
def cli() -> None:
    """Score customer-service quality from readable, versioned YAML schemes.

    \b
    Examples:
      qualiscore validate rules/
      qualiscore init rules/my-scheme/2026Q3.yaml
    """


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json for CI and editors.")
@click.option("--strict", is_flag=True, help="Treat warnings as failures.")
def validate(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check scheme files (or directories of versions) and report every finding.

    Exit status: 0 clean, 1 errors (or warnings with --strict), 2 usage error.

    \b
    Examples:
      qualiscore validate rules/cs-quality/2026Q2.yaml
      qualiscore validate rules/ --format json --strict
    """
    from .validation import scheme_files, validate_paths

    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise click.BadParameter(f"{', '.join(missing)} does not exist", param_hint="PATHS")
    findings = validate_paths(paths)
    files = [str(f) for p in paths for f in scheme_files(p)]
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    if fmt == "json":
        click.echo(json.dumps({"files": files, "errors": errors, "warnings": warnings,
                               "findings": [f.as_dict() for f in findings]}, ensure_ascii=False, indent=2))
    else:
        for f in findings:
            colour = "red" if f.severity == "error" else "yellow"
            line = f.format().replace(f"{f.severity}[", click.style(f.severity, fg=colour, bold=True) + "[", 1)
            click.echo(line + _source_excerpt(f.location.file, f.location.line, f.location.column))
        summary = f"{len(files)} file(s) checked: {errors} error(s), {warnings} warning(s)"
        click.echo(click.style(summary, fg="red" if errors else "yellow" if warnings else "green"), err=bool(findings))
    if errors or (strict and warnings):
        sys.exit(EXIT_FINDINGS)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the scheme format, for editors and other tools.

    \b
    Example (a rules repository of your own):
      qualiscore schema -o schemas/scheme.schema.json
      # first line of each scheme: # yaml-language-server: $schema=../../schemas/scheme.schema.json
    """
    from .validation import scheme_schema

    text = json.dumps(scheme_schema(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scheme", "scheme_id", default=None, help="Scheme id (default: the parent directory's name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, scheme_id: str | None, force: bool) -> None:
    """Write a commented starter scheme that validates, to edit from there.

    \b
    Example:
      qualiscore init rules/my-scheme/2026Q3.yaml
    """
    from .starter import starter_scheme

    if path.exists() and not force:
        raise click.UsageError(f"{path} already exists; use --force to overwrite it")
    version = path.stem
    scheme_id = scheme_id or (path.parent.name if path.parent.name not in ("", ".") else "my-scheme")
    text = starter_scheme(scheme_id.lower(), version)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {path}: {exc.strerror}") from exc
    click.echo(f"wrote {path}\nnext: edit it, then run `qualiscore validate {path}`")


def _split_fields(text: str | None) -> tuple[str, ...] | None:
    if not text:
        return None
    return tuple(f.strip() for f in text.split(",") if f.strip())


def _engine_name(engine: str) -> str:
    """`auto` is the columnar engine when polars is installed, else the reference engine."""
    if engine != "auto":
        return engine
    import importlib.util

    return "columnar" if importlib.util.find_spec("polars") is not None else "rows"


def _load_run_inputs(scheme_path: str, data: tuple[str, ...], encoding: str | None, by: str | None,
                     as_of: Any = None, quiet: bool = True, sheet: str | None = None, engine: str = "rows") -> Any:
    import dataclasses

    from .engine import evaluate_versions
    from .records import read_records
    from .schemes import load_versions

    schemes = load_versions(scheme_path)
    as_of_day = as_of.date() if as_of else None
    if engine == "columnar":
        try:
            from .engine import columnar
        except ImportError:
            raise click.UsageError("--engine columnar needs polars: pip install 'qualiscore[fast]'") from None
        run = columnar.evaluate_versions(schemes, list(data), encoding=encoding, by=_split_fields(by),
                                         as_of=as_of_day, sheet=sheet)
        return dataclasses.replace(run, options={**run.options, "engine": "columnar"})
    with _progress(quiet) as bar:
        def read(contract: Any) -> Any:
            dataset = read_records(list(data), contract, encoding=encoding, sheet=sheet)
            bar.reset(total=dataset.rows_accepted)
            return dataset

        run = evaluate_versions(schemes, read, by=_split_fields(by), as_of=as_of_day, progress=bar.update)
        return dataclasses.replace(run, options={**run.options, "engine": "rows"})


def _progress(quiet: bool) -> Any:
    """A progress bar on stderr for runs longer than a second; silent when piped or with --quiet."""
    from tqdm import tqdm

    return tqdm(total=0, desc="scoring", unit=" records", unit_scale=True, delay=1.0, leave=False,
                disable=True if quiet else None, file=sys.stderr)


@cli.command()
@click.argument("scheme", type=click.Path(exists=True))
@click.argument("data", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output directory (replaced atomically).")
@click.option("--by", default=None, metavar="FIELD[,FIELD]", help="Re-evaluate at another grouping, e.g. team.")
@click.option("--encoding", default=None, help="Input text encoding (default: UTF-8, else GB18030).")
@click.option("--max-rejects", default=None, metavar="N|P%",
              help="Fail (publishing nothing) when more rows than this are rejected.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With a directory of versions: use the version in force on this date for all records.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Sign manifest.json with this Ed25519 private key (see `qualiscore keygen`).")
@click.option("--force", is_flag=True, help="Replace OUTDIR even if it is not an earlier run's output.")
@click.option("--report", "with_report", is_flag=True, help="Also write OUTDIR/report.html (needs qualiscore[report]).")
@click.option("--format", "formats", multiple=True, type=click.Choice(["xlsx", "parquet"]),
              help="Also write scorecards.xlsx (summary, scorecards, indicators, rejects, manifest sheets) "
                   "or scorecards.parquet; repeat for both.")
@click.option("--sheet", default=None, help="Worksheet of .xlsx inputs (default: the first); or write book.xlsx#Sheet.")
@click.option("--engine", type=click.Choice(["auto", "rows", "columnar"]), default="auto", show_default=True,
              help="columnar (needs qualiscore[fast]) is fast; rows is the reference; both give the same bytes. "
                   "auto: columnar when installed.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
def evaluate(scheme: str, data: tuple[str, ...], outdir: str, by: str | None, encoding: str | None,
             max_rejects: str | None, as_of: Any, sign_key: str | None, force: bool, with_report: bool,
             formats: tuple[str, ...], sheet: str | None, engine: str, quiet: bool) -> None:
    """Score DATA (CSV, JSONL, Excel .xlsx or Parquet) with SCHEME and write scorecards to OUTDIR.

    SCHEME is a scheme file, or a directory of its versions: each subject period is
    then scored by the version in force at its start.

    \b
    Writes scorecards.jsonl, scorecards.csv, rejects.csv and manifest.json.
    Examples:
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data/sample/interactions.csv -o out/
      qualiscore evaluate rules/cs-quality/ data/sample/interactions-q1q2.csv -o out/
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --by team
    """
    from .manifest import render_outputs, write_outputs

    run = _load_run_inputs(scheme, data, encoding, by, as_of, quiet, sheet, _engine_name(engine))
    extra: dict[str, Any] = {}
    if formats:
        extra["formats"] = sorted(set(formats))
    if sheet is not None:
        extra["sheet"] = sheet
    run = _with_options(run, {"by": _split_fields(by), "encoding": encoding, "max_rejects": max_rejects,
                              "as_of": as_of.date().isoformat() if as_of else None,
                              "scheme_path": scheme, "data": list(data), **extra})
    run.check_reject_limit(max_rejects)
    files = render_outputs(run)
    if sign_key:
        from .signing import SIGNATURE_FILE, sign_manifest

        files[SIGNATURE_FILE] = sign_manifest(files["manifest.json"], Path(sign_key))
    out = write_outputs(files, outdir, force=force)
    if not quiet:
        _summary(run, out)
    if with_report:
        from .report import write_report

        path = write_report(out)
        if not quiet:
            click.echo(f"report:     {path}")


def _with_options(run: Any, options: dict[str, Any]) -> Any:
    import dataclasses

    opts = {k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}
    return dataclasses.replace(run, options={**run.options, **opts})


def _summary(run: Any, out: Path) -> None:
    from collections import Counter

    click.echo(f"rows read {run.rows_read} = scored {run.rows_scored} + rejected {run.rows_rejected}")
    grades = Counter(c.grade or "(none)" for c in run.scorecards)
    order = [g.name for s in run.schemes for g in s.grades] + ["(none)"]
    dist = ", ".join(f"{g} {grades[g]}" for g in dict.fromkeys(order) if grades.get(g))
    versions = ", ".join(f"{s.id} {s.version}" for s in run.schemes)
    click.echo(f"{len(run.scorecards)} scorecard(s) by {versions}: {dist or 'none'}")
    click.echo(f"scorecards: {out / 'scorecards.csv'} (full detail: {out / 'scorecards.jsonl'})")
    for name in (n for n in ("scorecards.xlsx", "scorecards.parquet") if (out / n).is_file()):
        click.echo(f"{name.split('.')[1] + ':':<11} {out / name}")
    if run.rows_rejected:
        click.echo(f"rejects:    {out / 'rejects.csv'}")
    click.echo(f"manifest:   {out / 'manifest.json'}")


@cli.command()
@click.argument("source", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--subject", required=True, help="Subject key, e.g. A017/2026-05 (see scorecards.csv).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--by", default=None, metavar="FIELD[,FIELD]", help="With SCHEME DATA: regroup as evaluate --by.")
@click.option("--encoding", default=None, help="With SCHEME DATA: input text encoding.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="With a directory of versions: use the version in force on this date.")
def explain(source: tuple[str, ...], subject: str, fmt: str, by: str | None, encoding: str | None,
            as_of: Any) -> None:
    """Explain one scorecard: every value, band, weight and contribution.

    SOURCE is an output directory of `evaluate`, or a scheme followed by data files.

    \b
    Examples:
      qualiscore explain out/ --subject A017/2026-05
      qualiscore explain rules/cs-quality/2026Q2.yaml data.csv --subject A017/2026-05
    """
    from .explain import explain_text

    if len(source) == 1 and Path(source[0]).is_dir():
        card, decimals = _card_from_outdir(Path(source[0]), subject)
    else:
        if len(source) < 2:
            raise click.UsageError("give an output directory, or a scheme followed by data files")
        from .scorecard import scorecard_dict

        run = _load_run_inputs(source[0], source[1:], encoding, by, as_of)
        match = [c for c in run.scorecards if c.subject == subject]
        if not match:
            _no_subject(subject, [c.subject for c in run.scorecards])
        card, decimals = scorecard_dict(match[0]), match[0].decimals
    if fmt == "json":
        click.echo(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True))
    else:
        click.echo(explain_text(card, decimals), nl=False)


def _card_from_outdir(outdir: Path, subject: str) -> tuple[dict[str, Any], int]:
    from .manifest import read_manifest

    read_manifest(outdir)
    subjects = []
    path = outdir / "scorecards.jsonl"
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                card = json.loads(line)
                if card.get("subject") == subject:
                    return card, int(card.get("decimals", 2))
                subjects.append(card.get("subject"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    _no_subject(subject, subjects)
    raise AssertionError  # unreachable


def _no_subject(subject: str, subjects: list[Any]) -> None:
    import difflib

    close = difflib.get_close_matches(subject, [s for s in subjects if isinstance(s, str)], n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "subjects are listed in the first column of scorecards.csv"
    err = click.ClickException(f"no scorecard for subject {subject!r} — {hint}")
    err.exit_code = EXIT_USAGE
    raise err


@cli.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("-v", "--verbose", is_flag=True, help="Also list passing tests.")
def test_command(paths: tuple[str, ...], fmt: str, verbose: bool) -> None:
    """Run the fixture tests of schemes (their `tests:`) and of *.tests.yaml files.

    Exit status: 0 all passed, 1 any failure.

    \b
    Examples:
      qualiscore test rules/
      qualiscore test rules/cs-quality/2026Q2.yaml --format json
    """
    from .testing import iter_results

    results = list(iter_results(paths))
    failed = [r for r in results if not r.passed]
    if fmt == "json":
        click.echo(json.dumps({
            "passed": len(results) - len(failed), "failed": len(failed),
            "results": [{"file": r.file, "scheme": r.scheme, "name": r.name, "passed": r.passed, "error": r.error,
                         "mismatches": [{"what": m.what, "expected": m.expected, "actual": m.actual}
                                        for m in r.mismatches]} for r in results],
        }, ensure_ascii=False, indent=2, default=str))
    else:
        for r in results:
            if r.passed:
                if verbose:
                    click.echo(f"{click.style('PASS', fg='green')} {r.file} · {r.name}")
                continue
            click.echo(f"{click.style('FAIL', fg='red', bold=True)} {r.file} · {r.name}")
            if r.error:
                click.echo("  " + r.error.replace("\n", "\n  "))
            for m in r.mismatches:
                click.echo(f"  {m.what}: expected {m.expected!r}, got {m.actual!r}")
        colour = "red" if failed else "green"
        click.echo(click.style(f"{len(results) - len(failed)} passed, {len(failed)} failed", fg=colour))
    if failed:
        sys.exit(EXIT_FINDINGS)


@cli.command("verify")
@click.argument("outdir", type=click.Path(exists=True, file_okay=False))
@click.option("--base", type=click.Path(exists=True, file_okay=False), default=None,
              help="Directory the manifest's relative paths are resolved against (default: current).")
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Require the run to be signed by this Ed25519 public key (PEM).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def verify_command(outdir: str, base: str | None, public_key: str | None, fmt: str) -> None:
    """Confirm that OUTDIR was produced by its scheme and inputs, untouched.

    Checks the SHA-256 of the scheme, inputs and outputs recorded in manifest.json,
    then recomputes the scorecards and compares them byte for byte.

    \b
    Exit status: 0 reproduced exactly; 9 signature invalid or not by the given key;
    10 scheme changed; 11 input changed; 12 engine version differs;
    13 output file edited; 14 recomputation differs.
    Examples:
      qualiscore verify out/
      qualiscore verify out/ --public-key committee.pub.pem
    """
    from .verify import verify

    report = verify(outdir, base=base, public_key=public_key)
    if fmt == "json":
        click.echo(json.dumps({"outdir": report.outdir, "verified": report.ok, "recomputed": report.recomputed,
                               "signer": report.signer,
                               "exit_code": report.exit_code,
                               "discrepancies": [d.as_dict() for d in report.discrepancies]},
                              ensure_ascii=False, indent=2))
    elif report.ok:
        click.echo(click.style("verified", fg="green", bold=True)
                   + f": {outdir} is reproduced exactly from its scheme and inputs (all hashes match)"
                   + (f"; signed by {report.signer}" if report.signer else ""))
    else:
        click.echo(click.style("NOT verified", fg="red", bold=True) + f": {outdir}")
        for d in report.discrepancies:
            click.echo(f"  {d.kind}: {d.message}")
        if not report.recomputed:
            click.echo("  (not recomputed: the scheme or an input is not the one the run used)")
    sys.exit(report.exit_code)


@cli.command()
@click.argument("name", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def keygen(name: Path, force: bool) -> None:
    """Create an Ed25519 key pair NAME.pem (private) and NAME.pub.pem for signing runs.

    \b
    Example:
      qualiscore keygen committee
      qualiscore evaluate rules/cs-quality/2026Q2.yaml data.csv -o out/ --sign-key committee.pem
      qualiscore verify out/ --public-key committee.pub.pem
    """
    from .signing import generate_keypair

    private, public = name.with_name(name.name + ".pem"), name.with_name(name.name + ".pub.pem")
    for p in (private, public):
        if p.exists() and not force:
            raise click.UsageError(f"{p} already exists; use --force to overwrite it")
    fp = generate_keypair(private, public)
    click.echo(f"wrote {private} (keep it secret) and {public} (give it to auditors)\nfingerprint {fp}")


@cli.command()
@click.argument("kind", type=click.Choice(["cs", "qa"]))
@click.option("-n", "rows", type=click.IntRange(min=0), default=1000, show_default=True, help="Number of rows.")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--start", default="2026-04-01", show_default=True, help="First day, YYYY-MM-DD.")
@click.option("--months", type=click.IntRange(min=1), default=1, show_default=True, help="Months covered (cs).")
@click.option("--agents", type=click.IntRange(min=1), default=None, help="Number of agents (cs; default n/400, ≥ 5).")
@click.option("--dirty", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Fraction of rows that break the contract, to exercise rejects.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True)
@click.option("-o", "--output", default="-", show_default=True, help="Output file; - for standard output.")
def synth(kind: str, rows: int, seed: int, start: str, months: int, agents: int | None, dirty: float, fmt: str,
          output: str) -> None:
    """Write deterministic synthetic records: interactions (cs) or QA inspection forms (qa).

    The same arguments always give the same bytes.

    \b
    Examples:
      qualiscore synth cs -n 3000 --months 3 --agents 24 -o data/sample/interactions.csv
      qualiscore synth qa -n 300 -o qa.csv
    """
    from . import synth as gen

    if kind == "qa" and (months != 1 or agents is not None):
        raise click.UsageError("--months and --agents apply to kind cs only (qa covers one month)")
    target: Any = sys.stdout if output == "-" else output
    try:
        if kind == "cs":
            writer = gen.write_csv if fmt == "csv" else gen.write_jsonl
            written = writer(target, rows, seed=seed, start=start, months=months, agents=agents, dirty=dirty)
        else:
            writer = gen.write_qa_csv if fmt == "csv" else gen.write_qa_jsonl
            written = writer(target, rows, seed=seed, start=start, dirty=dirty)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if output != "-":
        click.echo(f"wrote {written} rows to {output}", err=True)


def _register() -> None:
    from ._cli_diff import command as diff_command
    from ._cli_report import command as report_command

    cli.add_command(diff_command)
    cli.add_command(report_command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    cli.main(args=argv, prog_name="qualiscore")


if __name__ == "__main__":  # pragma: no cover
    main()
