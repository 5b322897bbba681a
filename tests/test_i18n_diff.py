"""`qualiscore diff` and `qualiscore revise` in English and in Chinese: golden outputs and what must not change.

Every case of the diff corpora (tests/fixtures/diff/ and tests/fixtures/diff-changelog/)
and one impact case (`--data`) has a golden text output per language in
tests/fixtures/i18n/diff/: ``<case>.en.txt`` and ``<case>.zh-CN.txt`` (changelog cases
are named ``changelog-<case>``). Run with QUALISCORE_UPDATE_GOLDEN=1 to rewrite them
after a deliberate change, and review the diff. Both languages must say the same
things: as many change lines, the same kinds, paths and lines; ``--format json`` is the
same document in both, but for its human sentences.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli, assert_golden
from qualiscore.diff import changelog_findings, diff_documents, load_side, render_text, review_changelog
from qualiscore.i18n import using
from qualiscore.loader import load_path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "i18n" / "diff"
CORPORA = {"": Path("tests/fixtures/diff"), "changelog-": Path("tests/fixtures/diff-changelog")}
CASES = {f"{prefix}{p.name.removesuffix('.expected.json')}": (folder / p.name.replace(".expected.json", ".old.yaml"),
                                                             folder / p.name.replace(".expected.json", ".new.yaml"))
         for prefix, folder in CORPORA.items() for p in sorted((ROOT / folder).glob("*.expected.json"))}
IMPACT = ("impact-2026Q1-2026Q2", "rules/cs-quality/2026Q1.yaml", "rules/cs-quality/2026Q2.yaml",
          "data/sample/interactions.csv")
LANGUAGES = ("en", "zh-CN")

CHINESE = re.compile(r"[\u4e00-\u9fff]")
CHANGE_LINE = re.compile(r"^  [+~>-] (.+?): .*  \[([a-z-]+)[;；] ?\S+ (\S+ → \S+)\]$")
# Words of the English output that a Chinese one never holds (the corpora's data has none of them).
ENGLISH_ONLY = ("change(s)", "; lines ", "  old: ", "  new: ", "Changelog of", "no semantic differences", "share of the total", "share of dimension",
                "effective weight", "is a placeholder", "no changelog line", "no rule changed", "named by",
                "not checked", "Impact on", "rows read", "subject(s)", "Grade migration", "Largest score",
                "Indicator means", "Dimension means", "Vetoes newly", "Vetoes cleared", "by indicator")
# JSON values that are sentences for a person: they follow the language; everything else is the same.
HUMAN = {"note", "old", "new", "what", "not_checked_because"}




def _outputs(cli: Cli, *args: str) -> dict[str, str]:
    """`qualiscore diff ARGS` in each language (exit status 0 or 1, both the same)."""
    out = {}
    for lang in LANGUAGES:
        result = cli("diff", *args, "--lang", lang)
        assert result.exit_code in (0, 1), result.output
        out[lang] = result.output
    return out


def _change_lines(text: str) -> list[tuple[str, str, str]]:
    """The (path, kind, lines) of every change line of a text diff."""
    return [(m.group(1), m.group(2), m.group(3)) for m in map(CHANGE_LINE.match, text.splitlines()) if m]


def _same_but_sentences(en: Any, zh: Any, key: str = "") -> int:
    """Assert two JSON documents are the same but for the values of HUMAN keys; the number of those that differ."""
    assert type(en) is type(zh), (key, en, zh)
    if isinstance(en, dict):
        assert list(en) == list(zh), (key, list(en), list(zh))
        return sum(_same_but_sentences(en[k], zh[k], k) for k in en)
    if isinstance(en, list):
        assert len(en) == len(zh), (key, en, zh)
        return sum(_same_but_sentences(a, b, key) for a, b in zip(en, zh))
    if isinstance(en, str) and key in HUMAN:
        return en != zh
    assert en == zh, (key, en, zh)
    return 0


def _check_languages(out: dict[str, str]) -> None:
    en, zh = out["en"], out["zh-CN"]
    assert CHINESE.search(zh), zh
    assert len(en.splitlines()) == len(zh.splitlines())
    assert _change_lines(en) == _change_lines(zh)
    assert len(_change_lines(en)) == sum(1 for line in en.splitlines() if re.match(r"  [+~>-] ", line))
    left = [words for words in ENGLISH_ONLY if words in zh]
    assert not left, f"English left in the Chinese output: {left}"


# --------------------------------------------------------------------------- text goldens


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_golden_in_both_languages(cli: Cli, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the paths in the output are relative to the repository
    old, new = CASES[case]
    out = _outputs(cli, str(old), str(new))
    for lang in LANGUAGES:
        assert_golden(GOLDEN / f"{case}.{lang}.txt", out[lang])
    if "no semantic differences" in out["en"]:
        assert "没有语义差异" in out["zh-CN"]
        return
    _check_languages(out)


def test_the_corpora_have_their_goldens() -> None:
    expected = {f"{case}.{lang}.txt" for case in [*CASES, IMPACT[0]] for lang in LANGUAGES}
    assert expected <= {p.name for p in GOLDEN.glob("*.txt")}
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", sorted(CASES))
def test_json_is_the_same_in_both_languages_but_for_sentences(cli: Cli, case: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    old, new = CASES[case]
    docs = {lang: json.loads(text) for lang, text in _outputs(cli, str(old), str(new), "--format", "json").items()}
    _same_but_sentences(docs["en"], docs["zh-CN"])


def test_json_sentences_do_follow_the_language(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    old, new = CASES["weight"]
    docs = {lang: json.loads(text) for lang, text in _outputs(cli, str(old), str(new), "--format", "json").items()}
    assert _same_but_sentences(docs["en"], docs["zh-CN"]) == 3  # the three notes
    notes = [c["note"] for c in docs["zh-CN"]["changes"]]
    assert notes[0] == "占维度 perception 的比例 60% → 66.67%"
    assert [c["kind"] for c in docs["zh-CN"]["changes"]] == [c["kind"] for c in docs["en"]["changes"]]
    old, new = CASES["changelog-unmentioned"]
    docs = {lang: json.loads(text) for lang, text in _outputs(cli, str(old), str(new), "--format", "json").items()}
    unmentioned = docs["zh-CN"]["changelog"]["unmentioned"]
    assert unmentioned and all(CHINESE.search(u["what"]) for u in unmentioned)
    assert [u["terms"] for u in unmentioned] == [u["terms"] for u in docs["en"]["changelog"]["unmentioned"]]


# --------------------------------------------------------------------------- impact


@pytest.fixture(scope="module")
def impact_outputs() -> dict[str, dict[str, str]]:
    """The impact case in every format and language, run once: scoring 3000 rows twice takes a while."""
    from click.testing import CliRunner

    from qualiscore.cli import cli

    _name, old, new, data = IMPACT
    out: dict[str, dict[str, str]] = {}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for fmt in ("text", "json", "md"):
            for lang in LANGUAGES:
                result = CliRunner().invoke(cli, ["diff", old, new, "--data", data, "--format", fmt, "--lang", lang],
                                            color=False, catch_exceptions=False)
                assert result.exit_code == 1, result.output
                out.setdefault(fmt, {})[lang] = result.output
    finally:
        os.chdir(cwd)
    return out


def test_impact_golden_in_both_languages(impact_outputs: dict[str, dict[str, str]]) -> None:
    out = impact_outputs["text"]
    for lang in LANGUAGES:
        assert_golden(GOLDEN / f"{IMPACT[0]}.{lang}.txt", out[lang])
    _check_languages(out)
    zh = out["zh-CN"]
    assert "对 data/sample/interactions.csv 的影响" in zh
    assert "等级迁移（行：2026Q1，列：2026Q2）" in zh
    assert "（无）" in zh and "(none)" not in zh  # the grade of no grade, shown in the language


def test_impact_json_is_the_same_in_both_languages(impact_outputs: dict[str, dict[str, str]]) -> None:
    docs = {lang: json.loads(text) for lang, text in impact_outputs["json"].items()}
    _same_but_sentences(docs["en"], docs["zh-CN"])
    assert docs["en"]["impact"] == docs["zh-CN"]["impact"]  # figures and grade names, "(none)" included
    assert docs["zh-CN"]["impact"]["grades"][-1] == "(none)"


def test_markdown_tables_keep_their_columns_in_chinese(impact_outputs: dict[str, dict[str, str]]) -> None:
    en, zh = (impact_outputs["md"][lang].splitlines() for lang in LANGUAGES)
    assert len(en) == len(zh)
    for a, b in zip(en, zh):
        assert a.startswith("|") == b.startswith("|") and a.startswith("#") == b.startswith("#"), (a, b)
        if a.startswith("|"):
            assert a.replace("\\|", "").count("|") == b.replace("\\|", "").count("|"), (a, b)
    text = "\n".join(zh)
    assert "## 对 `data/sample/interactions.csv` 的影响" in text
    assert "| 指标 | 维度 | 得分（旧） |" in text
    assert not any(words in text for words in ("Rows read", "Subjects whose", "None.", "| subject |"))


# --------------------------------------------------------------------------- the library and validation


def test_the_differ_writes_its_notes_in_the_language_in_force() -> None:
    old, new = (load_side(str(ROOT / p)) for p in CASES["indicator-moved"])
    with using("zh-CN"):
        zh = diff_documents(old, new)
        text = render_text(old, new, zh)
    en = diff_documents(old, new)
    assert [(c.kind, c.path, c.old_line, c.new_line) for c in zh] == [(c.kind, c.path, c.old_line, c.new_line)
                                                                       for c in en]
    moved = next(c for c in zh if c.kind == "indicator-moved")
    assert moved.note == "从维度 process 移到维度 perception"
    assert "维度与指标（1）" in text and "权重（4）" in text


def test_changelog_findings_in_chinese() -> None:
    old, new = (load_side(str(ROOT / p)) for p in CASES["changelog-placeholder"])
    with using("zh-CN"):
        findings = changelog_findings([old, new])
        review = review_changelog(old, new, diff_documents(old, new))
    codes = {f.code for f in findings}
    assert {"changelog-placeholder", "changelog-unmentioned"} <= codes
    placeholder = next(f for f in findings if f.code == "changelog-placeholder")
    assert placeholder.message == "这一行变更记录仍是占位内容，应写明相对 v1 的变更"
    assert placeholder.hint is not None and CHINESE.search(placeholder.hint)
    unmentioned = next(f for f in findings if f.code == "changelog-unmentioned")
    assert "但变更记录中没有任何一行提到它" in unmentioned.message
    assert review is not None and review.placeholders


def test_a_missing_side_is_refused_in_chinese(cli: Cli, tmp_path: Path) -> None:
    result = cli("diff", str(tmp_path / "nope.yaml"), str(ROOT / CASES["weight"][1]), "--lang", "zh-CN")
    assert result.exit_code == 2
    assert "没有这个文件" in result.output and "REV:path" in result.output


# --------------------------------------------------------------------------- revise


def test_revise_in_chinese_writes_a_draft_that_validate_still_reads(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "v1.yaml"
    shutil.copyfile(ROOT / CASES["metadata"][0], source)
    result = cli("revise", str(source), "v2", "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"已写入 {tmp_path / 'v2.yaml'}" in out
    assert "委员会的后续步骤：" in out and "qualiscore validate" in out and "--data LAST_QUARTER.csv" in out
    assert "Next steps" not in out and "wrote " not in out
    doc = load_path(tmp_path / "v2.yaml")
    assert doc.data["changelog"] == ["TODO: 列出相对 v1 的每一项变更，每项一行"]
    assert "# 尚未批准。委员会批准此版本后，请填写以下内容并取消注释：" in doc.text
    # the placeholder is still found, whatever the language it was written in and the one validate speaks
    validated = cli("validate", str(tmp_path), "--format", "json")
    codes = [f["code"] for f in json.loads(validated.stdout)["findings"]]
    assert "changelog-placeholder" in codes


def test_revise_refusals_in_chinese(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "v1.yaml"
    shutil.copyfile(ROOT / CASES["metadata"][0], source)
    same = cli("revise", str(source), "v1", "--lang", "zh-CN")
    assert same.exit_code == 2 and "就是" in same.output and "请给出下一个版本" in same.output
    bad_date = cli("revise", str(source), "v2", "--from", "2026-13-01", "--lang", "zh-CN")
    assert bad_date.exit_code == 2 and "'2026-13-01' 不是日期；请写成 YYYY-MM-DD" in bad_date.output
    assert cli("revise", str(source), "v2").exit_code == 0
    again = cli("revise", str(source), "v2", "--lang", "zh-CN")
    assert again.exit_code == 2 and "已存在；没有写入任何内容" in again.output and "--force" in again.output
