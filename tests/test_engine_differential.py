"""The columnar engine gives byte-identical outputs to the reference engine.

Hypothesis writes random schemes (every measure kind, `where` filters, every scoring
kind with values on band edges, min_sample, not-applicable rules at both levels,
grade and cap vetoes (on records, and on measured values against a threshold: of a
measure or of an indicator), group_by and period choices, record-level schemes) and random
datasets (nulls, empty groups, dirty and duplicate rows, all-N/A subjects, vetoes that
fire), as CSV, JSON Lines or Parquet files in a temporary directory. Both engines read
the same files; scorecards.jsonl, scorecards.csv and rejects.csv must be the same bytes.

``QUALISCORE_DIFF_EXAMPLES`` sets the number of examples (default 40, so that
``make test`` stays quick); the ``slow`` variant runs ten times as many.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pl = pytest.importorskip("polars")

from conftest import NO_SPARK  # noqa: E402
from qualiscore.engine import Run, evaluate  # noqa: E402
from qualiscore.errors import QualiscoreError, UsageError  # noqa: E402
from qualiscore.manifest import render_outputs  # noqa: E402
from qualiscore.options import RunOptions  # noqa: E402
from qualiscore.schemes import load_scheme, load_versions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
RULES = ROOT / "rules"
EXAMPLES = int(os.environ.get("QUALISCORE_DIFF_EXAMPLES", "40"))
COMPARED = ("scorecards.jsonl", "scorecards.csv", "rejects.csv")


# --------------------------------------------------------------------------- running both engines


ENGINE_NAMES = {"reference": "rows", "columnar": "columnar", "spark": "spark"}
# The engines held to the reference; the spark engine's Spark session is a session-scoped fixture.
ON_SPARK_MARKS = [pytest.mark.spark, pytest.mark.skipif(NO_SPARK is not None, reason=str(NO_SPARK))]
COMPARED_ENGINES = ["columnar", pytest.param("spark", marks=ON_SPARK_MARKS)]
SPARK_EXAMPLES = int(os.environ.get("QUALISCORE_SPARK_EXAMPLES", "12"))


@pytest.fixture(params=COMPARED_ENGINES)
def compared(request: pytest.FixtureRequest) -> str:
    """The engine a test compares with the reference."""
    if request.param == "spark":
        request.getfixturevalue("spark")
    return str(request.param)
KEY = b"differential-test-key-0123456789"  # for schemes with personal fields (privacy.py)


def evaluate_on(engine: str, schemes: list[Any], paths: list[str], **given: Any) -> Run:
    """The façade on one engine; the Run then names no engine, so that both engines' manifests compare."""
    run = evaluate(schemes, paths, RunOptions(engine=ENGINE_NAMES[engine],  # type: ignore[arg-type]
                                              pseudonymise_key=KEY, **given))
    assert run.options["engine"] == ENGINE_NAMES[engine]
    return dataclasses.replace(run, options={**run.options, "engine": None})


def _run(engine: str, schemes: list[Any], paths: list[str], by: list[str] | None) -> tuple[str, Any]:
    try:
        run = evaluate_on(engine, schemes, paths, by=tuple(by) if by else None)
    except QualiscoreError as exc:
        return "error", (type(exc).__name__, str(exc))
    except Exception as exc:  # the reference may crash on a scheme; the columnar engine must too
        return "crash", (type(exc).__name__, engine == "reference" or str(exc))
    return "run", run


def assert_same(schemes: list[Any], paths: list[str], by: list[str] | None = None,
                other: str = "columnar") -> Run | None:
    kind_a, a = _run("reference", schemes, paths, by)
    kind_b, b = _run(other, schemes, paths, by)
    assert kind_a == kind_b, (kind_a, a, kind_b, b)
    if kind_a != "run":
        assert a[0] == b[0], (a, b)
        return None
    assert a.options == b.options
    assert a.group_by == b.group_by
    assert [s.version for s in a.schemes] == [s.version for s in b.schemes]
    assert a.dataset.inputs == b.dataset.inputs
    assert a.dataset.missing_columns == b.dataset.missing_columns
    fa, fb = render_outputs(a), render_outputs(b)
    for name in COMPARED:
        if fa[name] != fb[name]:
            la, lb = fa[name].decode().splitlines(), fb[name].decode().splitlines()
            diff = next(((i, x, y) for i, (x, y) in enumerate(zip(la, lb)) if x != y), (len(la), len(la), len(lb)))
            raise AssertionError(f"{name} differs at line {diff[0]}:\nreference: {diff[1]}\n{other}:  {diff[2]}")
    assert fa["manifest.json"] == fb["manifest.json"]
    return a


# --------------------------------------------------------------------------- golden: the bundled schemes


@pytest.mark.parametrize(("scheme", "data"), [
    ("cs-quality/2026Q2.yaml", ["interactions.csv"]),
    ("qa-form/2026Q2.yaml", ["qa-inspections.csv"]),
    ("cs-quality", ["interactions-q1q2.csv"]),
    ("cs-quality/2026Q1.yaml", ["interactions-q1q2.csv"]),
    ("cs-quality/2026Q2.yaml", ["interactions-q1q2.csv", "interactions.csv"]),
])
def test_bundled_schemes_give_identical_outputs(scheme: str, data: list[str], compared: str) -> None:
    run = assert_same(load_versions(RULES / scheme), [str(SAMPLE / d) for d in data], other=compared)
    assert run is not None and run.scorecards


def test_bundled_scheme_on_parquet_and_jsonl(tmp_path: Path, compared: str) -> None:
    typed = tmp_path / "typed.parquet"
    pl.scan_csv(SAMPLE / "interactions.csv", infer_schema_length=None).sink_parquet(typed)
    text = tmp_path / "text.parquet"
    pl.scan_csv(SAMPLE / "interactions.csv", infer_schema=False).sink_parquet(text)
    jsonl = tmp_path / "rows.jsonl"
    with open(SAMPLE / "interactions.csv", encoding="utf-8", newline="") as f, open(jsonl, "w", encoding="utf-8") as out:
        for row in csv.DictReader(f):
            out.write(json.dumps({k: (v or None) for k, v in row.items()}, ensure_ascii=False) + "\n")
    scheme = [load_scheme(RULES / "cs-quality" / "2026Q2.yaml")]
    for paths in ([typed], [text], [jsonl], [typed, SAMPLE / "interactions-q1q2.csv"]):
        assert_same(scheme, [str(p) for p in paths], other=compared)


def test_by_regrouping(tmp_path: Path, compared: str) -> None:
    scheme = [load_scheme(RULES / "cs-quality" / "2026Q2.yaml")]
    assert_same(scheme, [str(SAMPLE / "interactions.csv")], by=["team"], other=compared)
    assert_same(scheme, [str(SAMPLE / "interactions.csv")], by=["team", "channel"], other=compared)
    assert_same(scheme, [str(SAMPLE / "interactions.csv")], by=["nope"], other=compared)


# --------------------------------------------------------------------------- random schemes

FIELDS = {
    "id": {"type": "string"},
    "agent": {"type": "string"},
    "team": {"type": "string", "nullable": True},
    "channel": {"type": "string", "enum": ["chat", "phone", "email"]},
    "day": {"type": "date"},
    "ts": {"type": "datetime", "nullable": True},
    "x": {"type": "number", "nullable": True, "minimum": -50, "maximum": 500},
    "n": {"type": "integer", "nullable": True, "minimum": 0, "maximum": 10},
    "flag": {"type": "boolean", "nullable": True},
    "ok": {"type": "boolean"},
    "dur": {"type": "duration", "nullable": True, "minimum": 0},
    "txt": {"type": "string", "nullable": True},
}
CONSTANTS = {"tgt": {"chat": 60, "phone": 30.5}, "phrases": ["不清楚", "不", "abc", "ab"], "levels": [1, 2, 3]}
# Derived values: (name, expression, kind) — kinds "num", "bool", "any".
DERIVED = [
    ("fast", "x <= tgt[channel]", "bool"),
    ("bad", "contains_any(txt, phrases)", "bool"),
    ("hits", "count_matches(txt, phrases)", "num"),
    ("wait", "minutes_between(ts, ts)", "num"),
    ("bdays", "business_days_between(day, ts)", "num"),
    ("ratio_xn", "x / n", "num"),
    ("half", "round(x / 2, 1)", "num"),
    ("both", "flag and not ok", "bool"),
    ("bucket", "n // 3", "num"),
    ("rest", "n % 4", "num"),
    ("chat", "lower(channel) == 'chat'", "bool"),
    ("xf", "x if flag else -1", "num"),
    ("dd", "days_between(day, ts)", "num"),
    ("lvl", "levels[n % 3]", "num"),
    ("cx", "coalesce(x, n, 0)", "num"),
    ("big", "x >= 100 or n >= 9", "bool"),
    ("mx", "max(n, 2) + min(x, 10)", "num"),
    ("hours", "hours_between(ts, ts) + 1", "num"),
    ("fdiv", "x // 7", "num"),
    ("pw", "n ** 2", "num"),
    ("txtlen", "len(txt)", "num"),
    ("isnull", "txt is None", "bool"),
    ("inlist", "channel in ['chat', 'email']", "bool"),
    ("ab", "abs(x - 50)", "num"),
    ("typeerr", "txt + n", "num"),
    ("idx", "levels[x]", "num"),
    ("rnd", "round(x)", "num"),
    ("up", "upper(txt) == 'AB'", "bool"),
    ("inv", "n ** -1", "num"),
    ("mixed", "max(x, n)", "num"),
    ("cmpmix", "txt < n", "bool"),
    ("nested", "(x or 0) * 2 > 50 and (flag or n > 5)", "bool"),
    ("cond", "'chat' if ok else channel", "any"),
]
NUMERIC_EXPRS = ["x", "n", "dur", "x * 2", "n + 1", "coalesce(x, 0)", "1"]
BOOL_EXPRS = ["flag", "ok", "x >= 100", "n >= 5", "channel == 'chat'", "txt is not None", "True",
              "not flag", "x > n"]
WHERE_EXPRS = ["flag", "channel != 'phone'", "n is not None", "x >= 0", "ok", "day >= '2026-01-01'"]
KINDS = ["count", "sum", "mean", "median", "percentile", "min", "max", "share", "ratio", "nps", "any", "all"]


@st.composite
def scorings(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["bands", "bands", "linear", "pass", "map"]))
    edge = st.sampled_from([0, 0.25, 0.5, 1, 2, 3, 5, 10, 50, 100, -20])
    if kind == "bands":
        highs = sorted(set(draw(st.lists(edge, min_size=1, max_size=3))), reverse=True)
        bands = [{"min": h, "points": draw(st.sampled_from([100, 80, 60, 40]))} for h in highs]
        if draw(st.booleans()):
            bands.append({"points": 0})
        return {"bands": bands}
    if kind == "linear":
        a, b = draw(edge), draw(edge)
        if a == b:
            b = a + 1
        return {"linear": {"from": a, "to": b}}
    if kind == "pass":
        rule = draw(st.sampled_from([{"min": 0.5}, {"max": 3}, {"equals": True}, {"min": 1, "max": 5}, {"equals": 2}]))
        return {"pass": rule}
    return {"map": {"0": 0, "1": 50, "2": 70, "true": 100, "false": 0, "3": 90}, "default": 10}


@st.composite
def measures(draw: Any, derived: list[tuple[str, str, str]], record_level: bool) -> dict[str, Any]:
    nums = NUMERIC_EXPRS + [d[0] for d in derived if d[2] == "num"]
    bools = BOOL_EXPRS + [d[0] for d in derived if d[2] == "bool"]
    kinds = ["value", "value", *KINDS] if record_level else KINDS
    kind = draw(st.sampled_from(kinds))
    m: dict[str, Any]
    if kind == "ratio":
        m = {"ratio": {"numerator": draw(st.sampled_from(nums)), "denominator": draw(st.sampled_from(nums))}}
    elif kind in ("count", "share", "any", "all"):
        m = {kind: draw(st.sampled_from(bools))}
    elif kind == "value":
        m = {"value": draw(st.sampled_from(nums + bools + ["channel", "ts", "day", "txt"]))}
    else:
        m = {kind: draw(st.sampled_from(nums))}
        if kind == "percentile":
            m["p"] = draw(st.sampled_from([0, 10, 50, 90, 100, 33.3]))
    if draw(st.integers(0, 3)) == 0:
        m["where"] = draw(st.sampled_from(WHERE_EXPRS))
    return m


def has_number(measure: dict[str, Any]) -> bool:
    """Whether a measure's value is a number, so a veto may compare it with a threshold."""
    if "any" in measure or "all" in measure:
        return False
    return "value" not in measure or measure["value"] in NUMERIC_EXPRS


@st.composite
def schemes(draw: Any) -> dict[str, Any]:
    record_level = draw(st.integers(0, 4)) == 0
    derived = draw(st.lists(st.sampled_from(DERIVED), max_size=4, unique_by=lambda d: d[0]))
    group_by = [] if record_level else draw(st.sampled_from([["agent"], ["agent", "team"], ["team"], ["channel"]]))
    subject: dict[str, Any] = {"group_by": group_by}
    if (draw(st.booleans()) or not record_level) and draw(st.integers(0, 5)):
        subject["period"] = {"field": draw(st.sampled_from(["day", "ts"])),
                             "every": draw(st.sampled_from(["day", "week", "month", "quarter", "year"]))}
    dims = []
    for di in range(draw(st.integers(1, 3))):
        inds = []
        for ii in range(draw(st.integers(1, 3))):
            ind: dict[str, Any] = {
                "id": f"i{di}{ii}", "measure": draw(measures(derived, record_level)),
                "scoring": draw(scorings()), "weight": draw(st.sampled_from([1, 2, 3, 0.5, 10])),
            }
            if draw(st.booleans()):
                ind["min_sample"] = draw(st.integers(1, 4))
            if draw(st.booleans()):
                ind["when_not_applicable"] = draw(st.sampled_from(["redistribute", "zero", "full"]))
            inds.append(ind)
        dim: dict[str, Any] = {"id": f"d{di}", "weight": draw(st.sampled_from([1, 3, 30, 0.25])), "indicators": inds}
        if draw(st.booleans()):
            dim["when_not_applicable"] = draw(st.sampled_from(["redistribute", "zero", "full"]))
        dims.append(dim)
    grades = [{"name": "A", "min": 90}, {"name": "B", "min": 75}, {"name": "C", "min": 60}, {"name": "D", "min": 0}]
    vetoes = []
    numeric = [i for d in dims for i in d["indicators"] if has_number(i["measure"])]
    for vi in range(draw(st.integers(0, 2))):
        veto: dict[str, Any] = {"id": f"v{vi}"}
        tested = draw(st.sampled_from(["records", "records", "measure", "indicator"] if numeric
                                      else ["records", "records", "measure"]))
        if tested == "records":
            veto["when"] = draw(st.sampled_from([{"any": "both"} if any(d[0] == "both" for d in derived)
                                                 else {"any": "not ok"}, {"count": "n >= 9"},
                                                 {"any": "x >= 400", "where": "flag"}, {"count": "txt is None"}]))
        else:
            if tested == "indicator":
                ind = draw(st.sampled_from(numeric))
                veto["indicator"], measure = ind["id"], ind["measure"]
            else:
                measure = veto["when"] = draw(st.sampled_from([
                    {"share": "flag"}, {"mean": "x"}, {"count": "n >= 5"}, {"max": "dur", "where": "ok"},
                    {"ratio": {"numerator": "x", "denominator": "n"}}, {"nps": "n"}, {"sum": "x * 2"}]))
            edges = [0, 0.25, 0.5, 1] if "share" in measure else [0, 0.25, 1, 3, 10, 50, 99.75, 100, -20]
            veto[draw(st.sampled_from(["above", "below", "at_least", "at_most"]))] = draw(st.sampled_from(edges))
        veto["effect"] = draw(st.sampled_from([{"grade": "D"}, {"cap": "C"}, {"grade": "B"}, {"cap": "A"}]))
        veto["reason"] = "veto"
        vetoes.append(veto)
    tz = draw(st.sampled_from(["UTC", "Asia/Shanghai", "Europe/Berlin"]))
    doc: dict[str, Any] = {
        "format": "qualiscore/v1", "scheme": "diff", "version": "v1", "effective_from": "2026-01-01",
        "subject": subject,
        "records": {"id": "id", "timezone": tz, "fields": FIELDS},
        "constants": CONSTANTS,
        "dimensions": dims, "grades": grades,
        "calendar": {"holidays": ["2026-01-01", "2026-02-16"], "workdays": ["2026-02-14"]},
    }
    if draw(st.booleans()):
        doc["rounding"] = {"decimals": draw(st.integers(0, 3))}
    if derived:
        doc["derive"] = {name: src for name, src, _ in derived}
    personal = draw(st.sampled_from([None, None, None, {"agent": "pseudonymise"}, {"id": "pseudonymise"},
                                     {"agent": "pseudonymise", "id": "pseudonymise", "team": "pseudonymise",
                                      "channel": "pseudonymise"}, {"txt": "redact"}, {"txt": "drop"}]))
    if personal:  # de-identified as read; one that the scheme cannot allow is refused by validation
        doc["records"]["personal"] = personal
    if vetoes:
        doc["vetoes"] = vetoes
    return doc


# --------------------------------------------------------------------------- random datasets

NUMBERS = ["0", "1", "2.5", "3", "10", "50", "99.75", "100", "0.25", "-20", "400", "7", "", "", "1e2", " 5 ",
           "abc", "600", "-0.5", "12.125"]
INTS = ["0", "1", "2", "3", "5", "9", "10", "", "", "11", "x", "4.0", "-1", "007"]
BOOLS = ["true", "false", "", "TRUE", "yes", "0", "1", "maybe", "N", " true"]
DAYS = ["2026-01-01", "2026-01-05", "2026-02-14", "2026-02-28", "2026-03-31", "2026-06-30", "2025-12-29",
        "2026-13-01", "", "2026/3/1"]
TIMES = ["2026-01-05T09:00:00", "2026-02-14T23:30:00+08:00", "2026-03-29T01:30:00Z", "2026-03-29T02:30:00",
         "2026-10-25T02:30:00", "2026-06-30 23:59:59", "", "2026-01-01T00:00:00.5", "not a time",
         "2025-12-31T23:00:00-01:00"]
DURS = ["0", "60", "00:02:30", "02:30", "1:00:00", "", "-5", "1:99:00", "30.5"]
TEXTS = ["", "您好不清楚", "abcab", "ok", "不不不", "ab", "   ", "x,y"]


@st.composite
def datasets(draw: Any) -> list[list[str]]:
    rnd = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(0, 40))
    rows = []
    for i in range(n):
        dirty = rnd.random() < 0.1
        row = {
            "id": f"R{i:03d}" if rnd.random() > 0.05 else f"R{rnd.randrange(max(i, 1)):03d}",
            "agent": rnd.choice(["A1", "A2", "A3"]),
            "team": rnd.choice(["T1", "T2", ""]),
            "channel": rnd.choice(["chat", "phone", "email"] + (["sms"] if dirty else [])),
            "day": rnd.choice(DAYS[:7] + (DAYS[7:] if dirty else [])),
            "ts": rnd.choice(TIMES[:8] + (TIMES[8:] if dirty else [])),
            "x": rnd.choice(NUMBERS[:16] + (NUMBERS[16:] if dirty else [])),
            "n": rnd.choice(INTS[:10] + (INTS[10:] if dirty else [])),
            "flag": rnd.choice(BOOLS[:7] + (BOOLS[7:] if dirty else [])),
            "ok": rnd.choice(["true", "false"] + (["", "maybe"] if dirty else [])),
            "dur": rnd.choice(DURS[:6] + (DURS[6:] if dirty else [])),
            "txt": rnd.choice(TEXTS),
        }
        rows.append([row[k] for k in FIELDS])
    return rows


def write(path: Path, fmt: str, rows: list[list[str]], rnd: random.Random) -> None:
    names = list(FIELDS)
    if fmt in ("csv", "tsv"):
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator=rnd.choice(["\n", "\r\n"]), delimiter="," if fmt == "csv" else "\t")
            w.writerow(names)
            for r in rows:
                if rnd.random() < 0.03:
                    f.write("\n")  # a blank line keeps its row number
                if rnd.random() < 0.03:
                    w.writerow(r[:-2])  # a ragged row
                else:
                    w.writerow(r)
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                obj = {k: (None if v == "" else v) for k, v in zip(names, r)}
                if obj["n"] is not None and obj["n"].isdigit() and rnd.random() < 0.5:
                    obj["n"] = int(obj["n"])
                f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    else:
        frame = pl.DataFrame({k: [r[i] or None for r in rows] for i, k in enumerate(names)},
                             schema={k: pl.String for k in names})
        if rnd.random() < 0.5:
            frame = frame.with_columns(pl.col("n").cast(pl.Int64, strict=False),
                                       pl.col("x").cast(pl.Float64, strict=False),
                                       pl.col("day").str.to_date(strict=False))
        frame.write_parquet(path)


def _check(tmp: Path, doc: dict[str, Any], rows: list[list[str]], seed: int, other: str = "columnar") -> None:
    rnd = random.Random(seed)
    path = tmp / "diff" / "v1.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        scheme = load_scheme(path)
    except QualiscoreError:
        return  # an invalid combination (e.g. value with group_by): nothing to compare
    fmt = rnd.choice(["csv", "csv", "csv", "tsv", "jsonl", "parquet"])
    files = []
    split = rnd.randrange(len(rows) + 1) if rnd.random() < 0.3 else len(rows)
    for k, part in enumerate([rows[:split], rows[split:]] if split < len(rows) else [rows]):
        fk = fmt if k == 0 or rnd.random() < 0.5 else rnd.choice(["csv", "jsonl", "parquet"])
        f = tmp / f"data{k}.{fk}"
        write(f, fk, part, rnd)
        files.append(str(f))
    by = rnd.choice([None, None, None, ["team"], ["channel", "agent"]])
    assert_same([scheme], files, by=by, other=other)


FAST = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FAST
@given(doc=schemes(), rows=datasets(), seed=st.integers(0, 2**16))
def test_random_schemes_and_datasets(tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any],
                                     rows: list[list[str]], seed: int) -> None:
    _check(tmp_path_factory.mktemp("diff"), doc, rows, seed)


SLOW = settings(max_examples=EXAMPLES * 10, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@pytest.mark.slow
@SLOW
@given(doc=schemes(), rows=datasets(), seed=st.integers(0, 2**16))
def test_random_schemes_and_datasets_many(tmp_path_factory: pytest.TempPathFactory, doc: dict[str, Any],
                                          rows: list[list[str]], seed: int) -> None:
    if not os.environ.get("QUALISCORE_SLOW"):
        pytest.skip("set QUALISCORE_SLOW=1 (make test-slow) for the long differential run")
    _check(tmp_path_factory.mktemp("diff"), doc, rows, seed)


ON_SPARK = settings(max_examples=SPARK_EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@pytest.mark.spark
@ON_SPARK
@given(doc=schemes(), rows=datasets(), seed=st.integers(0, 2**16))
def test_random_schemes_and_datasets_on_spark(spark: Any, tmp_path_factory: pytest.TempPathFactory,
                                              doc: dict[str, Any], rows: list[list[str]], seed: int) -> None:
    """The same random cases on Spark (local mode): QUALISCORE_SPARK_EXAMPLES of them (make test: 12)."""
    _check(tmp_path_factory.mktemp("diff"), doc, rows, seed, other="spark")


# --------------------------------------------------------------------------- larger synthetic data

SYNTH_ROWS = 200_000 if os.environ.get("QUALISCORE_SLOW") else 20_000


@pytest.mark.parametrize("kind", ["cs", "qa"])
def test_synthetic_data_in_many_batches(tmp_path: Path, kind: str, compared: str) -> None:
    """Enough rows for Polars to work in many batches and threads; dirty rows and fix-ups included."""
    from qualiscore import synth

    path = tmp_path / f"{kind}.csv"
    if kind == "cs":
        synth.write_csv(path, SYNTH_ROWS, seed=3, start="2026-04-01", months=2, agents=30, dirty=0.02)
        scheme = RULES / "cs-quality" / "2026Q2.yaml"
    else:
        synth.write_qa_csv(path, SYNTH_ROWS // 4, seed=3, start="2026-04-01", dirty=0.02)
        scheme = RULES / "qa-form" / "2026Q2.yaml"
    parquet = tmp_path / f"{kind}.parquet"
    pl.scan_csv(path, infer_schema_length=None).sink_parquet(parquet)
    for p in (path, parquet):
        run = assert_same([load_scheme(scheme)], [str(p)], other=compared)
        assert run is not None and run.rows_rejected


# --------------------------------------------------------------------------- versions and dates

def _versioned(tmp: Path, same_contract: bool = False) -> list[Any]:
    out = []
    for version, start, end, target in (("v1", "2026-01-01", "2026-01-31", 60), ("v2", "2026-02-01", None, 30)):
        doc = {
            "format": "qualiscore/v1", "scheme": "diff", "version": version, "effective_from": start,
            "subject": {"group_by": ["agent"], "period": {"field": "day", "every": "month"}},
            # The versions' contracts differ: a row may be read by one version and refused by the other.
            "records": {"id": "id", "fields": {**FIELDS, "x": {"type": "number", "nullable": True}}
                        if version == "v1" or same_contract
                        else {**FIELDS, "channel": {"type": "string", "enum": ["chat", "phone", "email", "sms"]}}},
            "constants": {"t": target},
            "derive": {"fast": "x <= t"},
            "dimensions": [{"id": "d", "weight": 1, "indicators": [
                {"id": "s", "weight": 1, "measure": {"share": "fast"}, "scoring": {"linear": {"from": 0, "to": 1}}},
                {"id": "m", "weight": 1, "measure": {"mean": "x"}, "scoring": {"linear": {"from": 0, "to": 100}}},
            ]}],
            "grades": [{"name": "A", "min": 50}, {"name": "B", "min": 0}],
        }
        if end:
            doc["effective_to"] = end
        if version == "v2":
            doc["supersedes"] = "v1"
        path = tmp / "diff" / f"{version}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        out.append(path)
    return [load_scheme(p) for p in out]


@FAST
@given(rows=datasets(), seed=st.integers(0, 2**16))
def test_version_routing(tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], seed: int) -> None:
    tmp = tmp_path_factory.mktemp("versions")
    schemes_ = _versioned(tmp)
    rnd = random.Random(seed)
    f = tmp / "data.csv"
    write(f, "csv", rows, rnd)
    assert_same(schemes_, [str(f)])
    kind_a, _ = _run("reference", schemes_, [str(f)], None)
    if kind_a == "run":
        ref = evaluate_on("reference", schemes_, [str(f)], as_of=dt.date(2026, 2, 1))
        col = evaluate_on("columnar", schemes_, [str(f)], as_of=dt.date(2026, 2, 1))
        assert render_outputs(ref) == render_outputs(col)


@pytest.mark.spark
@ON_SPARK
@given(rows=datasets(), seed=st.integers(0, 2**16))
def test_version_routing_on_spark(spark: Any, tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]],
                                  seed: int) -> None:
    """Versions that read one record contract, routed on Spark as by the reference."""
    tmp = tmp_path_factory.mktemp("versions")
    schemes_ = _versioned(tmp, same_contract=True)
    f = tmp / "data.csv"
    write(f, "csv", rows, random.Random(seed))
    assert_same(schemes_, [str(f)], other="spark")


def test_spark_refuses_versions_with_different_contracts(spark: Any, tmp_path: Path) -> None:
    f = tmp_path / "data.csv"
    write(f, "csv", [], random.Random(0))
    with pytest.raises(UsageError, match="different record contracts"):
        evaluate_on("spark", _versioned(tmp_path), [str(f)])


def test_excel_workbook(tmp_path: Path) -> None:
    """Workbooks are read by records.read_records as a whole, then scored by the columnar query."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "rows"
    with open(SAMPLE / "interactions.csv", encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f)):
            if i > 400:
                break
            sheet.append([int(c) if c.isdigit() and i else (c or None) for c in row])
    path = tmp_path / "book.xlsx"
    book.save(path)
    scheme = [load_scheme(RULES / "cs-quality" / "2026Q2.yaml")]
    assert_same(scheme, [str(path)])
    ref = evaluate_on("reference", scheme, [str(path)], sheet="rows")
    col = evaluate_on("columnar", scheme, [str(path)], sheet="rows")
    assert render_outputs(ref) == render_outputs(col)


HOSTILE = sorted((ROOT / "tests" / "fixtures" / "hostile" / "data").glob("*")) \
    if (ROOT / "tests" / "fixtures" / "hostile" / "data").is_dir() else []


# On Spark each export is read once, with the encoding found (the same reader runs on the executor), and in
# make test every fourth of them; QUALISCORE_SLOW=1 reads them all.
HOSTILE_ON_SPARK = {p.name for p in (HOSTILE if os.environ.get("QUALISCORE_SLOW") else HOSTILE[::4])}


@pytest.mark.parametrize(("path", "encoding", "compared"), [
    pytest.param(path, encoding, engine, id=f"{path.name}-{encoding}-{engine}",
                 marks=ON_SPARK_MARKS if engine == "spark" else ())
    for path in HOSTILE
    for encoding, engine in ((None, "columnar"), ("utf-8", "columnar"), (None, "spark"))
    if engine == "columnar" or path.name in HOSTILE_ON_SPARK], indirect=["compared"])
def test_hostile_inputs(tmp_path: Path, path: Path, encoding: str | None, compared: str) -> None:
    """Broken exports (tests/fixtures/hostile): the same rejects, or the same refusal."""
    scheme = [load_scheme(RULES / "cs-quality" / "2026Q2.yaml")]
    kind_a, a = _run_encoded("reference", scheme, [str(path)], encoding)
    kind_b, b = _run_encoded(compared, scheme, [str(path)], encoding)
    assert kind_a == kind_b, (kind_a, a, kind_b, b)
    if kind_a == "run":
        assert render_outputs(a) == render_outputs(b)
    else:
        assert a == b


def _run_encoded(engine: str, schemes: list[Any], paths: list[str], encoding: str | None) -> tuple[str, Any]:
    try:
        return "run", evaluate_on(engine, schemes, paths, encoding=encoding)
    except QualiscoreError as exc:
        return "error", (type(exc).__name__, str(exc))


@pytest.mark.parametrize("case", ["long-transcript", "oversized-cell", "huge-numbers"])
def test_extreme_cells(tmp_path: Path, case: str, compared: str) -> None:
    rows = (SAMPLE / "interactions.csv").read_text(encoding="utf-8").splitlines()
    out = [rows[0]]
    for i, line in enumerate(rows[1:80]):
        cells = line.split(",")
        if case == "long-transcript" and i % 7 == 0:
            cells[12] = "不清楚" * 20000
        elif case == "oversized-cell" and i == 5:
            cells[12] = "x" * 140_000
        elif case == "huge-numbers":
            cells[6] = ("1.7e308", "1e308", "-1e308")[i % 3]
            cells[5] = "99999999999999999999999" if i % 11 == 0 else cells[5]
        out.append(",".join(cells))
    path = tmp_path / f"{case}.csv"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    assert_same([load_scheme(RULES / "cs-quality" / "2026Q2.yaml")], [str(path)], other=compared)
