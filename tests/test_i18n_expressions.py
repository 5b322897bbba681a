"""Expression, YAML-loading and starter-scheme messages in English and in Chinese (zh-CN).

Each mistake is validated twice, through `qualiscore validate --format json`, once per language:
the finding keeps its code and its place (line, column, JSON pointer) and only its words change.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Cli
from qualiscore.errors import ExpressionError, SchemeLoadError
from qualiscore.expressions import FUNCTIONS, Evaluator, iter_errors, parse
from qualiscore.i18n import using
from qualiscore.loader import load_path
from qualiscore.model import Band
from qualiscore.starter import COMMENTS, starter_scheme

_CJK = re.compile(r"[\u4e00-\u9fff]")
_DERIVE = "responded_in_time: first_response_s <= response_target_s[channel]"


def _findings(cli: Cli, path: Path, lang: str) -> list[dict[str, Any]]:
    result = cli("validate", "--format", "json", str(path), "--lang", lang)
    assert result.exit_code in (0, 1), result.output
    return [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]


def _both(cli: Cli, path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one error finding of ``path`` in English and in Chinese, at the same place with the same code."""
    english, chinese = _findings(cli, path, "en"), _findings(cli, path, "zh-CN")
    assert len(english) == len(chinese) == 1, (english, chinese)
    en, zh = english[0], chinese[0]
    for key in ("code", "file", "line", "column", "pointer"):
        assert en.get(key) == zh.get(key), key
    assert not _CJK.search(en["message"]) or "：" in en["message"], en["message"]
    assert _CJK.search(zh["message"]), zh["message"]
    if en.get("hint"):
        assert _CJK.search(zh["hint"]), zh["hint"]
    return en, zh


def _scheme_with_derive(tmp_path: Path, expression: str) -> Path:
    """The starter scheme with its derived value's expression replaced."""
    text = starter_scheme("demo", "2026Q3")
    assert _DERIVE in text
    path = tmp_path / "rules" / "demo" / "2026Q3.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(_DERIVE, f"responded_in_time: {expression}"), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- expressions


@pytest.mark.parametrize(("expression", "code", "english", "chinese"), [
    ("first_response_s =< 60", "excel-habit", "'=' compares in Excel; write '=='",
     "'=' 是 Excel 中比较的写法；请写作 '=='"),
    ("frist_response_s <= 60", "unknown-name", "'frist_response_s' is not a field, derived value or constant",
     "'frist_response_s' 不是字段、派生值或常量"),
    ("round(first_response_s, 1, 2) <= 60", "function-arity", "round() takes 1 or 2 arguments, got 3",
     "round() 需要最少 1 个、最多 2 个参数，实际给了 3 个"),
    ("abs(first_response_s) <= 60 and lower(x=1) == 'a'", "disallowed-syntax",
     "keyword arguments are not allowed (x=...)", "不允许使用关键字参数（x=...）"),
    ("(first_response_s <= 60", "expression-syntax", "syntax error: '(' was never closed",
     "语法错误：'(' 没有闭合"),
    ("first_response_s.real <= 60", "disallowed-syntax", "attribute access is not allowed", "不允许访问属性"),
    ("len('ab' * 60000) > first_response_s", "never-computable",
     "the result would be a text of 120,000 characters; the limit is 100,000",
     "结果将是 120,000 个字符的文本；上限为 100,000"),
])
def test_expression_errors_in_both_languages(cli: Cli, tmp_path: Path, expression: str, code: str,
                                             english: str, chinese: str) -> None:
    en, zh = _both(cli, _scheme_with_derive(tmp_path, expression))
    assert en["code"] == code
    assert english in en["message"]
    assert chinese in zh["message"]


def test_an_unknown_name_gets_its_suggestion_in_chinese(cli: Cli, tmp_path: Path) -> None:
    en, zh = _both(cli, _scheme_with_derive(tmp_path, "frist_response_s <= 60"))
    assert en["hint"] == "did you mean 'first_response_s'?"
    assert zh["hint"] == "是否想写 'first_response_s'？"


def test_evaluation_errors_are_written_in_the_language_in_force() -> None:
    expr = parse("len(x) + 1")
    messages = {}
    for lang in ("en", "zh-CN"):
        with using(lang), pytest.raises(ExpressionError) as caught:
            Evaluator({}).evaluate(expr, {"x": 5})
        messages[lang] = caught.value.message
    assert "cannot evaluate 'len(x)': len() expects text or a list, got integer" in messages["en"]
    assert "无法计算 'len(x)'：len() 需要文本或列表，实际是整数" in messages["zh-CN"]


def test_iter_errors_hint_and_arity_in_chinese() -> None:
    with using("zh-CN"):
        [error] = iter_errors("coalesce(a)", names={"a": "field"})
        assert str(error.hint).startswith("coalesce(a, b, ...)：第一个不为空值（null）的参数。")
        assert FUNCTIONS["abs"].arity_text() == "恰好 1 个参数"
        assert FUNCTIONS["min"].arity_text() == "至少 2 个参数"
    with using("en"):
        assert FUNCTIONS["abs"].arity_text() == "exactly 1 argument"
        assert FUNCTIONS["contains"].arity_text() == "exactly 2 arguments"


def test_band_words_in_both_languages() -> None:
    band = Band(80.0, min=0.8)
    with using("en"):
        assert (band.describe(), Band(0.0).describe()) == ("value ≥ 0.8", "otherwise")
    with using("zh-CN"):
        assert (band.describe(), Band(0.0).describe()) == ("值 ≥ 0.8", "其他情况")


# --------------------------------------------------------------------------- YAML loading


@pytest.mark.parametrize(("text", "code", "english", "chinese"), [
    (b"scheme: a\nscheme: b\n", "yaml-duplicate-key", "duplicate key 'scheme'; first defined on line 1",
     "键 'scheme' 重复；它首次定义在第 1 行"),
    (b"scheme: a\n\tversion: b\n", "yaml-syntax", "a tab character is not allowed here", "此处不允许使用制表符（Tab）"),
    (b"base: &b {x: 1}\nother: *b\n", "yaml-alias", "anchor &b is not allowed", "不允许使用锚点 &b"),
    (b"scheme: !!python/object x\n", "yaml-tag", "explicit tag !!python/object is not allowed",
     "不允许使用显式标签 !!python/object"),
    (b"scheme: [a, b\n", "yaml-syntax",
     "did not find expected ',' or ']' (while parsing a flow sequence that starts on line 1)",
     "没有找到应有的 ',' 或 ']'（解析行内列表时，从第 1 行开始）"),
    (b"scheme: {a: 1\n", "yaml-syntax",
     "did not find expected ',' or '}' (while parsing a flow mapping that starts on line 1)",
     "没有找到应有的 ',' 或 '}'（解析行内映射时，从第 1 行开始）"),
    ("scheme: demo\ntitle\uff1a 客服\nversion: x\n".encode(), "yaml-full-width-colon",
     "full-width colon '：' (U+FF1A)", "全角冒号 '：'（U+FF1A）——请输入半角的 ':'"),
    (b"scheme: caf\xe9\n", "yaml-encoding", "the file is not valid UTF-8 (byte 0xe9:",
     "文件不是有效的 UTF-8（字节 0xe9："),
    (b"# nothing\n", "yaml-empty", "the document is empty", "文档为空"),
    (b"- a\n- b\n", "yaml-not-mapping", "the top level is a list, but a scheme must be a mapping",
     "顶层是列表，但评价方案必须是由键和值组成的映射"),
    (b"n: 99999999999999999999\n", "yaml-integer-too-large", "the integer 99999999999999999999 is too large",
     "整数 99999999999999999999 太大"),
])
def test_loader_errors_in_both_languages(cli: Cli, tmp_path: Path, text: bytes, code: str, english: str,
                                         chinese: str) -> None:
    path = tmp_path / "scheme.yaml"
    path.write_bytes(text)
    en, zh = _both(cli, path)
    assert en["code"] == code
    assert english in en["message"]
    assert chinese in zh["message"]


def test_a_missing_file_and_a_directory_in_chinese(tmp_path: Path) -> None:
    with using("zh-CN"):
        with pytest.raises(SchemeLoadError) as missing:
            load_path(tmp_path / "absent.yaml")
        with pytest.raises(SchemeLoadError) as directory:
            load_path(tmp_path)
    assert missing.value.code == "file-not-found"
    assert missing.value.message == f"找不到文件：{tmp_path / 'absent.yaml'}"
    assert missing.value.hint == "请检查路径和当前目录"
    assert directory.value.message == f"{tmp_path} 是目录，不是 YAML 文件"


# --------------------------------------------------------------------------- the starter scheme


def _without_comments(text: str) -> list[str]:
    """The lines of a starter with their comments taken off: its YAML, the same in every language."""
    return [re.sub(r"\s*#.*$", "", line) for line in text.splitlines()]


def test_the_chinese_starter_is_the_english_one_with_chinese_comments() -> None:
    with using("en"):
        english = starter_scheme("demo", "2026Q3")
    with using("zh-CN"):
        chinese = starter_scheme("demo", "2026Q3")
    assert english != chinese
    assert _without_comments(english) == _without_comments(chinese)
    assert yaml.safe_load(english) == yaml.safe_load(chinese)
    english_comments = [line.partition("#")[2] for line in english.splitlines() if "#" in line]
    chinese_comments = [line.partition("#")[2] for line in chinese.splitlines() if "#" in line]
    # Every comment of COMMENTS, the schema line and the check:
    assert len(english_comments) == len(chinese_comments) == len(COMMENTS) + 2
    assert english_comments[0] == chinese_comments[0]  # yaml-language-server: $schema=…
    assert all(en != zh and _CJK.search(zh) for en, zh in zip(english_comments[1:], chinese_comments[1:]))
    assert "# 各渠道的服务水平，单位为秒" in chinese and "# service level per channel, in seconds" in english
    assert "# 校验命令：qualiscore validate rules/demo/2026Q3.yaml" in chinese


def test_init_in_chinese_writes_a_scheme_that_validates_clean(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "rules" / "my-scheme" / "2026Q3.yaml"
    result = cli("init", str(target), "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    assert f"已写入 {target}" in result.output
    text = target.read_text(encoding="utf-8")
    with using("zh-CN"):
        assert text == starter_scheme("my-scheme", "2026Q3")
    assert "# 每位坐席每月一张评分卡" in text
    checked = cli("validate", "--strict", str(target), "--lang", "zh-CN")
    assert checked.exit_code == 0, checked.output
    report = json.loads(cli("validate", "--format", "json", "--strict", str(target)).stdout)
    assert (report["errors"], report["warnings"]) == (0, 0)


def test_init_refusal_in_chinese(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "2026Q3.yaml"
    target.write_text("# mine\n", encoding="utf-8")
    result = cli("init", str(target), env={"QUALISCORE_LANG": "zh-CN"})
    assert result.exit_code == 2
    assert "已存在；如需覆盖，请使用 --force" in result.output
