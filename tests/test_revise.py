"""`qualiscore revise`: the next version of a scheme, written as a draft that validates and passes its tests.

Each bundled scheme is revised in a copy of the rules tree and checked with the same
commands a committee runs (`validate`, `test`, `diff`); the options, the refusals and
the ways a date can be written are checked on a small scheme.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import Cli
from qualiscore.diff import changelog_findings, diff_documents, review_changelog
from qualiscore.errors import SchemeValidationError, UsageError
from qualiscore.loader import load_path
from qualiscore.revise import Revision, Shift, placeholder_line, revise, write_revision
from qualiscore.testing import iter_results

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "tests" / "fixtures" / "diff" / "metadata.old.yaml"  # a small valid scheme, version v1, 2026 Q1


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the bundled rules tree as it was before 2026Q3 was written: these tests write it."""
    copy = Path(shutil.copytree(ROOT / "rules", tmp_path / "rules"))
    (copy / "cs-quality" / "2026Q3.yaml").unlink()
    return copy


@pytest.fixture
def bundled(tmp_path: Path) -> Path:
    """A copy of the bundled rules tree, every version in it."""
    return Path(shutil.copytree(ROOT / "rules", tmp_path / "rules"))


def demo(folder: Path, *edits: tuple[str, str], name: str = "v1.yaml", text: str | None = None) -> Path:
    """The small scheme with some text replaced, written into ``folder``."""
    text = text if text is not None else DEMO.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- every bundled scheme


BUNDLED = [("cs-quality/2026Q3.yaml", "2026Q4", ()), ("qa-form/2026Q2.yaml", "2026Q3", ()),
           ("cs-quality/2026Q1.yaml", "2026Q2", ("--force",))]  # 2026Q2 exists: it is replaced
# cs-quality 2026Q2 → 2026Q3 is revised in detail below, in the tree as it was before 2026Q3.


@pytest.mark.parametrize(("source", "version", "extra"), BUNDLED, ids=[s for s, _, _ in BUNDLED])
def test_each_bundled_scheme_revises_into_a_draft_that_validates_and_passes(
        cli: Cli, bundled: Path, source: str, version: str, extra: tuple[str, ...]) -> None:
    old = bundled / source
    if source == "cs-quality/2026Q1.yaml":  # 2026Q3's changelog names its changes from the real 2026Q2
        (old.parent / "2026Q3.yaml").unlink()
    new = old.with_name(f"{version}.yaml")
    result = cli("revise", str(old), version, *extra)
    assert result.exit_code == 0, result.output
    assert f"wrote {new}" in result.output
    assert "checked: validates (1 warning(s): changelog-placeholder)" in result.output

    validated = cli("validate", str(old.parent))
    assert validated.exit_code == 0, validated.output
    # the directory's check reads the draft's changelog: its placeholder is the one finding
    assert ": 0 error(s), 1 warning(s)" in validated.output
    assert "warning[changelog-placeholder]" in validated.output
    tested = cli("test", str(old.parent))
    assert tested.exit_code == 0, tested.output
    assert " 0 failed" in tested.output

    # nothing but metadata and tests differ, and every test still exercises the same records
    old_doc, new_doc = load_path(old), load_path(new)
    changes = diff_documents(old_doc, new_doc)
    assert {c.category for c in changes} <= {"metadata", "tests"}
    assert all(set((c.note or "changed: records").removeprefix("changed: ").split(", ")) <= {
        "subject", "records", "records_file"} for c in changes if c.kind == "test-changed")
    review = review_changelog(old_doc, new_doc, changes)
    assert review is not None and review.rules_changed == 0 and review.placeholders == (0,)
    data = new_doc.data
    assert data["version"] == version and data["supersedes"] == old_doc.data["version"]
    assert data["changelog"] == [placeholder_line(old_doc.data["version"])]
    assert "approved_on" not in data and "approved_by" not in data
    assert "# approved_by: 服务质量委员会" in new_doc.text and "# approved_on: YYYY-MM-DD" in new_doc.text


def test_q2_to_q3_in_detail(cli: Cli, rules: Path) -> None:
    old = rules / "cs-quality" / "2026Q2.yaml"
    result = cli("revise", str(old), "2026Q3")
    assert result.exit_code == 0, result.output
    new = rules / "cs-quality" / "2026Q3.yaml"
    doc = load_path(new)
    data = doc.data
    assert (data["effective_from"], data["effective_to"]) == ("2026-07-01", "2026-09-30")
    assert data["title"] == "客服服务质量评价方案（2026年第三季度）"
    assert [t["subject"] for t in data["tests"]] == ["A001/2026-07", "A001/2026-08", "A002/2026-09", "A003/2026-09"]
    assert data["tests"][0]["records"][0]["started_at"] == "2026-07-01T09:15:00+08:00"
    assert data["tests"][1]["records"][-1]["started_at"] == "2026-08-09T01:30:00Z"
    assert data["tests"][3]["records_file"] == "fixtures/2026-09-south-team.csv"

    # the header comments name the new version; rule comments and layout are untouched
    lines, old_lines = new.read_text(encoding="utf-8").splitlines(), old.read_text(encoding="utf-8").splitlines()
    assert "# 客服服务质量评价方案 — 2026 Q3 (cs-quality / 2026Q3)" in lines
    assert "# Compare: qualiscore diff rules/cs-quality/2026Q2.yaml rules/cs-quality/2026Q3.yaml" in lines
    assert "        target: 0.85               # Q2 target 85% (was 70% in 2026Q1)" in lines
    assert len(lines) == len(old_lines)  # approval: 2 lines → 3 comment lines; changelog: 2 lines → 1
    untouched = [line for line in old_lines if line in lines]
    assert len(untouched) > 0.85 * len(old_lines)
    changelog = {f"  - {line}" for line in load_path(old).data["changelog"]}
    assert all(line in lines for line in old_lines if line.startswith(("  ", "# One scorecard", "calendar:"))
               and line not in changelog
               and not any(key in line for key in ("started_at", "subject:", "records_file")))

    # the records file is copied with its dates moved, byte for byte otherwise
    before = (rules / "cs-quality" / "fixtures" / "2026-06-south-team.csv").read_text(encoding="utf-8")
    after = (rules / "cs-quality" / "fixtures" / "2026-09-south-team.csv").read_text(encoding="utf-8")
    assert after == before.replace("2026-06-", "2026-09-")
    assert "copy of" in result.output and "with 12 date(s) moved" in result.output
    assert "30 record date(s) moved 3 months later (each keeps its day of the month)" in result.output
    assert f"qualiscore diff {old} {new} --data LAST_QUARTER.csv" in result.output
    assert f"qualiscore validate {old.parent}/" in result.output


# --------------------------------------------------------------------------- options


def test_from_and_to(cli: Cli, rules: Path) -> None:
    old = rules / "cs-quality" / "2026Q2.yaml"
    result = cli("revise", str(old), "2026H2", "--from", "2026-07-01", "--to", "2026-12-31")
    assert result.exit_code == 0, result.output
    data = load_path(rules / "cs-quality" / "2026H2.yaml").data
    assert (data["effective_from"], data["effective_to"]) == ("2026-07-01", "2026-12-31")
    assert data["title"] == "客服服务质量评价方案（2026年第二季度）"  # the title does not name 2026Q2 in a way to rename
    assert cli("validate", str(old.parent)).exit_code == 0


def test_default_end_keeps_the_length_of_the_period(tmp_path: Path) -> None:
    month = demo(tmp_path / "m", ("effective_to: 2026-03-31", "effective_to: 2026-01-31"))
    assert revise(month, "v2").effective_to == dt.date(2026, 2, 28)  # one whole month → the next whole month
    days = demo(tmp_path / "d", ("effective_from: 2026-01-01", "effective_from: 2026-01-05"),
                ("effective_to: 2026-03-31", "effective_to: 2026-01-18"))
    r = revise(days, "v2")
    assert (r.effective_from, r.effective_to) == (dt.date(2026, 1, 19), dt.date(2026, 2, 1))  # 14 days → 14 days
    assert r.shift == Shift(days=14)


def test_output_elsewhere_takes_the_records_files_along(cli: Cli, rules: Path, tmp_path: Path) -> None:
    out = tmp_path / "drafts" / "2026Q3.yaml"
    result = cli("revise", str(rules / "cs-quality" / "2026Q2.yaml"), "2026Q3", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.is_file() and (out.parent / "fixtures" / "2026-09-south-team.csv").is_file()
    assert not (rules / "cs-quality" / "2026Q3.yaml").exists()
    assert cli("test", str(out)).exit_code == 0
    assert f"qualiscore validate {out}\n" in result.output


def test_existing_files_are_replaced_only_with_force(cli: Cli, rules: Path) -> None:
    old = rules / "cs-quality" / "2026Q2.yaml"
    new = rules / "cs-quality" / "2026Q3.yaml"
    new.write_text("# the committee's own draft\n", encoding="utf-8")
    refused = cli("revise", str(old), "2026Q3")
    assert refused.exit_code == 2
    assert "already exists; nothing was written" in refused.output and "--force" in refused.output
    assert new.read_text(encoding="utf-8") == "# the committee's own draft\n"
    assert not (rules / "cs-quality" / "fixtures" / "2026-09-south-team.csv").exists()

    new.unlink()
    copy = rules / "cs-quality" / "fixtures" / "2026-09-south-team.csv"
    copy.write_text("kept\n", encoding="utf-8")
    refused = cli("revise", str(old), "2026Q3")
    assert refused.exit_code == 2 and str(copy) in refused.output
    assert not new.exists() and copy.read_text(encoding="utf-8") == "kept\n"

    forced = cli("revise", str(old), "2026Q3", "--force")
    assert forced.exit_code == 0, forced.output
    assert copy.read_text(encoding="utf-8").startswith("interaction_id,")


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("version", ["2026 Q3", ".v2", "v2/x", "x" * 65, ""])
def test_a_bad_version_name_is_refused(cli: Cli, rules: Path, version: str) -> None:
    result = cli("revise", str(rules / "cs-quality" / "2026Q2.yaml"), version)
    assert result.exit_code == 2
    assert "error[usage] VERSION" in result.output and "is not a version name" in result.output
    assert "hint: e.g. 2026Q3" in result.output
    assert sorted(p.name for p in (rules / "cs-quality").glob("*.yaml")) == ["2026Q1.yaml", "2026Q2.yaml"]


def test_the_same_version_is_refused_at_its_line(cli: Cli, rules: Path) -> None:
    source = rules / "cs-quality" / "2026Q2.yaml"
    result = cli("revise", str(source), "2026Q2")
    assert result.exit_code == 2
    assert f"{source}:18:10: error[usage] /version: VERSION 2026Q2 is the version of {source} itself" in result.output


@pytest.mark.parametrize("args", [["--from", "2026-13-01"], ["--from", "1 July"], ["--to", "2026-7-1"]])
def test_a_date_that_is_not_yyyy_mm_dd_is_refused(cli: Cli, rules: Path, args: list[str]) -> None:
    result = cli("revise", str(rules / "cs-quality" / "2026Q2.yaml"), "2026Q3", *args)
    assert result.exit_code == 2
    assert f"Invalid value for '{args[0]}'" in result.output and "write it as YYYY-MM-DD" in result.output


def test_dates_that_would_not_validate_are_refused(cli: Cli, rules: Path) -> None:
    source = str(rules / "cs-quality" / "2026Q2.yaml")
    backwards = cli("revise", source, "2026Q3", "--to", "2026-06-30")
    assert backwards.exit_code == 2 and "--to 2026-06-30 is before the new version starts (2026-07-01)" in \
        backwards.output
    overlap = cli("revise", source, "2026Q3", "--from", "2026-06-15")
    assert overlap.exit_code == 2
    assert "would not validate, so nothing was written: 2026Q2 (from 2026-04-01 to 2026-06-30) overlaps 2026Q3" \
        in overlap.output
    gap = cli("revise", source, "2026Q3", "--from", "2026-08-01")
    assert gap.exit_code == 2 and "no version covers 2026-07-01 to 2026-07-31" in gap.output
    assert not (rules / "cs-quality" / "2026Q3.yaml").exists()
    # an older version revised again would overlap the version that already follows it
    again = cli("revise", str(rules / "cs-quality" / "2026Q1.yaml"), "2026Q1b")
    assert again.exit_code == 2 and "overlaps" in again.output


def test_a_source_that_does_not_validate_is_refused_with_its_findings(cli: Cli, tmp_path: Path) -> None:
    broken = demo(tmp_path, ("    weight: 60\n    indicators:", "    weight: -60\n    indicators:"))
    result = cli("revise", str(broken), "v2")
    assert result.exit_code == 3
    assert f"{broken}:" in result.output and "error[non-positive-weight]" in result.output
    assert not (tmp_path / "v2.yaml").exists()
    with pytest.raises(SchemeValidationError):
        revise(broken, "v2")


def test_a_source_in_force_with_no_end_is_refused(tmp_path: Path) -> None:
    source = demo(tmp_path, ("effective_to: 2026-03-31\n", ""))
    with pytest.raises(UsageError, match="has no effective_to") as caught:
        revise(source, "v2")
    assert caught.value.location is not None and caught.value.location.line == 6


def test_a_source_written_as_one_flow_mapping_is_refused(tmp_path: Path) -> None:
    text = json.dumps(load_path(DEMO).data, ensure_ascii=False)
    source = tmp_path / "v1.yaml"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match="one \\{…\\} mapping"):
        revise(source, "v2")


def test_a_missing_source_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("revise", str(tmp_path / "nope.yaml"), "v2")
    assert result.exit_code == 2 and "does not exist" in result.output


# --------------------------------------------------------------------------- how dates move


def revised(tmp_path: Path, *edits: tuple[str, str], version: str = "v2") -> tuple[dict[str, Any], Path]:
    """Revise the small scheme (with edits); check the result validates and passes; its data and path."""
    source = demo(tmp_path, *edits)
    revision = revise(source, version)
    write_revision(revision)
    assert not [f for f in revision.findings if f.code != "changelog-placeholder"], revision.findings
    results = list(iter_results([revision.path]))
    assert results and all(r.passed for r in results), results
    return load_path(revision.path).data, revision.path


RECORD = '{interaction_id: T1, agent_id: A001, channel: chat, started_at: "2026-01-05T09:00:00+08:00"'


def test_weekly_periods_move_by_whole_weeks(tmp_path: Path) -> None:
    data, _ = revised(tmp_path, ("every: month}", "every: week}"), ("subject: A001/2026-01", "subject: A001/2026-W02"))
    test = data["tests"][0]
    assert test["subject"] == "A001/2026-W15"
    day = dt.datetime.fromisoformat(test["records"][0]["started_at"])
    assert day.isoformat() == "2026-04-06T09:00:00+08:00" and day.weekday() == 0  # Monday stays Monday


def test_counting_working_days_moves_by_whole_weeks(tmp_path: Path) -> None:
    data, _ = revised(tmp_path, ("  in_time: first_response_s <= response_target_s[channel]\n",
                                 "  in_time: first_response_s <= response_target_s[channel]\n"
                                 "  same_day: business_days_between(started_at, started_at) == 0\n"),
                      ("      - id: fcr\n        measure: {share: resolved}",
                       "      - id: fcr\n        measure: {share: resolved, where: same_day}"))
    assert data["tests"][0]["records"][0]["started_at"] == "2026-04-06T09:00:00+08:00"
    assert data["tests"][0]["subject"] == "A001/2026-04"


def test_the_local_day_moves_across_a_utc_midnight(tmp_path: Path) -> None:
    # 2026-01-31 20:00 UTC is 1 February in Asia/Shanghai: it moves to 1 May there, 30 April in UTC
    data, _ = revised(tmp_path, ('started_at: "2026-01-05T09:00:00+08:00"', 'started_at: "2026-01-31T20:00:00Z"'),
                      ("subject: A001/2026-01", "subject: A001/2026-02"))
    assert data["tests"][0]["records"][0]["started_at"] == "2026-04-30T20:00:00Z"
    assert data["tests"][0]["subject"] == "A001/2026-05"


def test_a_date_field_with_its_own_format(tmp_path: Path) -> None:
    data, _ = revised(tmp_path, ("    started_at: {type: datetime}", '    started_at: {type: date, format: "%d/%m/%Y"}'),
                      ('started_at: "2026-01-05T09:00:00+08:00"', 'started_at: "31/01/2026"'))
    assert data["tests"][0]["records"][0]["started_at"] == "30/04/2026"  # the 31st does not exist in April


def test_a_day_past_the_end_of_the_month_stays_in_its_month() -> None:
    assert Shift(months=3).apply(dt.date(2026, 5, 31)) == dt.date(2026, 8, 31)
    assert Shift(months=3).apply(dt.date(2026, 1, 31)) == dt.date(2026, 4, 30)
    assert Shift(months=3).apply(dt.date(2026, 11, 30)) == dt.date(2027, 2, 28)
    assert Shift(days=91).apply(dt.date(2026, 1, 5)) == dt.date(2026, 4, 6)


def test_a_json_lines_records_file_named_after_the_version(tmp_path: Path) -> None:
    (tmp_path / "fixtures").mkdir()
    rows = [{"interaction_id": "T1", "agent_id": "A001", "channel": "chat", "started_at": "2026-01-05T09:00:00+08:00",
             "first_response_s": 30, "resolved": True, "csat": 5, "promise": False},
            {"interaction_id": "T2", "agent_id": "A001", "channel": "chat", "started_at": "not a date",
             "first_response_s": 30, "resolved": True, "csat": 5, "promise": False}]
    (tmp_path / "fixtures" / "v1-records.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    head = DEMO.read_text(encoding="utf-8").split("tests:\n")[0]
    source = demo(tmp_path, text=head + "tests:\n  - name: from a file\n    subject: A001/2026-01\n"
                  "    records_file: fixtures/v1-records.jsonl\n    expect: {rejected: 1, vetoes: []}\n")
    revision = revise(source, "v2")
    (copy,) = revision.fixtures
    assert copy.path == tmp_path / "fixtures" / "v2-records.jsonl" and (copy.moved, copy.kept) == (1, 1)
    write_revision(revision)
    moved = [json.loads(line) for line in copy.path.read_text(encoding="utf-8").splitlines()]
    assert [r["started_at"] for r in moved] == ["2026-04-05T09:00:00+08:00", "not a date"]
    test = load_path(revision.path).data["tests"][0]
    assert (test["records_file"], test["subject"]) == ("fixtures/v2-records.jsonl", "A001/2026-04")
    assert all(r.passed for r in iter_results([revision.path]))


def test_a_test_that_no_longer_passes_is_shown_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    # a period of 31 days from 20 January: the record of 31 January moves to 3 March, out of its month
    source = demo(tmp_path, ("effective_from: 2026-01-01\neffective_to: 2026-03-31",
                             "effective_from: 2026-01-20\neffective_to: 2026-02-19"),
                  ('started_at: "2026-01-05T09:00:00+08:00"', 'started_at: "2026-01-31T09:00:00+08:00"'))
    result = cli("revise", str(source), "v2")
    assert result.exit_code == 1, result.output
    assert "in force 2026-02-20 … 2026-03-22" in result.output
    assert "moved 31 days later (each keeps its time of day)" in result.output
    assert "0 of 1 test(s) pass" in result.output
    assert "  FAIL one good record\n    no scorecard for subject 'A001/2026-02' (have: A001/2026-03)" in result.output
    assert (tmp_path / "v2.yaml").is_file()  # written all the same, for the committee to adjust the test


# --------------------------------------------------------------------------- how the text is edited


def test_missing_metadata_is_added_and_a_flow_changelog_stays_flow(tmp_path: Path) -> None:
    source = demo(tmp_path, ("approved_by: committee\napproved_on: 2025-12-20\n", ""),
                  ("changelog:\n  - first version\n", 'changelog: ["first version"]  # one line\n'))
    revision = revise(source, "v2")
    text = revision.text
    assert "supersedes: v1\n# Not approved yet." in text
    assert "# approved_by: …\n" in text
    assert f'changelog: ["{placeholder_line("v1")}"]  # one line\n' in text
    bare = demo(tmp_path / "bare", ("changelog:\n  - first version\n", ""))
    data = load_path(bare).data
    assert "changelog" not in data
    assert revise(bare, "v2").text.count("changelog:\n  - ") == 1


def test_quarter_names_in_the_title_and_a_version_that_needs_quotes(tmp_path: Path) -> None:
    source = demo(tmp_path, ("version: v1", "version: 2026Q1"), ("title: Diff demo scheme", "title: Demo Q1 2026 (2026-Q1)"),
                  name="2026Q1.yaml")
    data = load_path(write(revise(source, "2026Q2"))).data
    assert data["title"] == "Demo Q2 2026 (2026-Q2)"
    numeric = load_path(write(revise(source, "2027", output=tmp_path / "other" / "2027.yaml"))).data
    assert numeric["version"] == "2027"  # quoted: a plain 2027 would be a number


def test_a_title_written_as_a_block(tmp_path: Path) -> None:
    source = demo(tmp_path, ("version: v1", "version: 2026Q1"),
                  ("title: Diff demo scheme\n", "title: >-\n  Demo scheme,\n  2026年第一季度\n\n"), name="2026Q1.yaml")
    revision = revise(source, "2026Q2")
    assert load_path(write(revision)).data["title"] == "Demo scheme, 2026年第二季度"
    assert 'title: "Demo scheme, 2026年第二季度"\n\neffective_from' in revision.text


def test_the_old_version_is_never_the_output(cli: Cli, rules: Path) -> None:
    source = rules / "cs-quality" / "2026Q2.yaml"
    before = source.read_bytes()
    result = cli("revise", str(source), "2026Q3", "-o", str(source), "--force")
    assert result.exit_code == 2 and "is the old version itself, which is never edited" in result.output
    assert source.read_bytes() == before


def write(revision: Revision) -> Path:
    write_revision(revision)
    return revision.path


def test_windows_line_endings_are_kept(tmp_path: Path) -> None:
    source = demo(tmp_path)
    source.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    text = revise(source, "v2").text
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")


# --------------------------------------------------------------------------- the changelog afterwards


def test_the_draft_warns_until_the_changelog_names_every_change(tmp_path: Path) -> None:
    source = demo(tmp_path)
    path = write(revise(source, "v2"))
    docs = [load_path(source), load_path(path)]
    assert [f.code for f in changelog_findings(docs)] == ["changelog-placeholder"]

    text = path.read_text(encoding="utf-8").replace(f'"{placeholder_line("v1")}"', "fcr weight 50 → 60")
    path.write_text(text.replace("        weight: 50\n\nvetoes", "        weight: 60\n\nvetoes")
                    .replace("    name: Process\n    weight: 60", "    name: Process\n    weight: 50"), encoding="utf-8")
    found = changelog_findings([load_path(source), load_path(path)])
    line = 1 + path.read_text(encoding="utf-8").splitlines().index("    name: Process") + 1
    assert [(f.code, f.location.line) for f in found] == [("changelog-unmentioned", line)]
    assert "dimension process (Process) changed from v1 but no changelog line names it" in found[0].message
