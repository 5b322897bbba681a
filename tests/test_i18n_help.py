"""--help and click's own messages in Chinese: every command, whichever way the language is chosen."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import Cli
from qualiscore.cli import COMMANDS

CHINESE = re.compile(r"[\u4e00-\u9fff]")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
ZH = {"QUALISCORE_LANG": "zh-CN"}


def prose(text: str) -> str:
    """``text`` without its example command lines (whose values may be Chinese in any language)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("qualiscore "))


def options(text: str) -> set[str]:
    """The option names a help mentions (one that the wrapping split at a hyphen, joined again)."""
    return set(OPTION.findall(re.sub(r"-\n\s+", "-", text)))


def examples(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.lstrip().startswith("qualiscore ")]


def test_group_help_in_chinese_with_lang_before_the_help_option(cli: Cli) -> None:
    result = cli("--lang", "zh-CN", "--help")
    assert result.exit_code == 0, result.output
    assert "用易读、有版本管理的 YAML 评价方案为客户服务质量评分。" in result.output
    assert "示例：" in result.output
    for name in COMMANDS:  # every command listed, each with its summary in Chinese
        line = next(line for line in result.output.splitlines() if line.startswith(f"  {name} "))
        assert CHINESE.search(line), line


def test_command_help_in_chinese_with_lang_after_the_help_option(cli: Cli) -> None:
    result = cli("validate", "--help", "--lang", "zh-CN")
    assert result.exit_code == 0, result.output
    assert "检查方案文件（或方案版本目录），报告所有检查结果。" in result.output
    assert "退出状态：0 没有问题，1 有错误（使用 --strict 时警告也算），2 用法错误。" in result.output
    assert "把警告也当作失败。" in result.output  # an option's help
    assert "Check scheme files" not in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_help_in_both_languages(cli: Cli, name: str) -> None:
    english = cli(name, "--help")
    chinese = cli(name, "--help", env=ZH)
    assert english.exit_code == chinese.exit_code == 0, chinese.output
    assert not CHINESE.search(prose(english.output)), f"`qualiscore {name} --help` has Chinese in English"
    assert CHINESE.search(prose(chinese.output)), f"`qualiscore {name} --help` has no Chinese in zh-CN"
    # The prose is translated: no sentence of the English help is left in the Chinese one (the
    # summary, the first paragraph, every option's help); the examples and option names are kept.
    summary = COMMANDS[name].help
    assert summary not in chinese.output
    assert "示例" in chinese.output
    assert examples(chinese.output) == examples(english.output)
    assert options(chinese.output) == options(english.output)
    for line in prose(chinese.output).splitlines():
        assert not re.search(r"[A-Za-z]+ (the|of|and|a|to|is|with|for) [A-Za-z]+", line) or "Show this" in line, line


def test_the_environment_variable_and_the_option_give_the_same_help(cli: Cli) -> None:
    assert cli("diff", "--help", env=ZH).output == cli("diff", "--help", "--lang", "zh-CN").output
    assert cli("diff", "--help", "--lang", "en", env=ZH).output == cli("diff", "--help").output  # --lang wins


@pytest.mark.parametrize("args", [("validate",), ("evaluate", "--bogus")], ids=["missing-argument", "no-such-option"])
def test_a_usage_error_is_chinese_with_the_same_exit_status(cli: Cli, args: tuple[str, ...]) -> None:
    english = cli(*args, prog_name="qualiscore")
    chinese = cli(*args, "--lang", "zh-CN", prog_name="qualiscore")
    assert english.exit_code == chinese.exit_code == 2
    assert "Error: " in english.output and "Try 'qualiscore " in english.output
    assert "错误：" in chinese.output and "Error: " not in chinese.output
    assert f"运行 'qualiscore {args[0]} --help' 查看帮助。" in chinese.output
    assert cli(*args, env=ZH).exit_code == 2


def test_usage_error_messages_in_chinese(cli: Cli) -> None:
    assert "错误：缺少参数 'PATHS...'" in cli("validate", "--lang", "zh-CN").output
    assert "错误：没有 '--bogus' 这个选项。" in cli("evaluate", "--bogus", "--lang", "zh-CN").output
    result = cli("validate", "rules/", "--format", "yaml", "--lang", "zh-CN")
    assert result.exit_code == 2
    assert "'--format' 的值无效：'yaml' 不是可选的值，请从 'text', 'json' 中选择。" in result.output


def test_a_chinese_locale_gives_chinese_help() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QUALISCORE_LANG", "LC_ALL", "LC_MESSAGES")}
    env["LANG"] = "zh_CN.UTF-8"
    done = subprocess.run([sys.executable, "-m", "qualiscore", "validate", "--help"], env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "检查方案文件（或方案版本目录），报告所有检查结果。" in done.stdout
    env["LANG"] = "C.UTF-8"
    done = subprocess.run([sys.executable, "-m", "qualiscore", "validate", "--help"], env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert "Check scheme files" in done.stdout and not CHINESE.search(prose(done.stdout))


@pytest.mark.parametrize("where", ["group", "command"])
def test_an_unknown_language_is_a_usage_error(cli: Cli, where: str) -> None:
    args = ("--lang", "fr", "validate", "rules/") if where == "group" else ("validate", "rules/", "--lang", "fr")
    result = cli(*args)
    assert result.exit_code == 2
    assert "'fr'" in result.output and "zh-CN" in result.output


def test_clicks_usage_line_and_help_option_in_chinese(cli: Cli) -> None:
    result = cli("validate", "--help", "--lang", "zh-CN")
    assert result.output.startswith("用法：") and " validate [OPTIONS] PATHS..." in result.output
    assert "显示此帮助信息并退出。" in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_chinese_help_fits_the_terminal_and_keeps_option_names_whole(cli: Cli, name: str) -> None:
    """Wrapped by terminal columns (a Chinese character takes two), between characters but never
    before closing punctuation, and never inside an option name."""
    from qualiscore._display import display_width

    english = cli(name, "--help", terminal_width=80).output
    chinese = cli(name, "--help", "--lang", "zh-CN", terminal_width=80).output
    for line in prose(chinese).splitlines():  # example command lines are kept whole, as in English
        assert display_width(line) <= 80 or " " not in line.strip() or line in english.splitlines(), line
        assert line.lstrip()[:1] not in set("，。、：；？！）"), line
    assert options(english) <= set(OPTION.findall(chinese)) | {"--lang"}
