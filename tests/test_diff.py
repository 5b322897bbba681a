"""Tests for qualiscore.diff: the semantic diff of two scheme versions and its impact on data."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import json
import math
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from qualiscore.cli import cli
from qualiscore.diff import (
    CATEGORIES,
    KINDS,
    Change,
    Impact,
    check_document,
    diff_documents,
    impact,
    load_side,
    normalise_expression,
    render_json,
    render_markdown,
    render_text,
    review_changelog,
)
from qualiscore.engine import evaluate
from qualiscore.errors import DataError, SchemeLoadError, SchemeValidationError, UsageError
from qualiscore.records import read_records

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "diff"
Q1 = ROOT / "rules" / "cs-quality" / "2026Q1.yaml"
Q2 = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"
BROKEN = ROOT / "tests" / "fixtures" / "broken" / "duplicate-indicator-id.yaml"
FCR = "dimensions.outcome.indicators.fcr"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

CASES = sorted(p.name[: -len(".expected.json")] for p in CORPUS.glob("*.expected.json"))


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, ["diff", *args])


def pairs(changes: list[Change]) -> Counter[tuple[str, str]]:
    return Counter((c.kind, c.path) for c in changes)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-4)
    return a == b


# --------------------------------------------------------------------------- the corpus


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 12
    for name in CASES:
        assert (CORPUS / f"{name}.old.yaml").is_file() and (CORPUS / f"{name}.new.yaml").is_file()
    covered = {entry[0] for name in CASES for entry in json.loads((CORPUS / f"{name}.expected.json").read_text())}
    assert {"weight-changed", "effective-weight-changed", "scoring-changed", "constant-changed", "derived-changed",
            "indicator-added", "indicator-removed", "indicator-moved", "veto-effect-changed", "grade-min-changed",
            "field-type-changed", "metadata"} <= covered
    empty = {name for name in CASES if json.loads((CORPUS / f"{name}.expected.json").read_text()) == []}
    assert {"reformat", "reorder", "comments", "explicit-defaults", "expression-whitespace"} <= empty


@pytest.mark.parametrize("name", CASES)
def test_corpus(name: str) -> None:
    old, new = load_side(str(CORPUS / f"{name}.old.yaml")), load_side(str(CORPUS / f"{name}.new.yaml"))
    check_document(old)  # every corpus file is a valid scheme
    check_document(new)
    expected = json.loads((CORPUS / f"{name}.expected.json").read_text(encoding="utf-8"))
    changes = diff_documents(old, new)
    assert pairs(changes) == Counter((e[0], e[1]) for e in expected), render_text(old, new, changes)
    for entry in expected:
        if len(entry) == 4:
            kind, path, want_old, want_new = entry
            match = [c for c in changes if (c.kind, c.path) == (kind, path)]
            assert any(same_value(c.old, want_old) and same_value(c.new, want_new) for c in match), (entry, match)
    for c in changes:
        assert c.kind in KINDS and c.category in CATEGORIES
        # a thing present on a side is cited with its line there
        if c.old is not None:
            assert c.old_line is not None, c
        if c.new is not None:
            assert c.new_line is not None, c
    # the diff is symmetric in what it finds
    back = diff_documents(new, old)
    assert len(back) == len(changes)


def test_diff_with_itself_is_empty() -> None:
    doc = load_side(str(Q2))
    assert diff_documents(doc, doc) == []


def test_expression_normalisation() -> None:
    same = normalise_expression("first_response_s <= response_target_s[channel]")
    assert normalise_expression(" (first_response_s)<=(response_target_s[ channel ]) ") == same
    assert normalise_expression("first_response_s < response_target_s[channel]") != same
    assert normalise_expression(True) == normalise_expression("True")
    assert normalise_expression(None) is None


def test_a_changed_veto_threshold_is_old_to_new_with_its_lines() -> None:
    old, new = load_side(str(CORPUS / "veto-threshold.old.yaml")), load_side(str(CORPUS / "veto-threshold.new.yaml"))
    changes = {c.path: c for c in diff_documents(old, new)}
    below = changes["vetoes.low_fcr.below"]
    assert (below.kind, below.category, below.old, below.new) == ("veto-threshold-changed", "vetoes", 0.5, 0.55)
    assert old.text.splitlines()[below.old_line - 1] == "    below: 0.5"
    assert new.text.splitlines()[below.new_line - 1] == "    below: 0.55"
    test = changes["vetoes.low_csat.threshold"]
    assert (test.old, test.new) == ("below: 0.6", "at_most: 0.6")
    assert new.text.splitlines()[test.new_line - 1] == "    at_most: 0.6"
    added = changes["vetoes.many_late.threshold"]
    assert (added.old, added.new, added.old_line) == (None, "above: 3", None)
    assert "no longer triggering on any true or non-zero value" in (added.note or "")
    text = render_text(old, new, list(changes.values()))
    assert "vetoes.low_fcr.below: 0.5 → 0.55  [veto-threshold-changed; lines" in text


def test_weight_change_reports_effective_weights_before_and_after() -> None:
    old, new = load_side(str(CORPUS / "weight.old.yaml")), load_side(str(CORPUS / "weight.new.yaml"))
    changes = {c.path: c for c in diff_documents(old, new)}
    weight = changes["dimensions.perception.indicators.csat.weight"]
    assert (weight.old, weight.new) == (60, 80)
    assert "60% → 66.67%" in (weight.note or "")
    eff = {p.rsplit(".", 2)[-2]: (c.old, c.new) for p, c in changes.items() if c.kind == "effective-weight-changed"}
    # perception is 40% of the total: csat 40 × 60/100 = 24 → 40 × 80/120 = 26.67; survey_rate 16 → 13.33
    assert eff == {"csat": (24.0, 26.6667), "survey_rate": (16.0, 13.3333)}


def test_more_defaults_written_out_are_no_change() -> None:
    from qualiscore.loader import load_text

    text = (CORPUS / "map-scoring.old.yaml").read_text(encoding="utf-8")
    explicit = (text.replace("title: Diff demo scheme\n", "")
                .replace("{map: {'true': 100, 'false': 20}}", "{map: {'false': 20, 'true': 100}, default: 0}")
                .replace("    name: Process\n", "")
                .replace("    reason: unauthorised promise\n", "    reason: unauthorised promise\n    name: promise\n"))
    implicit = text.replace("title: Diff demo scheme\n", "title: diff-demo\n").replace("    name: Process\n",
                                                                                       "    name: process\n")
    assert diff_documents(load_text(implicit, "a.yaml"), load_text(explicit, "b.yaml")) == []
    utc = text.replace("  timezone: Asia/Shanghai\n", "")
    assert diff_documents(load_text(utc, "a.yaml"), load_text(utc.replace("  id: interaction_id\n",
                                                                          "  id: interaction_id\n  timezone: UTC\n"),
                                                              "b.yaml")) == []
    changed = diff_documents(load_text(utc, "a.yaml"), load_text(text, "b.yaml"))
    assert [(c.kind, c.path, c.old, c.new) for c in changed] == [
        ("timezone-changed", "records.timezone", "UTC", "Asia/Shanghai")]


def test_an_existing_file_wins_over_rev_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(Q1, tmp_path / "v1:q1.yaml")
    assert load_side("v1:q1.yaml").data["version"] == "2026Q1"


def test_proportional_rescale_is_reported_with_unchanged_shares() -> None:
    text = (CORPUS / "weight.old.yaml").read_text(encoding="utf-8")
    rescaled = text.replace("        weight: 60\n", "        weight: 6\n").replace("        weight: 40\n", "        weight: 4\n")
    from qualiscore.loader import load_text

    changes = diff_documents(load_text(text, "a.yaml"), load_text(rescaled, "b.yaml"))
    assert {c.kind for c in changes} == {"weight-changed"}
    assert all("unchanged" in (c.note or "") for c in changes)


# --------------------------------------------------------------------------- 2026Q1 → 2026Q2


def test_q1_to_q2_lists_exactly_the_changelog() -> None:
    old, new = load_side(str(Q1)), load_side(str(Q2))
    changes = diff_documents(old, new)
    old_tests = [t["name"] for t in old.data["tests"]]
    new_tests = [t["name"] for t in new.data["tests"]]
    expected = Counter({  # no changelog lines: each version's changelog lists its own changes
        ("metadata", "version"): 1,
        ("metadata", "title"): 1,
        ("metadata", "effective_from"): 1,
        ("metadata", "effective_to"): 1,
        ("metadata", "supersedes"): 1,
        ("metadata", "approved_on"): 1,
        ("constant-changed", "constants.response_target_s.chat"): 1,
        ("target-changed", f"{FCR}.target"): 1,
        ("scoring-changed", f"{FCR}.scoring.linear.from"): 1,
        ("scoring-changed", f"{FCR}.scoring.linear.to"): 1,
    })
    for name in old_tests:
        expected[("test-changed" if name in new_tests else "test-removed", f"tests.{name}")] += 1
    for name in new_tests:
        if name not in old_tests:
            expected[("test-added", f"tests.{name}")] += 1
    assert pairs(changes) == expected, render_text(old, new, changes)
    assert sum(1 for c in changes if c.kind.startswith("test-")) == 7

    by_path = {c.path: c for c in changes}
    chat = by_path["constants.response_target_s.chat"]
    assert (chat.old, chat.new) == (180, 60)
    assert "chat: 180" in old.text.splitlines()[chat.old_line - 1]
    assert "chat: 60" in new.text.splitlines()[chat.new_line - 1]
    assert (by_path[f"{FCR}.target"].old, by_path[f"{FCR}.target"].new) == (0.70, 0.85)
    assert (by_path[f"{FCR}.scoring.linear.from"].old, by_path[f"{FCR}.scoring.linear.from"].new) == (0.50, 0.65)
    assert (by_path[f"{FCR}.scoring.linear.to"].old, by_path[f"{FCR}.scoring.linear.to"].new) == (0.70, 0.85)
    assert by_path["supersedes"].new == "2026Q1" and by_path["supersedes"].old_line is None

    # every rule change is announced by a changelog line of the new version
    review = review_changelog(old, new, changes)
    assert review is not None and review.checked and review.clean
    assert review.rules_changed == 4 and review.lines == tuple(new.data["changelog"])


def test_q1_to_q2_cli_text() -> None:
    result = run(str(Q1), str(Q2))
    assert result.exit_code == 1, result.output
    out = result.output
    assert not ANSI.search(out)  # not a terminal: no colours
    assert "cs-quality 2026Q1 → 2026Q2" in out
    assert "17 change(s)" in out
    assert "changelog" not in out.split("Changelog of 2026Q2")[0]  # the Q1 lines are not "removed"
    assert "Changelog of 2026Q2 (changes from 2026Q1; 2 line(s))" in out
    assert "every rule change above is named by a changelog line" in out
    assert "constants.response_target_s.chat: 180 → 60" in out
    assert f"{FCR}.scoring.linear.from: 0.5 → 0.65" in out
    assert f"{FCR}.target: 0.7 → 0.85" in out


def test_render_text_colours_only_on_request() -> None:
    old, new = load_side(str(Q1)), load_side(str(Q2))
    changes = diff_documents(old, new)
    assert ANSI.search(render_text(old, new, changes, style=click.style))
    assert not ANSI.search(render_text(old, new, changes))


# --------------------------------------------------------------------------- output formats


def test_markdown_shape() -> None:
    result = run(str(Q1), str(Q2), "--format", "md")
    assert result.exit_code == 1
    md = result.output
    assert md.startswith("# Scheme diff: cs-quality 2026Q1 → 2026Q2\n")
    for heading in ("## Metadata", "## Constants", "## Scoring", "## Targets", "## Tests",
                    "## Changelog of 2026Q2 (changes from 2026Q1; 2 line(s))"):
        assert f"\n{heading}\n" in md
    assert "Every rule change above is named by a changelog line." in md
    assert "| change | path | old | new | lines (old → new) | note |" in md
    old_line = 1 + Q1.read_text(encoding="utf-8").splitlines().index("  response_target_s: {chat: 180, phone: 30, ticket: 7200, email: 7200}")
    new_line = 1 + Q2.read_text(encoding="utf-8").splitlines().index("  response_target_s: {chat: 60, phone: 30, ticket: 7200, email: 7200}")
    assert f"| constant-changed | `constants.response_target_s.chat` | 180 | 60 | {old_line} → {new_line} |  |" in md
    assert "## Impact" not in md
    # every table row has the same number of cells as its header
    for block in md.split("\n\n"):
        rows = [r for r in block.splitlines() if r.startswith("|")]
        if rows:
            widths = {len(re.split(r"(?<!\\)\|", r)) for r in rows}
            assert len(widths) == 1, block


def test_json_shape() -> None:
    result = run(str(Q1), str(Q2), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert set(doc) == {"old", "new", "equivalent", "changes", "changelog", "impact"}
    assert doc["old"] == {"id": "cs-quality", "version": "2026Q1", "path": str(Q1)}
    assert doc["new"]["version"] == "2026Q2"
    assert doc["equivalent"] is False and doc["impact"] is None
    assert len(doc["changes"]) == 17
    assert doc["changelog"]["checked"] is True and doc["changelog"]["unmentioned"] == []
    assert [line["line"] for line in doc["changelog"]["lines"]] == [31, 32]
    for c in doc["changes"]:
        assert set(c) == {"kind", "category", "path", "old", "new", "old_line", "new_line", "note"}
    chat = next(c for c in doc["changes"] if c["path"] == "constants.response_target_s.chat")
    assert (chat["kind"], chat["old"], chat["new"], chat["category"]) == ("constant-changed", 180, 60, "constants")


def test_equivalent_versions_exit_0_in_every_format(tmp_path: Path) -> None:
    for fmt in ("text", "md", "json"):
        result = run(str(CORPUS / "reformat.old.yaml"), str(CORPUS / "reformat.new.yaml"), "--format", fmt)
        assert result.exit_code == 0, result.output
    assert json.loads(result.output)["equivalent"] is True
    assert "equivalent" in run(str(CORPUS / "reorder.old.yaml"), str(CORPUS / "reorder.new.yaml")).output


# --------------------------------------------------------------------------- exit codes and errors


def test_exit_codes(tmp_path: Path) -> None:
    same = run(str(Q2), str(Q2))
    assert same.exit_code == 0 and "Changelog of" not in same.output  # one version, one changelog
    assert run(str(Q1), str(Q2)).exit_code == 1
    missing = run(str(Q1), str(tmp_path / "nope.yaml"))
    assert missing.exit_code == 2
    assert "error[usage]" in missing.output and "hint:" in missing.output
    assert run(str(Q1)).exit_code == 2  # NEW missing
    assert run(str(Q1), str(Q2), "--format", "xml").exit_code == 2

    invalid = run(str(Q1), str(BROKEN))
    assert invalid.exit_code == 3
    assert "error[" in invalid.output and "Traceback" not in invalid.output
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("scheme: [unclosed\n", encoding="utf-8")
    broken = run(str(bad_yaml), str(Q2))
    assert broken.exit_code == 3
    assert f"{bad_yaml}:" in broken.output and "error[yaml-syntax]" in broken.output


def test_library_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        load_side(str(tmp_path / "missing.yaml"))
    with pytest.raises(SchemeValidationError):
        check_document(load_side(str(BROKEN)))
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: b: c\n", encoding="utf-8")
    with pytest.raises(SchemeLoadError):
        load_side(str(bad))


# --------------------------------------------------------------------------- REV:path from git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away repository: commit 1 holds 2026Q1 as rules/cs.yaml, commit 2 replaces it with 2026Q2."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "rules").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=qualiscore", "-c", "user.email=qs@example.invalid",
                        "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", *args],
                       cwd=root, check=True, capture_output=True)

    git("init", "-q")
    shutil.copy(Q1, root / "rules" / "cs.yaml")
    git("add", "rules/cs.yaml")
    git("commit", "-q", "-m", "Q1")
    shutil.copy(Q2, root / "rules" / "cs.yaml")
    git("commit", "-q", "-am", "Q2")
    monkeypatch.chdir(root)
    return root


def test_rev_path_sides(repo: Path) -> None:
    old = load_side("HEAD~1:rules/cs.yaml")
    assert old.path == "HEAD~1:rules/cs.yaml" and old.data["version"] == "2026Q1"
    result = run("HEAD~1:rules/cs.yaml", "HEAD:rules/cs.yaml", "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.output)
    assert doc["old"]["path"] == "HEAD~1:rules/cs.yaml" and doc["new"]["path"] == "HEAD:rules/cs.yaml"
    assert len(doc["changes"]) == 17
    assert doc["changelog"]["checked"] is True and doc["changelog"]["unmentioned"] == []
    assert [line["line"] for line in doc["changelog"]["lines"]] == [31, 32]
    # a committed version against the working tree; the same content is equivalent
    assert run("HEAD:rules/cs.yaml", "rules/cs.yaml").exit_code == 0
    text = run("HEAD~1:rules/cs.yaml", "rules/cs.yaml").output
    assert "HEAD~1:rules/cs.yaml" in text and "constants.response_target_s.chat: 180 → 60" in text


@pytest.mark.parametrize("spec", ["nosuchrev:rules/cs.yaml", "HEAD:rules/missing.yaml", "HEAD:rules",
                                  "--output=x:rules/cs.yaml"])
def test_bad_rev_or_path_is_a_usage_error(repo: Path, spec: str) -> None:
    result = run("--", spec, "rules/cs.yaml")
    assert result.exit_code == 2, result.output
    assert f"{spec}: error[usage]" in result.output
    assert "hint:" in result.output and "Traceback" not in result.output
    assert not (repo / "x").exists()


def test_rev_path_that_is_not_a_scheme(repo: Path) -> None:
    (repo / "notes.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    subprocess.run(["git", "-c", "user.name=q", "-c", "user.email=q@example.invalid", "-c", "commit.gpgsign=false",
                    "add", "notes.yaml"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=q", "-c", "user.email=q@example.invalid", "-c", "commit.gpgsign=false",
                    "commit", "-q", "-m", "notes"], cwd=repo, check=True)
    result = run("HEAD:notes.yaml", "rules/cs.yaml")
    assert result.exit_code == 3
    assert "HEAD:notes.yaml:1:1: error[yaml-not-mapping]" in result.output


# --------------------------------------------------------------------------- impact


@pytest.fixture(scope="module")
def q1q2_impact() -> Impact:
    return impact(check_document(load_side(str(Q1))), check_document(load_side(str(Q2))), [str(SAMPLE)])


def test_impact_matrix_and_grade_changes(q1q2_impact: Impact) -> None:
    imp = q1q2_impact
    assert imp.rows_read == 3000
    assert imp.grades == ("优秀", "良好", "合格", "不合格", "(none)")
    assert sum(map(sum, imp.matrix)) == imp.subjects > 0
    off_diagonal = sum(v for i, row in enumerate(imp.matrix) for j, v in enumerate(row) if i != j)
    assert off_diagonal == len(imp.grade_changes) > 0
    for move in imp.grade_changes:
        assert move.old_grade != move.new_grade
        i, j = imp.grades.index(move.old_grade or "(none)"), imp.grades.index(move.new_grade or "(none)")
        assert imp.matrix[i][j] > 0
    # Q2 only tightens: no subject moves up a grade, no score rises
    assert all(i <= j for i, row in enumerate(imp.matrix) for j, v in enumerate(row) if v)
    assert imp.new_mean_score < imp.old_mean_score


def test_impact_matches_both_runs(q1q2_impact: Impact) -> None:
    imp = q1q2_impact
    runs = []
    for path in (Q1, Q2):
        scheme = check_document(load_side(str(path)))
        runs.append({c.subject: c for c in evaluate(scheme, read_records([str(SAMPLE)], scheme.records)).scorecards})
    old, new = runs
    assert imp.subjects == len(set(old) | set(new))
    changed = {s for s in old if old[s].grade != new.get(s, old[s]).grade}
    assert {m.subject for m in imp.grade_changes} == changed
    old_v = {(s, v.id) for s, c in old.items() for v in c.vetoes}
    new_v = {(s, v.id) for s, c in new.items() for v in c.vetoes}
    assert set(imp.vetoes_triggered) == new_v - old_v
    assert set(imp.vetoes_cleared) == old_v - new_v
    assert not set(imp.vetoes_triggered) & set(imp.vetoes_cleared)


def test_impact_reads_the_given_encoding_on_whichever_engine_runs(q1q2_impact: Impact, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = (check_document(load_side(str(path))) for path in (Q1, Q2))
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gbk"))
    assert impact(old, new, [str(gbk)], "gbk").as_dict() == {**q1q2_impact.as_dict(), "data": [str(gbk)]}
    with pytest.raises(DataError):
        impact(old, new, [str(SAMPLE)], "ascii")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)  # `auto` is then the reference engine
    assert impact(old, new, [str(SAMPLE)]).as_dict() == q1q2_impact.as_dict()


def test_impact_movements_and_means(q1q2_impact: Impact) -> None:
    imp = q1q2_impact
    assert 0 < len(imp.movements) <= 10
    deltas = [abs(m.delta) for m in imp.movements]
    assert deltas == sorted(deltas, reverse=True)
    for m in imp.movements:
        assert m.delta == pytest.approx(m.new_score - m.old_score, abs=0.011)
        # only the two changed rules move scores: the FCR and first-response indicators
        assert {c.id for c in m.causes} <= {"fcr", "first_response"}
        sizes = [abs(c.delta) for c in m.causes]
        assert sizes == sorted(sizes, reverse=True)
        assert sum(c.delta for c in m.causes) == pytest.approx(m.delta, abs=0.05)
    means = {i.id: i for i in imp.indicators}
    for iid, mean in means.items():
        if iid in ("fcr", "first_response"):
            assert mean.new_points < mean.old_points
        else:
            assert (mean.old_points, mean.old_value) == (mean.new_points, mean.new_value)
    assert means["fcr"].old_value == means["fcr"].new_value  # same data, same FCR; only its scoring moved
    assert means["first_response"].new_value < means["first_response"].old_value  # 60 s is stricter
    dims = {d.id: d for d in imp.dimensions}
    assert dims["perception"].old_score == dims["perception"].new_score
    assert dims["outcome"].new_score < dims["outcome"].old_score
    with pytest.raises(dataclasses.FrozenInstanceError):
        imp.subjects = 0  # type: ignore[misc]


def test_impact_vetoes_triggered_and_cleared(tmp_path: Path) -> None:
    """The corpus `vetoes` case: the promise veto narrows to phone, many_late goes, no_answer comes."""
    data = tmp_path / "records.csv"
    data.write_text(
        "interaction_id,agent_id,channel,started_at,first_response_s,resolved,csat,promise\n"
        "R1,A001,chat,2026-01-05T09:00:00+08:00,30,true,5,true\n"  # promise on chat: cleared in new
        "R2,A002,phone,2026-01-05T09:00:00+08:00,,true,5,true\n"  # promise on phone: kept; no answer: new
        "R3,A003,chat,2026-01-06T09:00:00+08:00,400,false,4,false\n",  # late: many_late cleared
        encoding="utf-8")
    old = check_document(load_side(str(CORPUS / "vetoes.old.yaml")))
    new = check_document(load_side(str(CORPUS / "vetoes.new.yaml")))
    imp = impact(old, new, [str(data)])
    assert set(imp.vetoes_triggered) == {("A002/2026-01", "no_answer")}
    assert set(imp.vetoes_cleared) == {("A001/2026-01", "promise"), ("A003/2026-01", "many_late")}
    assert sum(map(sum, imp.matrix)) == imp.subjects == 3


def test_impact_in_every_format(q1q2_impact: Impact) -> None:
    old, new = load_side(str(Q1)), load_side(str(Q2))
    changes = diff_documents(old, new)
    text = render_text(old, new, changes, q1q2_impact)
    assert "Impact on" in text and "Grade migration" in text
    assert "subject(s) change grade" in text and "Largest score movements" in text
    assert "Vetoes newly triggered: 0" in text and "Vetoes cleared: 0" in text

    md = render_markdown(old, new, changes, q1q2_impact)
    for heading in ("## Impact on", "### Grade migration", "### Subjects whose grade changes",
                    "### Largest score movements", "### Indicator means", "### Dimension means",
                    "### Vetoes newly triggered (0)", "### Vetoes cleared (0)"):
        assert heading in md
    assert "| old \\ new | 优秀 | 良好 | 合格 | 不合格 | (none) |" in md

    # and through the command, once
    result = run(str(Q1), str(Q2), "--data", str(SAMPLE), "--format", "json")
    assert result.exit_code == 1
    imp = json.loads(result.output)["impact"]
    assert imp == json.loads(json.dumps(q1q2_impact.as_dict()))
    assert sum(map(sum, imp["matrix"])) == imp["subjects"]
    assert imp["grades"][-1] == "(none)"
    assert len(imp["grade_changes"]) > 0 and len(imp["movements"]) <= 10
    assert {"subject", "old_grade", "new_grade", "old_score", "new_score", "delta", "causes"} <= set(
        imp["grade_changes"][0])
    assert imp["vetoes_triggered"] == [] and imp["vetoes_cleared"] == []


def test_missing_data_file_is_a_data_error(tmp_path: Path) -> None:
    result = run(str(Q1), str(Q2), "--data", str(tmp_path / "none.csv"))
    assert result.exit_code == 4
    assert "Traceback" not in result.output


def test_render_functions_without_impact() -> None:
    old, new = load_side(str(CORPUS / "indicator-moved.old.yaml")), load_side(str(CORPUS / "indicator-moved.new.yaml"))
    changes = diff_documents(old, new)
    assert "> dimensions.perception.indicators.fcr: process → perception" in render_text(old, new, changes)
    assert "## Dimensions and indicators" in render_markdown(old, new, changes)
    assert json.loads(render_json(old, new, changes))["changes"][0]["kind"] == "indicator-moved"


def test_library_does_not_import_click() -> None:
    for path in (ROOT / "src" / "qualiscore" / "diff").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [
                node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "click"], path.name
