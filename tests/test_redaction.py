"""Personal numbers and addresses copied from the data into outputs are redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Cli
from qualiscore.redaction import redact

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("text", "expected"), [
    ("call 13800138000 now", "call [mobile] now"),
    ("+86 138 0013 8000", "[mobile]"),
    ("86-13912345678", "[mobile]"),
    ("12800138000", "12800138000"),  # no mobile starts with 12
    ("id 11010519491231002X ok", "id [id] ok"),  # GB 11643 check digit X holds
    ("id 110105194912310021", "id 110105194912310021"),  # check digit fails: not an id
    ("4111 1111 1111 1111", "[card]"),  # Luhn holds
    ("4111111111111112", "4111111111111112"),  # Luhn fails
    ("tel 010-62345678, 0755-8765432", "tel [phone], [phone]"),
    ("mail a.b+c@example.com.cn", "mail [email]"),
    ("2026-07-06T18:19:36+08:00", "2026-07-06T18:19:36+08:00"),
    ("I0000191", "I0000191"),
    ("order 20260706123456789", "order 20260706123456789"),
    ("", ""),
    (None, None),
])
def test_what_is_redacted_and_what_is_not(text: str | None, expected: str | None) -> None:
    assert redact(text) == expected


def test_rejects_and_evidence_never_copy_a_phone_number(cli: Cli, tmp_path: Path) -> None:
    lines = (ROOT / "data/sample/interactions.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("channel")] = "13800138000"  # a phone number typed into the channel column
    data = tmp_path / "calls.csv"
    data.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    cli("evaluate", str(ROOT / "rules/cs-quality/2026Q2.yaml"), str(data), "-o", str(out), "-q")
    rejects = (out / "rejects.csv").read_text(encoding="utf-8")
    assert "13800138000" not in rejects and "[mobile]" in rejects
    for path in out.iterdir():
        if path.name != "row-digests.bin":
            assert b"13800138000" not in path.read_bytes(), path.name
    assert cli("verify", str(out)).exit_code == 0
