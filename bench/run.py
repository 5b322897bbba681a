"""Benchmark of the columnar engine: one markdown table, measured in one run.

For each size it generates synthetic interaction records with qualiscore.synth (CSV,
and Parquet converted with polars), then measures, on rules/cs-quality/2026Q2.yaml:

* read-only: polars scan + collect of the same file (every CSV column as text; Parquet
  as stored), the floor any engine that reads the data has to pay; above 10M rows, where
  the whole file does not fit in memory, a streaming pass decoding every column instead;
* evaluate: ``qualiscore.engine.evaluate`` with ``RunOptions(engine="columnar")`` in a fresh subprocess (median of
  ``--repeat`` runs), with the child's peak RSS (``ru_maxrss`` from ``wait4``) and the
  engine's own phase timings;
* the reference engine (records.read_records + engine.evaluate) on 100k rows, for rows/s;
* whole-process ``qualiscore validate`` and ``qualiscore explain`` (median of 5 runs);
* at the first size, rules/cs-quality/2026Q3.yaml on four sources (synth cs-sources) against
  the same rules on the four tables joined by hand into one (``--no-sources`` skips it).

Usage::

    python bench/run.py                      # 1M and 10M rows
    python bench/run.py --quick              # 100k rows: a smoke run
    python bench/run.py --sizes 1000000 --repeat 3
    python bench/run.py --with-100m          # also 100M rows, Parquet only (needs ~7 GB of disk)

Data files are cached in bench/out/ (git-ignored). The table is printed and written,
with the machine it ran on, to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SCHEME = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
Q3 = ROOT / "rules" / "cs-quality" / "2026Q3.yaml"
RESULTS = ROOT / "bench" / "RESULTS.md"
SEED, START, MONTHS = 7, "2026-04-01", 3
REFERENCE_ROWS = 100_000
# Above this, a whole-file read does not fit in memory (100M rows with their transcripts need
# over 24 GiB), so the read-only floor decodes every column in streaming mode and keeps nothing.
STREAMED_READ_ABOVE = 10_000_000

EVALUATE_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from qualiscore.schemes import load_scheme
from qualiscore.engine import columnar, evaluate
from qualiscore.options import RunOptions
scheme = load_scheme(sys.argv[1])
t1 = time.perf_counter()
run = evaluate(scheme, [sys.argv[2]], RunOptions(engine="columnar"))
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "startup": t1 - t0, "subjects": len(run.scorecards),
                  "rows": run.rows_read, "rejected": run.rows_rejected, "phases": columnar.LAST_TIMINGS}))
"""

REFERENCE_CHILD = """
import json, sys, time
from qualiscore.schemes import load_scheme
from qualiscore.records import read_records
from qualiscore.engine import evaluate
scheme = load_scheme(sys.argv[1])
t1 = time.perf_counter()
run = evaluate(scheme, read_records([sys.argv[2]], scheme.records))
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t1, "subjects": len(run.scorecards), "rows": run.rows_read}))
"""

DIGEST_CHILD = """
import json, sys, time
from qualiscore import rowdigests
t = time.perf_counter()
d = rowdigests.compute(sys.argv[1], "csv")
print(json.dumps({"seconds": time.perf_counter() - t, "lines": len(d.values)}))
"""

READ_CHILD = """
import json, sys, time
import polars as pl
path, streamed = sys.argv[1], sys.argv[2] == "streamed"
t = time.perf_counter()
lf = pl.scan_csv(path, infer_schema=False) if path.endswith(".csv") else pl.scan_parquet(path)
if streamed:  # every column decoded, nothing kept: for files whose columns do not fit in memory
    rows = lf.select(pl.len(), *(pl.col(c).is_null().sum() for c in lf.collect_schema())).collect(
        engine="streaming").item(0, 0)
else:
    rows = lf.collect().height
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows}))
"""


def run_child(code: str, *args: str) -> tuple[dict[str, Any], int]:
    """Run Python code in a fresh process; (its JSON output, its peak RSS in bytes)."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed ({proc.returncode}): {code.strip().splitlines()[-2]} {args}")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss * 1024


def median_child(code: str, *args: str, repeat: int) -> tuple[dict[str, Any], int]:
    runs = [run_child(code, *args) for _ in range(repeat)]
    runs.sort(key=lambda r: r[0]["seconds"])
    return runs[len(runs) // 2][0], max(rss for _, rss in runs)


def whole_process(args: list[str], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "qualiscore", *args], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


# --------------------------------------------------------------------------- data


# Data is generated and converted in child processes too: the benchmark process itself stays
# small, because a child's ru_maxrss starts from its parent's size at fork.
GENERATE_CHILD = """
import sys
from qualiscore import synth
path, n, seed, start, months, agents = sys.argv[1:]
synth.write_csv(path, int(n), seed=int(seed), start=start, months=int(months),
                agents=None if agents == "default" else int(agents))
print("{}")
"""

CONVERT_CHILD = """
import sys
import polars as pl
source, target, prefix = sys.argv[1:]
lf = pl.scan_csv(source, infer_schema_length=None)
if prefix:
    lf = lf.with_columns((pl.lit(prefix) + pl.col("interaction_id").cast(pl.String)).alias("interaction_id"))
lf.sink_parquet(target)
print("{}")
"""

CONCAT_CHILD = """
import sys
import polars as pl
pl.scan_parquet(sys.argv[2:]).sink_parquet(sys.argv[1])
print("{}")
"""


SOURCES_CHILD = """
import sys
from qualiscore import synth
directory, n, seed, start, months = sys.argv[1:]
synth.write_sources_csv(directory, int(n), seed=int(seed), start=start, months=int(months), dirty=0.0)
print("{}")
"""

# The four tables joined by hand into one row per interaction, as an analyst would before a
# one-table run: its survey answers and inspection findings (at most one of each), and the
# complaint tickets of the agent-month counted on its first interaction.
JOIN_CHILD = """
import sys
import polars as pl
d, target = sys.argv[1:]
def read(name):
    return pl.read_csv(f"{d}/{name}.csv", infer_schema=False)
month = pl.col("started_at").str.slice(0, 7)
inter = read("interactions").with_columns(month.alias("__month"))
first = inter.group_by("agent_id", "__month").agg(pl.col("interaction_id").min().alias("__first"))
complaints = (read("complaints").with_columns(pl.col("filed_at").str.slice(0, 7).alias("__month"))
              .group_by("agent_id", "__month").agg(pl.len().cast(pl.String).alias("complaints_filed")))
filed = first.join(complaints, on=["agent_id", "__month"], how="left").select(
    pl.col("__first").alias("interaction_id"), pl.col("complaints_filed").fill_null("0"))
joined = (inter.join(read("surveys").select("interaction_id", "csat", "nps"), on="interaction_id", how="left")
          .join(read("inspections").select("interaction_id", pl.col("score").alias("qa_score"), "forbidden_phrase",
                                           "unauthorised_promise"), on="interaction_id", how="left")
          .join(filed, on="interaction_id", how="left")
          .with_columns(pl.col("complaints_filed").fill_null("0")).drop("__month"))
joined.write_csv(target)
print("{}")
"""

SOURCES_EVALUATE_CHILD = """
import json, sys, time
from qualiscore.schemes import load_scheme
from qualiscore.engine import evaluate
from qualiscore.options import RunOptions
scheme, d = load_scheme(sys.argv[1]), sys.argv[2]
t = time.perf_counter()
run = evaluate(scheme, {s.name: [f"{d}/{s.name}.csv"] for s in scheme.sources}, RunOptions(engine="columnar"))
print(json.dumps({"seconds": time.perf_counter() - t, "subjects": len(run.scorecards), "rows": run.rows_read,
                  "rejected": run.rows_rejected}))
"""

SOURCES_READ_CHILD = """
import json, sys, time
import polars as pl
t = time.perf_counter()
rows = sum(pl.read_csv(p, infer_schema=False).height for p in sys.argv[1:])
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows}))
"""


def _agents_tag(agents: int | None) -> str:
    return "default" if agents is None else str(agents)


def data_files(n: int, agents: int | None) -> tuple[Path, Path]:
    """Synthetic CSV and its Parquet conversion, generated once and cached."""
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"cs-{n}-s{SEED}-m{MONTHS}-a{_agents_tag(agents)}"
    csv_path, parquet_path = OUT / f"{tag}.csv", OUT / f"{tag}.parquet"
    if not csv_path.exists():
        print(f"  generating {n:,} rows -> {csv_path.name}", file=sys.stderr, flush=True)
        tmp = csv_path.with_suffix(".tmp")
        run_child(GENERATE_CHILD, str(tmp), str(n), str(SEED), START, str(MONTHS), _agents_tag(agents))
        tmp.rename(csv_path)
    if not parquet_path.exists():
        print(f"  converting to {parquet_path.name}", file=sys.stderr, flush=True)
        tmp = parquet_path.with_suffix(".tmp")
        run_child(CONVERT_CHILD, str(csv_path), str(tmp), "")
        tmp.rename(parquet_path)
    return csv_path, parquet_path


def data_100m(agents: int | None) -> Path:
    """100M rows as Parquet: the 10M-row CSV ten times over, each copy with its own ids.

    The same agents and months, so 75,000 subjects of ~1,330 records each; built part by
    part, never as one 35 GB CSV.
    """
    path = OUT / f"cs-100000000-s{SEED}-m{MONTHS}-a{_agents_tag(agents)}.parquet"
    if path.exists():
        return path
    csv_path, _ = data_files(10_000_000, agents)
    parts = []
    for k in range(10):
        part = OUT / f"cs-100m-part{k}.parquet"
        if not part.exists():
            print(f"  building 100M rows, part {k + 1}/10", file=sys.stderr, flush=True)
            run_child(CONVERT_CHILD, str(csv_path), str(part), f"P{k}-")
        parts.append(part)
    run_child(CONCAT_CHILD, str(path), *map(str, parts))
    for part in parts:
        part.unlink()
    return path


# --------------------------------------------------------------------------- report


def sources_files(n: int) -> tuple[Path, Path, Path]:
    """The four cs-sources tables of n interactions (clean), the hand-joined table, and the one-table scheme."""
    d = OUT / f"sources-{n}-s{SEED}-m{MONTHS}"
    joined, scheme = d / "joined.csv", d / "one-table.yaml"
    if not (d / "complaints.csv").exists():
        print(f"  generating four sources of {n:,} interactions -> {d.name}/", file=sys.stderr, flush=True)
        d.mkdir(parents=True, exist_ok=True)
        run_child(SOURCES_CHILD, str(d), str(n), str(SEED), "2026-07-01", str(MONTHS))
    if not joined.exists():
        run_child(JOIN_CHILD, str(d), str(joined))
    if not scheme.exists():
        import yaml

        sys.path.insert(0, str(ROOT / "tests"))
        from test_sources_q3 import one_table_document  # the form the equivalence test proves equal

        scheme.write_text(yaml.safe_dump(one_table_document(), allow_unicode=True, sort_keys=False),
                          encoding="utf-8")
    return d, joined, scheme


def measure_sources(n: int, repeat: int) -> dict[str, Any]:
    """cs-quality 2026Q3 on its four tables against the same rules on the tables joined by hand."""
    d, joined, scheme = sources_files(n)
    tables = [str(d / f"{name}.csv") for name in ("interactions", "surveys", "inspections", "complaints")]
    print(f"  {n:,} interactions, four sources: read-only, evaluate, one pre-joined table", file=sys.stderr,
          flush=True)
    read = median_child(SOURCES_READ_CHILD, *tables, repeat=max(repeat, 3))[0]
    many, many_rss = median_child(SOURCES_EVALUATE_CHILD, str(Q3), str(d), repeat=repeat)
    one, one_rss = median_child(EVALUATE_CHILD, str(scheme), str(joined), repeat=repeat)
    return {"n": n, "read": read, "many": many, "many_rss": many_rss, "one": one, "one_rss": one_rss,
            "size": sum(Path(p).stat().st_size for p in tables), "joined_size": joined.stat().st_size}


def sources_table(r: dict[str, Any]) -> list[str]:
    many, one = r["many"], r["one"]
    return [
        "",
        f"Several record sources: cs-quality 2026Q3 on its four tables (synth cs-sources, {r['n']:,} "
        "interactions, clean) against the same rules on the four tables joined by hand into one "
        "(the one-table form `tests/test_sources_q3.py` proves equal), columnar engine:",
        "",
        "| input | rows read | size | read-only (s) | evaluate (s) | ÷ one table | peak RSS | subjects |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| four sources | {many['rows']:,} | {r['size'] / 2**20:,.0f} MiB | {r['read']['seconds']:.2f} | "
        f"{many['seconds']:.2f} | {many['seconds'] / one['seconds']:.1f}× | {gib(r['many_rss'])} | "
        f"{many['subjects']:,} |",
        f"| one pre-joined table | {one['rows']:,} | {r['joined_size'] / 2**20:,.0f} MiB | — | "
        f"{one['seconds']:.2f} | 1.0× | {gib(r['one_rss'])} | {one['subjects']:,} |",
    ]


def machine() -> dict[str, str]:
    polars_version = subprocess.run([sys.executable, "-c", "import polars; print(polars.__version__)"],
                                    capture_output=True, text=True, check=True).stdout.strip()
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"CPU": cpu, "cores (nproc)": str(os.cpu_count()), "memory": mem,
            "Python": platform.python_version(), "polars": polars_version,
            "OS": f"{platform.system()} {platform.release()}"}


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000", help="comma-separated row counts (default 1M,10M)")
    ap.add_argument("--quick", action="store_true", help="one 100k-row smoke run")
    ap.add_argument("--with-100m", action="store_true", help="also 100M rows, Parquet only")
    ap.add_argument("--agents", type=int, default=None,
                    help="agents in the synthetic data (default: synth's n/400, i.e. ~133 records a month each)")
    ap.add_argument("--repeat", type=int, default=1, help="evaluate runs per file (median; default 1)")
    ap.add_argument("--no-write", action="store_true", help="print the table only, do not update RESULTS.md")
    ap.add_argument("--no-sources", action="store_true",
                    help="skip cs-quality 2026Q3 on four sources against one pre-joined table (first size)")
    args = ap.parse_args()
    sizes = [100_000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",") if s]

    rows_out: list[dict[str, Any]] = []
    for n in sizes:
        csv_path, parquet_path = data_files(n, args.agents)
        for fmt, path in (("CSV", csv_path), ("Parquet", parquet_path)):
            rows_out.append(measure(n, fmt, path, args.repeat))
    if args.with_100m:
        rows_out.append(measure(100_000_000, "Parquet", data_100m(args.agents), 1))

    ref_csv, _ = data_files(REFERENCE_ROWS, args.agents)
    print(f"  reference engine on {REFERENCE_ROWS:,} rows", file=sys.stderr, flush=True)
    ref, ref_rss = run_child(REFERENCE_CHILD, str(SCHEME), str(ref_csv))
    ref_rate = ref["rows"] / ref["seconds"]

    print("  validate / explain", file=sys.stderr, flush=True)
    validate_s = whole_process(["validate", str(SCHEME.relative_to(ROOT))])
    outdir = OUT / "explain-run"
    subprocess.run([sys.executable, "-m", "qualiscore", "evaluate", str(SCHEME), str(ref_csv), "-o", str(outdir),
                    "-q"], cwd=ROOT, check=True)
    first = json.loads((outdir / "scorecards.jsonl").read_text(encoding="utf-8").splitlines()[0])["subject"]
    explain_s = whole_process(["explain", str(outdir), "--subject", first])

    lines = table(rows_out, ref, ref_rate, ref_rss, validate_s, explain_s, first)
    if not args.no_sources:
        lines += sources_table(measure_sources(sizes[0], args.repeat))
    print("\n".join(lines))
    if not args.no_write:
        info = machine()
        head = [
            "# Benchmark results",
            "",
            f"Latest run of `python bench/run.py {' '.join(sys.argv[1:])}`".rstrip() + f" on {dt.date.today()}.",
            "",
            "| machine | |",
            "|---|---|",
            *(f"| {k} | {v} |" for k, v in info.items()),
            "",
        ]
        RESULTS.write_text("\n".join([*head, *lines, ""]), encoding="utf-8")
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}", file=sys.stderr)


def measure(n: int, fmt: str, path: Path, repeat: int) -> dict[str, Any]:
    print(f"  {n:,} rows, {fmt}: read-only", file=sys.stderr, flush=True)
    streamed = n > STREAMED_READ_ABOVE
    read, read_rss = median_child(READ_CHILD, str(path), "streamed" if streamed else "collect", repeat=max(repeat, 3))
    print(f"  {n:,} rows, {fmt}: evaluate", file=sys.stderr, flush=True)
    ev, rss = median_child(EVALUATE_CHILD, str(SCHEME), str(path), repeat=repeat)
    digest = median_child(DIGEST_CHILD, str(path), repeat=max(repeat, 3))[0]["seconds"] if fmt == "CSV" else None
    return {"n": n, "fmt": fmt, "size": path.stat().st_size, "read": read["seconds"], "read_rss": read_rss,
            "digests": digest,
            "streamed": streamed,
            "eval": ev["seconds"], "rss": rss, "subjects": ev["subjects"], "rows": ev["rows"],
            "rejected": ev["rejected"], "phases": ev["phases"]}


def table(rows: list[dict[str, Any]], ref: dict[str, Any], ref_rate: float, ref_rss: int, validate_s: float,
          explain_s: float, subject: str) -> list[str]:
    out = [
        "| rows | input | file size | read-only (s) | evaluate (s) | evaluate ÷ read-only | rows/s | "
        "× reference rows/s | peak RSS | subjects |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        rate = r["rows"] / r["eval"]
        out.append(f"| {r['n']:,} | {r['fmt']} | {r['size'] / 2**20:,.0f} MiB | {r['read']:.2f}{' (streamed)' if r['streamed'] else ''} | {r['eval']:.2f} | "
                   f"{r['eval'] / r['read']:.1f}× | {rate:,.0f} | {rate / ref_rate:.0f}× | {gib(r['rss'])} | "
                   f"{r['subjects']:,} |")
    out += [
        "",
        f"Reference engine (records.read_records + engine.evaluate, CSV) on {ref['rows']:,} rows: "
        f"{ref['seconds']:.2f} s = {ref_rate:,.0f} rows/s, peak RSS {gib(ref_rss)}, {ref['subjects']:,} subjects.",
        "",
        f"Whole process, median of 5: `qualiscore validate rules/cs-quality/2026Q2.yaml` {validate_s:.2f} s; "
        f"`qualiscore explain OUTDIR --subject {subject}` {explain_s:.2f} s.",
    ]
    out += [
        "",
        "Writing the outputs also computes `row-digests.bin` (a CRC-32 per input line, so `verify` can name "
        "changed lines), in the same process after evaluate; for Parquet inputs none are computed:",
        "",
        "| rows | input | row digests (s) | ÷ read-only | ÷ evaluate |",
        "|---:|---|---:|---:|---:|",
        *(f"| {r['n']:,} | {r['fmt']} | {r['digests']:.2f} | {r['digests'] / r['read']:.1f}× | "
          f"{r['digests'] / r['eval']:.2f}× |" for r in rows if r.get("digests") is not None),
        "",
        "Where the evaluate time goes (seconds, from `columnar.LAST_TIMINGS`):",
        "",
        "| rows | input | main pass | CSV checks | fix-ups | group_by | scorecards (build_scorecards) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        p = r["phases"]
        out.append(f"| {r['n']:,} | {r['fmt']} | {p.get('main pass', 0):.2f} | {p.get('csv checks', 0):.2f} | "
                   f"{p.get('fix-ups', 0):.2f} | {p.get('group_by', 0):.2f} | {p.get('scorecards', 0):.2f} |")
    return out


if __name__ == "__main__":
    main()
