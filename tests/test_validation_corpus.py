"""Data-driven validation corpus: one broken scheme per file, one mistake each.

Every file in tests/fixtures/broken/ starts with

    # expect: <severity>[<code>] <line>:<column>

naming the finding the mistake must produce (1-based line and column of the offending
key or value; for an expression problem, the column inside the expression). An
optional second line

    # mentions: <text>

names text the finding's message or hint must contain (e.g. a "did you mean" suggestion).
Apart from the deliberate warning cases, the expected finding must be the ONLY error.

Cases where the validator is known to be wrong keep the right expectation and are
listed in KNOWN_BUGS (strict xfail), so fixing the validator turns them green.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from qualiscore.validation import Finding, validate_file

HERE = Path(__file__).parent
BROKEN = HERE / "fixtures" / "broken"
VALIDATE = HERE / "fixtures" / "validate"

EXPECT = re.compile(r"# expect: (?P<severity>error|warning)\[(?P<code>[a-z0-9-]+)\] (?P<line>\d+):(?P<column>\d+)")
MENTIONS = re.compile(r"# mentions: (?P<text>.+)")

# file name -> why the validator's output is wrong (expected vs actual is in the reason).
KNOWN_BUGS: dict[str, str] = {
}


def _header(path: Path) -> tuple[re.Match[str], str | None]:
    lines = path.read_bytes().split(b"\n", 2)
    expect = EXPECT.fullmatch(lines[0].decode("ascii").rstrip())
    assert expect, f"{path.name}: first line must be '# expect: severity[code] line:column'"
    mentions = MENTIONS.fullmatch(lines[1].decode("utf-8", "replace").rstrip()) if len(lines) > 1 else None
    return expect, mentions["text"] if mentions else None


def _cases() -> list[object]:
    params = []
    for path in sorted(BROKEN.glob("*.yaml")):
        marks = []
        if path.name in KNOWN_BUGS:
            reason = KNOWN_BUGS[path.name]
            raises = TypeError if reason.startswith("crash") else AssertionError
            marks.append(pytest.mark.xfail(strict=True, raises=raises, reason=reason))
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _show(findings: list[Finding]) -> str:
    return "\n".join(f.format() for f in findings) or "(no findings)"


def test_corpus_is_large_enough() -> None:
    assert len(list(BROKEN.glob("*.yaml"))) >= 45
    assert set(KNOWN_BUGS) <= {p.name for p in BROKEN.glob("*.yaml")}


@pytest.mark.parametrize("path", _cases())
def test_broken_scheme(path: Path) -> None:
    expect, mentions = _header(path)
    severity, code = expect["severity"], expect["code"]
    line, column = int(expect["line"]), int(expect["column"])

    _doc, findings = validate_file(path)

    for f in findings:
        assert f.severity in ("error", "warning")
        assert f.location.file == str(path)
        assert f.message
    hits = [
        f for f in findings
        if (f.severity, f.code, f.location.line, f.location.column) == (severity, code, line, column)
    ]
    assert hits, f"expected {severity}[{code}] at {line}:{column}; got:\n{_show(findings)}"
    if mentions is not None:
        assert any(mentions in f"{f.message} {f.hint or ''}" for f in hits), (
            f"expected the finding to mention {mentions!r}; got:\n{_show(hits)}"
        )
    # One mistake -> one error. (Warnings such as an unused field left behind by a typo are fine.)
    other_errors = [f for f in findings if f.severity == "error" and f not in hits]
    assert not other_errors, f"one mistake must give one error; also got:\n{_show(other_errors)}"
    assert len([f for f in hits if f.severity == "error"]) <= 1, _show(hits)


def test_clean_base_has_no_findings() -> None:
    """The schemes the corpus is derived from are clean, so each fixture holds exactly its own mistake."""
    _doc, findings = validate_file(VALIDATE / "clean.yaml")
    assert findings == []


def test_five_independent_mistakes_reported_in_one_run() -> None:
    _doc, findings = validate_file(VALIDATE / "several-mistakes.yaml")
    errors = {(f.code, f.location.line, f.location.column) for f in findings if f.severity == "error"}
    assert errors == {
        ("unknown-key", 23, 5),  # nmae: -> did you mean 'name'?
        ("unknown-name", 27, 52),  # resolvd in an expression
        ("non-positive-weight", 32, 13),  # weight: -40
        ("duplicate-id", 34, 13),  # indicator id satisfaction twice
        ("grades-overlap", 40, 21),  # two grades start at 80 (columns count characters)
    }, _show(findings)
    by_code = {f.code: f for f in findings}
    assert by_code["unknown-key"].hint == "did you mean 'name'?"
    assert by_code["unknown-name"].hint == "did you mean 'resolved'?"
    assert "line 26" in by_code["duplicate-id"].message
    assert not [f for f in findings if f.severity == "warning"], _show(findings)
