"""The new version's changelog read against the diff: rule changes no line names, and placeholder lines.

The corpus in tests/fixtures/diff-changelog/ holds one case per way a line can name a
change (id, name, through a use, a word for the calendar) or fail to (a whole word
only, a placeholder), checked through `qualiscore diff` and through the validation
findings of the two versions in one directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli
from qualiscore.diff import changelog_findings, diff_documents, review_changelog
from qualiscore.diff.changelog import is_placeholder, names_change
from qualiscore.loader import load_path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "diff-changelog"
CASES = sorted(p.name[: -len(".expected.json")] for p in CORPUS.glob("*.expected.json"))


def expected(name: str) -> dict[str, Any]:
    return json.loads((CORPUS / f"{name}.expected.json").read_text(encoding="utf-8"))


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 9
    assert any(expected(n)["unmentioned"] for n in CASES) and any(expected(n)["placeholders"] for n in CASES)
    assert any(expected(n).get("checked") is False for n in CASES)


@pytest.mark.parametrize("name", CASES)
def test_corpus(name: str) -> None:
    old, new = load_path(CORPUS / f"{name}.old.yaml"), load_path(CORPUS / f"{name}.new.yaml")
    want = expected(name)
    review = review_changelog(old, new, diff_documents(old, new))
    assert review is not None
    assert [u.what for u in review.unmentioned] == want["unmentioned"]
    assert list(review.placeholders) == want["placeholders"]
    assert review.checked is want.get("checked", True)
    if "rules_changed" in want:
        assert review.rules_changed == want["rules_changed"]
    for item in review.unmentioned:
        assert item.line is not None and item.changes and item.terms


@pytest.mark.parametrize("name", CASES)
def test_corpus_as_validation_findings(name: str, tmp_path: Path) -> None:
    """The same, as validation reports it for a directory holding both versions."""
    shutil.copy(CORPUS / f"{name}.old.yaml", tmp_path / "v1.yaml")
    shutil.copy(CORPUS / f"{name}.new.yaml", tmp_path / "v2.yaml")
    want = expected(name)
    found = changelog_findings([load_path(tmp_path / "v1.yaml"), load_path(tmp_path / "v2.yaml")])
    assert all(f.severity == "warning" and f.location.file == str(tmp_path / "v2.yaml") for f in found)
    assert [f.message.split(" changed from ")[0] for f in found if f.code == "changelog-unmentioned"] == \
        want["unmentioned"]
    assert sum(f.code == "changelog-placeholder" for f in found) == len(want["placeholders"])
    # one file alone: the version it supersedes is read from next to it
    alone = changelog_findings([load_path(tmp_path / "v2.yaml")])
    assert [f.message for f in alone] == [f.message for f in found]


def test_diff_shows_the_changelog_with_what_it_does_not_name(cli: Cli) -> None:
    old, new = str(CORPUS / "unmentioned.old.yaml"), str(CORPUS / "unmentioned.new.yaml")
    text = cli("diff", old, new)
    assert text.exit_code == 1
    section = text.output.split("Changelog of v2 (changes from v1; 1 line(s))\n", 1)[1]
    assert section.startswith("    12  fcr weight 50 → 60\n")
    assert "  ! no changelog line names dimension process (Process) (line 58)\n" \
           "      dimensions.process.weight: 60 → 50\n      name process in a changelog line\n" in section
    assert "  ! no changelog line names grade pass (line 82)" in section
    md = cli("diff", old, new, "--format", "md").output
    assert "**Rule changes no changelog line names (2).**" in md
    assert "| grade pass | grades.pass.min 60 → 65 | 82 | pass |" in md
    doc = json.loads(cli("diff", old, new, "--format", "json").output)
    assert [u["what"] for u in doc["changelog"]["unmentioned"]] == ["dimension process (Process)", "grade pass"]
    assert doc["changelog"]["unmentioned"][1]["changes"][0]["kind"] == "grade-min-changed"


def test_diff_shows_a_placeholder_and_why_a_changelog_is_not_checked(cli: Cli) -> None:
    out = cli("diff", str(CORPUS / "placeholder.old.yaml"), str(CORPUS / "placeholder.new.yaml")).output
    assert "  ! line 12 is a placeholder: replace it with the changes from v1" in out
    md = cli("diff", str(CORPUS / "placeholder.old.yaml"), str(CORPUS / "placeholder.new.yaml"), "--format", "md")
    assert "one line per change **(placeholder)** |" in md.output
    out = cli("diff", str(CORPUS / "not-superseding.old.yaml"), str(CORPUS / "not-superseding.new.yaml")).output
    assert "not checked against this diff: v2 lists its changes from v0, not from v1" in out
    assert "no changelog line names" not in out
    rules = cli("diff", str(CORPUS / "not-rules.old.yaml"), str(CORPUS / "not-rules.new.yaml")).output
    assert "  no rule changed\n" in rules


def test_what_a_line_names() -> None:
    assert names_change("首次解决率（fcr）目标提高", "fcr")
    assert names_change("FCR target raised", "fcr")
    assert not names_change("fcrx target raised", "fcr")
    assert not names_change("csat_rate reported", "csat")
    assert names_change("response_target_s.chat 180 → 60", "response_target_s")
    assert names_change("首次解决率目标提高", "首次解决率")
    assert names_change("records.id is now ticket_id", "records.id")
    assert is_placeholder("  todo: write it") and is_placeholder("TODO") and not is_placeholder("fcr: to do")
    assert not is_placeholder(3)


def test_reading_changelogs_loads_no_engine() -> None:
    """So that validation can report these findings without paying for the engine or the readers."""
    code = ("import sys, qualiscore.diff.changelog; "
            "print(sorted(m for m in sys.modules if m.startswith(('qualiscore.engine', 'qualiscore.records', "
            "'qualiscore.runs', 'polars'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_the_bundled_versions_give_no_changelog_findings() -> None:
    """Their changelogs name every change, so validation reporting these findings prints the same for rules/."""
    docs = [load_path(p) for p in sorted((ROOT / "rules").rglob("*.yaml"))]
    assert len(docs) == 5
    assert changelog_findings(docs) == []
