"""RunOptions and RejectLimit: the options of a run, typed once, and the one grammar of --max-rejects."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction

import pytest

from qualiscore.errors import RejectLimitError, UsageError
from qualiscore.options import RejectLimit, RunOptions
from qualiscore.records import InputFile

# --------------------------------------------------------------------------- RejectLimit.parse


@pytest.mark.parametrize(("text", "count", "percent"), [
    ("0", 0, None),
    ("10", 10, None),
    ("007", 7, None),
    ("123456789012345678901234567890", 123456789012345678901234567890, None),
    (" 10 ", 10, None),
    ("\t3\n", 3, None),
    ("0%", None, Fraction(0)),
    ("100%", None, Fraction(100)),
    ("100.0%", None, Fraction(100)),
    ("2.5%", None, Fraction(5, 2)),
    (".5%", None, Fraction(1, 2)),
    ("0.1%", None, Fraction(1, 10)),  # exactly a tenth, not the nearest float
    (" 1% ", None, Fraction(1)),
])
def test_accepted_limits(text: str, count: int | None, percent: Fraction | None) -> None:
    limit = RejectLimit.parse(text)
    assert (limit.count, limit.percent) == (count, percent)
    assert limit.text == text  # as written: the manifest records it so


@pytest.mark.parametrize("text", [
    "1_000",  # int() and float() accept the separator
    "1_0%",
    "+5",  # int() accepts a sign
    "-1",
    "-0%",
    "٣",  # ARABIC-INDIC DIGIT THREE: int() accepts every script's digits
    "١٠%",
    "१०",  # Devanagari
    "１０",  # fullwidth
    "101%",
    "100.01%",
    "1e1%",  # float() accepts exponents
    "1e3",
    "inf%",
    "nan%",
    "5 %",  # spaces inside
    "1 000",
    "",
    " ",
    "%",
    "5%%",
    "5.%",
    "1.5",  # a count is whole
    "0x10",
    "ten",
    "ten%",
])
def test_refused_limits(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        RejectLimit.parse(text)
    assert f"--max-rejects {text!r}" in caught.value.message
    assert "0-9" in (caught.value.hint or "")


# --------------------------------------------------------------------------- RejectLimit.check


@pytest.mark.parametrize(("text", "rejected", "read", "exceeded"), [
    ("3", 3, 300, False),  # reaching the limit exactly is allowed
    ("2", 3, 300, True),
    ("0", 0, 300, False),
    ("0", 1, 300, True),
    ("1%", 3, 300, False),
    ("0.5%", 3, 300, True),
    ("0.1%", 1, 1000, False),  # 0.1 % of 1000 is exactly 1: no float rounding decides this
    ("0.1%", 2, 1000, True),
    ("0%", 0, 0, False),
    ("100%", 5, 5, False),
])
def test_exceeded(text: str, rejected: int, read: int, exceeded: bool) -> None:
    assert RejectLimit.parse(text).exceeded(rejected, read) is exceeded


def _input(path: str, read: int, rejected: int) -> InputFile:
    return InputFile(path, "0" * 64, "csv", "utf-8", read, rejected)


def test_check_passes_within_the_limit() -> None:
    RejectLimit.parse("3").check(3, 300, [_input("a.csv", 300, 3)])


def test_check_names_the_count_share_and_limit() -> None:
    with pytest.raises(RejectLimitError) as caught:
        RejectLimit.parse(" 0 ").check(3, 300, [_input("data/head.csv", 300, 3)])
    error = caught.value
    assert error.exit_code == 5 and error.code == "too-many-rejects"
    assert error.message == ("3 of 300 rows (1.00%) were rejected, more than --max-rejects 0 allows (0 row(s)); "
                             "nothing was written")
    assert error.location is not None and error.location.file == "data/head.csv"
    assert "rejects.csv" in (error.hint or "")


def test_check_of_a_share_and_several_inputs_names_the_worst() -> None:
    inputs = [_input("a.csv", 100, 1), _input("b.csv", 100, 5)]
    RejectLimit.parse("3%").check(6, 200, inputs)  # exactly 3 %
    with pytest.raises(RejectLimitError) as caught:
        RejectLimit.parse("2.5%").check(6, 200, inputs)
    assert caught.value.message == ("6 of 200 rows (3.00%) were rejected, more than --max-rejects 2.5% allows "
                                    "(2.5% of rows read); most in b.csv (5 of 100); nothing was written")
    assert caught.value.location is not None and caught.value.location.file == "b.csv"


def test_check_without_inputs_has_no_location() -> None:
    with pytest.raises(RejectLimitError) as caught:
        RejectLimit.parse("0").check(1, 1)
    assert caught.value.location is None


# --------------------------------------------------------------------------- RunOptions


FULL = RunOptions(engine="columnar", by=("team", "channel"), as_of=dt.date(2026, 5, 1), encoding="gbk",
                  sheet="2026年4月", max_rejects=RejectLimit.parse(" 2% "), formats=("xlsx", "parquet", "xlsx"),
                  scheme_path="rules/cs-quality/", data=("a.csv", "b.xlsx"))


def test_manifest_dict_of_the_defaults() -> None:
    assert RunOptions().manifest_dict("rows") == {
        "by": None, "engine": "rows", "encoding": None, "max_rejects": None, "as_of": None,
        "scheme_path": None, "data": [],
    }


def test_manifest_dict_records_every_option_as_written() -> None:
    assert FULL.manifest_dict("columnar") == {
        "by": ["team", "channel"], "engine": "columnar", "encoding": "gbk", "max_rejects": " 2% ",
        "as_of": "2026-05-01", "scheme_path": "rules/cs-quality/", "data": ["a.csv", "b.xlsx"],
        "formats": ["parquet", "xlsx"], "sheet": "2026年4月",
    }


def test_manifest_dict_records_the_engine_that_ran() -> None:
    assert RunOptions(engine="auto").manifest_dict("rows")["engine"] == "rows"


def test_from_manifest_reads_back_what_manifest_dict_wrote() -> None:
    back = RunOptions.from_manifest(FULL.manifest_dict("columnar"))
    assert back == dataclasses.replace(FULL, formats=("parquet", "xlsx"))
    assert RunOptions.from_manifest(RunOptions().manifest_dict("rows")) == RunOptions(engine="rows")


def test_from_manifest_of_an_unknown_engine_is_the_reference() -> None:
    assert RunOptions.from_manifest({"engine": "dask"}).engine == "rows"
    assert RunOptions.from_manifest({"engine": "spark"}).engine == "spark"


@pytest.mark.parametrize(("options", "says"), [
    ({"by": "team"}, "options/by should be a list of texts"),
    ({"by": [1]}, "options/by should be a list of texts"),
    ({"data": [None]}, "options/data should be a list of texts"),
    ({"encoding": 8}, "options/encoding should be text, not int"),
    ({"as_of": "2026-13-01"}, "options/as_of '2026-13-01' is not a date"),
    ({"max_rejects": "lots"}, "--max-rejects 'lots'"),
])
def test_from_manifest_refuses_a_damaged_value(options: dict[str, object], says: str) -> None:
    with pytest.raises(UsageError) as caught:
        RunOptions.from_manifest(options)
    assert says in caught.value.message
