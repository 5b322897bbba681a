"""The languages: how one is chosen, that every message has its translation, and that none escapes the catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from qualiscore import i18n
from qualiscore.i18n import _, catalog, language, language_of, using

SOURCE = Path(i18n.__file__).resolve().parents[1]
FILES = sorted(p for p in SOURCE.rglob("*.py") if "i18n" not in p.parts)


@pytest.mark.parametrize(("text", "expected"), [
    ("zh-CN", "zh-CN"), ("zh_CN.UTF-8", "zh-CN"), ("zh_CN.GB18030", "zh-CN"), ("zh", "zh-CN"), ("zh-Hans", "zh-CN"),
    ("zh_SG", "zh-CN"), ("ZH-cn", "zh-CN"), ("en", "en"), ("en_GB.UTF-8", "en"), ("C", "en"), ("POSIX", "en"),
    ("C.UTF-8", "en"), ("zh_TW.UTF-8", None), ("zh-Hant", None), ("fr_FR.UTF-8", None), ("", None), ("??", None),
])
def test_language_of_tags_and_locale_names(text: str, expected: str | None) -> None:
    assert language_of(text) == expected


def test_the_first_variable_set_decides_and_unknown_is_english(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in i18n.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert language() == "en"
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert language() == "zh-CN"
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")  # LC_ALL wins over LANG, and French is not spoken: English
    assert language() == "en"
    monkeypatch.setenv("QUALISCORE_LANG", "zh-CN")
    assert language() == "zh-CN"
    with using("en"):
        assert language() == "en"
        with using(None):  # None keeps what is chosen
            assert language() == "en"
    assert language() == "zh-CN"


def test_a_message_in_both_languages_with_its_values() -> None:
    with using("en"):
        assert _("hint: {hint}", hint="x") == "hint: x"
    with using("zh-CN"):
        assert _("hint: {hint}", hint="x") == "提示：x"


def test_every_message_has_a_translation_with_the_same_placeholders() -> None:
    """The catalog against the code: every `_`/`N_`/`ngettext` message, every --help text, click's texts."""
    problems = catalog.problems("zh-CN")
    assert not problems, f"{len(problems)} problem(s), run `make messages` and translate:\n" + "\n".join(problems[:40])


# --------------------------------------------------------------------------- no message outside the catalog

_ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")
# Calls whose text arguments a person reads: errors, findings, reasons, what the commands print.
_SHOWN = re.compile(r"(Error|Exception|Failure|BadParameter|Finding|Problem|Discrepancy|Warning)$|^(fail|echo|secho|add)$")
# Raised for a programmer misusing the API (Python's protocols), never shown to a user.
_PROGRAMMING = {"AttributeError", "TypeError", "NotImplementedError", "AssertionError", "KeyError", "RuntimeError"}


def _literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return " ".join(t for t in (_literal_text(node.left), _literal_text(node.right)) if t)
    return None


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_shown_text_goes_through_the_catalog(path: Path) -> None:
    """An English sentence written straight into an error, a finding, a reason or a printed line is a
    message that no translation can reach: it must be ``_("…")``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_fstrings = {id(n) for f in ast.walk(tree) if isinstance(f, ast.JoinedStr) for n in ast.walk(f)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in ("_", "N_", "ngettext") and id(node) in in_fstrings:
            found.append(f"{path.name}:{node.lineno}: {name}() inside an f-string, where Babel (before Python "
                         "3.12) does not see it: translate it into a variable first")
        if name in ("_", "N_", "ngettext"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.JoinedStr):
                found.append(f"{path.name}:{node.lineno}: {name}() of an f-string: write {{names}} and pass them")
            continue
        if not _SHOWN.search(name) or name in _PROGRAMMING:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            text = _literal_text(arg)
            if text and _ENGLISH.search(text):
                found.append(f"{path.name}:{arg.lineno}: {name}({text[:60]!r}…) is not translated")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_function_that_translates_binds_underscore(path: Path) -> None:
    """``for _ in …`` in a function that calls ``_("…")`` makes ``_`` local there: UnboundLocalError at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for fn in ast.walk(tree):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
                    for n in ast.walk(fn))
        binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
                    and not _in_comprehension(fn, n) for n in ast.walk(fn))
        if calls and binds:
            found.append(f"{path.name}:{fn.lineno}: {fn.name} both calls _() and assigns _ (rename the throwaway)")
    assert not found, "\n".join(found)


def _in_comprehension(fn: ast.AST, target: ast.Name) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)) and any(
                target is n for g in node.generators for n in ast.walk(g.target)):
            return True
    return False


@pytest.mark.parametrize("args", [["validate", "--help", "--lang", "zh-CN"], ["--lang", "zh-CN", "validate"],
                                  ["validate", "--lang", "zh-CN", "--bogus"], ["--lang", "zh-CN", "validate", "rules/"]])
def test_lang_holds_for_its_own_command_line_only(args: list[str]) -> None:
    """However the command ends (help, a usage error, success), the next one is in the language it was."""
    from click.testing import CliRunner

    from qualiscore.cli import cli

    CliRunner().invoke(cli, args)
    assert language() == "en"
    assert "Usage:" in CliRunner().invoke(cli, ["validate", "--help"]).output


def test_a_path_is_named_in_the_language_of_each_command_line() -> None:
    """click names a path type when the command is imported; it is named again for every command line."""
    from click.testing import CliRunner

    from qualiscore.cli import cli

    assert "-o, --output 文件" in CliRunner().invoke(cli, ["revise", "--help", "--lang", "zh-CN"]).output
    assert "-o, --output FILE" in CliRunner().invoke(cli, ["revise", "--help"]).output
    assert "目录 'no-such-dir' 不存在。" in CliRunner().invoke(cli, ["report", "no-such-dir", "--lang", "zh-CN"]).output
    assert "Directory 'no-such-dir' does not exist." in CliRunner().invoke(cli, ["report", "no-such-dir"]).output
