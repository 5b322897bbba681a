"""Line digests of inputs: computed the same way for every engine, aligned so one edit is one line."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qualiscore import rowdigests
from qualiscore.rowdigests import Change, Digests, changes


def test_unchanged_digests_have_no_changes() -> None:
    assert changes([1, 2, 3], [1, 2, 3]) == []


def test_one_changed_added_and_removed_line() -> None:
    assert changes([1, 2, 3, 4], [1, 9, 3, 4]) == [Change("changed", 2)]
    assert changes([1, 2, 3, 4], [1, 2, 7, 3, 4]) == [Change("added", 3)]
    assert changes([1, 2, 3, 4], [1, 3, 4]) == [Change("removed", 2)]
    assert changes([1, 2], [1, 2, 5]) == [Change("added", 3)]


def test_edits_far_apart_in_a_long_file_are_each_one_line() -> None:
    old = list(range(100_000))
    new = [*old[:3], -1, *old[4:50_000], *old[50_001:70_000], -2, *old[70_000:]]
    assert changes(old, new) == [Change("changed", 4), Change("removed", 50_001), Change("added", 70_000)]


def test_past_the_limit_the_rest_is_one_span(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rowdigests, "MAX_ALIGNED", 0)
    monkeypatch.setattr(rowdigests, "MAX_CHANGES", 2)
    assert changes([0, 1, 2, 3, 4, 9], [0, 5, 6, 7, 8, 10, 11]) == [
        Change("changed", 2), Change("changed", 3), Change("changed", 4, 3), Change("added", 7, 1)]


@pytest.mark.parametrize("aligned", [2_000, 0], ids=["difflib", "walked"])
@given(old=st.lists(st.integers(0, 5), max_size=30), new=st.lists(st.integers(0, 5), max_size=30))
def test_changes_account_for_every_line(aligned: int, old: list[int], new: list[int]) -> None:
    rowdigests.MAX_ALIGNED, saved = aligned, rowdigests.MAX_ALIGNED  # hypothesis runs many examples per test
    try:
        found = changes(old, new)
    finally:
        rowdigests.MAX_ALIGNED = saved
    assert (found == []) == (old == new)
    added = sum(c.count for c in found if c.kind == "added")
    removed = sum(c.count for c in found if c.kind == "removed")
    assert added - removed == len(new) - len(old)
    for c in found:
        limit = len(old) if c.kind == "removed" else len(new)
        assert c.number >= 1 and c.number + c.count - 1 <= limit


def test_render_and_parse_round_trip() -> None:
    items = [Digests("a.csv", "line", array("I", [1, 2**32 - 1, 0])), Digests("b.parquet", "none", array("I"))]
    data = rowdigests.render(items)
    assert data.startswith(b"qualiscore-row-digests/v1\n")
    assert rowdigests.parse(data) == items


@pytest.mark.parametrize("data", [b"", b"other\n{}\n", b"qualiscore-row-digests/v1\n{\"inputs\": "
                                  b"[{\"path\": \"a\", \"unit\": \"line\", \"count\": 3}]}\n\x00\x00"])
def test_damaged_digests_are_a_value_error(data: bytes) -> None:
    with pytest.raises(ValueError, match=r"row-digests\.bin is damaged"):
        rowdigests.parse(data)


def test_a_quoted_line_break_makes_two_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b'id,note\n1,"two\nlines"\n2,x')  # the last line has no line break
    d = rowdigests.compute(str(path), "csv")
    assert d.unit == "line" and len(d.values) == 4
    assert rowdigests.line_text(str(path), 3) == 'lines"'


def test_worksheet_rows_are_numbered_as_in_excel(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws["A1"], ws["A4"] = "id", "x"
    wb.save(tmp_path / "b.xlsx")
    d = rowdigests.compute(str(tmp_path / "b.xlsx"), "xlsx")
    assert d.unit == "row" and len(d.values) == 4
    assert d.values[1] == d.values[2] != d.values[3]
