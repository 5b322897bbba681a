"""qualiscore against a peer: cs-quality 2026Q2 written by hand as one DuckDB query.

The peer is bench/peer_cs_quality.sql: the bundled scheme rules/cs-quality/2026Q2.yaml
(every indicator, the scoring rules, the not-applicable redistribution, the total rounded
half-even, the grades and the veto) as one SQL query, as an analyst would write it. For
each size and shape of synthetic data (qualiscore.synth, cached in bench/out/ as
bench/run.py caches it) and each input — the CSV file, the "text Parquet" file of
bench/run.py (the CSV's columns, text where they hold dirty values) and a typed Parquet
file (Datetime, Boolean and numbers, as the record contract declares) — it runs, each in
a fresh process, interleaved, on the same file:

* Polars' own read of the file (run.py's read-only child);
* the DuckDB query as a whole process (python -c: import duckdb, run the query, write one
  line per subject to a CSV file);
* ``qualiscore evaluate rules/cs-quality/2026Q2.yaml FILE -o OUT --engine columnar -q`` as a
  whole process (the console script's entry point), with its peak RSS and the columnar
  engine's phase timings (``columnar.LAST_TIMINGS``);

and checks that the query's score and grade per subject equal qualiscore's scorecards.csv.
It also times commands that do not evaluate (``--help``, ``validate``, ``explain``) and
``evaluate`` on 100k rows as .xlsx against the same rows as CSV.

Usage::

    python bench/peer.py                          # 1M and 10M rows, both shapes, all inputs
    python bench/peer.py --quick                  # 100k rows: a smoke run
    python bench/peer.py --sizes 1000000 --shapes realistic --repeat 3
    python bench/peer.py --commit HEAD            # measure src/ as committed in HEAD

The tables are printed and, unless --no-write, written as the section "qualiscore against
a hand-written DuckDB query" of bench/RESULTS.md (every other section is kept).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from run import OUT, READ_CHILD, RESULTS, ROOT, SCHEME, data_files, gib, machine, run_child
from spark import snapshot, working_tree_state, write_section

SQL = ROOT / "bench" / "peer_cs_quality.sql"
SECTION = "## qualiscore against a hand-written DuckDB query"
RUNS = OUT / "peer-runs"
SHAPES = {  # name -> agents for n rows over three months (None: synth's default, n/400)
    "stress": lambda n: None,  # ~133 records per agent-month
    "realistic": lambda n: max(1, n // 3000),  # ~1,000 records per agent-month
}
SHAPE_TEXT = {"stress": "stress (~133/agent-month)", "realistic": "realistic (~1,000/agent-month)"}
INPUTS = ("CSV", "text Parquet", "typed Parquet")
EXCEL_ROWS = 100_000
# Targets shown below the table.
TYPED_TARGET, CSV_TARGET, SCORECARD_US_TARGET, STARTUP_TARGET, EXCEL_TARGET = 1.0, 1.5, 10.0, 0.150, 2.0

# --------------------------------------------------------------------------- children

# The typed Parquet file: the CSV typed as the record contract declares (string, datetime →
# Datetime in Asia/Shanghai, number/integer → Int64, duration → seconds as Int64, boolean →
# Boolean). A dirty value that cannot be typed (an impossible date, a boolean "maybe") becomes
# null, so qualiscore still reads every row and rejects those as nulls in non-nullable fields;
# values that type but break a rule (a channel outside the enum, -5 s, a csat of 7) are kept.
TYPED_CHILD = """
import sys
import polars as pl
source, target = sys.argv[1:]
def seconds(c):
    parts = pl.col(c).str.split(":")
    hms = pl.when(parts.list.len() == 3).then(
        parts.list.get(0, null_on_oob=True).cast(pl.Int64, strict=False) * 3600
        + parts.list.get(1, null_on_oob=True).cast(pl.Int64, strict=False) * 60
        + parts.list.get(2, null_on_oob=True).cast(pl.Int64, strict=False)
    ).when(parts.list.len() == 2).then(
        parts.list.get(0, null_on_oob=True).cast(pl.Int64, strict=False) * 60
        + parts.list.get(1, null_on_oob=True).cast(pl.Int64, strict=False))
    return pl.when(pl.col(c).str.contains(":", literal=True)).then(hms).otherwise(
        pl.col(c).cast(pl.Int64, strict=False)).alias(c)
boolean = {"true": True, "false": False}
lf = pl.scan_csv(source, infer_schema=False).with_columns(
    pl.col("started_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%:z", time_unit="us", strict=False)
      .dt.convert_time_zone("Asia/Shanghai"),
    pl.col("first_response_s", "csat", "nps").cast(pl.Int64, strict=False),
    seconds("handle_time_s"),
    *(pl.col(c).replace_strict(boolean, default=None, return_dtype=pl.Boolean)
      for c in ("resolved_first_contact", "repeat_contact_7d", "complaint", "unauthorised_promise")),
)
lf.sink_parquet(target)
print("{}")
"""

# The peer, as a whole process: the query over the file, one line per subject written to a CSV file.
DUCKDB_CHILD = """
import re, sys
import duckdb
sql, kind, data, out = sys.argv[1:]
parts = {m[1]: m[2] for m in re.finditer(r"^-- part: (\\w+)\\n(.*?)(?=^-- part: |\\Z)",
                                          open(sql, encoding="utf-8").read(), re.S | re.M)}
quoted = "'" + data.replace("'", "''") + "'"
source = f"read_csv({quoted}, all_varchar = true)" if kind == "csv" else f"read_parquet({quoted})"
con = duckdb.connect()
con.execute(parts["settings"])
con.execute(parts["records_from_typed" if kind == "typed" else "records_from_text"].replace("{source}", source))
*macros, query = [s for s in parts["query"].split(";\\n") if s.strip()]
for statement in macros:
    con.execute(statement)
con.execute(f"COPY ({query}) TO '{out}' (HEADER, DELIMITER ',')")
"""

# qualiscore's console script (qualiscore.cli:main) with the columnar engine's phase timings
# written to a file when it exits.
QUALISCORE_CHILD = """
import json, os, sys
from qualiscore.cli import main
try:
    main(sys.argv[1:])
finally:
    from qualiscore.engine import columnar
    with open(os.environ["PEER_TIMINGS"], "w") as f:
        json.dump(columnar.LAST_TIMINGS, f)
"""

EXCEL_CHILD = """
import csv, sys
from openpyxl import Workbook
source, target = sys.argv[1:]
def cell(v):
    if v == "":
        return None
    if v in ("true", "false"):
        return v == "true"
    if v.lstrip("-").isdigit():
        return int(v)
    return v
wb = Workbook(write_only=True)
ws = wb.create_sheet("interactions")
with open(source, encoding="utf-8", newline="") as f:
    rows = csv.reader(f)
    ws.append(next(rows))
    for row in rows:
        ws.append([cell(v) for v in row])
wb.save(target)
print("{}")
"""


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Run a whole process; (its wall-clock seconds, its peak RSS in bytes). Fails loudly."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(argv)}\n{err.decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss * 1024


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def qualiscore_cli() -> list[str]:
    """The console script, or ``python -m qualiscore`` when it is not installed next to this Python."""
    script = Path(sys.executable).parent / "qualiscore"
    return [str(script)] if script.exists() else python("-m", "qualiscore")


def whole_process(args: list[str], repeat: int = 5) -> float:
    return statistics.median(timed([*qualiscore_cli(), *args])[0] for _ in range(repeat))


# --------------------------------------------------------------------------- data


def typed_parquet(csv_path: Path) -> Path:
    path = csv_path.with_name(csv_path.stem + "-typed.parquet")
    if not path.exists():
        print(f"  typing {csv_path.name} -> {path.name}", file=sys.stderr, flush=True)
        tmp = path.with_suffix(".tmp")
        run_child(TYPED_CHILD, str(csv_path), str(tmp))
        tmp.rename(path)
    return path


def inputs(n: int, shape: str) -> list[tuple[str, str, Path]]:
    """(input label, how the peer reads it, path) for the three inputs of n rows of a shape."""
    csv_path, text_parquet = data_files(n, SHAPES[shape](n))
    return [("CSV", "csv", csv_path), ("text Parquet", "text", text_parquet),
            ("typed Parquet", "typed", typed_parquet(csv_path))]


def excel_file() -> tuple[Path, Path]:
    csv_path, _ = data_files(EXCEL_ROWS, None)
    xlsx = csv_path.with_suffix(".xlsx")
    if not xlsx.exists():
        print(f"  writing {xlsx.name}", file=sys.stderr, flush=True)
        tmp = xlsx.with_name(xlsx.stem + ".tmp.xlsx")
        run_child(EXCEL_CHILD, str(csv_path), str(tmp))
        tmp.rename(xlsx)
    return csv_path, xlsx


# --------------------------------------------------------------------------- one file


def evaluate(path: Path, outdir: Path) -> tuple[float, int, dict[str, float]]:
    timings = outdir.with_name(outdir.name + "-timings.json")
    seconds, rss = timed(python("-c", QUALISCORE_CHILD, "evaluate", str(SCHEME), str(path), "-o", str(outdir),
                                "--engine", "columnar", "-q"), {"PEER_TIMINGS": str(timings)})
    return seconds, rss, json.loads(timings.read_text())


def measure(n: int, shape: str, label: str, kind: str, path: Path, repeat: int) -> dict[str, Any]:
    RUNS.mkdir(parents=True, exist_ok=True)
    tag = f"{n}-{shape}-{kind}"
    peer_out, q_out = RUNS / f"duckdb-{tag}.csv", RUNS / f"qualiscore-{tag}"
    reads, peers, evals = [], [], []
    for k in range(repeat):
        print(f"  {n:,} rows, {shape}, {label}: run {k + 1}/{repeat}", file=sys.stderr, flush=True)
        reads.append(run_child(READ_CHILD, str(path), "collect")[0]["seconds"])
        peers.append(timed(python("-c", DUCKDB_CHILD, str(SQL), kind, str(path), str(peer_out))))
        evals.append(evaluate(path, q_out))
    evals.sort(key=lambda e: e[0])
    ev_s, _, phases = evals[len(evals) // 2]
    manifest = json.loads((q_out / "manifest.json").read_text(encoding="utf-8"))
    subjects = manifest["subjects"]
    rows_read = sum(i["rows_read"] for i in manifest["inputs"])
    return {"n": n, "shape": shape, "input": label, "size": path.stat().st_size,
            "read": statistics.median(reads), "peer": statistics.median(s for s, _ in peers),
            "peer_rss": max(r for _, r in peers), "eval": ev_s, "rss": max(r for _, r, _ in evals),
            "phases": phases, "subjects": subjects, "rows_read": rows_read,
            "rejected": sum(i["rows_rejected"] for i in manifest["inputs"]),
            "check": compare(peer_out, q_out / "scorecards.csv")}


def _scores(path: Path, subject: str = "subject") -> dict[str, tuple[str, str, str]]:
    """subject -> (score to 2 decimals, grade, records) from a CSV file with those columns."""
    with open(path, encoding="utf-8", newline="") as f:
        return {r[subject]: (f"{Decimal(r['score']):.2f}" if r["score"] else "", r["grade"], r["records"])
                for r in csv.DictReader(f)}


def compare(peer_csv: Path, scorecards_csv: Path) -> dict[str, Any]:
    """The peer's score, grade and record count per subject against qualiscore's scorecards.csv."""
    peer, ours = _scores(peer_csv), _scores(scorecards_csv)
    diffs = []
    for subject in sorted(set(peer) | set(ours)):
        a, b = ours.get(subject), peer.get(subject)
        if a != b:
            diffs.append(f"{subject}: qualiscore {a or 'no scorecard'} vs DuckDB {b or 'no row'}")
    return {"equal": not diffs, "differences": len(diffs), "first": diffs[:5]}


# --------------------------------------------------------------------------- start-up and Excel


def startup(outdir: Path) -> dict[str, Any]:
    print("  start-up: --help, validate, explain", file=sys.stderr, flush=True)
    with open(outdir / "scorecards.csv", encoding="utf-8", newline="") as f:
        subject = next(csv.DictReader(f))["subject"]
    return {"subject": subject,
            "help": whole_process(["--help"]),
            "validate": whole_process(["validate", str(SCHEME.relative_to(ROOT))]),
            "explain": whole_process(["explain", str(outdir), "--subject", subject])}


def excel(repeat: int) -> dict[str, Any]:
    csv_path, xlsx = excel_file()
    times: dict[str, list[float]] = {"CSV": [], "xlsx": []}
    outs = {"CSV": RUNS / "excel-csv", "xlsx": RUNS / "excel-xlsx"}
    for k in range(max(repeat, 3)):
        print(f"  Excel: {EXCEL_ROWS:,} rows as .xlsx and as CSV, run {k + 1}", file=sys.stderr, flush=True)
        for label, path in (("CSV", csv_path), ("xlsx", xlsx)):
            times[label].append(timed([*qualiscore_cli(), "evaluate", str(SCHEME), str(path), "-o",
                                       str(outs[label]), "-q"])[0])
    a, b = ((outs[k] / "scorecards.csv").read_text(encoding="utf-8").splitlines() for k in ("CSV", "xlsx"))
    first = next((f"line {i + 1}: CSV {x!r} vs xlsx {y!r}" for i, (x, y) in enumerate(zip(a, b)) if x != y),
                 None if len(a) == len(b) else f"{len(a)} lines vs {len(b)}")
    return {"csv": statistics.median(times["CSV"]), "xlsx": statistics.median(times["xlsx"]),
            "csv_size": csv_path.stat().st_size, "xlsx_size": xlsx.stat().st_size, "same": first is None,
            "first": first, "outdir": outs["CSV"]}


# --------------------------------------------------------------------------- report


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def tables(results: list[dict[str, Any]], start: dict[str, Any], xl: dict[str, Any]) -> list[str]:
    out = [
        "| rows | shape | input | size | Polars read (s) | DuckDB query (s) | qualiscore evaluate (s) | "
        "evaluate ÷ DuckDB | peak RSS of qualiscore | subjects | equal? |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        check = r["check"]
        equal = "equal" if check["equal"] else f"**{check['differences']:,} differ**"
        out.append(f"| {r['n']:,} | {r['shape']} | {r['input']} | {r['size'] / 2**20:,.0f} MiB | {r['read']:.2f} | "
                   f"{r['peer']:.2f} | {r['eval']:.2f} | {r['eval'] / r['peer']:.2f}× | {gib(r['rss'])} | "
                   f"{r['subjects']:,} | {equal} |")
    unread = [r for r in results if r["rows_read"] != r["n"]]
    for r in unread:
        out.append(f"\n**qualiscore read {r['rows_read']:,} of the {r['n']:,} rows of {r['input']} "
                   f"({r['shape']}).**")
    for r in results:
        if not r["check"]["equal"]:
            out += ["", f"First differences, {r['n']:,} rows, {r['shape']}, {r['input']}:", "",
                    *(f"- {d}" for d in r["check"]["first"])]

    keys: list[str] = []
    for r in results:
        keys += [k for k in r["phases"] if k not in keys]
    out += [
        "",
        "Where qualiscore's time goes (seconds, `columnar.LAST_TIMINGS` of the evaluate process above; the "
        "rest of its time is start-up, loading the scheme, hashing and writing the outputs):",
        "",
        "| rows | shape | input | " + " | ".join(keys) + " | scorecards µs per subject |",
        "|---:|---|---|" + "---:|" * len(keys) + "---:|",
    ]
    for r in results:
        p = r["phases"]
        per = 1e6 * p.get("scorecards", 0.0) / r["subjects"] if r["subjects"] else 0.0
        out.append(f"| {r['n']:,} | {r['shape']} | {r['input']} | "
                   + " | ".join(f"{p[k]:.2f}" if k in p else "—" for k in keys) + f" | {per:,.1f} |")

    out += ["", "Targets:", "", "| target | measured | met |", "|---|---|---|"]
    for label, limit in (("typed Parquet", TYPED_TARGET), ("CSV", CSV_TARGET)):
        for r in (r for r in results if r["input"] == label):
            ratio = r["eval"] / r["peer"]
            out.append(f"| {label} evaluate ≤ {limit:.1f}× DuckDB, {r['n']:,} rows, {r['shape']} | "
                       f"{ratio:.2f}× ({r['eval']:.2f} s vs {r['peer']:.2f} s) | {_met(ratio <= limit)} |")
    pers = [1e6 * r["phases"].get("scorecards", 0.0) / r["subjects"] for r in results if r["subjects"]]
    if pers:
        out.append(f"| scorecards ≤ {SCORECARD_US_TARGET:g} µs per subject | {min(pers):,.1f}–{max(pers):,.1f} µs | "
                   f"{_met(max(pers) <= SCORECARD_US_TARGET)} |")
    for name, label in (("help", "`qualiscore --help`"), ("validate", "`qualiscore validate rules/cs-quality/2026Q2.yaml`"),
                        ("explain", f"`qualiscore explain OUTDIR --subject {start['subject']}`")):
        out.append(f"| {label} < {STARTUP_TARGET * 1000:.0f} ms, whole process, median of 5 | "
                   f"{start[name] * 1000:.0f} ms | {_met(start[name] < STARTUP_TARGET)} |")
    ratio = xl["xlsx"] / xl["csv"]
    out.append(f"| evaluate of {EXCEL_ROWS:,} rows as .xlsx ≤ {EXCEL_TARGET:g}× the same rows as CSV | {ratio:.2f}× "
               f"({xl['xlsx']:.2f} s vs {xl['csv']:.2f} s; {xl['xlsx_size'] / 2**20:,.0f} vs "
               f"{xl['csv_size'] / 2**20:,.0f} MiB) | {_met(ratio <= EXCEL_TARGET)} |")
    out.append(f"| the .xlsx and CSV runs give the same scorecards.csv | "
               f"{'same' if xl['same'] else 'differ: ' + str(xl['first'])} | {_met(xl['same'])} |")
    return out


def section(results: list[dict[str, Any]], start: dict[str, Any], xl: dict[str, Any], argv: list[str],
            source: str, load: tuple[float, float]) -> list[str]:
    info = {"qualiscore": source, **machine()}
    info["load average (1 min), start → end of the run"] = f"{load[0]:.1f} → {load[1]:.1f}"
    info["DuckDB"] = subprocess.run(python("-c", "import duckdb; print(duckdb.__version__)"), capture_output=True,
                                    text=True).stdout.strip() or "not installed"
    return [
        SECTION,
        "",
        f"Run of `python bench/peer.py {' '.join(argv)}`".rstrip() + f" on {dt.date.today()}:",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
        "The peer is cs-quality 2026Q2 written by hand as one DuckDB query (`bench/peer_cs_quality.sql`). "
        "Each figure is a fresh process on the same file, the three run one after the other for each "
        "file (interleaved with `--repeat`), median of the runs: *Polars read* is `polars.scan_csv(path, "
        "infer_schema=False).collect()` or `polars.scan_parquet(path).collect()`; *DuckDB query* is a whole "
        "`python -c` process that imports duckdb, runs the query and writes one line per subject to a CSV "
        "file; *qualiscore evaluate* is the whole process of `qualiscore evaluate rules/cs-quality/2026Q2.yaml "
        "FILE -o OUT --engine columnar -q` (all its outputs, row digests included). *equal?*: the query's "
        "score (2 decimals), grade and record count equal qualiscore's scorecards.csv for every subject. "
        "On a machine shared with other work, the ratios (same file, minutes apart) say more than the seconds.",
        "",
        *tables(results, start, xl),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000", help="comma-separated row counts (default 1M,10M)")
    ap.add_argument("--shapes", default="stress,realistic",
                    help="comma-separated: stress (synth's default, ~133 records per agent-month), "
                         "realistic (~1,000 per agent-month)")
    ap.add_argument("--inputs", default=",".join(INPUTS), help=f"comma-separated, of: {', '.join(INPUTS)}")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement (median; default 1)")
    ap.add_argument("--quick", action="store_true", help="100k rows: a smoke run")
    ap.add_argument("--commit", default=None,
                    help="measure src/ as committed in this revision (extracted to bench/out/), not the working "
                         "tree's")
    ap.add_argument("--no-write", action="store_true", help="print the tables only, do not update RESULTS.md")
    args = ap.parse_args()
    sizes = [100_000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    wanted = [s.strip() for s in args.inputs.split(",") if s.strip()]
    for bad in [s for s in shapes if s not in SHAPES] + [i for i in wanted if i not in INPUTS]:
        ap.error(f"unknown shape or input: {bad}")

    if args.commit:  # every child imports the snapshot
        src, sha = snapshot(args.commit)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), os.environ.get("PYTHONPATH")) if p)
        source = f"commit {sha} (src/ as committed)"
    else:
        before = working_tree_state()
        head, _, changed = before.partition("+")
        source = f"working tree at {head}" + (", src/ with uncommitted changes" if changed else "")

    load_start = os.getloadavg()[0]
    results = []
    for n in sizes:
        for shape in shapes:
            for label, kind, path in inputs(n, shape):
                if label in wanted:
                    results.append(measure(n, shape, label, kind, path, args.repeat))
    xl = excel(args.repeat)
    start = startup(xl["outdir"])
    if not args.commit and working_tree_state() != before:
        source += " — **src/ changed during the run: the measurements may mix versions of qualiscore**"
        print("\nwarning: src/ changed during the run (use --commit to measure one version)", file=sys.stderr)

    lines = section(results, start, xl, sys.argv[1:], source, (load_start, os.getloadavg()[0]))
    print("\n".join(lines))
    if not args.no_write:
        write_section(lines, SECTION)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    if any(not r["check"]["equal"] for r in results):
        raise SystemExit("the DuckDB query and qualiscore differ (see above)")


if __name__ == "__main__":
    main()
