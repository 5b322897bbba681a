"""Hand-computed golden cases, run on every engine.

The cases are data: tests/fixtures/golden/<topic>.yaml, each a scheme (a patch of
skeleton.yaml), records and expected values, every number worked out by hand in the
comment next to it, from the semantics in docs/scheme-format.md (measures §14, scoring §15,
not applicable §16, vetoes §17, grades §18, rounding §19, null semantics §21). No engine is
ever asked what the answer is. Every engine must also give the reference engine's
scorecards.jsonl, scorecards.csv and rejects.csv byte for byte.

What ``expect`` may hold:

- ``error``: the name of the QualiscoreError the run raises.
- ``run``: attributes of the Run (rows_read, rows_rejected, rows_scored, group_by, …).
- ``problems``: the rejected-row problems, in order (none unless listed); ``rejects``: the
  rows of rejects.csv, by column.
- ``card``: the only scorecard; ``scorecards``: every scorecard by subject, in order.

A scorecard, dimension, indicator or problem is checked on the attributes listed; ``indicators``
and ``dimensions`` on those listed by id; ``vetoes`` are exactly the vetoes that triggered, by
id; ``printed`` is checked against the card's scorecard_dict (what scorecards.jsonl prints) and
``csv`` against its row of scorecards.csv. Mappings such as ``keys`` and ``inputs`` must be
equal. Numbers compare exactly, except ``!approx x`` (equal to 1e-9): the hand value of a
fraction such as 2/3, written to 12 significant digits.

On every scored card, whatever the case: the effective weights of the counted indicators add up
to 100 (and, within a dimension, to its own), their contributions to the score, and the printed
contributions to the printed score.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from qualiscore import errors
from qualiscore.engine import Run
from qualiscore.loader import load_text
from qualiscore.manifest import render_outputs
from qualiscore.model import Scheme, compile_document
from qualiscore.schemes import load_scheme
from qualiscore.scorecard import Scorecard, scorecard_dict
from qualiscore.validation import iter_findings

if TYPE_CHECKING:
    from conftest import Engine, Source

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "golden"
COMPARED = ("scorecards.jsonl", "scorecards.csv", "rejects.csv")

# (engine, case id) → how that engine's answer differs from the hand-computed one: a strict
# expected failure on that engine only. No engine differs today.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {}


# --------------------------------------------------------------------------- reading the fixtures


@dataclass(frozen=True, slots=True)
class Approx:
    """A hand value known to 1e-9."""

    value: float

    def __repr__(self) -> str:
        return f"≈{self.value!r}"


class _FixtureLoader(yaml.SafeLoader):
    """YAML as the fixtures mean it: dates stay text (as in an export), ``!approx`` marks a rounded value."""


_FixtureLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FixtureLoader.add_constructor(
    "!approx", lambda loader, node: Approx(float(loader.construct_scalar(node))))  # type: ignore[arg-type]


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return yaml.load(f, Loader=_FixtureLoader)


SKELETON = _read(GOLDEN / "skeleton.yaml")
EXPECTATIONS = {"error", "run", "problems", "rejects", "card", "scorecards"}


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    expect: Mapping[str, Any]
    patches: Sequence[Mapping[str, Any]] = ()  # the file's and the case's patches of the skeleton's scheme
    scheme_file: str | None = None  # or a scheme file, from the repository root
    # inline records, over the skeleton's record; by source name (as written) for a scheme with several
    records: Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Mapping[str, Any]]] | None = None
    source: str | None = None  # or an input file, from the repository root
    scheme_test: str | None = None  # or the records of the scheme's own test of this subject
    by: Sequence[str] | None = None


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(GOLDEN.glob("*.yaml")):
        if path.name == "skeleton.yaml":
            continue
        doc = _read(path)
        for raw in doc["cases"]:
            raw = dict(raw)
            name = raw.pop("name")
            patches = tuple(p for p in (doc.get("scheme"), raw.pop("scheme", None)) if p)
            records = raw.pop("records", doc.get("records"))
            unknown = set(raw["expect"]) - EXPECTATIONS
            assert not unknown, f"{path.name}, {name}: unknown expectations {sorted(unknown)}"
            cases.append(Case(id=f"{path.stem}/{name}", patches=patches, records=records, **raw))
    return cases


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: mappings merge, null deletes, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


CASES = load_cases()


# --------------------------------------------------------------------------- building a case

ORDER = ("format", "scheme", "version", "effective_from", "rounding", "calendar", "subject", "records", "sources",
         "constants", "derive", "dimensions", "vetoes", "grades")


def build_scheme(case: Case) -> Scheme:
    if case.scheme_file is not None:
        return load_scheme(ROOT / case.scheme_file)
    doc = SKELETON["scheme"]
    for patch in case.patches:
        patch = dict(patch)
        if "indicator" in patch:
            patch["dimensions"] = [{"id": "d", "weight": 1, "indicators": [one_indicator(patch.pop("indicator"))]}]
        doc = merge_patch(doc, patch)
    doc = {key: doc[key] for key in sorted(doc, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER))}
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    loaded = load_text(text, "t.yaml")
    problems = [f.format() for f in iter_findings(loaded) if f.severity == "error"]
    assert not problems, "\n".join(problems) + "\n" + text
    return compile_document(loaded)


def one_indicator(spec: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": "i", "weight": 1, "measure": spec["measure"],
            "scoring": spec.get("scoring", {"bands": [{"points": 100}]}),
            **{k: v for k, v in spec.items() if k not in ("measure", "scoring")}}


def build_source(case: Case, scheme: Scheme) -> Source:
    if case.source is not None:
        return ROOT / case.source
    if case.scheme_test is not None:
        test = next(t for t in scheme.tests if t.subject == case.scheme_test)
        return list(test.records or ())
    assert case.records is not None, f"{case.id}: no records"
    if isinstance(case.records, Mapping):  # a scheme with several sources: each source's records, as written
        return {name: list(rows) for name, rows in case.records.items()}
    return [{"id": r["id"], **SKELETON["record"], **r} for r in case.records]


# --------------------------------------------------------------------------- checking the expectations


def check(actual: Any, expected: Any, where: str) -> None:
    """``actual`` is what ``expected`` says (see the module docstring)."""
    if isinstance(expected, Approx):
        assert _is_number(actual) and math.isclose(actual, expected.value, rel_tol=1e-9, abs_tol=1e-9), (
            f"{where}: {actual!r}, expected {expected!r}")
    elif expected is None or isinstance(expected, bool):
        assert actual is expected, f"{where}: {actual!r}, expected {expected!r}"
    elif isinstance(expected, (int, float)):
        assert _is_number(actual) and actual == expected, f"{where}: {actual!r}, expected {expected!r}"
    elif isinstance(expected, str):
        assert isinstance(actual, str) and actual == expected, f"{where}: {actual!r}, expected {expected!r}"
    elif isinstance(expected, list):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (
            f"{where}: {actual!r}, expected {len(expected)} items")
        for k, (a, e) in enumerate(zip(actual, expected)):
            check(a, e, f"{where}[{k}]")
    elif isinstance(actual, Mapping):
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)}, expected {sorted(expected)}"
        for key, e in expected.items():
            check(actual[key], e, f"{where}.{key}")
    else:
        check_attributes(actual, expected, where)


def check_attributes(actual: Any, expected: Mapping[str, Any], where: str) -> None:
    for key, e in expected.items():
        if key in ("indicators", "dimensions"):
            by_id = {x.id: x for x in getattr(actual, key)}
            for xid, ex in e.items():
                assert xid in by_id, f"{where}: no {key[:-1]} {xid}, only {sorted(by_id)}"
                check_attributes(by_id[xid], ex, f"{where}.{xid}")
        elif key == "vetoes":
            by_id = {v.id: v for v in actual.vetoes}
            assert sorted(by_id) == sorted(e), f"{where}: vetoes {sorted(by_id)} triggered, expected {sorted(e)}"
            for vid, ex in e.items():
                check_attributes(by_id[vid], ex or {}, f"{where}.vetoes.{vid}")
        elif key == "printed":
            check_printed(scorecard_dict(actual), e, f"{where}.printed")
        elif key != "csv":  # checked with the run, which writes the CSV
            assert hasattr(actual, key), f"{where}: {type(actual).__name__} has no {key}"
            check(getattr(actual, key), e, f"{where}.{key}")


def check_printed(actual: Any, expected: Any, where: str) -> None:
    """Like ``check``, but a printed mapping is checked on the keys listed."""
    if isinstance(expected, Mapping):
        for key, e in expected.items():
            assert key in actual, f"{where}: no {key}"
            check_printed(actual[key], e, f"{where}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), f"{where}: {actual!r}, expected {len(expected)} items"
        for k, (a, e) in enumerate(zip(actual, expected)):
            check_printed(a, e, f"{where}[{k}]")
    else:
        check(actual, expected, where)


def check_run(run: Run, expect: Mapping[str, Any]) -> None:
    outputs = render_outputs(run)
    check_attributes(run, expect.get("run", {}), "run")
    check_attributes_list(run.problems, expect.get("problems", []), "problems")
    if "rejects" in expect:
        check_printed(csv_rows(outputs["rejects.csv"]), expect["rejects"], "rejects.csv")
    rows = {row["subject"]: row for row in csv_rows(outputs["scorecards.csv"])}
    for subject, ex in expect_cards(run, expect).items():
        check_attributes(next(c for c in run.scorecards if c.subject == subject), ex, subject)
        if "csv" in ex:
            check_printed(rows[subject], ex["csv"], f"{subject}.csv")
    for card in run.scorecards:
        check_weights(card)
        check_printed_sums(card)


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def check_attributes_list(actual: Sequence[Any], expected: Sequence[Mapping[str, Any]], where: str) -> None:
    assert len(actual) == len(expected), f"{where}: {actual!r}, expected {len(expected)}"
    for k, (a, e) in enumerate(zip(actual, expected)):
        check_attributes(a, e, f"{where}[{k}]")


def expect_cards(run: Run, expect: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    """The expected scorecards by subject, once the run is seen to have exactly these subjects."""
    subjects = [c.subject for c in run.scorecards]
    if "card" in expect:
        assert len(subjects) == 1, f"one scorecard expected, got {subjects}"
        return {subjects[0]: expect["card"]}
    if "scorecards" in expect:
        assert subjects == list(expect["scorecards"]), f"subjects {subjects}, expected {list(expect['scorecards'])}"
        return expect["scorecards"]
    return {}


def check_weights(card: Scorecard) -> None:
    """Effective weights of counted indicators add up to 100, contributions to the score."""
    for i in card.indicators:
        if not i.counted:
            assert i.effective_weight == 0 and i.contribution == 0, (card.subject, i.id)
    if card.score is None:
        return
    counted = [i for i in card.indicators if i.counted]
    assert math.isclose(math.fsum(i.effective_weight for i in counted), 100.0, abs_tol=1e-9), card.subject
    assert math.isclose(math.fsum(i.contribution for i in counted), card.score, abs_tol=1e-9), card.subject
    for d in card.dimensions:
        own = math.fsum(i.effective_weight for i in d.indicators if i.counted)
        assert math.isclose(own, d.effective_weight, abs_tol=1e-9), (card.subject, d.id)


def check_printed_sums(card: Scorecard) -> None:
    """Printed contributions add up to the printed score, and within a dimension to its own."""
    out = scorecard_dict(card)
    if out["score"] is None:
        return
    unit = Decimal(1).scaleb(-card.decimals)
    dims = [(d["contribution"], [i["contribution"] for i in d["indicators"]]) for d in out["dimensions"]]
    assert _decimal_sum(c for _, parts in dims for c in parts) == Decimal(repr(out["score"])).quantize(unit)
    for own, parts in dims:
        assert _decimal_sum(parts) == Decimal(repr(own)).quantize(unit), card.subject


def _decimal_sum(numbers: Iterable[float]) -> Decimal:
    return sum((Decimal(repr(n)) for n in numbers), Decimal(0))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(case: Case, engine: Engine, request: pytest.FixtureRequest) -> None:
    known = KNOWN_DIFFERENCES.get((engine.name, case.id))
    if known:
        request.applymarker(pytest.mark.xfail(strict=True, reason=known))
    scheme = build_scheme(case)
    source = build_source(case, scheme)
    if "error" in case.expect:
        check_error(engine, case, scheme, source)
        return
    run = engine(scheme, source, by=case.by)
    check_run(run, case.expect)
    if not engine.is_reference:
        assert_same_outputs(run, engine.reference(scheme, source, by=case.by))


def check_error(engine: Engine, case: Case, scheme: Scheme, source: Source) -> None:
    """The run is refused with the error expected, and in the reference engine's words."""
    error = getattr(errors, case.expect["error"])
    with pytest.raises(error) as raised:
        engine(scheme, source, by=case.by)
    if not engine.is_reference:
        with pytest.raises(error) as reference:
            engine.reference(scheme, source, by=case.by)
        assert str(raised.value) == str(reference.value)


def assert_same_outputs(run: Run, reference: Run) -> None:
    mine, theirs = render_outputs(run), render_outputs(reference)
    for name in COMPARED:
        assert mine[name].decode() == theirs[name].decode(), name


def test_every_topic_has_cases() -> None:
    topics = {c.id.split("/")[0] for c in CASES}
    assert topics == {"measures", "scoring", "not-applicable", "vetoes", "rounding", "periods", "grouping",
                      "derive", "end-to-end", "sources", "intervals"}
    assert len({c.id for c in CASES}) == len(CASES), "two cases share a name"
