"""Terminal control characters from schemes and data never reach the console raw.

A grade named ``"\\x1b]0;pwned\\x07A"`` retitles the terminal window when printed as is,
``"\\x1b]52;c;…\\x07"`` writes the clipboard, ``"\\x1b[2J"`` clears the screen and
U+202E turns the rest of a line around. Every command prints through ``cli.echo``,
which shows them as escapes (:func:`qualiscore._display.visible`): checked here for
each command in-process, with and without colour, and end to end through the hostile
inputs harness (a real process under limits, exit statuses as documented).
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from qualiscore._display import visible
from qualiscore.cli import cli as qualiscore
from test_hostile_inputs import check_completed, posix_only, run_all

ROOT = Path(__file__).resolve().parents[1]

# Grade names, labels, a title and a scheme test name carrying terminal sequences (YAML escapes:
# \e is ESC, \a BEL, \x9b the one-byte CSI of C1), and a bidi isolate around an indicator name.
SCHEME = r"""format: qualiscore/v1
scheme: evil
version: v1
title: "Title \e]52;c;cHduZWQ=\a"
effective_from: 2026-01-01
subject:
  group_by: [agent_id]
  period: {field: started_at, every: month}
records:
  id: interaction_id
  timezone: Asia/Shanghai
  fields:
    interaction_id: {type: string}
    agent_id: {type: string}
    channel: {type: string, enum: [chat, phone]}
    started_at: {type: datetime}
    resolved: {type: boolean}
dimensions:
  - id: outcome
    name: "Outcome \e[8mhidden"
    weight: 1
    indicators:
      - id: fcr
        name: "FCR \u2066x\u2069"
        weight: 1
        measure: {share: resolved, where: "channel == 'chat' or channel == 'phone'"}
        scoring: {linear: {from: 0.5, to: 1.0}}
grades:
  - {name: "\e]0;pwned\aA", min: 50}
  - {name: "B\x9b31m", min: 0}
tests:
  - name: "fails \e]0;test-pwned\a here"
    subject: A9/2026-04
    records:
      - {interaction_id: T1, agent_id: A9, channel: chat, started_at: "2026-04-01T09:00:00+08:00", resolved: true}
    expect:
      grade: "B\x9b31m"
"""
AGENT = "A1\x1b[2J\u202e"  # clears the screen, then reverses what follows
DATA_NAME = "data\x1b]0;file\x07.csv"
DATA = ("interaction_id,agent_id,channel,started_at,resolved\n"
        f"E01,{AGENT},chat,2026-04-01T09:00:00,true\n"
        "E02,A2,phone\x1b]0;row\x07,2026-04-02T09:00:00,false\n"  # not in the enum: a reject that quotes it
        "E03,A2,chat,2026-04-03T09:00:00,false\n")
# A scheme whose version is not of the expected form: validate quotes it, and shows its source line.
BAD = "format: qualiscore/v1\nscheme: bad\nversion: \"v1\u202e\"\ntitle: x\u202ey\n"

# What click.style writes for the command line's own colours; nothing else may start with ESC.
OWN_STYLES = re.compile(r"\x1b\[(?:[012]|3[1236])m")
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control(ch: str) -> bool:
    """A character that must never reach a terminal from data: C0/C1 control, bidi control,
    line or paragraph separator, lone surrogate (written independently of the code under test)."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") or ch in BIDI


def raw_controls(output: str) -> list[str]:
    """The control characters of ``output`` besides line breaks and the command line's own colours."""
    return sorted({ch for ch in OWN_STYLES.sub("", output) if ch != "\n" and is_control(ch)})


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A directory with the hostile scheme (v1.yaml, and v2.yaml that grades the other way), its data and
    a bad scheme, and an output directory of a run over them."""
    (tmp_path / "v1.yaml").write_text(SCHEME, encoding="utf-8")
    v2 = SCHEME.replace("min: 50", "min: 40").replace("{from: 0.5, to: 1.0}", "{from: 1.0, to: 0.5}")
    (tmp_path / "v2.yaml").write_text(v2, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(BAD, encoding="utf-8")
    (tmp_path / DATA_NAME).write_text(DATA, encoding="utf-8")
    result = CliRunner().invoke(qualiscore, ["evaluate", str(tmp_path / "v1.yaml"), str(tmp_path / DATA_NAME),
                                             "-o", str(tmp_path / "out"), "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path


# Each command over the hostile inputs, its exit status, and (some of) what it must show as escapes.
Case = Callable[[Path], list[str]]
CASES: dict[str, tuple[Case, int, tuple[str, ...]]] = {
    "validate": (lambda w: ["validate", str(w / "v1.yaml"), str(w / "bad.yaml")], 1,
                 ("'v1\\u202e'", 'version: "v1\\u202e"')),
    "validate-json": (lambda w: ["validate", str(w / "bad.yaml"), "--format", "json"], 1, ()),
    "test": (lambda w: ["test", str(w / "v1.yaml")], 1, ("fails \\x1b]0;test-pwned\\x07 here",)),
    "test-json": (lambda w: ["test", str(w / "v1.yaml"), "--format", "json"], 1, ()),
    "evaluate": (lambda w: ["evaluate", str(w / "v1.yaml"), str(w / DATA_NAME), "-o", str(w / "o2")], 0,
                 ("\\x1b]0;pwned\\x07A 1, B\\u009b31m 1",)),
    "evaluate-missing-input": (lambda w: ["evaluate", str(w / "v1.yaml"), str(w / "no\x1b[2J.csv"), "-o",
                                          str(w / "o3")], 4, ("no\\x1b[2J.csv",)),
    "evaluate-missing-scheme": (lambda w: ["evaluate", str(w / "no\x1b]0;x\x07.yaml"), str(w / DATA_NAME), "-o",
                                           str(w / "o4")], 2, ("no\\x1b]0;x\\x07.yaml",)),
    "explain-outdir": (lambda w: ["explain", str(w / "out"), "--subject", f"{AGENT}/2026-04"], 0,
                       ("A1\\x1b[2J\\u202e/2026-04", "Outcome \\x1b[8mhidden", "FCR \\u2066x\\u2069",
                        "Grade \\x1b]0;pwned\\x07A")),
    "explain-data": (lambda w: ["explain", str(w / "v1.yaml"), str(w / DATA_NAME), "--subject", "A2/2026-04"], 0,
                     ("Grade B\\u009b31m",)),
    "explain-json": (lambda w: ["explain", str(w / "out"), "--subject", f"{AGENT}/2026-04", "--format", "json"],
                     0, ()),
    "explain-no-subject": (lambda w: ["explain", str(w / "out"), "--subject", "A1\x1b[2J/2026-04"], 2,
                           ("did you mean A1\\x1b[2J\\u202e/2026-04",)),
    "diff": (lambda w: ["diff", str(w / "v1.yaml"), str(w / "v2.yaml")], 1, ("grades.\\x1b]0;pwned\\x07A.min",)),
    "diff-md": (lambda w: ["diff", str(w / "v1.yaml"), str(w / "v2.yaml"), "--format", "md"], 1, ()),
    "diff-json": (lambda w: ["diff", str(w / "v1.yaml"), str(w / "v2.yaml"), "--format", "json"], 1, ()),
    "diff-data": (lambda w: ["diff", str(w / "v1.yaml"), str(w / "v2.yaml"), "--data", str(w / DATA_NAME)], 1,
                  ("A1\\x1b[2J\\u202e/2026-04: \\x1b]0;pwned\\x07A → B\\u009b31m",)),
    "verify": (lambda w: ["verify", str(w / "out")], 0, ()),
    "report-md": (lambda w: ["report", str(w / "out"), "--format", "md", "-o", str(w / "r\x1b]0;r\x07.md")], 0,
                  ("r\\x1b]0;r\\x07.md",)),
}


def invoke(args: list[str], color: bool) -> Result:
    return CliRunner().invoke(qualiscore, args, color=color, catch_exceptions=False)


@pytest.mark.parametrize("color", [False, True], ids=["piped", "terminal"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_no_command_prints_a_control_character_from_data(name: str, color: bool, work: Path) -> None:
    args, exit_code, shown = CASES[name]
    result = invoke(args(work), color)
    assert result.exit_code == exit_code, result.output
    assert raw_controls(result.output) == [], result.output
    for text in shown:
        assert text in OWN_STYLES.sub("", result.output), result.output


def test_verify_names_a_changed_input_with_escapes(work: Path) -> None:
    with open(work / DATA_NAME, "a", encoding="utf-8") as f:
        f.write("E04,A3,chat,2026-04-04T09:00:00,true\n")
    result = invoke(["verify", str(work / "out")], color=True)
    assert result.exit_code == 11, result.output
    assert raw_controls(result.output) == [] and "data\\x1b]0;file\\x07.csv" in result.output


@pytest.mark.parametrize("name", ["validate-json", "test-json", "explain-json", "diff-json"])
def test_json_output_stays_json(name: str, work: Path) -> None:
    """JSON escapes C0 controls itself; C1 and bidi controls get ``\\u`` escapes, which JSON reads back."""
    args, _, _ = CASES[name]
    text = invoke(args(work), color=False).stdout
    assert raw_controls(text) == []
    json.loads(text)


def test_json_readers_get_the_original_text(work: Path) -> None:
    card = json.loads(invoke(CASES["explain-json"][0](work), color=False).stdout)
    assert card["subject"] == f"{AGENT}/2026-04" and card["grade"] == "\x1b]0;pwned\x07A"
    tests = json.loads(invoke(CASES["test-json"][0](work), color=False).stdout)
    assert tests["results"][0]["name"] == "fails \x1b]0;test-pwned\x07 here"
    assert tests["results"][0]["mismatches"][0]["expected"] == "B\x9b31m"


def test_markdown_report_shows_control_characters_as_escapes(work: Path) -> None:
    invoke(["report", str(work / "out"), "--format", "md", "-o", str(work / "r.md")], color=False)
    text = (work / "r.md").read_text(encoding="utf-8")
    assert raw_controls(text) == []
    assert "| \\\\x1b\\]0;pwned\\\\x07A | 1 |" in text  # Markdown-escaped backslash and bracket


def test_error_messages_from_data_are_escaped(work: Path) -> None:
    """A QualiscoreError, a click usage error and ``cli.fail`` all print through the same escaping."""
    cases = [(["evaluate", str(work / "bad.yaml"), str(work / DATA_NAME), "-o", str(work / "x")], 3, "'v1\\u202e'"),
             (["validate", str(work / "missing\x1b]0;t\x07.yaml")], 2, "missing\\x1b]0;t\\x07.yaml"),
             (["\x1b]0;command\x07"], 2, "No such command '\\x1b]0;command\\x07'")]
    for args, exit_code, shown in cases:
        result = invoke(args, color=True)
        assert result.exit_code == exit_code and raw_controls(result.output) == [], result.output
        assert shown in result.output, result.output


def test_every_command_prints_through_echo() -> None:
    """The escaping cannot be forgotten: no command module calls click.echo, click.secho,
    click.style or print itself (only ``cli.echo`` and ``cli.style`` do)."""
    offenders = []
    for path in sorted((ROOT / "src" / "qualiscore" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) \
                else f.id if isinstance(f, ast.Name) else ""
            if name in ("click.echo", "click.secho", "click.style", "print") and path.name != "__init__.py":
                offenders.append(f"{path.name}:{node.lineno} {name}")
    assert offenders == []


# --------------------------------------------------------------------------- end to end, under limits

E2E: list[tuple[str, int]] = [("validate", 1), ("test", 1), ("evaluate", 0), ("evaluate-missing-input", 4),
                              ("evaluate-missing-scheme", 2), ("explain-outdir", 0), ("explain-no-subject", 2),
                              ("diff", 1), ("diff-data", 1), ("verify", 0), ("report-md", 0)]


@posix_only
def test_hostile_console_corpus_end_to_end(work: Path) -> None:
    """``python -m qualiscore`` for each case, side by side, within the harness's limits."""
    shutil.rmtree(work / "o2", ignore_errors=True)
    results = run_all([CASES[name][0](work) for name, _ in E2E], work, timeout=30)
    for (name, exit_code), res in zip(E2E, results):
        check_completed(res, name)
        assert res.returncode == exit_code, f"{name}: {res.output[-2000:]}"
        assert raw_controls(res.output) == [], f"{name}: {res.output[-2000:]}"


# --------------------------------------------------------------------------- visible()

_ESCAPE = re.compile(r"\\(x[0-9a-f]{2}|u[0-9a-f]{4}|[tnr])")


def unescape(text: str) -> str:
    """The inverse of ``visible`` on text that held no backslash."""
    return _ESCAPE.sub(lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(m[1]) or chr(int(m[1][1:], 16)), text)


CONTROLS = st.sampled_from(sorted({*map(chr, range(0x20)), *map(chr, range(0x7f, 0xa0)), "\u2028", "\u2029",
                                   *BIDI, *map(chr, (0xd800, 0xdc9b, 0xdfff))}))
PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                                  blacklist_characters="".join(BIDI)))
ANY_TEXT = st.lists(st.one_of(PRINTABLE, CONTROLS, st.sampled_from(["优秀", "合格", "\\", "\\x1b"]))).map("".join)


@given(ANY_TEXT)
def test_visible_leaves_no_control_character(text: str) -> None:
    shown = visible(text)
    assert not any(is_control(ch) for ch in shown)
    assert visible(shown) == shown  # printing twice escapes nothing more


@given(ANY_TEXT.filter(lambda t: "\\" not in t))
def test_visible_is_reversible_on_text_without_backslashes(text: str) -> None:
    assert unescape(visible(text)) == text


@given(PRINTABLE)
def test_visible_keeps_printable_text(text: str) -> None:
    assert visible(text) == text


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b]0;pwned\x07A", "\\x1b]0;pwned\\x07A"),
    ("A1\x1b[2J\u202e", "A1\\x1b[2J\\u202e"),
    ("B\x9b31m", "B\\u009b31m"),
    ("a\tb\r\nc", "a\\tb\\r\\nc"),
    ("优秀 合格　不合格", "优秀 合格　不合格"),  # an ideographic space is text
    ("C:\\data\\x.csv", "C:\\data\\x.csv"),
    ("\x7f\u2028\udc9b", "\\u007f\\u2028\\udc9b"),
])
def test_visible_examples(text: str, shown: str) -> None:
    assert visible(text) == shown
