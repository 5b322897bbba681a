"""`qualiscore test --explain` and `--update`: failing tests a committee can read and correct.

--explain prints, under a failing test, the same tree `qualiscore explain` prints for its
scorecard. --update writes the computed values into the failing expectations only, in
place, so that a file whose expectations were right before reads back byte for byte; it
shows the change as a diff and refuses a file whose scheme does not validate.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import Cli
from qualiscore.explain import explain_text
from qualiscore.scorecard import scorecard_dict
from qualiscore.testing import iter_results

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cli"
Q2 = "rules/cs-quality/2026Q2.yaml"
EXTRA = "rules/cs-quality/cs-quality-extra.tests.yaml"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The rules as docs/revising.md starts from them: before 2026Q3 was written."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    (tmp_path / "rules" / "cs-quality" / "2026Q3.yaml").unlink()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> str:
    """Replace the one ``old`` in ``path`` by ``new``; the text before."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text


# --------------------------------------------------------------------------- --explain


def test_explain_prints_the_tree_of_each_failing_test(cli: Cli, work: Path) -> None:
    _edit(work / Q2, "      score: 70.5\n", "      score: 71.5\n")
    result = cli("test", Q2, "--explain")
    assert result.exit_code == 1, result.output
    (failed,) = [r for r in iter_results([Q2]) if not r.passed]
    assert failed.card is not None
    tree = explain_text(scorecard_dict(failed.card), failed.card.decimals)
    shown = "  how the scorecard was computed:\n" + "".join(f"    {line}\n" for line in tree.splitlines())
    assert "  score: expected 71.5, got 70.5\n" + shown in result.output
    assert result.output.count("how the scorecard was computed:") == 1  # not for the passing tests
    assert "Total 70.50 = " in result.output


def test_explain_without_failures_prints_what_test_prints(cli: Cli, work: Path) -> None:
    assert cli("test", Q2, "--explain").output == cli("test", Q2).output == "4 passed, 0 failed\n"


def test_explain_escapes_control_characters_from_the_scheme(cli: Cli, work: Path) -> None:
    _edit(work / Q2, "      score: 70.5\n", "      score: 71.5\n")
    _edit(work / Q2, "name: 投诉率\n", 'name: "投诉\\e[31m率"\n')
    result = cli("test", Q2, "--explain")
    assert "\x1b[31m" not in result.output and "投诉\\x1b[31m率 [complaint_rate]" in result.output


# --------------------------------------------------------------------------- --update


def test_update_restores_the_expected_values_and_keeps_everything_else(cli: Cli, work: Path) -> None:
    path = work / Q2
    original = _edit(path, "      score: 70.5\n", "      score: 71.5  # checked by hand\n")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("        fcr: {value: 0.8, points: 75}\n", "        fcr: {value: 0.8, points: 7.5}\n")
                    .replace("      grade: 合格\n", "      grade: 良好\n"), encoding="utf-8")
    result = cli("test", Q2, "--update")
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == original.replace("score: 70.5\n", "score: 70.5  # checked by hand\n")
    out = result.output
    assert f"--- a/{Q2}\n+++ b/{Q2}\n" in out
    for line in ("-      score: 71.5  # checked by hand\n", "+      score: 70.5  # checked by hand\n",
                 "-      grade: 良好\n", "+      grade: 合格\n"):
        assert line in out
    assert "-        fcr: {value: 0.8, points: 7.5}\n+        fcr: {value: 0.8, points: 75}\n" in out
    assert f"wrote 3 value(s) in {Q2}\n" in out
    assert out.endswith("after the update:\n4 passed, 0 failed\n")


def test_update_keeps_every_comment(cli: Cli, work: Path) -> None:
    path = work / Q2
    _edit(path, "      score: 46.81\n", "      score: 99\n")
    before = path.read_text(encoding="utf-8")
    assert cli("test", Q2, "--update").exit_code == 0
    after = path.read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments and comments == [line for line in after.splitlines() if line.lstrip().startswith("#")]
    assert [a for a, b in zip(before.splitlines(), after.splitlines()) if a != b] == ["      score: 99"]


def test_dry_run_shows_the_diff_and_writes_nothing(cli: Cli, work: Path) -> None:
    path = work / Q2
    _edit(path, "      score: 70.5\n", "      score: 71.5\n")
    before = path.read_bytes()
    result = cli("test", Q2, "--update", "--dry-run")
    assert result.exit_code == 1, result.output
    assert "-      score: 71.5\n+      score: 70.5\n" in result.output
    assert f"would write 1 value(s) in {Q2}\n" in result.output
    assert "after the update" not in result.output
    assert path.read_bytes() == before


def test_update_of_a_records_file_test_in_a_tests_file(cli: Cli, work: Path) -> None:
    dest = work / "rules" / "cs-quality"
    shutil.copy(FIXTURES / "2026-05-one-agent.csv", dest / "fixtures" / "2026-05-one-agent.csv")
    original = (FIXTURES / "cs-quality-extra.tests.yaml").read_text(encoding="utf-8")
    assert "records_file:" in original and original.count("      score: 92.17\n") == 1
    (work / EXTRA).write_text(original.replace("      score: 92.17\n", "      score: 92.27\n"), encoding="utf-8")
    result = cli("test", EXTRA, "--update")
    assert result.exit_code == 0, result.output
    assert "-      score: 92.27\n+      score: 92.17\n" in result.output
    assert (work / EXTRA).read_text(encoding="utf-8") == original
    assert result.output.endswith("3 passed, 0 failed\n")


def test_update_writes_lists_text_and_values_as_the_test_format_does(cli: Cli, work: Path) -> None:
    path = work / Q2
    original = _edit(path, "      vetoes: [unauthorised_promise]\n", "      vetoes: []\n")
    text = path.read_text(encoding="utf-8")
    text = text.replace("        first_response: {value: 0.6667, points: 0}\n",
                        "        first_response: {value: 0.5, points: 0}\n")
    path.write_text(text, encoding="utf-8")
    result = cli("test", Q2, "--update")
    assert result.exit_code == 0, result.output
    # 6/9 to 2 decimals is within the test's tolerance (0.005)
    assert path.read_text(encoding="utf-8") == original.replace("{value: 0.6667, points: 0}",
                                                                "{value: 0.67, points: 0}")


def test_update_leaves_what_it_cannot_write_and_says_so(cli: Cli, work: Path) -> None:
    path = work / Q2
    _edit(path, "      vetoes: [unauthorised_promise]\n",
          "      vetoes:\n        - unauthorised_promise\n        - unauthorised_promise\n")
    _edit(path, "      score: 95.5\n", "      score: 96\n")
    before = path.read_text(encoding="utf-8")
    result = cli("test", Q2, "--update")
    assert result.exit_code == 1, result.output
    assert "not updated: 超权限承诺一票否决（CSV export; veto overrides an 优秀 score）: vetoes (written as lines of its own" \
        in result.output
    assert path.read_text(encoding="utf-8") == before.replace("      score: 96\n", "      score: 95.5\n")
    assert result.output.endswith("3 passed, 1 failed\n")


def test_update_refuses_a_scheme_that_does_not_validate(cli: Cli, work: Path) -> None:
    path = work / Q2
    _edit(path, "        weight: 60\n", "        weight: 0\n")
    before = path.read_bytes()
    result = cli("test", Q2, "--update")
    assert result.exit_code == 1, result.output
    assert f"not updated: {Q2} — it does not load or validate" in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("args", [("--update", "--format", "json"), ("--explain", "--format", "json"),
                                  ("--dry-run",)])
def test_options_that_do_not_go_together(cli: Cli, work: Path, args: tuple[str, ...]) -> None:
    result = cli("test", Q2, *args)
    assert result.exit_code == 2 and "Error:" in result.output


def test_the_revision_guide_example(cli: Cli, work: Path) -> None:
    """docs/revising.md step 4: 2026Q3 with the committee's new weights and grade boundary."""
    assert cli("revise", Q2, "2026Q3").exit_code == 0
    path = work / "rules" / "cs-quality" / "2026Q3.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, old, new in ((153, "weight: 50", "weight: 40"), (173, "weight: 20", "weight: 30"),
                             (252, "min: 75", "min: 80")):
        assert old in lines[number - 1]
        lines[number - 1] = lines[number - 1].replace(old, new)
    path.write_text("".join(lines), encoding="utf-8")
    explained = cli("test", str(path.relative_to(work)), "--explain")
    assert explained.exit_code == 1
    assert "  score: expected 46.81, got 46.51\n" in explained.output
    assert "weight 40 → effective 12.00% → contributes 7.20" in explained.output
    updated = cli("test", str(path.relative_to(work)), "--update")
    assert updated.exit_code == 0, updated.output
    assert "-      score: 46.81\n" in updated.output and "+      score: 46.51\n" in updated.output
    assert updated.output.endswith("after the update:\n4 passed, 0 failed\n")
    assert cli("test", "rules/").exit_code == 0
