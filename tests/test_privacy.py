"""Personal fields of a record contract (privacy.py): tokens, validation, both engines, and a scan of every output.

The scan runs `evaluate --report --format xlsx` and `sample` on the bundled complaint tickets
(data/sample/q3/complaints.csv, which hold each customer's mobile number) with the bundled
example scheme, and looks for every personal value of the data in every byte written,
inside the workbook's XML too.
"""

from __future__ import annotations

import base64
import csv
import gzip
import json
import re
import zipfile
from pathlib import Path

import pytest

from conftest import ENGINES, Cli
from qualiscore.errors import UsageError
from qualiscore.loader import load_text
from qualiscore.manifest import render_outputs
from qualiscore.options import RunOptions
from qualiscore.privacy import REDACTED, key_id, read_key, token
from qualiscore.runs import execute
from qualiscore.schemes import load_versions
from qualiscore.validation import iter_findings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "complaints-private" / "2026Q3.yaml"
COMPLAINTS = ROOT / "data" / "sample" / "q3" / "complaints.csv"
Q3 = ROOT / "rules" / "cs-quality" / "2026Q3.yaml"
Q3_DATA = ROOT / "data" / "sample" / "q3"
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "qualiscore.key"
    path.write_bytes(KEY)
    return path


# --------------------------------------------------------------------------- the token


def test_token_is_stable_keyed_and_text_shaped() -> None:
    assert token(KEY, "A001") == token(KEY, "A001")
    assert re.fullmatch(r"p:[a-z2-7]{20}", token(KEY, "A001"))
    assert token(KEY, "A001") != token(KEY, "A002")
    assert token(KEY, "A001") != token(OTHER_KEY, "A001")
    assert token(KEY, 42) == token(KEY, "42")  # the text of a value, whatever field holds it


def test_tokens_of_many_values_do_not_collide() -> None:
    values = [f"1{n:010d}" for n in range(20000)]
    assert len({token(KEY, v) for v in values}) == len(values)


def test_key_id_tells_keys_apart_and_is_not_the_key(tmp_path: Path) -> None:
    assert re.fullmatch(r"[0-9a-f]{16}", key_id(KEY))
    assert key_id(KEY) == key_id(KEY) != key_id(OTHER_KEY)
    assert key_id(KEY) not in KEY.hex()
    short = tmp_path / "short.key"
    short.write_bytes(b"abc")
    with pytest.raises(UsageError, match="at least 16"):
        read_key(short)
    with pytest.raises(UsageError, match="cannot read"):
        read_key(tmp_path / "missing.key")


# --------------------------------------------------------------------------- validation


def _findings(text: str) -> list[tuple[str, str, str]]:
    doc = load_text(text, "2026Q3.yaml")
    return [(f.severity, f.code, f"{f.message} — {f.hint}") for f in iter_findings(doc)]


def _example(personal: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    start = text.index("  personal:\n")
    end = text.index("\nsubject:")
    return text[:start] + personal + "\n" + text[end:]


def test_the_example_scheme_validates() -> None:
    assert [f for f in _findings(EXAMPLE.read_text(encoding="utf-8")) if f[0] == "error"] == []


@pytest.mark.parametrize(("personal", "code", "words"), [
    ("  personal: {agent: pseudonymise}", "unknown-field", "did you mean 'agent_id'?"),
    ("  personal: {agent_id: drop}", "personal-policy", "pseudonymise it"),
    ("  personal: {ticket_id: redact}", "personal-policy", "the record id"),
    ("  personal: {filed_at: pseudonymise}", "personal-type", "type: string"),
    ("  personal: {interaction_id: pseudonymise}", "personal-in-expression", "token of 'interaction_id'"),
])
def test_validation_findings(personal: str, code: str, words: str) -> None:
    found = [f for f in _findings(_example(personal)) if f[1] == code]
    assert found and words in found[0][2], found


def test_a_policy_must_be_known() -> None:
    found = _findings(_example("  personal: {agent_id: hide}"))
    assert any(f[0] == "error" for f in found)


def test_finding_is_located_at_the_personal_entry() -> None:
    doc = load_text(_example("  personal:\n    agent_id: drop"), "2026Q3.yaml")
    finding = next(f for f in iter_findings(doc) if f.code == "personal-policy")
    assert finding.location.line is not None and "agent_id: drop" in doc.text.splitlines()[finding.location.line - 1]


def test_a_lookup_key_and_its_id_share_a_policy() -> None:
    text = Q3.read_text(encoding="utf-8").replace(
        "  surveys:\n    id: survey_id\n", "  surveys:\n    id: survey_id\n    personal: {interaction_id: pseudonymise}\n")
    found = [f for f in _findings(text) if f[1] == "personal-mismatch"]
    assert found and "no row would match" in found[0][2]


# --------------------------------------------------------------------------- runs on both engines


def _private_q3(tmp_path: Path) -> Path:
    """2026Q3 with its agents and interactions pseudonymised in every source (lookups join on tokens)."""
    text = Q3.read_text(encoding="utf-8")
    for line, personal in [
        ("    id: interaction_id\n", "    personal: {interaction_id: pseudonymise, agent_id: pseudonymise}\n"),
        ("    id: survey_id\n", "    personal: {interaction_id: pseudonymise}\n"),
        ("    id: inspection_id\n", "    personal: {interaction_id: pseudonymise}\n"),
        ("    id: ticket_id\n", "    personal: {interaction_id: pseudonymise, agent_id: pseudonymise}\n"),
    ]:
        assert text.count(line) == 1
        text = text.replace(line, line + personal)
    path = tmp_path / "2026Q3.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _q3_inputs() -> list[str]:
    return [f"{name}={Q3_DATA / name}.csv" for name in ("interactions", "surveys", "inspections", "complaints")]


def _outputs(scheme: Path, data: list[str], engine: str, key: bytes | None) -> dict[str, bytes]:
    run = execute(scheme, data, RunOptions(engine=engine, pseudonymise_key=key))  # type: ignore[arg-type]
    files = render_outputs(run)
    files["manifest.json"] = files["manifest.json"].replace(f'"engine": "{engine}"'.encode(), b'"engine": "-"')
    return files


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_give_the_same_bytes_with_personal_fields(engine: str, tmp_path: Path) -> None:
    scheme = _private_q3(tmp_path)
    assert _outputs(scheme, _q3_inputs(), engine, KEY) == _outputs(scheme, _q3_inputs(), "rows", KEY)
    assert _outputs(EXAMPLE, [str(COMPLAINTS)], engine, KEY) == _outputs(EXAMPLE, [str(COMPLAINTS)], "rows", KEY)


@pytest.mark.parametrize("engine", ENGINES)
def test_pseudonymised_keys_still_join_and_score_the_same(engine: str, tmp_path: Path) -> None:
    plain = execute(Q3, _q3_inputs(), RunOptions(engine=engine))  # type: ignore[arg-type]
    private = execute(_private_q3(tmp_path), _q3_inputs(), RunOptions(engine=engine,  # type: ignore[arg-type]
                                                                      pseudonymise_key=KEY))
    assert (private.rows_read, private.rows_scored) == (plain.rows_read, plain.rows_scored)
    assert private.by_source() == plain.by_source()
    by_agent = {c.subject: (c.score, c.grade) for c in plain.scorecards}
    assert {c.subject: (c.score, c.grade) for c in private.scorecards} == {
        f"{token(KEY, s.split('/')[0])}/{s.split('/')[1]}": v for s, v in by_agent.items()}


def test_a_different_key_gives_other_tokens_and_the_same_scores() -> None:
    one = execute(EXAMPLE, [str(COMPLAINTS)], RunOptions(engine="rows", pseudonymise_key=KEY))
    two = execute(EXAMPLE, [str(COMPLAINTS)], RunOptions(engine="rows", pseudonymise_key=OTHER_KEY))
    assert {c.subject for c in one.scorecards}.isdisjoint({c.subject for c in two.scorecards})
    assert sorted(c.score for c in one.scorecards) == sorted(c.score for c in two.scorecards)


def test_a_run_without_the_key_is_refused() -> None:
    with pytest.raises(UsageError, match="needs the key") as caught:
        execute(EXAMPLE, [str(COMPLAINTS)], RunOptions(engine="rows"))
    assert caught.value.exit_code == 2 and "head -c 32 /dev/urandom" in (caught.value.hint or "")


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rejected_personal_cell_shows_its_policy_never_its_value(engine: str, tmp_path: Path) -> None:
    scheme = tmp_path / "2026Q3.yaml"
    scheme.write_text(_example("  personal: {agent_id: pseudonymise, customer_phone: drop, category: redact}")
                      .replace("category: {type: string,", "category: {type: string, enum: [服务态度, 处理时效],")
                      .replace("customer_phone: {type: string, nullable: true,",
                               "customer_phone: {type: integer, maximum: 100,")
                      .replace("agent_id: {type: string,", "agent_id: {type: string, enum: [X1, X2],")
                      .replace("strata: [category]", "strata: [team]"), encoding="utf-8")
    run = execute(scheme, [str(COMPLAINTS)], RunOptions(engine=engine, pseudonymise_key=KEY))  # type: ignore[arg-type]
    rejects = render_outputs(run)["rejects.csv"].decode("utf-8")
    rows = list(csv.DictReader(rejects.splitlines()))
    by_field = {r["field"]: r for r in rows}
    assert by_field["agent_id"]["value"].startswith("p:") and "A0" not in by_field["agent_id"]["reason"]
    assert by_field["agent_id"]["reason"].startswith(repr(by_field["agent_id"]["value"]))
    assert by_field["category"]["value"] == REDACTED
    assert by_field["customer_phone"]["value"] == "" and "[dropped]" in by_field["customer_phone"]["reason"]
    for raw in _personal_values():
        assert raw not in rejects


# --------------------------------------------------------------------------- every output scanned


def _personal_values() -> set[str]:
    """Every distinct agent id and customer mobile of the sample tickets."""
    with open(COMPLAINTS, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    values = {r["agent_id"] for r in rows if r["agent_id"]} | {r["customer_phone"] for r in rows if r["customer_phone"]}
    assert len(values) > 20 and any(re.fullmatch(r"1[3-9]\d{9}", v) for v in values)
    return values


def _scanned(directory: Path) -> dict[str, bytes]:
    """Every file's bytes; a workbook's XML parts as well, unzipped, and the report's gzipped explanations."""
    out = {}
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            out[str(path)] = path.read_bytes()
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as book:
                    out.update({f"{path}!{name}": book.read(name) for name in book.namelist()})
            for k, blob in enumerate(re.findall(rb'type="application/gzip\+base64"[^>]*>([^<]+)<', out[str(path)])):
                out[f"{path}!explanations{k}"] = gzip.decompress(base64.b64decode(blob))
    return out


def _leaks(files: dict[str, bytes], values: set[str]) -> list[tuple[str, str]]:
    mobile = re.compile(rb"(?<![\d.])1[3-9]\d{9}(?![\d.])")  # not the digits of a decimal fraction
    found = [(name, v) for name, data in files.items() for v in values if v.encode() in data]
    email = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
    found += [(name, m.group().decode()) for name, data in files.items() for m in mobile.finditer(data)]
    # the report inlines plotly.js, whose licence names its authors' addresses: scanned outside scripts
    found += [(name, m.group().decode()) for name, data in files.items()
              for m in email.finditer(re.sub(rb"(?s)<script[^>]*>.*?</script>", b"", data))]
    return found


@pytest.mark.parametrize("engine", ENGINES)
def test_no_personal_value_reaches_any_output(cli: Cli, key_file: Path, tmp_path: Path, engine: str) -> None:
    out, sample = tmp_path / "out", tmp_path / "sample"
    result = cli("evaluate", str(EXAMPLE), str(COMPLAINTS), "-o", str(out), "--report", "--format", "xlsx",
                 "--engine", engine, "--pseudonymise-key", str(key_file), "-q")
    assert result.exit_code == 0, result.output
    result = cli("sample", str(EXAMPLE), str(COMPLAINTS), "--period", "2026-W28", "-o", str(sample),
                 "--format", "xlsx", "--engine", engine, "--pseudonymise-key", str(key_file), "-q")
    assert result.exit_code == 0, result.output
    explained = cli("explain", str(out), "--subject", f"{token(KEY, 'A016')}/2026-08")
    assert explained.exit_code == 0, explained.output
    files = {**_scanned(out), **_scanned(sample), "explain": explained.output.encode("utf-8")}
    assert {"report.html", "scorecards.xlsx", "sample.csv", "sample.xlsx"} <= {Path(n).name for n in files}
    assert _leaks(files, _personal_values()) == []
    assert "customer_phone" not in (sample / "sample.csv").read_text(encoding="utf-8").splitlines()[0]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["privacy"] == {"fields": {"records": {"agent_id": "pseudonymise", "customer_phone": "drop"}},
                                   "key_id": key_id(KEY)}
    assert KEY.hex() not in json.dumps(manifest)


def test_free_text_in_a_sample_is_redacted(tmp_path: Path) -> None:
    data = tmp_path / "complaints.csv"
    text = COMPLAINTS.read_text(encoding="utf-8").replace("服务态度,", "服务态度 call 13912345678 or a@b.cn,")
    data.write_text(text, encoding="utf-8")
    scheme = tmp_path / "2026Q3.yaml"
    scheme.write_text(_example("  personal: {agent_id: pseudonymise}").replace("strata: [category]", "strata: [team]"),
                      encoding="utf-8")
    from qualiscore.sampling import draw, read_source

    chosen = load_versions(scheme)[0]
    drawn = draw(chosen, "2026-W28", read_source(chosen, [str(data)], "rows", None, None, "2026-W28", KEY))
    cells = " ".join(" ".join(r) for r in drawn.rows)
    assert "13912345678" not in cells and "a@b.cn" not in cells and "[mobile]" in cells


# --------------------------------------------------------------------------- verify and reveal


@pytest.fixture
def published(cli: Cli, key_file: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    result = cli("evaluate", str(EXAMPLE), str(COMPLAINTS), "-o", str(out), "--engine", "rows",
                 "--pseudonymise-key", str(key_file), "-q")
    assert result.exit_code == 0, result.output
    return out


def test_verify_needs_the_runs_key(cli: Cli, published: Path, key_file: Path, tmp_path: Path) -> None:
    assert cli("verify", str(published), "--pseudonymise-key", str(key_file)).exit_code in (0, 17)
    missing = cli("verify", str(published))
    assert missing.exit_code == 19 and "key-missing" in missing.output
    other = tmp_path / "other.key"
    other.write_bytes(OTHER_KEY)
    wrong = cli("verify", str(published), "--pseudonymise-key", str(other))
    assert wrong.exit_code == 20 and "key-mismatch" in wrong.output and key_id(KEY) in wrong.output


def test_reveal_maps_tokens_back_to_values(cli: Cli, published: Path, key_file: Path) -> None:
    agent = token(KEY, "A016")
    result = cli("reveal", str(published), agent, "p:nothere", "--pseudonymise-key", str(key_file), "--format", "csv")
    assert result.exit_code == 0, result.output
    assert list(csv.reader(result.output.splitlines())) == [["token", "field", "value"], [agent, "agent_id", "A016"],
                                                             ["p:nothere", "", ""]]
    every = json.loads(cli("reveal", str(published), "--pseudonymise-key", str(key_file), "--format", "json").output)
    assert {r["value"] for r in every} == {r for r in _personal_values() if r.startswith("A")}
    text = cli("reveal", str(published), agent, "--pseudonymise-key", str(key_file)).output
    assert text.splitlines()[1].split() == [agent, "agent_id", "A016"]


def test_reveal_refuses_another_key(cli: Cli, published: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    other.write_bytes(OTHER_KEY)
    result = cli("reveal", str(published), "--pseudonymise-key", str(other))
    assert result.exit_code == 2 and "is not the key the run was made with" in result.output


def test_reveal_refuses_a_changed_input(cli: Cli, key_file: Path, tmp_path: Path) -> None:
    data = tmp_path / "complaints.csv"
    data.write_bytes(COMPLAINTS.read_bytes())
    out = tmp_path / "out"
    assert cli("evaluate", str(EXAMPLE), str(data), "-o", str(out), "--pseudonymise-key", str(key_file),
               "-q").exit_code == 0
    data.write_bytes(COMPLAINTS.read_bytes() + "C9999999,A099,T1,2026-07-02T21:48:30+08:00,其他,,13900000000\n".encode())
    result = cli("reveal", str(out), "--pseudonymise-key", str(key_file))
    assert result.exit_code == 2 and "changed since the run" in result.output


def test_evaluate_without_the_key_says_how_to_make_one(cli: Cli, tmp_path: Path) -> None:
    result = cli("evaluate", str(EXAMPLE), str(COMPLAINTS), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "pseudonymise-key-missing" in result.output and "head -c 32 /dev/urandom" in result.output
    assert not (tmp_path / "out").exists()


def test_diff_with_data_shows_tokens_when_either_version_pseudonymises(cli: Cli, key_file: Path,
                                                                        tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(_example("").replace("version: 2026Q3", "version: old"), encoding="utf-8")
    result = cli("diff", str(old), str(EXAMPLE), "--data", str(COMPLAINTS), "--format", "json",
                 "--pseudonymise-key", str(key_file))
    assert result.exit_code in (0, 1), result.output
    assert not re.search(r"\bA0\d\d\b", result.output)


def test_manifest_with_privacy_is_read_back(published: Path) -> None:
    from qualiscore.errors import DamagedOutputError
    from qualiscore.manifest import check_manifest, read_manifest

    manifest = read_manifest(published)
    assert manifest["options"]["pseudonymise_key_id"] == manifest["privacy"]["key_id"] == key_id(KEY)
    with pytest.raises(DamagedOutputError, match="/privacy/fields/records/agent_id"):
        check_manifest({**manifest, "privacy": {**manifest["privacy"], "fields": {"records": {"agent_id": "hide"}}}})


def test_a_schemes_own_tests_name_subjects_by_their_values(cli: Cli, tmp_path: Path) -> None:
    result = cli("test", str(_private_q3(tmp_path)))
    assert result.exit_code == 0, result.output


def test_validate_with_data_needs_no_key(cli: Cli) -> None:
    result = cli("validate", str(EXAMPLE), "--data", str(COMPLAINTS))
    assert result.exit_code == 0, result.output
    assert not re.search(r"\bA0\d\d\b", result.output)


def test_a_pseudonymised_sample_is_verified_with_its_key(cli: Cli, key_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "sample"
    assert cli("sample", str(EXAMPLE), str(COMPLAINTS), "--period", "2026-W30", "-o", str(out),
               "--pseudonymise-key", str(key_file), "-q").exit_code == 0
    assert cli("verify", str(out), "--pseudonymise-key", str(key_file)).exit_code in (0, 17)
    assert cli("verify", str(out)).exit_code == 19
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["privacy"]["key_id"] == key_id(KEY)


def test_a_key_file_too_short_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"secret")
    result = cli("evaluate", str(EXAMPLE), str(COMPLAINTS), "-o", str(tmp_path / "out"), "--pseudonymise-key",
                 str(short))
    assert result.exit_code == 2 and "at least 16 random bytes" in result.output
