"""`qualiscore validate` in Chinese and in English: the same findings, at the same places, with the same codes.

Every broken scheme of tests/fixtures/broken/ is validated in both languages. The text
output of each language is kept as a golden file under tests/fixtures/i18n/validate/
(`QUALISCORE_UPDATE_GOLDEN=1` rewrites them after a deliberate change of wording);
the findings themselves are compared language against language: the same
file:line:column, severity and code, and a Chinese message and hint in zh-CN.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import UPDATE_GOLDEN, Cli
from qualiscore.cli import cli as qualiscore
from qualiscore.i18n import using
from qualiscore.validation import Finding, validate_file

ROOT = Path(__file__).resolve().parent.parent
BROKEN = Path("tests") / "fixtures" / "broken"  # relative to ROOT, so that the goldens name files the same anywhere
GOLDEN = ROOT / "tests" / "fixtures" / "i18n" / "validate"
CASES = sorted(p.name for p in (ROOT / BROKEN).glob("*.yaml"))
LANGS = ("en", "zh-CN")

HAN = re.compile(r"[\u3400-\u9fff]")
# The head of a finding's text line: where it is, then the severity word, then [code].
HEAD = re.compile(r"^(?P<where>\S.*?): (?P<severity>\S+)\[(?P<code>[a-z0-9-]+)\]")
SEVERITY_WORD = {"en": {"error": "error", "warning": "warning"}, "zh-CN": {"error": "错误", "warning": "警告"}}


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def _validate_text(cli: Cli, name: str, lang: str) -> str:
    result = cli("validate", str(BROKEN / name), "--lang", lang)
    assert result.exit_code in (0, 1), result.output
    return result.output.replace(str(ROOT), "<root>")


def _golden(cli: Cli, lang: str) -> str:
    return "".join(f"=== {name}\n{_validate_text(cli, name, lang)}" for name in CASES)


@pytest.mark.parametrize("lang", LANGS)
def test_golden_text_of_the_broken_corpus(cli: Cli, at_root: Path, lang: str) -> None:
    """`qualiscore validate` of every broken scheme, as a committee member reads it in each language."""
    actual = _golden(cli, lang)
    path = GOLDEN / f"{lang}.txt"
    if UPDATE_GOLDEN or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        if not UPDATE_GOLDEN:
            pytest.fail(f"{path} was missing and has been written: check it and commit it")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        # The first file whose output differs, shown whole, rather than a 2000-line diff.
        sections = dict(_sections(expected)), dict(_sections(actual))
        name = next(n for n in CASES if sections[0].get(n) != sections[1].get(n))
        pytest.fail(f"validate {name} --lang {lang} differs from {path.name} "
                    f"(QUALISCORE_UPDATE_GOLDEN=1 rewrites it after a deliberate change):\n"
                    f"--- expected\n{sections[0].get(name)}--- actual\n{sections[1].get(name)}")


def _sections(text: str) -> list[tuple[str, str]]:
    parts = re.split(r"^=== (\S+)\n", text, flags=re.M)
    return list(zip(parts[1::2], parts[2::2], strict=True))


def _findings(name: str, lang: str) -> list[Finding]:
    with using(lang):
        _doc, findings = validate_file(BROKEN / name)
    return findings


@pytest.mark.parametrize("name", CASES)
def test_the_same_findings_in_both_languages(at_root: Path, name: str) -> None:
    """Translated findings stay where they were, with their severity and code; each message and hint is Chinese."""
    english, chinese = _findings(name, "en"), _findings(name, "zh-CN")
    assert english, f"{name}: no finding"
    where = [(f.severity, f.code, f.location.file, f.location.line, f.location.column, f.location.pointer)
             for f in english]
    assert [(f.severity, f.code, f.location.file, f.location.line, f.location.column, f.location.pointer)
            for f in chinese] == where
    for en, zh in zip(english, chinese, strict=True):
        assert HAN.search(zh.message), f"{name}: [{zh.code}] message not in Chinese: {zh.message!r}"
        assert (zh.hint is None) == (en.hint is None)
        if zh.hint is not None:
            assert HAN.search(zh.hint), f"{name}: [{zh.code}] hint not in Chinese: {zh.hint!r}"
        assert zh.as_dict().keys() == en.as_dict().keys()
        assert zh.as_dict()["severity"] == en.severity  # JSON keeps the code of the severity


@pytest.mark.parametrize("name", CASES)
def test_the_text_lines_of_both_languages_are_at_the_same_places(cli: Cli, at_root: Path, name: str) -> None:
    """The text form: line by line, the same file:line:col and [code], the severity word in the language."""
    heads = {}
    for lang in LANGS:
        lines = [m for line in _validate_text(cli, name, lang).splitlines() if (m := HEAD.match(line))]
        assert lines, f"{name} --lang {lang}: no finding line"
        for m in lines:
            assert m["severity"] in SEVERITY_WORD[lang].values(), m[0]
        heads[lang] = [(m["where"], {v: k for k, v in SEVERITY_WORD[lang].items()}[m["severity"]], m["code"])
                       for m in lines]
    assert heads["zh-CN"] == heads["en"]


def test_a_finding_in_both_languages() -> None:
    path = BROKEN / "unknown-key-typo.yaml"
    with using("en"):
        english = validate_file(path)[1][0].format()
    with using("zh-CN"):
        chinese = validate_file(path)[1][0].format()
    assert english == f"{path}:6:1: error[unknown-key] /titel: unknown key 'titel' — did you mean 'title'?"
    assert chinese == f"{path}:6:1: 错误[unknown-key] /titel: 未知的键 'titel' —— 提示：是否应为 'title'？"


def test_the_severity_word_is_coloured_in_both_languages() -> None:
    path = str(ROOT / BROKEN / "warn-unused-field.yaml")
    for lang, word in (("en", "warning"), ("zh-CN", "警告")):
        result = CliRunner().invoke(qualiscore, ["validate", path, "--lang", lang], color=True)
        assert f"\x1b[33m\x1b[1m{word}\x1b[0m[unused-field]" in result.output, result.output


def test_the_summary_and_data_lines_in_chinese(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    scheme = str(ROOT / "rules" / "cs-quality" / "2026Q2.yaml")
    text = (ROOT / "data" / "sample" / "interactions.csv").read_text(encoding="utf-8")
    Path("renamed.csv").write_text(text.replace(",channel,", ",Chanel,", 1), encoding="utf-8")
    result = cli("validate", scheme, "--data", "renamed.csv", "--sample", "20", "--lang", "zh-CN")
    assert result.exit_code == 1, result.output
    assert ("renamed.csv:1: 错误[missing-column] 字段 'channel' 读取列 'channel'，但表头中没有这一列（是否应为 "
            "'Chanel'？）：运行会中止（退出状态 15") in result.output
    assert "renamed.csv：已检查前 20 行，0 行会计分，20 行被拒绝" in result.output
    assert "已检查 2 个文件：1 个错误，0 个警告" in result.output
    missing = cli("validate", str(tmp_path / "nope.yaml"), "--lang", "zh-CN")
    assert missing.exit_code == 2
    assert "nope.yaml 不存在" in missing.output


def test_json_keeps_its_keys_and_codes_with_chinese_messages(cli: Cli, at_root: Path) -> None:
    path = str(BROKEN / "effective-from-after-to.yaml")
    english = json.loads(cli("validate", "--format", "json", path).stdout)
    chinese = json.loads(cli("validate", "--format", "json", path, "--lang", "zh-CN").stdout)
    assert chinese.keys() == english.keys()
    assert [f.keys() for f in chinese["findings"]] == [f.keys() for f in english["findings"]]
    strip = ("message", "hint")
    assert [{k: v for k, v in f.items() if k not in strip} for f in chinese["findings"]] == [
        {k: v for k, v in f.items() if k not in strip} for f in english["findings"]]
    assert {f["severity"] for f in chinese["findings"]} <= {"error", "warning"}
    assert all(HAN.search(f["message"]) for f in chinese["findings"])
    assert (chinese["errors"], chinese["warnings"]) == (english["errors"], english["warnings"])


# --------------------------------------------------------------------------- the locale of a real process


def _qualiscore() -> list[str]:
    script = Path(sys.executable).with_name("qualiscore")
    return [str(script)] if script.exists() else [sys.executable, "-m", "qualiscore"]


def _run(*args: str, lang: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("QUALISCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE")}
    env["LANG"] = lang
    return subprocess.run([*_qualiscore(), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          encoding="utf-8", timeout=120, check=False)


def test_the_locale_chooses_the_language_of_a_real_process() -> None:
    """`LANG=zh_CN.UTF-8 qualiscore validate …`: Chinese findings at the places the English ones are."""
    path = str(BROKEN / "warn-weights-not-100.yaml")
    english, chinese = _run("validate", path, lang="C.UTF-8"), _run("validate", path, lang="zh_CN.UTF-8")
    assert english.returncode == chinese.returncode == 0, chinese.stderr
    en_heads = [m for line in english.stdout.splitlines() if (m := HEAD.match(line))]
    zh_heads = [m for line in chinese.stdout.splitlines() if (m := HEAD.match(line))]
    assert [(m["where"], m["code"]) for m in zh_heads] == [(m["where"], m["code"]) for m in en_heads] != []
    assert [m["severity"] for m in zh_heads] == ["警告" for _m in en_heads]
    assert "权重之和为 110" in chinese.stdout
    assert "已检查 1 个文件：0 个错误，1 个警告" in chinese.stderr
    assert "1 file(s) checked: 0 error(s), 1 warning(s)" in english.stderr

    broken = str(Path("tests") / "fixtures" / "validate" / "several-mistakes.yaml")
    en_json = json.loads(_run("validate", "--format", "json", broken, lang="C.UTF-8").stdout)
    zh_json = json.loads(_run("validate", "--format", "json", broken, lang="zh_CN.UTF-8").stdout)
    assert [(f["code"], f["severity"], f["line"], f["column"]) for f in zh_json["findings"]] == [
        (f["code"], f["severity"], f["line"], f["column"]) for f in en_json["findings"]]
    assert all(HAN.search(f["message"]) for f in zh_json["findings"])
