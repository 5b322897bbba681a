"""Benchmark of the Spark engine on local[2], beside the columnar engine, measured in one run.

On the same synthetic files as bench/run.py (``data_files``: CSV, and Parquet converted with
polars), scored with rules/cs-quality/2026Q2.yaml, for each size and input:

* columnar: ``qualiscore.engine.evaluate`` with ``RunOptions(engine="columnar")`` in a fresh
  subprocess (scheme loading excluded), with the child's peak RSS;
* Spark: the same with ``RunOptions(engine="spark", spark_master="local[2]")`` in a fresh
  subprocess; the session start-up (``qualiscore.engine.spark.session("local[2]")``: the JVM
  and the SparkContext) is timed on its own, before the run, and the run is reported without
  it and with it; the engine's own phases (``spark.engine.LAST_TIMINGS``: read, score); the
  driver's peak RSS (the Python process), and the peak of all the run's processes together
  (driver, Spark's JVM with its local executor, the executors' Python workers), sampled;
* the inputs: the CSV file, the Parquet file, and the same rows as 8 Parquet part files in a
  directory (written with polars, cached in bench/out/), which is how a lakehouse table looks:
  Spark reads files in parallel, one task per file, never one file in several tasks. The
  columnar engine is given the 8 part files by name (it reads files, not directories).

Every Spark run is checked against the columnar run of the same input: rows read, rows
rejected and number of scorecards must be equal.

Usage::

    python bench/spark.py                            # 1M and 10M rows (20-30 minutes on 2 cores)
    python bench/spark.py --quick                    # 100k rows: a smoke run (~3 minutes)
    python bench/spark.py --sizes 1000000 10000000 --commit HEAD  # src/ as committed, not the working tree
    python bench/spark.py --sizes 1000000 --driver-memory 4g --no-write  # a larger JVM heap; print only

The tables and an estimate of a cluster's throughput are printed and written, with the
machine they ran on, as the section "Spark local[2] beside the columnar engine" of
bench/RESULTS.md (replacing that section if present; every other section is kept).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import threading
from pathlib import Path
from typing import Any

from run import OUT, RESULTS, ROOT, SCHEME, data_files, gib, machine, run_child

MASTER = "local[2]"
LOCAL_CORES = 2
PARTS = 8
LOGS = OUT / "spark-logs"  # the stderr of each failed run
DEFAULT_HEAP = "half the machine's memory (a local session's default)"  # when --driver-memory is not given
SECTION = "## Spark local[2] beside the columnar engine"
# Cluster estimate: cores per executor and executor counts.
EXECUTOR_CORES = 4
EXECUTORS = (10, 100)

COLUMNAR_CHILD = """
import json, resource, sys, time
import qualiscore
from qualiscore.schemes import load_scheme
from qualiscore.engine import evaluate
from qualiscore.options import RunOptions
scheme = load_scheme(sys.argv[1])
t = time.perf_counter()
run = evaluate(scheme, sys.argv[2:], RunOptions(engine="columnar"))
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": run.rows_read, "rejected": run.rows_rejected,
                  "subjects": len(run.scorecards), "source": qualiscore.__file__,
                  "driver_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

SPARK_CHILD = """
import json, resource, sys, time
import qualiscore
from qualiscore.schemes import load_scheme
from qualiscore.engine import evaluate
from qualiscore.engine.spark import session
from qualiscore.engine.spark.engine import LAST_TIMINGS
from qualiscore.options import RunOptions
master = sys.argv[2]
scheme = load_scheme(sys.argv[1])
t0 = time.perf_counter()
spark = session(master)
t1 = time.perf_counter()
run = evaluate(scheme, sys.argv[3:], RunOptions(engine="spark", spark_master=master))
t2 = time.perf_counter()
result = {"seconds": t2 - t1, "session": t1 - t0, "rows": run.rows_read, "rejected": run.rows_rejected,
          "subjects": len(run.scorecards), "timings": dict(LAST_TIMINGS), "source": qualiscore.__file__,
          "driver_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
# Which qualiscore the Python workers import (after the timing: the check must not cost the run).
result["worker_source"] = spark.sparkContext.parallelize([0], 1).map(
    lambda _: __import__("qualiscore").__file__).first()
# Stop Spark and wait for its JVM, so that the next measurement starts on a quiet machine.
proc = getattr(spark.sparkContext._gateway, "proc", None)
spark.stop()
if proc is not None:
    try:
        proc.stdin.close()
        proc.wait(timeout=120)
    except Exception:
        pass
print(json.dumps(result))
"""

SPLIT_CHILD = """
import sys
import polars as pl
source, directory, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = pl.scan_parquet(source).select(pl.len()).collect().item()
step = -(-n // parts)
for k in range(parts):
    pl.scan_parquet(source).slice(k * step, step).sink_parquet(f"{directory}/part-{k:02d}.parquet")
print("{}")
"""


# --------------------------------------------------------------------------- processes


def _descendants_pss(root: int) -> int:
    """Proportional set size of ``root`` and every process beneath it, in bytes (0 if it is gone)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
        stack.extend(children.get(pid, ()))
    return total


def measured_child(code: str, *args: str, timeout: float, log: Path,
                   env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run Python code in a fresh process: its JSON output, plus ``tree_pss`` (the peak PSS of it and every
    process it started, sampled every 0.5 s); on failure ``{"error": ...}``, the child's whole stderr kept
    in ``log``."""
    log.unlink(missing_ok=True)  # a log there is an earlier run's
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=err,
                                cwd=ROOT, start_new_session=True, env={**os.environ, **(env or {})})
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                peak[0] = max(peak[0], _descendants_pss(proc.pid))

        def stop() -> None:  # the child's own process group: the driver, the JVM and its workers
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, 9)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, stop)
        timer.start()
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, _ = os.wait4(proc.pid, 0)
        timer.cancel()
        done.set()
        sampler.join()
        stop()  # anything of the run still alive (a JVM whose driver failed)
        exit_code = os.waitstatus_to_exitcode(status)
        if exit_code != 0:
            err.seek(0)
            text = err.read().decode(errors="replace")
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(text, encoding="utf-8")
            return {"error": _summary(text, exit_code, timeout), "log": str(log.relative_to(ROOT))}
    result = json.loads(out.decode().strip().splitlines()[-1])
    result["tree_pss"] = peak[0]
    return result


_ERROR_LINE = re.compile(r"^(?:Caused by: )?"
                         r"((?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*(?:Error|Exception|Invalid)\b(?::.*)?)$")
_FRAME = re.compile(r'File "[^"]*/src/(qualiscore/[^"]+)", line (\d+), in (\w+)')
# Exceptions that wrap the one that says what went wrong.
_WRAPPERS = ("[PYTHON_EXCEPTION]", "[FAILED_READ_FILE", "Py4JJavaError", "Job aborted", "Job 0 cancelled",
             "TaskSetManager", "Connection refused")


def _summary(stderr: str, code: int, timeout: float) -> str:
    """What failed, from a failed child's stderr: the first error named that wraps no other (an executor's,
    the cause), and the last (what the driver raised), else the last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if code == -9:
        return f"stopped after {timeout:.0f} s" if not lines else f"killed (signal 9); last: {lines[-1][:300]}"
    named = [(k, m.group(1)) for k, m in enumerate(map(_ERROR_LINE.match, lines)) if m]
    if not named:
        return (lines[-1] if lines else f"exit status {code}")[:400]
    at, cause = next(((k, n) for k, n in named if not any(w in n for w in _WRAPPERS)), named[0])
    raw, cause = cause, cause[:400]
    # the innermost qualiscore frame of the cause's Python traceback, if it has one
    frame = next((m for m in map(_FRAME.search, reversed(lines[max(0, at - 30):at])) if m), None)
    if frame:
        cause += f" (in {frame.group(3)}, {frame.group(1)} line {frame.group(2)})"
    else:  # a JVM error: where in Spark, and which step of the engine was waiting for it
        where = next((line[3:] for line in lines[at + 1:at + 20]
                      if line.startswith("at org.apache.spark.sql.execution.")), None)
        step = next((m for m in map(_FRAME.search, reversed(lines)) if m), None)
        if where:
            cause += f" (at {where})"
        if step:
            cause += f", in the run's {step.group(3)} ({step.group(1)} line {step.group(2)})"
    last = named[-1][1][:400]
    same = raw[:400] == last or any(w in last for w in _WRAPPERS)
    said = cause if same else f"{cause} … then, on the driver: {last}"
    return said.replace(f"{ROOT}/", "")


# --------------------------------------------------------------------------- data


def parts_dir(n: int, parquet_path: Path) -> Path:
    """The Parquet file's rows in PARTS consecutive slices, one part file each, generated once and cached."""
    directory = OUT / f"{parquet_path.stem}-parts{PARTS}"
    if not directory.exists():
        print(f"  splitting {n:,} rows into {PARTS} Parquet parts -> {directory.name}/", file=sys.stderr,
              flush=True)
        tmp = directory.with_name(directory.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        run_child(SPLIT_CHILD, str(parquet_path), str(tmp), str(PARTS))
        tmp.rename(directory)
    return directory


# --------------------------------------------------------------------------- the code measured

# The qualiscore source the children import: the working tree's src/, or a snapshot of a commit's.
SOURCE = {"src": ROOT / "src"}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def snapshot(rev: str) -> tuple[Path, str]:
    """src/ (and the schemas/ it reads) as committed in ``rev``, extracted once to bench/out/src-SHA/
    (unaffected by edits in the working tree); (its src directory, the commit)."""
    sha = _git("rev-parse", "--short=12", f"{rev}^{{commit}}").strip()
    directory = OUT / f"src-{sha}"
    if not directory.exists():
        tmp = directory.with_name(directory.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", "--format=tar", sha, "src", "schemas"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        tmp.rename(directory)
    return directory / "src", sha


def working_tree_state() -> str:
    """HEAD and a digest of src/'s uncommitted changes: equal before and after a run if src/ did not change."""
    changes = _git("diff", "HEAD", "--", "src") + _git("ls-files", "--others", "--exclude-standard", "--",
                                                       "src")
    head = _git("rev-parse", "--short=12", "HEAD").strip()
    return head + ("+" + hashlib.sha256(changes.encode()).hexdigest()[:12] if changes else "")


def _same_source(result: dict[str, Any]) -> None:
    """Every measurement must have run the qualiscore chosen (a snapshot, or the working tree's src/)."""
    for key in ("source", "worker_source"):
        if key in result and not Path(result[key]).resolve().is_relative_to(SOURCE["src"].resolve()):
            raise SystemExit(f"a benchmark run imported qualiscore from {result[key]}, not {SOURCE['src']}")


# --------------------------------------------------------------------------- measurements


def measure(n: int, label: str, columnar_args: list[str], spark_args: list[str], size: int,
            timeout: float, env: dict[str, str]) -> dict[str, Any]:
    print(f"  {n:,} rows, {label}: columnar", file=sys.stderr, flush=True)
    slug = f"{n}-" + re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    col = measured_child(COLUMNAR_CHILD, str(SCHEME), *columnar_args, timeout=timeout,
                         log=LOGS / f"{slug}-columnar.log", env=env)
    if "error" in col:
        raise SystemExit(f"columnar engine failed on {label}: {col['error']}")
    _same_source(col)
    print(f"    {col['seconds']:.2f} s; rows read {col['rows']:,}, rejected {col['rejected']:,}, "
          f"scorecards {col['subjects']:,}", file=sys.stderr, flush=True)
    print(f"  {n:,} rows, {label}: spark {MASTER}", file=sys.stderr, flush=True)
    spk = measured_child(SPARK_CHILD, str(SCHEME), MASTER, *spark_args, timeout=timeout,
                         log=LOGS / f"{slug}-spark.log", env=env)
    r: dict[str, Any] = {"n": n, "input": label, "size": size, "columnar": col, "spark": spk, "check": None}
    if "error" in spk:
        print(f"    FAILED: {spk['error']}\n    (whole stderr in {spk['log']})", file=sys.stderr, flush=True)
        return r
    _same_source(spk)
    t = spk["timings"]
    print(f"    session {spk['session']:.2f} s, run {spk['seconds']:.2f} s (read {t.get('read', 0):.2f}, "
          f"score {t.get('score', 0):.2f}); rows read {spk['rows']:,}, rejected {spk['rejected']:,}, "
          f"scorecards {spk['subjects']:,}", file=sys.stderr, flush=True)
    same = all(spk[k] == col[k] for k in ("rows", "rejected", "subjects"))
    r["check"] = same
    if not same:
        print("    MISMATCH with the columnar run", file=sys.stderr, flush=True)
    return r


def measure_size(n: int, agents: int | None, timeout: float, env: dict[str, str]) -> list[dict[str, Any]]:
    csv_path, parquet_path = data_files(n, agents)
    directory = parts_dir(n, parquet_path)
    parts = sorted(directory.glob("*.parquet"))
    rel = [str(p.relative_to(ROOT)) for p in (csv_path, parquet_path, directory, *parts)]
    csv_rel, parquet_rel, dir_rel, parts_rel = rel[0], rel[1], rel[2], rel[3:]
    return [
        measure(n, "CSV", [csv_rel], [csv_rel], csv_path.stat().st_size, timeout, env),
        measure(n, "Parquet", [parquet_rel], [parquet_rel], parquet_path.stat().st_size, timeout, env),
        measure(n, f"Parquet, {PARTS} parts (directory)", parts_rel, [dir_rel],
                sum(p.stat().st_size for p in parts), timeout, env),
    ]


# --------------------------------------------------------------------------- report


def _check(r: dict[str, Any]) -> str:
    return "—" if r["check"] is None else "equal" if r["check"] else "**differ**"


def tables(results: list[dict[str, Any]]) -> list[str]:
    out = [
        "| rows | input | size | columnar (s) | Spark run (s) | session start (s) | Spark incl. start (s) | "
        "Spark ÷ columnar | incl. start ÷ columnar | driver peak RSS, columnar → Spark | "
        "all Spark processes (PSS, sampled) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    failures: list[dict[str, Any]] = []
    for r in results:
        col, spk = r["columnar"], r["spark"]
        head = f"| {r['n']:,} | {r['input']} | {r['size'] / 2**20:,.0f} MiB | {col['seconds']:.2f} |"
        if "error" in spk:
            failures.append(r)
            out.append(f"{head} failed ({len(failures)}) | — | — | — | — | "
                       f"{gib(col['driver_rss'])} → — | — |")
            continue
        total = spk["seconds"] + spk["session"]
        out.append(f"{head} {spk['seconds']:.2f} | {spk['session']:.2f} | {total:.2f} | "
                   f"{spk['seconds'] / col['seconds']:.1f}× | {total / col['seconds']:.1f}× | "
                   f"{gib(col['driver_rss'])} → {gib(spk['driver_rss'])} | {gib(spk['tree_pss'])} |")
    for k, r in enumerate(failures, 1):
        out += ["", f"({k}) {r['n']:,} rows, {r['input']}: the Spark run failed: `{r['spark']['error']}`"]
    if failures:
        out += ["", "On `local[N]` the executor runs inside the driver's JVM, whose heap is "
                "`spark.driver.memory` (the machine table above; `--driver-memory` sets it)."]
    out += [
        "",
        "Correctness, each Spark run against the columnar run of the same input (rows read, rows rejected, "
        "scorecards), and where the Spark run's time goes (seconds, `spark.engine.LAST_TIMINGS`: *read* is "
        "reading and typing the files on the executors and the cross-file duplicate-id check; *score* is the "
        "shuffle by subject, the columnar engine scoring each group, and collecting the scorecards and "
        "rejects on the driver):",
        "",
        "| rows | input | rows read | rejected | scorecards | Spark = columnar | files | groups | read (s) | "
        "score (s) | rows/s per core, read + score |",
        "|---:|---|---:|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        col, spk = r["columnar"], r["spark"]
        counts = f"{col['rows']:,} | {col['rejected']:,} | {col['subjects']:,}"
        if "error" in spk:
            out.append(f"| {r['n']:,} | {r['input']} | {counts} | — (failed) | | | | | |")
            continue
        if not r["check"]:
            counts = (f"{col['rows']:,} / {spk['rows']:,} | {col['rejected']:,} / {spk['rejected']:,} | "
                      f"{col['subjects']:,} / {spk['subjects']:,}")
        t = spk["timings"]
        busy = t.get("read", 0) + t.get("score", 0)
        out.append(f"| {r['n']:,} | {r['input']} | {counts} | {_check(r)} | {int(t.get('files', 0))} | "
                   f"{int(t.get('groups', 0))} | {t.get('read', 0):.2f} | {t.get('score', 0):.2f} | "
                   f"{spk['rows'] / (busy * LOCAL_CORES):,.0f} |")
    return out


def estimate(results: list[dict[str, Any]], driver_memory: str | None) -> list[str]:
    """Rows per hour on 10 and 100 executors, from the largest multi-file Parquet run, and what limits it."""
    multi = [r for r in results if r["input"].startswith(f"Parquet, {PARTS} parts")]
    runs = [r for r in multi if "error" not in r["spark"]]
    largest = max(results, key=lambda x: x["n"])["columnar"]
    if not runs:
        return ["", "### What a cluster would do", "", "No multi-file Parquet run succeeded, so there is no "
                "estimate from this run.", *limits(largest)]
    r = max(runs, key=lambda x: x["n"])
    spk = r["spark"]
    bigger = ", ".join(f"{f['n']:,}" for f in multi if f["n"] > r["n"])
    failed = bool(bigger)
    read, score = spk["timings"]["read"], spk["timings"]["score"]
    per_core = spk["rows"] / ((read + score) * LOCAL_CORES)
    read_core = spk["rows"] / (read * LOCAL_CORES)
    score_core = spk["rows"] / (score * LOCAL_CORES)
    lines = [
        "",
        "### What a cluster would do: an estimate",
        "",
        f"From the {r['n']:,}-row run on {PARTS} Parquet part files: read {read:.2f} s + score {score:.2f} s "
        f"on {LOCAL_CORES} cores, so **per-core throughput = rows ÷ ((read + score) × {LOCAL_CORES} cores) = "
        f"{spk['rows']:,} ÷ ({read + score:.2f} × {LOCAL_CORES}) ≈ {per_core:,.0f} rows/s** "
        f"({read_core:,.0f} rows/s per core for reading alone, {score_core:,.0f} for scoring alone)"
        + (f"; the {bigger}-row run failed (above), and at {r['n']:,} rows the fixed costs (the Python "
           "workers starting, the first tasks) weigh more than they would in a larger run" if failed else "")
        + ". Then",
        "",
        f"    rows/hour ≈ per-core rows/s × {EXECUTOR_CORES} cores × executors × 3,600",
        "",
        "| executors | cores | rows/hour | 100M rows in | 1B rows in |",
        "|---:|---:|---:|---:|---:|",
    ]
    for e in EXECUTORS:
        cores = e * EXECUTOR_CORES
        rate = per_core * cores
        lines.append(f"| {e} | {cores} | {rate * 3600 / 1e9:,.1f} billion | {_duration(1e8 / rate)} | "
                     f"{_duration(1e9 / rate)} |")
    lines += [
        "",
        f"Assumptions: executors of {EXECUTOR_CORES} cores each; reading scales with the number of files "
        "(one task per file), so the input needs at least as many files as cores "
        f"({max(EXECUTORS) * EXECUTOR_CORES} for {max(EXECUTORS)} executors); beyond reading, the shuffle "
        "by subject is what limits, and it is "
        "taken to scale with cores as it did here; the scorecards and rejects the driver collects are small "
        "beside the data. The per-core figure takes both local cores as busy for the whole run, which on a "
        "machine running other work they may not have been, and the one JVM of local mode had a heap of "
        f"{driver_memory or DEFAULT_HEAP} for the whole run (the rows it persists go to disk once they "
        "outgrow it); on the other side, the local shuffle crosses no network. Read the figures as an order "
        "of magnitude, not a promise. Files here are local and read in place; a cluster reading them from "
        "object storage also moves their bytes through Spark (`binaryFile`), which is not measured here.",
        *limits(spk),
    ]
    return lines


def limits(run: dict[str, Any]) -> list[str]:
    """What limits a Spark run, as found here and by construction (``run``: a run's counts, for scale)."""
    return [
        "",
        "What limits it:",
        "",
        "- **One file is one task, read whole.** One executor reads and types each file, so a table of one "
        "file gets one core for reading however large the cluster is, and its typed rows go back to the JVM "
        "as one Arrow table, whose text columns (Spark's Arrow `string`) hold at most 2 GiB each. Local files, "
        "as here, are read in place; a file at a URI (`s3a://`, `hdfs://`, which is what a cluster reads) "
        "comes through Spark's `binaryFile` instead: its bytes are held whole in the executor's JVM heap, and "
        "Spark refuses a file over 2 GiB. The failures above, if any, show which limit this run met. A table "
        "of many files (a lakehouse table's parts) is read in parallel, each file by its own task.",
        "- **The same work, plus the traffic.** Typing and scoring are the columnar engine's code in both "
        "runs; the Spark run adds moving every typed row (transcripts included) from the reading Python "
        "worker to the JVM, persisting it, shuffling it and handing it to a scoring Python worker, and the "
        "duplicate-id check. That is where the time over the columnar engine goes, and on a cluster it is "
        "spread over the cores rather than removed.",
        "- **The driver collects every scorecard and every rejected row.** They are few beside the rows "
        f"(here {run['subjects']:,} scorecards and {run['rejected']:,} rejects for {run['rows']:,} rows), but "
        "they grow with subjects and dirty rows, and the driver sorts them and writes the outputs alone.",
        "- **Each group's rows must fit in an executor's Python worker.** Rows are hashed by subject into "
        "max(cores, rows ÷ 1,000,000) groups, and a group is scored as one Arrow table in one Python "
        "worker: about 1M rows (a few hundred MB with the transcripts) per group by default, which the "
        "executors' Python memory (`spark.executor.pyspark.memory`, or the memory overhead) must hold, "
        "besides what the JVM heap holds.",
        "- **Duplicate ids across files** are found with a group-by of every id, a second shuffle, paid only "
        "when there are several files; files that share ids are read again together in one task.",
        "- **The JVM heap.** Persisted rows go to disk when the heap is short, but the duplicate-id "
        "group-by and the shuffle's sorts need working memory in it: `spark.executor.memory` on a cluster; "
        "on `local[N]`, `spark.driver.memory`, which a session `qualiscore.engine.spark.session` starts "
        "sets to half the machine's memory (`--driver-memory` here, or `SPARK_DRIVER_MEMORY`, overrides).",
    ]


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def section(results: list[dict[str, Any]], argv: list[str], driver_memory: str | None,
            source: str) -> list[str]:
    info = {"qualiscore": source, **machine()}
    info["Java"] = _java_version()
    info["pyspark"] = subprocess.run([sys.executable, "-c", "import pyspark; print(pyspark.__version__)"],
                                     capture_output=True, text=True).stdout.strip() or "not installed"
    info["Spark driver memory"] = driver_memory or DEFAULT_HEAP
    return [
        SECTION,
        "",
        f"Run of `python bench/spark.py {' '.join(argv)}`".rstrip() + f" on {dt.date.today()}:",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in info.items()),
        "",
        f"Each figure is one fresh process: `evaluate` with `RunOptions(engine=\"columnar\")`, then with "
        f"`RunOptions(engine=\"spark\", spark_master=\"{MASTER}\")` on the same input, cs-quality 2026Q2, "
        "scheme loading excluded. *Session start* is `qualiscore.engine.spark.session(\"local[2]\")` in the "
        "same process before the run (starting the JVM and the SparkContext); the Spark run itself still "
        "starts the executors' Python workers, which import qualiscore. On a machine running other "
        "work, the ratios, measured minutes apart, say more than the seconds. *Driver peak RSS* is the "
        "evaluating Python process (`ru_maxrss`); a Spark run's JVM (holding the local executor) and its "
        "Python workers are separate processes and are not included in it: the last column is the peak of "
        "all of them together (the proportional set size of the whole process tree, sampled every 0.5 s).",
        "",
        *tables(results),
        *estimate(results, driver_memory),
    ]


def _java_version() -> str:
    try:
        out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    except OSError:
        return "not found"
    return out[0].strip() if out else "unknown"


def write_section(lines: list[str], section: str = SECTION) -> None:
    """Replace the section of RESULTS.md headed ``section`` (up to the next level-2 heading), or append it."""
    old = RESULTS.read_text(encoding="utf-8").splitlines() if RESULTS.exists() else ["# Benchmark results"]
    start = next((k for k, line in enumerate(old) if line.strip() == section), None)
    if start is None:
        while old and not old[-1].strip():
            old.pop()
        new = [*old, "", *lines]
    else:
        end = next((k for k in range(start + 1, len(old)) if old[k].startswith("## ")), len(old))
        tail = old[end:]
        new = [*old[:start], *lines, *(["", *tail] if tail else [])]
    RESULTS.write_text("\n".join(new) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=["1000000", "10000000"],
                    help="row counts, space- or comma-separated (default 1M 10M)")
    ap.add_argument("--quick", action="store_true", help="one 100k-row smoke run")
    ap.add_argument("--agents", type=int, default=None,
                    help="agents in the synthetic data (default: synth's n/400, as bench/run.py)")
    ap.add_argument("--driver-memory", default=None,
                    help="the Spark driver's JVM heap, e.g. 4g (local mode: also the executor's; "
                         "default: Spark's own, 1g)")
    ap.add_argument("--commit", default=None,
                    help="measure src/ as committed in this revision (extracted to bench/out/), not the "
                         "working tree's")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds before a measurement is stopped")
    ap.add_argument("--no-write", action="store_true", help="print the tables only, do not update RESULTS.md")
    args = ap.parse_args()
    sizes = [100_000] if args.quick else [int(s.replace("_", "")) for a in args.sizes for s in a.split(",") if s]

    # spark.driver.memory must be given before the JVM starts: through spark-submit's arguments.
    env = {"PYSPARK_SUBMIT_ARGS": f"--driver-memory {args.driver_memory} pyspark-shell"} \
        if args.driver_memory else {}
    if args.commit:  # the children (and Spark's Python workers, which inherit it) import the snapshot
        SOURCE["src"], sha = snapshot(args.commit)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SOURCE["src"]), os.environ.get("PYTHONPATH")) if p)
        source = f"commit {sha} (src/ as committed)"
    else:
        before = working_tree_state()
        head, _, changed = before.partition("+")
        source = f"working tree at {head}" + (", src/ with uncommitted changes" if changed else "")
    results = [r for n in sizes for r in measure_size(n, args.agents, args.timeout, env)]
    if not args.commit and working_tree_state() != before:
        source += " — **src/ changed during the run: the measurements may mix versions of the engine**"
        print("\nwarning: src/ changed during the run (use --commit to measure one version)", file=sys.stderr)
    lines = section(results, sys.argv[1:], args.driver_memory, source)
    print("\n".join(lines))
    mismatched = [r for r in results if r["check"] is False]
    if mismatched:  # counts differ: no results are written
        raise SystemExit("Spark and columnar runs differ on: " + ", ".join(f"{r['n']:,} rows {r['input']}"
                                                                              for r in mismatched))
    if not args.no_write:
        write_section(lines)
        print(f"\nwritten to {RESULTS.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
