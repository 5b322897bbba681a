"""Reject reasons and run sentences in the run's language: rejects.csv keeps its columns and codes, its reasons
follow ``--lang``; every engine words a reason alike; ``verify`` recomputes a run in the language it was published in."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import NO_SPARK, Cli
from qualiscore import i18n
from qualiscore.engine import evaluate
from qualiscore.i18n import using
from qualiscore.options import RejectLimit, RunOptions
from qualiscore.records import records_from_dicts
from qualiscore.schemes import load_scheme

ROOT = Path(__file__).resolve().parents[1]
SCHEME = ROOT / "rules" / "cs-quality" / "2026Q2.yaml"
SAMPLE = ROOT / "data" / "sample" / "interactions.csv"
HAS_POLARS = importlib.util.find_spec("polars") is not None
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_REASON = re.compile(r"[\u4e00-\u9fff]")  # in an English reason: none but the boolean words 是/否


def _english(reason: str) -> bool:
    return not ENGLISH_REASON.search(reason.replace("是", "").replace("否", ""))

# One bad cell (or row) per kind of reject: (column, value) written over a good row, or a whole line.
BAD = {
    3: ("csat", "五"),  # not-integer
    5: ("csat", "9"),  # above-maximum
    7: ("channel", "fax"),  # not-in-enum
    9: ("started_at", "2026-13-45"),  # bad-datetime
    11: ("resolved_first_contact", "maybe"),  # not-boolean
    13: ("agent_id", ""),  # missing-value
    15: ("handle_time_s", "2:75"),  # bad-duration
    17: ("first_response_s", "1,234"),  # not-number
}


def _data(tmp: Path, rows: int = 60) -> Path:
    """The first ``rows`` sample interactions with the BAD cells, a ragged row and a repeated id."""
    with open(SAMPLE, encoding="utf-8", newline="") as f:
        table = list(csv.reader(f))
    header, body = table[0], [list(r) for r in table[1:rows + 1]]
    for k, (column, value) in BAD.items():
        body[k][header.index(column)] = value
    body[20][0] = body[19][0]  # duplicate-id, both occurrences
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body[:30])
    text.write("I0999999,A001,T1,chat\n")  # ragged-row
    writer.writerows(body[30:])
    path = tmp / "interactions.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def _rejects(out: Path) -> list[dict[str, str]]:
    with open(out / "rejects.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _evaluate(cli: Cli, data: Path, out: Path, *args: str) -> Any:
    result = cli("evaluate", str(SCHEME), str(data), "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def test_a_zh_cn_run_writes_its_reasons_in_chinese_and_keeps_columns_and_codes(cli: Cli, tmp_path: Path) -> None:
    data = _data(tmp_path)
    english = _evaluate(cli, data, tmp_path / "en", "--engine", "rows")
    chinese = _evaluate(cli, data, tmp_path / "zh", "--engine", "rows", "--lang", "zh-CN")
    assert "language" not in english["options"] and chinese["options"]["language"] == "zh-CN"
    en, zh = _rejects(tmp_path / "en"), _rejects(tmp_path / "zh")
    header = (tmp_path / "en" / "rejects.csv").read_text(encoding="utf-8").splitlines()[0]
    assert (tmp_path / "zh" / "rejects.csv").read_text(encoding="utf-8").splitlines()[0] == header
    assert [(r["row"], r["field"], r["value"], r["code"]) for r in zh] == \
        [(r["row"], r["field"], r["value"], r["code"]) for r in en]
    codes = {r["code"] for r in zh}
    assert codes >= {"not-integer", "above-maximum", "not-in-enum", "bad-datetime", "not-boolean", "missing-value",
                     "bad-duration", "not-number", "duplicate-id", "ragged-row"}, codes
    for e, z in zip(en, zh):
        assert CHINESE.search(z["reason"]) and z["reason"] != e["reason"], (e, z)
        assert _english(e["reason"]) or CHINESE.search(e["value"] or ""), e
        if e["value"] and e["code"] != "missing-value":  # the value is quoted as it was read, in both languages
            assert repr(e["value"]) in z["reason"] or e["code"] == "duplicate-id", z
    for manifest in (english, chinese):
        rows = manifest["rows"]
        assert rows["read"] == rows["scored"] + rows["rejected"] and rows["rejected"] == len({r["row"] for r in en})
    reasons = {r["code"]: r["reason"] for r in zh}
    assert reasons["not-integer"] == "'五' 不是整数；请写整数，例如 12"
    assert reasons["ragged-row"].startswith("该行有 4 个单元格，但表头有 14 列")


@pytest.mark.skipif(not HAS_POLARS, reason="polars is not installed")
def test_rows_and_columnar_write_the_same_rejects_in_chinese(cli: Cli, tmp_path: Path) -> None:
    data = _data(tmp_path)
    outputs = {}
    for engine in ("rows", "columnar"):
        _evaluate(cli, data, tmp_path / engine, "--engine", engine, "--lang", "zh-CN")
        outputs[engine] = {name: (tmp_path / engine / name).read_bytes()
                           for name in ("rejects.csv", "scorecards.jsonl", "scorecards.csv")}
    assert outputs["rows"] == outputs["columnar"]
    assert CHINESE.search(outputs["columnar"]["rejects.csv"].decode("utf-8"))


def test_verify_recomputes_in_the_language_of_the_run(cli: Cli, tmp_path: Path) -> None:
    data = _data(tmp_path)
    out = tmp_path / "out"
    _evaluate(cli, data, out, "--lang", "zh-CN")
    result = cli("verify", str(out))  # run in English: the recomputation is in the run's language all the same
    assert result.exit_code == 0, result.output
    assert not CHINESE.search(result.output.replace(str(tmp_path), ""))  # verify itself speaks English
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["options"]["language"] = "en"
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert cli("verify", str(out)).exit_code != 0


def test_every_reject_reason_in_both_languages() -> None:
    scheme = load_scheme(SCHEME)
    good = {"interaction_id": "I1", "agent_id": "A001", "team": "T1", "channel": "chat",
            "started_at": "2026-04-01T09:00:00+08:00", "first_response_s": 5, "handle_time_s": 60,
            "resolved_first_contact": True, "repeat_contact_7d": False, "complaint": False, "csat": 5, "nps": None,
            "transcript": "好", "unauthorised_promise": False}
    rows = [{**good, "interaction_id": f"I{k}", **bad} for k, bad in enumerate([
        {"csat": "x"}, {"csat": 0}, {"nps": 11}, {"channel": "fax"}, {"started_at": "soon"}, {"complaint": "perhaps"},
        {"agent_id": None}, {"handle_time_s": "1:2:3:4"}, {"first_response_s": "12%"}, {"first_response_s": -1},
        {"transcript": {"a": 1}}, {"csat": float("nan")}])] + [["not", "a", "record"]]
    with using("en"):
        en = records_from_dicts(rows, scheme.records).problems  # type: ignore[arg-type]
    with using("zh-CN"):
        zh = records_from_dicts(rows, scheme.records).problems  # type: ignore[arg-type]
    assert [(p.row, p.field, p.value, p.code) for p in en] == [(p.row, p.field, p.value, p.code) for p in zh]
    assert len(en) == len(rows)
    for e, z in zip(en, zh):
        assert _english(e.reason), e
        assert CHINESE.search(z.reason) and "{" not in z.reason, z


@pytest.mark.parametrize("engine", ["rows", "columnar"])
def test_scorecard_sentences_follow_the_language_of_each_run(engine: str) -> None:
    """Rule texts and reasons are worked out once per scheme, and kept per language: one scheme scored in both."""
    scheme = load_scheme(SCHEME)
    data = [str(SAMPLE)]
    cards = {}
    rejects = {}
    for lang in ("en", "zh-CN", "en"):
        run = evaluate(scheme, data, RunOptions(engine=engine, language=lang))  # type: ignore[arg-type]
        rejects.setdefault(lang, []).append([p.reason for p in run.problems])
        cards.setdefault(lang, []).append([(i.rule, i.reason) for c in run.scorecards[:20] for d in c.dimensions
                                           for i in d.indicators])
    assert cards["en"][0] == cards["en"][1] and rejects["en"][0] == rejects["en"][1] != rejects["zh-CN"][0]
    en, zh = ([t for pair in cards[lang][0] for t in pair if t] for lang in ("en", "zh-CN"))
    assert len(en) == len(zh) and en != zh
    assert any(t.startswith("band ") for t in en) and not any(t.startswith("band ") for t in zh)
    assert any(t.startswith("第 ") and "档" in t for t in zh), zh[:5]


def test_run_errors_in_chinese(cli: Cli, tmp_path: Path) -> None:
    data = _data(tmp_path)
    result = cli("evaluate", str(SCHEME), str(data), "-o", str(tmp_path / "out"), "--max-rejects", "1",
                 "--lang", "zh-CN")
    assert result.exit_code == 5, result.output
    assert "被拒绝，超过了 --max-rejects 1 允许的上限（1 行）" in result.output
    with using("zh-CN"), pytest.raises(Exception, match="既不是行数"):
        RejectLimit.parse("lots")
    result = cli("evaluate", str(SCHEME), str(tmp_path / "nope.csv"), "-o", str(tmp_path / "out"),
                 "--lang", "zh-CN")
    assert result.exit_code == 4 and "文件不存在" in result.output and "请检查路径" in result.output


def test_language_recorded_only_when_not_english() -> None:
    assert "language" not in RunOptions(language="en").manifest_dict("rows")
    assert RunOptions(language="zh-CN").manifest_dict("rows")["language"] == "zh-CN"
    assert RunOptions.from_manifest({"language": "zh-CN"}).language == "zh-CN"
    assert RunOptions.from_manifest({}).language == i18n.LANGUAGES[0]


@pytest.mark.spark
@pytest.mark.skipif(NO_SPARK is not None, reason=str(NO_SPARK))
def test_spark_writes_the_rows_engines_rejects_in_chinese(spark: Any, tmp_path: Path) -> None:
    from qualiscore.manifest import render_outputs

    data = [str(_data(tmp_path))]
    scheme = load_scheme(SCHEME)
    got = {engine: render_outputs(evaluate(scheme, data, RunOptions(engine=engine, language="zh-CN")))
           for engine in ("rows", "spark")}  # type: ignore[arg-type]
    for name in ("rejects.csv", "scorecards.jsonl"):
        assert got["spark"][name] == got["rows"][name], name
    assert CHINESE.search(got["spark"]["rejects.csv"].decode("utf-8"))
