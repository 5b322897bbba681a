"""verify, check-record, keygen, reveal, signing, trust and publishing in Chinese and in English.

A run made in zh-CN records ``options.language: "zh-CN"`` and is recomputed in it, so
`verify` confirms it whatever language `verify` itself speaks; what `verify` finds is
the same in both languages (exit status, discrepancy kinds, files, subjects, fields,
values, check names and results, JSON keys), and only the sentences differ. A
verification record is rendered in the language it was written in, so `check-record`
confirms it in either language.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from conftest import Cli
from qualiscore import verdict
from qualiscore.i18n import using
from qualiscore.verify import verify as verify_run

ROOT = Path(__file__).resolve().parent.parent
Q2 = "rules/cs-quality/2026Q2.yaml"
HAN = re.compile(r"[\u4e00-\u9fff]")
ZH = ("--lang", "zh-CN")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the current directory, with rules/ and data/head.csv (300 April rows, 3 of them rejected)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    lines = (ROOT / "data" / "sample" / "interactions.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "head.csv").write_text("".join(lines[:301]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def evaluate(cli: Cli, *args: str, out: str = "out") -> Path:
    result = cli("evaluate", Q2, "data/head.csv", "-o", out, "-q", *args)
    assert result.exit_code == 0, result.output
    return Path(out)


def run(cli: Cli, *args: str) -> tuple[int, str]:
    result: Result = cli(*args)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def record_json(cli: Cli, *args: str) -> dict[str, Any]:
    result = cli("verify", "out", "--format", "json", *args)
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["exit_code"] == result.exit_code
    return data


def shape(value: Any) -> Any:
    """The keys of a JSON value, all the way down (lists by their items' shapes)."""
    if isinstance(value, dict):
        return {key: shape(v) for key, v in value.items()}
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [shape(v) for v in value]
    return None  # a value, or a list of values (a command line is longer with --lang)


def facts(record: dict[str, Any], *, words: tuple[str, ...] = ("message", "details")) -> dict[str, Any]:
    """What a verification found, without its sentences (``words``): the same in every language."""
    return {
        "exit_code": record["exit_code"], "verified": record["verified"], "recomputed": record["recomputed"],
        "discrepancies": [{k: v for k, v in d.items() if k not in words} for d in record["discrepancies"]],
        "notes": [(d["kind"], d["file"]) for d in record["notes"]],
        "checks": [(c["check"], c["item"], c["result"]) for c in record["checks"]],
        "signature": record["signature"]["status"],
    }


# --------------------------------------------------------------------------- a run made in Chinese


def test_a_run_made_in_chinese_records_its_language_and_verifies_in_both(cli: Cli, work: Path) -> None:
    out = evaluate(cli, *ZH)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["language"] == "zh-CN"
    assert HAN.search((out / "rejects.csv").read_text(encoding="utf-8").splitlines()[1])  # reasons in Chinese
    code, output = run(cli, "verify", "out")
    assert code == 0, output
    assert output == "verified: out is reproduced exactly from its scheme and inputs (all hashes match)\n  not signed\n"
    code, output = run(cli, "verify", "out", *ZH)
    assert code == 0, output
    assert output == "已核验：out 可由其评价方案和输入完全重现（所有哈希值一致）\n  未签名\n"
    result = cli("verify", "out", env={"QUALISCORE_LANG": "zh-CN"})
    assert result.exit_code == 0 and result.output.startswith("已核验：out")


def test_an_english_run_verifies_in_chinese(cli: Cli, work: Path) -> None:
    out = evaluate(cli)
    assert "language" not in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["options"]
    code, output = run(cli, "verify", "out", *ZH)
    assert code == 0 and output.startswith("已核验：out"), output


def test_the_verdict_in_json_has_the_same_keys_and_facts_in_both_languages(cli: Cli, work: Path) -> None:
    evaluate(cli, *ZH)
    english, chinese = record_json(cli), record_json(cli, *ZH)
    assert shape(english) == shape(chinese)
    assert facts(english) == facts(chinese)
    assert (english["language"], chinese["language"]) == ("en", "zh-CN")
    assert {c["check"] for c in chinese["checks"]} >= {"signature", "engine version", "scheme SHA-256",
                                                       "input SHA-256", "output SHA-256", "recomputation"}
    assert {c["result"] for c in chinese["checks"]} == {"pass"}
    expected = {c["check"]: c["expected"] for c in chinese["checks"]}
    assert expected["recomputation"] == "与已发布的字节完全相同"
    assert {c["check"]: c["expected"] for c in english["checks"]}["recomputation"] == "the published bytes"


def test_a_changed_input_gives_the_same_codes_in_both_languages(cli: Cli, work: Path) -> None:
    evaluate(cli, *ZH)
    data = Path("data/head.csv")
    lines = data.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[49] = lines[49].replace(",95,156,", ",95,9999,")
    data.write_text("".join(lines), encoding="utf-8")
    code_en, english = run(cli, "verify", "out")
    code_zh, chinese = run(cli, "verify", "out", *ZH)
    assert code_en == code_zh == 11
    assert english.startswith("NOT verified: out\n  input-changed: input data/head.csv was changed after the run\n")
    assert chinese.startswith("未通过核验：out\n  input-changed: 输入文件 data/head.csv 在运行后被修改过\n")
    assert "  (not recomputed: the scheme or an input is not the one the run used)" in english
    assert "  （未重新计算：评价方案或某个输入已不是这次运行所用的）" in chinese
    rec_en, rec_zh = record_json(cli), record_json(cli, *ZH)
    # subjects are data, the same in both: a changed line's place ("data/head.csv line 50"), a scorecard's id
    assert shape(rec_en) == shape(rec_zh) and facts(rec_en, words=("message", "details")) == facts(
        rec_zh, words=("message", "details"))
    assert [d["subject"] for d in rec_zh["discrepancies"]] == [d["subject"] for d in rec_en["discrepancies"]]
    assert "data/head.csv line 50" in [d["subject"] for d in rec_zh["discrepancies"]]
    assert [d["subject"] for d in rec_zh["discrepancies"]][-1] == rec_en["discrepancies"][-1]["subject"] == "A022/2026-04"
    assert {d["kind"] for d in rec_zh["discrepancies"]} == {"input-changed"}
    for d in rec_zh["discrepancies"]:
        assert HAN.search(d["message"]), d
    assert [c for c in rec_zh["checks"] if c["result"] == "fail"] == [
        {"check": "input SHA-256", "item": "data/head.csv", "expected": rec_zh["checks"][3]["expected"],
         "found": rec_zh["checks"][3]["found"], "result": "fail"}]


def test_an_edited_output_names_the_same_subject_field_and_values_in_both_languages(cli: Cli, work: Path) -> None:
    out = evaluate(cli, *ZH)
    text = (out / "scorecards.csv").read_text(encoding="utf-8")
    (out / "scorecards.csv").write_text(text.replace("优秀", "合格", 1), encoding="utf-8")
    rec_en, rec_zh = record_json(cli), record_json(cli, *ZH)
    assert rec_en["exit_code"] == rec_zh["exit_code"] == 13
    assert facts(rec_en) == facts(rec_zh)
    field = next(d for d in rec_zh["discrepancies"] if d["field"] == "grade")
    assert (field["published"], field["recomputed"]) == ("合格", "优秀")
    assert field["message"].endswith("grade：发布值 '合格'，重新计算值 '优秀'")
    english = next(d for d in rec_en["discrepancies"] if d["field"] == "grade")
    assert english["message"].endswith("grade: published '合格', recomputed '优秀'")
    changed = next(d for d in rec_zh["discrepancies"] if d["kind"] == "output-changed")
    assert changed["message"] == "scorecards.csv 与清单中记录的哈希值不符"


def test_a_damaged_manifest_is_told_in_chinese_with_the_same_status(cli: Cli, work: Path) -> None:
    out = evaluate(cli)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["subjects"] = "many"
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code_en, english = run(cli, "verify", "out")
    code_zh, chinese = run(cli, "verify", "out", *ZH)
    assert code_en == code_zh == 16
    assert 'manifest.json is damaged here: expected a whole number, 0 or more, found "many"' in english
    assert 'manifest.json 在此处已损坏：应为：大于或等于 0 的整数；实际为："many"' in chinese
    assert "请不要信任这个目录" in chinese


def test_verify_usage_errors_in_chinese(cli: Cli, work: Path) -> None:
    evaluate(cli)
    code, output = run(cli, "verify", "out", "-o", "rec.txt", *ZH)
    assert code == 2 and "-o rec.txt：核验记录只能写成 json、md 或 html" in output
    code, output = run(cli, "verify", "out", "--rules-rev", "main", "--rules-repo", "data", *ZH)
    assert code == 2 and "--rules-repo data 不是 git 仓库（或者没有安装 git）" in output


# --------------------------------------------------------------------------- the verification record


@pytest.mark.parametrize("suffix", ["md", "html", "json"])
@pytest.mark.parametrize("written_in", ["en", "zh-CN"])
def test_a_record_written_in_one_language_is_confirmed_in_either(cli: Cli, work: Path, suffix: str,
                                                                 written_in: str) -> None:
    evaluate(cli, *ZH)
    name = f"rec.{suffix}"
    code, output = run(cli, "verify", "out", "-o", name, "--lang", written_in)
    assert code == 0, output
    text = Path(name).read_text(encoding="utf-8")
    data = json.loads(text) if suffix == "json" else None
    if written_in == "zh-CN":
        assert "核验记录：rec." in output
        if suffix == "md":
            assert text.startswith("# 核验记录\n") and "| 结论 | 已核验 |" in text and "| 评价方案 SHA-256 |" in text
        elif suffix == "html":
            assert '<html lang="zh-CN">' in text and "<h1>核验记录</h1>" in text and "<td class=\"pass\">通过</td>" in text
        else:
            assert data is not None and data["language"] == "zh-CN"
    else:
        assert f"verification record: {name}" in output
        assert "核验" not in text.split("```json")[0].split('<script type="application/json"')[0]
    code, english = run(cli, "check-record", name)
    assert code == 0, english
    assert english.startswith(f"record intact: {name} is the verification record as written (seal ")
    assert "  it records: VERIFIED for out, at " in english
    code, chinese = run(cli, "check-record", name, *ZH)
    assert code == 0, chinese
    assert chinese.startswith(f"记录完好：{name} 与写出时的核验记录一致（封印 ")
    assert "  记录内容：out 已核验，时间 " in chinese
    assert re.search(r"共 \d+ 项检查：\d+ 项通过，0 项未通过，0 项未检查", chinese)


def test_an_edited_chinese_record_is_found_in_either_language(cli: Cli, work: Path) -> None:
    evaluate(cli)
    assert run(cli, "verify", "out", "-o", "rec.md", *ZH)[0] == 0
    path = Path("rec.md")
    path.write_text(path.read_text(encoding="utf-8").replace("| 结论 | 已核验 |", "| 结论 | 已核验，有保留 |"),
                    encoding="utf-8")
    code, english = run(cli, "check-record", "rec.md")
    assert code == 13 and re.search(r"rec\.md: line 5 differs from the rendering of the sealed record", english)
    code, chinese = run(cli, "check-record", "rec.md", *ZH)
    assert code == 13 and "rec.md：第 5 行与封存记录生成的内容不同：可读文字被编辑过" in chinese


def test_a_failed_verification_recorded_in_chinese(cli: Cli, work: Path) -> None:
    out = evaluate(cli)
    (out / "extra.txt").write_text("x", encoding="utf-8")
    code, output = run(cli, "verify", "out", "-o", "rec.html", *ZH)
    assert code == 13, output
    text = Path("rec.html").read_text(encoding="utf-8")
    assert "<p class=\"bad\">未通过核验：out</p>" in text
    assert "<li><b>output-extra</b>: 清单中没有列出 extra.txt</li>" in text
    assert "<td>目录中没有其他内容</td>" in text and "<td class=\"fail\">未通过</td>" in text
    code, output = run(cli, "check-record", "rec.html")
    assert code == 0 and "it records: NOT VERIFIED (exit 13) for out" in output and "1 failed" in output
    code, output = run(cli, "check-record", "rec.html", *ZH)
    assert code == 0 and "记录内容：out 未通过核验（退出状态 13）" in output


def test_the_library_renders_a_record_in_its_own_language(cli: Cli, work: Path) -> None:
    out = evaluate(cli)
    with using("zh-CN"):
        report = verify_run(out)
    assert report.ok and report.language == "zh-CN"
    record = verdict.build(report, json.loads((out / "manifest.json").read_text(encoding="utf-8")),
                           command=["qualiscore", "verify", "out"])
    assert record["language"] == "zh-CN"
    with using("en"):  # rendered in the record's language, whatever the language in force
        page = verdict.render(record, "md").decode("utf-8")
    assert page.startswith("# 核验记录\n")
    assert verdict.record_language({}) == "en" and verdict.record_language({"language": 7}) == "en"


# --------------------------------------------------------------------------- signing and who may sign


@pytest.fixture
def signed(cli: Cli, work: Path) -> str:
    """A run in out/ signed with committee.pem, made by keygen in Chinese; its fingerprint."""
    pytest.importorskip("cryptography")
    code, output = run(cli, "keygen", "committee", "--owner", "服务质量委员会", *ZH)
    assert code == 0, output
    assert output.startswith("已写出 committee.pem（请妥善保密）和 committee.pub.pem（交给审计人员）\n指纹 SHA256:")
    assert "规则仓库中 trusted-keys.yaml 的条目（请粘贴到 `keys:` 下；新文件以\n`format: qualiscore-trusted-keys/v1`" in output
    assert "# 可选：这个密钥可以签名的最后一天" in output
    evaluate(cli, "--sign-key", "committee.pem", "--operator", "张三", *ZH)
    return re.search(r"指纹 (SHA256:\S+)", output)[1]  # type: ignore[index]


def test_a_signed_run_is_told_in_both_languages(cli: Cli, signed: str) -> None:
    code_en, english = run(cli, "verify", "out")
    code_zh, chinese = run(cli, "verify", "out", *ZH)
    assert code_en == code_zh == 17
    assert english.startswith("signature valid, signer not checked: out is reproduced exactly")
    assert chinese.startswith("签名有效，未核对签名人：out 可由其评价方案和输入完全重现")
    assert f"  signer-unchecked: 签名有效，但未核对签名人：无从判断是否应信任密钥 {signed}" in chinese
    assert re.search(rf"用密钥 {re.escape(signed)} 签名，时间 \S+Z，操作人 张三，主机 ", chinese)
    code, chinese = run(cli, "verify", "out", "--public-key", "committee.pub.pem", *ZH)
    assert code == 0, chinese
    assert re.search(rf"由 committee\.pub\.pem（{re.escape(signed)}）签名，时间 \S+Z，操作人 张三", chinese)
    assert "受信任密钥：committee.pub.pem" in chinese


def test_a_tampered_signature_gives_exit_9_in_both_languages(cli: Cli, signed: str) -> None:
    sig = Path("out/manifest.json.sig")
    sig.write_text(sig.read_text(encoding="utf-8").replace("张三", "李四"), encoding="utf-8")
    rec_en, rec_zh = record_json(cli), record_json(cli, *ZH)
    assert rec_en["exit_code"] == rec_zh["exit_code"] == 9
    assert facts(rec_en) == facts(rec_zh)
    assert [d["kind"] for d in rec_zh["discrepancies"]] == ["signature"]
    assert "中的签名与其内容不符：签名文件在签名后被修改过" in rec_zh["discrepancies"][0]["message"]
    assert "does not match its payload" in rec_en["discrepancies"][0]["message"]


def test_a_trusted_keys_file_with_mistakes_is_told_in_chinese(cli: Cli, signed: str) -> None:
    pem = "".join(f"      {line}\n" for line in Path("committee.pub.pem").read_text(encoding="ascii").splitlines())
    Path("keys.yaml").write_text(
        "format: qualiscore-trusted-keys/v1\nkeys:\n"
        f"  - owner: 服务质量委员会\n    fingerprint: \"{signed}\"\n    public_key: |\n{pem}"
        "    valid_from: 2026-12-31\n    valid_to: 2026-01-01\n", encoding="utf-8")
    code, output = run(cli, "verify", "out", "--trusted-keys", "keys.yaml", *ZH)
    assert code == 3, output
    assert "valid_to 2026-01-01 早于 valid_from 2026-12-31：这个密钥在任何一天都不能签名" in output
    assert "请交换这两个日期" in output


def test_check_record_signed_by_another_key_in_chinese(cli: Cli, signed: str) -> None:
    assert run(cli, "verify", "out", "-o", "rec.json", "--record-key", "committee.pem", *ZH)[0] == 17
    code, output = run(cli, "check-record", "rec.json", "--signed-by", "SHA256:abc", *ZH)
    assert code == 9 and f"rec.json 由 {signed} 签名，而不是由 SHA256:abc 签名" in output
    code, output = run(cli, "check-record", "rec.json")
    assert code == 0 and f", signed by {signed})" in output


# --------------------------------------------------------------------------- publishing and reveal


def test_publishing_refusals_in_chinese(cli: Cli, work: Path) -> None:
    Path("busy").mkdir()
    Path("busy/notes.txt").write_text("x", encoding="utf-8")
    code, english = run(cli, "evaluate", Q2, "data/head.csv", "-o", "busy", "-q")
    code_zh, chinese = run(cli, "evaluate", Q2, "data/head.csv", "-o", "busy", "-q", *ZH)
    assert code == code_zh != 0
    assert ("busy is not empty and holds no manifest.json, so it is not an earlier run's output; refusing to "
            "replace it") in english
    assert "busy 不是空目录，且其中没有 manifest.json，所以它不是之前某次运行的输出；拒绝替换它" in chinese
    assert "请选择一个新的 -o 目录，或使用 --force 替换它及其中的全部内容" in chinese
    code, chinese = run(cli, "evaluate", Q2, "data/head.csv", "-o", "data", "-q", "--force", *ZH)
    assert code != 0 and "拒绝替换 data：它是本次运行要读取的 data/head.csv 的上级目录" in chinese


def test_reveal_refusals_in_chinese(cli: Cli, work: Path) -> None:
    evaluate(cli)
    Path("k.key").write_bytes(bytes(range(32)))
    code, english = run(cli, "reveal", "out", "--pseudonymise-key", "k.key")
    code_zh, chinese = run(cli, "reveal", "out", "--pseudonymise-key", "k.key", *ZH)
    assert code == code_zh == 2
    assert "the run in out pseudonymised no field, so it has no token to reveal" in english
    assert "out 中的运行没有对任何字段做假名化，所以没有可还原的令牌" in chinese
