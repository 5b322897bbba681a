"""Flagged cells decided without a loop over rows: the same rejects as the reference, to the byte.

The columnar engine checks each distinct flagged cell once with the records package's readers
and joins the answers to the rows (fixups.FixUps._check_cells). These datasets hold every kind
of dirty cell the cs-quality contract can meet, in each input route: a CSV read by Polars' CSV
parser, a CSV read by lines (a short row), a Parquet file of text columns and one of typed
columns. Each is compared with the reference engine on every output (scorecards, rejects.csv
with its reasons, fields, codes and row numbers in order, the manifest), and on reading only.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pl = pytest.importorskip("polars")

from qualiscore.engine.columnar.fixups import FixUps  # noqa: E402
from qualiscore.engine.columnar.inputs import SAMPLE_ROWS  # noqa: E402
from qualiscore.schemes import load_scheme  # noqa: E402
from test_columnar import _same_dataset  # noqa: E402
from test_engine_differential import RULES, SAMPLE, assert_same  # noqa: E402

SCHEME = RULES / "cs-quality" / "2026Q2.yaml"
LONG = "x" * 250  # longer than a Problem's value (200) and a reason's quote (60)

# (column, cell): one dirty cell per row, in rows spread over the file.
DIRTY: list[list[tuple[str, str]]] = [
    [("channel", "wechat")], [("channel", "Chat")], [("channel", "")], [("channel", "微信")],
    [("started_at", "2026-13-45 25:00")], [("started_at", "yesterday")], [("started_at", "")],
    [("started_at", "2026-04-02 10:00:00")],  # another shape, valid: typed, then scored
    [("started_at", LONG)], [("started_at", "2026-04-02T10:00:00+08:00 ")],
    [("first_response_s", "-5")], [("first_response_s", "nan")], [("first_response_s", "1e999")],
    [("first_response_s", "12;5")], [("first_response_s", "abc")], [("first_response_s", "-0.0")],
    [("handle_time_s", "99:99")], [("handle_time_s", "-1")], [("handle_time_s", "00:61")],
    [("handle_time_s", "1:02:03")],
    [("resolved_first_contact", "maybe")], [("repeat_contact_7d", "是")], [("complaint", "TRUE")],
    [("complaint", "")], [("unauthorised_promise", "也许")], [("unauthorised_promise", "it's")],
    [("csat", "7")], [("csat", "0")], [("csat", "4.0")], [("csat", "x")], [("csat", "一")],
    [("nps", "11")], [("nps", "-1")], [("nps", " 5 ")],
    [("interaction_id", "")], [("interaction_id", "   ")],
    [("interaction_id", LONG), ("csat", "9")], [("interaction_id", "it's"), ("channel", "fax")],
    [("csat", "8"), ("nps", "12"), ("channel", "sms")],  # several cells of one row
    [("started_at", "2026-04-0"), ("complaint", "n")],
]


def _rows(copies: int = 1) -> tuple[list[str], list[list[str]]]:
    """The sample's rows (more than SAMPLE_ROWS of them), with the dirty cells placed every 37 rows."""
    with open(SAMPLE / "interactions.csv", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        base = list(reader)
    rows = []
    for k in range(copies):
        for r in base:
            row = list(r)
            row[0] = f"{row[0]}-{k}"
            rows.append(row)
    assert len(rows) > SAMPLE_ROWS
    where = {name: i for i, name in enumerate(header)}
    for n, cells in enumerate(DIRTY * 2):
        row = rows[17 + 37 * n]
        for name, cell in cells:
            row[where[name]] = cell
    rows[40][0] = rows[700][0] = rows[17][0]  # an id repeated, one occurrence on a dirty row
    return header, rows


def _write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(delimiter.join(header) + "\n")
        for row in rows:
            f.write(delimiter.join(row) + "\n")


@pytest.fixture
def decided(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[list[int]]:
    """Rows rejected by the checks per distinct cell, per call; the engine must not fall back."""
    counts: list[int] = []
    check = FixUps._check_cells

    def counted(self: FixUps, *args: Any) -> Any:
        got = check(self, *args)
        counts.append(-1 if got is None else len(got.rejected))
        return got

    monkeypatch.setattr(FixUps, "_check_cells", counted)
    caplog.set_level(logging.INFO, logger="qualiscore.engine.columnar")
    yield counts
    assert "using the reference code" not in caplog.text


def _check(paths: list[Path], decided: list[int]) -> None:
    scheme = load_scheme(SCHEME)
    run = assert_same([scheme], [str(p) for p in paths])
    assert run is not None and len(run.problems) >= len(DIRTY)
    assert decided and all(n > 0 for n in decided), decided  # not left to the row-by-row checks
    for p in paths:
        _same_dataset(p, scheme.records)


def test_dirty_cells_in_a_csv(tmp_path: Path, decided: list[int]) -> None:
    header, rows = _rows()
    path = tmp_path / "dirty.csv"
    _write_csv(path, header, rows)
    _check([path], decided)


def test_dirty_cells_in_a_csv_read_by_lines(tmp_path: Path, decided: list[int]) -> None:
    header, rows = _rows()
    rows[2500] = rows[2500][:5]  # a short row: the file is read again line by line
    path = tmp_path / "short.csv"
    _write_csv(path, header, rows)
    _check([path], decided)


def test_dirty_cells_in_text_parquet(tmp_path: Path, decided: list[int]) -> None:
    header, rows = _rows()
    path = tmp_path / "text.parquet"
    frame = pl.DataFrame(rows, schema=header, orient="row")
    frame.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
                       for c in header if c != "transcript").write_parquet(path)
    _check([path], decided)


def test_dirty_cells_in_typed_parquet(tmp_path: Path, decided: list[int]) -> None:
    """Typed columns: nulls where required, values out of range or outside the enum, NaN, infinities."""
    header, rows = _rows()
    text = pl.DataFrame(rows, schema=header, orient="row")
    flags = {"true": True, "false": False}
    typed = text.with_columns(
        pl.col("started_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False, time_unit="us")
        .dt.convert_time_zone("Asia/Shanghai"),
        pl.col("first_response_s").cast(pl.Float64, strict=False),
        pl.col("handle_time_s").cast(pl.Float64, strict=False),
        pl.col("csat").cast(pl.Int64, strict=False),
        pl.col("nps").cast(pl.Int16, strict=False),
        *(pl.col(c).replace_strict(flags, default=None, return_dtype=pl.Boolean)
          for c in ("resolved_first_contact", "repeat_contact_7d", "complaint", "unauthorised_promise")),
    )
    specials = [float("nan"), float("inf"), -float("inf"), -0.0, -3.5, 1e300]
    at = [23 + 97 * k for k in range(len(specials))]
    response = typed.get_column("first_response_s").to_list()
    handle = typed.get_column("handle_time_s").to_list()
    for k, x in zip(at, specials):
        response[k] = x
        handle[k + 5] = x
    typed = typed.with_columns(pl.Series("first_response_s", response, dtype=pl.Float64),
                               pl.Series("handle_time_s", handle, dtype=pl.Float64))
    path = tmp_path / "typed.parquet"
    typed.write_parquet(path)
    _check([path], decided)


def test_dirty_cells_across_inputs(tmp_path: Path, decided: list[int]) -> None:
    """Two inputs of different routes, ids repeated across them: every occurrence rejected, in input order."""
    header, rows = _rows()
    first, second = tmp_path / "a.csv", tmp_path / "b.parquet"
    _write_csv(first, header, rows[:1500])
    pl.DataFrame(rows[1400:], schema=header, orient="row").write_parquet(second)
    _check([first, second], decided)
