"""evaluate, explain, test, sample, calibrate and synth in Chinese (zh-CN) and in English.

The explanation of two scorecards of the bundled sample quarter is kept as golden output in
both languages (tests/fixtures/i18n/explain/): A001/2026-04, whose NPS is not applicable for
want of answers, and A003/2026-05, graded by a veto. Each language's run is evaluated and
explained in that language, as a user of it would. Both languages must show the same
numbers: a translation changes words, never a figure. Run with QUALISCORE_UPDATE_GOLDEN=1 to
rewrite the goldens after a deliberate change (of these commands' words, or of the rule and
reason texts a run records), and review the diff.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import Cli, assert_golden
from qualiscore import score
from qualiscore._display import display_width
from qualiscore.cli import cli as qualiscore
from qualiscore.i18n import using

ROOT = Path(__file__).resolve().parent.parent
Q2 = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
INTERACTIONS = ROOT / "data" / "sample" / "interactions.csv"
GOLDEN = ROOT / "tests" / "fixtures" / "i18n" / "explain"
LANGUAGES = ("en", "zh-CN")
SUBJECTS = ("A001/2026-04", "A003/2026-05")  # an indicator not applicable; a veto
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def numbers(text: str) -> list[str]:
    """Every number in ``text``, in sorted order (a translation may say them in another order)."""
    return sorted(NUMBER.findall(text))




@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, str]]]:
    """The sample quarter evaluated in each language: its output directory and what evaluate printed.

    The scheme is a copy without its approved_by and approved_on, so the explanation has no
    approval line: that line depends on the scheme's place in git and is worded elsewhere
    (approval.py); the tree itself is what these goldens keep.
    """
    work = tmp_path_factory.mktemp("i18n-cli")
    scheme = work / "2026Q2.yaml"
    text = Q2.read_text(encoding="utf-8")
    unapproved = re.sub(r"^approved_(by|on): .*\n", "", text, flags=re.M)
    assert unapproved.count("\n") == text.count("\n") - 2
    scheme.write_text(unapproved, encoding="utf-8")
    out: dict[str, tuple[Path, str]] = {}
    for lang in LANGUAGES:
        outdir = work / f"out-{lang}"
        result = CliRunner().invoke(qualiscore, ["--lang", lang, "evaluate", str(scheme), str(INTERACTIONS),
                                                 "-o", str(outdir)], color=False, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        out[lang] = outdir, result.output
    yield out


# --------------------------------------------------------------------------- explain


@pytest.mark.parametrize("subject", SUBJECTS)
def test_explain_in_both_languages_matches_its_golden_with_the_same_numbers(
        cli: Cli, runs: dict[str, tuple[Path, str]], subject: str) -> None:
    texts = {}
    for lang in LANGUAGES:
        result = cli("explain", str(runs[lang][0]), "--subject", subject, "--lang", lang)
        assert result.exit_code == 0, result.output
        texts[lang] = result.output
        assert_golden(GOLDEN / f"{subject.replace('/', '-')}.{lang}.txt", result.output)
    en, zh = texts["en"], texts["zh-CN"]
    assert numbers(en) == numbers(zh)
    assert len(en.splitlines()) == len(zh.splitlines())  # the same tree, line for line
    assert "record(s)" in en and "Total " in en and "Grade " in en
    assert "条记录" in zh and "总分 " in zh and "等级 " in zh and "权重" in zh and "贡献" in zh
    for english in ("record(s)", "· weight ", "contributes", "Total", "Grade", " points", ", sample ", "Stability"):
        assert english not in zh, english


def test_explain_names_the_not_applicable_indicator_and_the_veto_in_chinese(
        cli: Cli, runs: dict[str, tuple[Path, str]]) -> None:
    outdir = runs["zh-CN"][0]
    na = cli("explain", str(outdir), "--subject", SUBJECTS[0], "--lang", "zh-CN").output
    assert "不适用：" in na and "权重已重新分配给其他指标" in na
    assert "（推荐者 " in na and "条因缺失而跳过" in na
    veto = cli("explain", str(outdir), "--subject", SUBJECTS[1], "--lang", "zh-CN").output
    assert "：由一票否决项 unauthorised_promise 决定（仅按得分为 " in veto
    assert re.search(r"^一票否决项 .+ \[unauthorised_promise\]：等级 ", veto, re.M)


def test_explain_of_an_unknown_subject_is_a_usage_error_in_chinese(
        cli: Cli, runs: dict[str, tuple[Path, str]]) -> None:
    result = cli("explain", str(runs["en"][0]), "--subject", "A001/2026-4", "--lang", "zh-CN")
    assert result.exit_code == 2
    assert "没有评价对象 'A001/2026-4' 的评分卡 — 您是否指 A001/2026-04" in result.output
    english = cli("explain", str(runs["en"][0]), "--subject", "A001/2026-4")
    assert "no scorecard for subject 'A001/2026-4' — did you mean A001/2026-04" in english.output


def test_explain_of_a_directory_without_scorecards_says_so_in_chinese(cli: Cli, tmp_path: Path) -> None:
    result = cli("explain", str(tmp_path), "--subject", "A001/2026-04", "--lang", "zh-CN")
    assert result.exit_code != 0 and "请" in result.output
    assert CHINESE.search(result.output)


# --------------------------------------------------------------------------- evaluate


def test_evaluate_summary_in_chinese(runs: dict[str, tuple[Path, str]]) -> None:
    outdir, zh = runs["zh-CN"]
    en = runs["en"][1]
    assert "读取 3000 行 = 已评分 2970 行 + 被拒绝 30 行" in zh
    assert re.search(r"^72 张评分卡（方案版本 cs-quality 2026Q2）：优秀 \d+, 良好 \d+, 合格 \d+, 不合格 \d+$", zh, re.M)
    assert "个等级不确定：更多记录可能改变它们" in zh
    assert "最常见的拒绝原因：" in zh
    assert "rows read 3000 = scored 2970 + rejected 30" in en and "rows read" not in zh
    # where the outputs are: the labels in Chinese, the paths lined up under each other
    located = [line for line in zh.splitlines() if str(outdir) in line]
    assert [line.split("：", 1)[0] for line in located] == ["评分卡", "被拒绝的行", "清单"]
    starts = {display_width(line[:line.index(str(outdir))]) for line in located}
    assert len(starts) == 1, located
    assert f"评分卡：     {outdir / 'scorecards.csv'}（完整明细：{outdir / 'scorecards.jsonl'}）" in zh


def test_evaluate_usage_errors_in_chinese(cli: Cli, tmp_path: Path) -> None:
    result = cli("evaluate", str(Q2), str(INTERACTIONS), "-o", str(tmp_path / "o"), "--operator", "张三",
                 "--lang", "zh-CN")
    assert result.exit_code == 2
    assert "--operator 会记录在签名中：请同时给出 --sign-key" in result.output
    spark = cli("evaluate", str(Q2), str(INTERACTIONS), "-o", str(tmp_path / "o"), "--spark-master", "local[2]",
                env={"QUALISCORE_LANG": "zh-CN"})
    assert "请同时给出 --engine spark" in spark.output


def test_the_summary_of_a_result_in_each_language() -> None:
    result = score(Q2, INTERACTIONS, engine="rows")
    english = str(result.summary)
    with using("zh-CN"):
        chinese = str(result.summary)
    assert english.startswith("rows read 3000 = scored 2970 + rejected 30\n72 scorecard(s) by cs-quality 2026Q2: ")
    assert chinese.startswith("读取 3000 行 = 已评分 2970 行 + 被拒绝 30 行\n72 张评分卡（方案版本 cs-quality 2026Q2）：")
    assert numbers(english) == numbers(chinese)
    with using("zh-CN"):
        tree = result.explain("A001/2026-04")
    assert "条记录" in tree and "总分 " in tree


# --------------------------------------------------------------------------- test


def _counts(text: str, pattern: str) -> tuple[int, int]:
    found = re.search(pattern, text)
    assert found, text
    return int(found[1]), int(found[2])


def test_test_command_in_both_languages_has_the_same_counts(cli: Cli) -> None:
    en = cli("test", str(ROOT / "rules"), "-v")
    zh = cli("test", str(ROOT / "rules"), "-v", "--lang", "zh-CN")
    assert en.exit_code == zh.exit_code == 0
    passed, failed = _counts(en.output, r"(\d+) passed, (\d+) failed")
    assert (passed, failed) == _counts(zh.output, r"通过 (\d+) 个，失败 (\d+) 个") and passed > 0 and failed == 0
    summary = re.compile(r"^通过 \d+ 个，失败 \d+ 个$")
    listed = [line for line in zh.output.splitlines() if line.startswith("通过 ") and not summary.match(line)]
    assert len(listed) == sum(line.startswith("PASS ") for line in en.output.splitlines()) == passed
    assert not re.search(r"^PASS |\d+ passed, \d+ failed", zh.output, re.M)


def test_a_failing_test_explained_in_chinese(cli: Cli, tmp_path: Path) -> None:
    scheme = tmp_path / "2026Q2.yaml"
    shutil.copytree(Q2.parent / "fixtures", tmp_path / "fixtures")
    text = Q2.read_text(encoding="utf-8")
    assert "      score: 100\n" in text
    scheme.write_text(text.replace("      score: 100\n", "      score: 99\n", 1), encoding="utf-8")
    en = cli("test", str(scheme), "--explain")
    zh = cli("test", str(scheme), "--explain", "--lang", "zh-CN")
    assert en.exit_code == zh.exit_code == 1
    assert "  score: expected 99, got 100" in en.output and "  how the scorecard was computed:" in en.output
    assert "  score：期望 99，实际为 100" in zh.output and "  评分卡的计算过程：" in zh.output
    assert re.search(r"^失败 .*2026Q2\.yaml · ", zh.output, re.M)
    assert _counts(en.output, r"(\d+) passed, (\d+) failed") == _counts(zh.output, r"通过 (\d+) 个，失败 (\d+) 个")
    assert numbers(en.output) == numbers(zh.output)
    dry = cli("test", str(scheme), "--update", "--dry-run", "--lang", "zh-CN")
    assert f"将在 {scheme} 中写入 1 个值" in dry.output
    assert "--dry-run 需与 --update 一起使用" in cli("test", str(scheme), "--dry-run", "--lang", "zh-CN").output


# --------------------------------------------------------------------------- sample, calibrate, synth


def test_sample_summary_in_chinese(cli: Cli, tmp_path: Path) -> None:
    q3 = ROOT / "rules" / "cs-quality" / "2026Q3.yaml"
    calls = ROOT / "data" / "sample" / "q3" / "interactions.csv"
    args = ("sample", str(q3), f"interactions={calls}", "--period", "2026-W28")
    en = cli(*args, "-o", str(tmp_path / "en"))
    zh = cli(*args, "-o", str(tmp_path / "zh"), "--lang", "zh-CN")
    assert en.exit_code == zh.exit_code == 0, zh.output
    assert "读取 3000 行 = 保留 2970 行 + 被拒绝 30 行；其中 209 行属于 2026-W28" in zh.output
    lines = zh.output.splitlines()
    header = next(line for line in lines if line.startswith("分层"))
    assert header.split() == ["分层", "总数", "排除", "可抽样", "已抽取"]
    table = lines[lines.index(header):lines.index(header) + 4]
    assert len({display_width(line) for line in table}) == 1, table  # the columns line up
    assert "清单：" in zh.output and "核验" in zh.output
    assert numbers(en.output.replace(str(tmp_path / "en"), "")) == numbers(zh.output.replace(str(tmp_path / "zh"), ""))


def test_calibrate_tables_in_chinese(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("krippendorff")
    pytest.importorskip("statsmodels")
    form, reviews = ROOT / "rules" / "qa-form" / "2026Q2.yaml", ROOT / "data" / "sample" / "qa-reviews.csv"
    en = cli("calibrate", str(form), str(reviews))
    zh = cli("calibrate", str(form), str(reviews), "--lang", "zh-CN", "-o", str(tmp_path / "c"))
    assert en.exit_code == zh.exit_code == 1
    assert "qa-form 2026Q2 的校准：读取 400 行 = 已使用 396 行 + 被拒绝 4 行" in zh.output
    assert re.search(r"^项目 +尺度 +记录数 +质检员数 +alpha +kappa +kappa 记录数 +一致率 +已校准$", zh.output, re.M)
    assert "未校准：" in zh.output and re.search(r"^总分 +interval ", zh.output, re.M)
    assert "已写入：" in zh.output
    assert numbers(en.output) == numbers(zh.output.split("已写入：")[0].replace(str(tmp_path / "c"), ""))
    md = (tmp_path / "c" / "calibration.md").read_text(encoding="utf-8")
    assert md.startswith("## 质检员校准 · qa-form 2026Q2\n") and "| 项目 | 尺度 |" in md
    # the CSV keeps its columns and values whatever the language
    csv_text = (tmp_path / "c" / "calibration.csv").read_text(encoding="utf-8")
    assert csv_text.startswith("item,level,records,") and ",no," in csv_text and "\ntotal," in csv_text


def test_synth_messages_in_chinese(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "cs.csv"
    result = cli("synth", "cs", "-n", "50", "-o", str(out), "--lang", "zh-CN")
    assert result.exit_code == 0
    assert f"已将 50 行写入 {out}" in result.output
    bad = cli("synth", "cs", "--start", "2026-13-01", "--lang", "zh-CN")
    assert bad.exit_code == 2 and "start 必须是 YYYY-MM-DD 格式的日期，实际为 '2026-13-01'" in bad.output
    usage = cli("synth", "qa", "--months", "2", "--lang", "zh-CN")
    assert "--months 和 --agents 只适用于 cs 和 cs-sources 类型" in usage.output
