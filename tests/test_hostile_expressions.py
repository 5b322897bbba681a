"""Hostile expressions end to end: values beyond the bounds of the language, through the real CLI.

Each case changes a bundled scheme (a derived value, a measure, a constant, a field of the
record contract) and maybe one cell of the sample data, then runs ``validate`` and
``evaluate`` with both engines under the limits of tests/test_hostile_inputs.py (1 GiB, 5 s,
no traceback, a documented exit status). A part of an expression that uses no record value
and can never be computed is refused by validation (``never-computable``: validate 1,
evaluate 3); a value that a record takes beyond a bound is an ``evaluation-error`` for that
record, which rejects the row in a derived value (evaluate 0) and stops the run in a measure
(evaluate 3). Whatever the outcome, both engines write the same rejects.csv and scorecards.csv.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from qualiscore.expressions import MAX_INT_BITS, MAX_SIZE
from test_hostile_inputs import (
    ROOT,
    SCHEME,
    Completed,
    located,
    posix_only,
    read_rejects,
    run_all,
    sample_lines,
)

QA_SCHEME = ROOT / "rules" / "qa-form" / "2026Q2.yaml"
QA_DATA = ROOT / "data" / "sample" / "qa-inspections.csv"
ROWS = 20
CONSTANTS = "  forbidden_phrases: [不清楚, 不归我管, 不知道, 没办法]\n"
# Per scheme: the last derived value (new ones go after it) and the measure a case may replace.
ANCHORS = {
    "cs": ("  used_forbidden_phrase: contains_any(transcript, forbidden_phrases)\n", "measure: {share: complaint}"),
    "qa": ("  forbidden_count: count_matches(transcript, forbidden_phrases)\n", "measure: {value: greeting}"),
}
HUGE = "9" * 400  # an integer far beyond floats (records and YAML read up to 4,300 digits)


@dataclasses.dataclass(frozen=True)
class ExprCase:
    """One hostile expression (or value) and the exit statuses it must give."""

    id: str
    derive: Mapping[str, str] = dataclasses.field(default_factory=dict)
    measure: str | None = None  # replaces the scheme's anchor measure
    constants: Mapping[str, str] = dataclasses.field(default_factory=dict)  # YAML text of each value
    contract: tuple[str, str] | None = None  # (old, new) text of the record contract
    cell: tuple[str, str] | None = None  # (column, value) written into the first data row
    scheme: str = "cs"
    validate: int = 0
    evaluate: int = 0
    code: str | None = None  # the located error of a refused scheme or a stopped run
    at: str | None = None  # the text on the line that error names
    rejected: bool = False  # every row not rejected while typed is rejected as evaluation-error


def _squares(first: str) -> dict[str, str]:
    """d0 = first, then d1 = d0 * d0, … d21: an integer that doubles its bits 21 times."""
    return {"d0": first, **{f"d{i}": f"d{i - 1} * d{i - 1}" for i in range(1, 22)}}


CASES = [
    # Never computable: the part without record values fails when validation computes it.
    ExprCase("power-tower", {"p": "9 ** 9 ** 9 > 0 and complaint"}, validate=1, evaluate=3,
             code="never-computable", at="  p: "),
    ExprCase("text-repetition", {"r": "len('a' * 10 ** 10) > 0 and complaint"}, validate=1, evaluate=3,
             code="never-computable", at="  r: "),
    ExprCase("upper-grows-text", {"u": "len(upper('ß' * 100000)) > 0 and complaint"}, validate=1, evaluate=3,
             code="never-computable", at="  u: "),
    ExprCase("nested-list", {"big": "[['aaaaaaaaaa'] * 100000] * 100000"},
             measure="measure: {share: complaint, where: 'len(big) > 0'}", validate=1, evaluate=3,
             code="never-computable", at="  big: "),
    ExprCase("integer-squares", _squares("7 ** 360"), validate=1, evaluate=3, code="never-computable",
             at="  d1: "),
    ExprCase("integer-literal-beyond-floats", measure="measure: {mean: 10 ** 400 * csat}", validate=1,
             evaluate=3, code="never-computable", at="measure: {mean: 10 ** 400"),
    ExprCase("float-overflow", {"f": "10.0 ** 400 > 0 and complaint"}, validate=1, evaluate=3,
             code="never-computable", at="  f: "),
    ExprCase("lone-surrogate", {"s": "channel + '\\ud800'"}, validate=1, evaluate=3, code="never-computable",
             at="  s: "),
    # Reached by records: a derived value rejects each row; a measure stops the run.
    ExprCase("integer-squares-per-record", _squares("7 ** 360 + len(channel)"), rejected=True),
    ExprCase("nested-list-per-record", {"big": "[[channel * 10] * 100000] * 100000"},
             measure="measure: {share: complaint, where: 'big == big'}", rejected=True),
    ExprCase("upper-grows-text-per-record",
             {"u": "len(upper(('ß' if channel else 'x') * 100000)) > 0 and complaint"}, rejected=True),
    ExprCase("integer-beyond-floats-in-mean", measure="measure: {mean: 2 ** 1022 * csat}", evaluate=3,
             code="evaluation-error", at="measure: {mean: 2 ** 1022"),
    ExprCase("mean-of-text", measure="measure: {mean: channel}", evaluate=3, code="evaluation-error",
             at="measure: {mean: channel}"),
    ExprCase("sum-of-lists", {"l": "[csat]"}, measure="measure: {sum: l}", evaluate=3, code="evaluation-error",
             at="measure: {sum: l}"),
    ExprCase("integer-field-beyond-floats",
             contract=("nps: {type: integer, minimum: 0, maximum: 10,", "nps: {type: integer, minimum: 0,"),
             cell=("nps", HUGE), evaluate=3, code="evaluation-error", at="measure: {nps: nps}"),
    ExprCase("list-in-a-value-measure", {"l": "[1, 2]"}, measure="measure: {value: l}", scheme="qa"),
    ExprCase("integer-field-beyond-floats-in-a-value-measure",
             contract=("solution_options: {type: integer, minimum: 0, maximum: 3,",
                       "solution_options: {type: integer, minimum: 0,"),
             cell=("solution_options", HUGE), scheme="qa"),
    # Integers in a scheme fit in 64 bits: refused while loading, before any engine sees them.
    ExprCase("constant-beyond-floats-in-a-list", {"h": "csat * 1.5 in huge"}, constants={"huge": f"[{HUGE}, 1]"},
             validate=1, evaluate=3, code="yaml-integer-too-large", at="huge:"),
    ExprCase("constant-beyond-64-bits-looked-up", {"h": "bigs[csat - 5]"}, constants={"bigs": f"[{2 ** 130}, 1]"},
             validate=1, evaluate=3, code="yaml-integer-too-large", at="bigs:"),
]


def _quoted(expr: str) -> str:
    return "'" + expr.replace("'", "''") + "'"


def scheme_text(case: ExprCase) -> str:
    text = (SCHEME if case.scheme == "cs" else QA_SCHEME).read_text(encoding="utf-8")
    derive_anchor, measure_anchor = ANCHORS[case.scheme]
    for old, new in (
        (derive_anchor, derive_anchor + "".join(f"  {k}: {_quoted(v)}\n" for k, v in case.derive.items())),
        (CONSTANTS, CONSTANTS + "".join(f"  {k}: {v}\n" for k, v in case.constants.items())),
        (measure_anchor, case.measure or measure_anchor),
        case.contract or ("", ""),
    ):
        if old:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
    return text


def data_text(case: ExprCase) -> str:
    lines = sample_lines() if case.scheme == "cs" else QA_DATA.read_text(encoding="utf-8").splitlines(keepends=True)
    rows = list(csv.reader(io.StringIO("".join(lines[: ROWS + 1]))))
    if case.cell is not None:
        column, value = case.cell
        rows[1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def test_corpus_has_every_outcome() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    outcomes = {(c.validate, c.evaluate, c.code, c.rejected) for c in CASES}
    assert (1, 3, "never-computable", False) in outcomes and (0, 0, None, True) in outcomes
    assert (0, 3, "evaluation-error", False) in outcomes and (0, 0, None, False) in outcomes


def check_located(res: Completed, case: ExprCase, text: str) -> None:
    assert case.code is not None and case.at is not None
    found = located("2026Q2.yaml", case.code).search(res.output)
    assert found, res.output[-2000:]
    lines = text.splitlines()
    line = int(found[1])
    assert case.at in lines[line - 1], (line, lines[line - 1])
    assert 1 <= int(found[2]) <= len(lines[line - 1])


@posix_only
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_expression(case: ExprCase, tmp_path: Path) -> None:
    text = scheme_text(case)
    (tmp_path / "2026Q2.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "data.csv").write_text(data_text(case), encoding="utf-8")

    validated, *evaluated = run_all([
        ["validate", "2026Q2.yaml"],
        # A run that scores nothing publishes only when asked to: these cases compare its rejects.
        *(["evaluate", "2026Q2.yaml", "data.csv", "-o", f"out-{e}", "--engine", e,
           *(["--allow-empty"] if case.rejected else [])] for e in ("rows", "columnar")),
    ], tmp_path)
    assert validated.returncode == case.validate, validated.output[-2000:]
    if case.validate:
        check_located(validated, case, text)
    for res in evaluated:
        assert res.returncode == case.evaluate, res.output[-2000:]
        if case.evaluate:
            check_located(res, case, text)
    if case.evaluate:
        assert not (tmp_path / "out-rows").exists() and not (tmp_path / "out-columnar").exists()
        return
    rows, columnar = tmp_path / "out-rows", tmp_path / "out-columnar"
    for name in ("rejects.csv", "scorecards.csv", "scorecards.jsonl"):
        assert (rows / name).read_bytes() == (columnar / name).read_bytes(), name
    manifest = json.loads((rows / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["rows"]["read"] == ROWS
    if case.rejected:
        rejects = read_rejects(rows / "rejects.csv")
        evaluation = [r for r in rejects if r["code"] == "evaluation-error"]
        assert manifest["rows"]["scored"] == 0 and len(rejects) == ROWS
        assert len(evaluation) >= ROWS - 2 and all(r["field"] in case.derive for r in evaluation)
        assert all(str(MAX_INT_BITS) in r["reason"].replace(",", "") or f"{MAX_SIZE:,}" in r["reason"]
                   for r in evaluation)
