"""The compiled scheme: frozen, engine-neutral dataclasses.

Both engines consume these objects; they hold parsed expressions (ASTs) and plain
numbers, never engine objects, so another backend can consume them later.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal, get_args

from .calendar import Calendar
from .errors import Location
from .expressions import Expression, parse
from .i18n import _
from .loader import Document

if TYPE_CHECKING:  # loaded with the run's schemes only
    from .rulesrepo import GitPlace

# The closed vocabularies of the format. Each is written once here, as the strings the YAML and
# the outputs use, so a misspelt kind is a type error rather than a branch that never runs.

MeasureKind = Literal[
    "count", "sum", "mean", "median", "percentile", "min", "max",
    "share", "ratio", "nps", "any", "all", "value",
]
ScoringKind = Literal["bands", "linear", "pass", "map"]
VetoEffect = Literal["grade", "cap"]
# How a veto compares a measured value with its threshold: >, <, ≥, ≤.
ThresholdTest = Literal["above", "below", "at_least", "at_most"]
FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "duration"]
PeriodUnit = Literal["day", "week", "month", "quarter", "year"]
# What an indicator or dimension that does not count contributes: its weight to the others, 0 or 100.
NotApplicableRule = Literal["redistribute", "zero", "full"]
# What outputs hold of a personal field (privacy.py): a keyed token, "[redacted]", or nothing at all.
PrivacyPolicy = Literal["pseudonymise", "redact", "drop"]

# In the order the schema lists them: a measure's kind is the first of these keys it has.
MEASURE_KINDS: tuple[MeasureKind, ...] = get_args(MeasureKind)
SCORING_KINDS: tuple[ScoringKind, ...] = get_args(ScoringKind)
THRESHOLD_TESTS: tuple[ThresholdTest, ...] = get_args(ThresholdTest)
PRIVACY_POLICIES: tuple[PrivacyPolicy, ...] = get_args(PrivacyPolicy)
# Measure kinds whose value is true or false, never a number a threshold could compare.
TRUTH_KINDS: frozenset[MeasureKind] = frozenset({"any", "all"})


@functools.cache
def time_zone_names() -> frozenset[str]:
    """The names ``records.timezone`` accepts: the IANA time zones, as the tzdata package lists them.

    A list that does not depend on the machine, so ``localtime`` (the host's own zone)
    and ``posixrules`` are refused: a scheme's results must not change with the host.
    """
    try:
        listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):  # tzdata is a dependency; the system's list is a fallback
        return frozenset(zoneinfo.available_timezones() - {"localtime", "posixrules"})
    return frozenset(listed.split())


def time_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone ``records.timezone`` names, or None when it is not an IANA time zone."""
    if name not in time_zone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True, slots=True)
class Field:
    """One column of the record contract: how to read it from a real export and what makes a row bad."""

    name: str
    type: FieldType
    nullable: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    column: str | None = None
    format: str | None = None
    true_values: tuple[str, ...] | None = None
    false_values: tuple[str, ...] | None = None

    @property
    def source(self) -> str:
        """The input column this field is read from."""
        return self.column or self.name


@dataclass(frozen=True, slots=True)
class RecordContract:
    """The rows a scheme accepts; every row read is checked against it, so none is scored by accident."""

    id: str
    timezone: str
    fields: tuple[Field, ...]
    other_columns: Literal["ignore", "refuse"] = "ignore"  # an input's columns no field reads
    # Personal fields and what outputs may hold of them (privacy.py): (field, policy), in the written order.
    personal: tuple[tuple[str, PrivacyPolicy], ...] = ()

    def policy(self, name: str) -> PrivacyPolicy | None:
        """The privacy policy of field ``name``; None when it is not declared personal."""
        return dict(self.personal).get(name)

    def field(self, name: str) -> Field:
        """Look a field up by the name expressions use; fields stay a tuple to keep the written order."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Lookup:
    """Fields a source takes from another by key, many-to-one: a survey takes its interaction's agent."""

    source: str  # the source the fields come from (`from`)
    key: str  # this source's field holding the other source's record id
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Source:
    """One named record source of a scheme: its own contract, what it looks up, its period field."""

    name: str
    contract: RecordContract
    lookups: tuple[Lookup, ...] = ()
    period: str | None = None  # the field that cuts its records into periods; None: subject.period.field
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class Period:
    """How records are cut in time, so the same agent gets one scorecard per month (or week, ...)."""

    field: str
    every: PeriodUnit


@dataclass(frozen=True, slots=True)
class Subject:
    """Who or what one scorecard is about; the subject key is built from it."""

    group_by: tuple[str, ...] = ()
    period: Period | None = None
    breakdowns: tuple[str, ...] = ()

    @property
    def record_level(self) -> bool:
        """Without group_by every record is its own subject (a form scored per interaction)."""
        return not self.group_by


@dataclass(frozen=True, slots=True)
class Measure:
    """A statistic over a subject's records, kept as parsed expressions so any engine can compute it."""

    kind: MeasureKind
    expr: Expression | None = None  # None only for ratio
    where: Expression | None = None
    p: float | None = None
    numerator: Expression | None = None
    denominator: Expression | None = None
    source: str | None = None  # the source it reads; None: the scheme's first (or only) source
    # A ratio of two measures, each of its own source (complaints ÷ interactions); then no expression.
    terms: tuple[Measure, Measure] | None = None

    def expressions(self) -> tuple[Expression, ...]:
        """Every expression the measure reads, for checking names and finding the fields it uses."""
        return tuple(e for e in (self.expr, self.numerator, self.denominator, self.where) if e is not None)

    def describe(self) -> str:
        """The measure in one line, as a veto's evidence names what it measured: ``share(abandoned)``."""
        if self.terms is not None:
            return f"ratio({self.terms[0].describe()} / {self.terms[1].describe()})"
        of = f" of {self.source}" if self.source is not None else ""
        return f"{self._describe()}{of}"

    def _describe(self) -> str:
        if self.kind == "ratio":
            inner = f"{_oneline(self.numerator)} / {_oneline(self.denominator)}"
        else:
            inner = _oneline(self.expr)
        if self.p is not None:
            inner += f", p={_num(self.p)}"
        if self.where is not None:
            inner += f", where {_oneline(self.where)}"
        return f"{self.kind}({inner})"


@dataclass(frozen=True, slots=True)
class Band:
    """One row of a bands scoring; the first band whose bounds hold gives the points."""

    points: float
    min: float | None = None
    max: float | None = None
    label: str | None = None

    def describe(self) -> str:
        """The words an explanation shows for the band that matched: its label, else its bounds."""
        if self.label:
            return self.label
        if self.min is not None and self.max is not None:
            return _("{low} ≤ value ≤ {high}", low=_num(self.min), high=_num(self.max))
        if self.min is not None:
            return _("value ≥ {low}", low=_num(self.min))
        if self.max is not None:
            return _("value ≤ {high}", high=_num(self.max))
        return _("otherwise")


@dataclass(frozen=True, slots=True)
class Scoring:
    """How a measured value becomes 0-100 points; one flat record for every kind, read by ``kind``."""

    kind: ScoringKind
    bands: tuple[Band, ...] = ()
    start: float | None = None  # linear `from`
    end: float | None = None  # linear `to`
    pass_min: float | None = None
    pass_max: float | None = None
    pass_equals: Any = None
    has_equals: bool = False  # `equals: null` is a condition too, so None cannot mean "absent"
    mapping: tuple[tuple[str, float], ...] = ()
    default: float = 0.0


@dataclass(frozen=True, slots=True)
class Indicator:
    """One scored line of the scorecard; ``pointer`` ties its results back to the scheme's YAML."""

    id: str
    name: str
    measure: Measure
    scoring: Scoring
    weight: float
    min_sample: int = 1
    when_not_applicable: NotApplicableRule = "redistribute"
    target: float | None = None  # shown in reports beside the value; never changes the points
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class Dimension:
    """A weighted group of indicators, with its own rule for when none of them counts."""

    id: str
    name: str
    weight: float
    indicators: tuple[Indicator, ...]
    when_not_applicable: NotApplicableRule = "redistribute"
    pointer: str = ""


@dataclass(frozen=True, slots=True)
class Threshold:
    """The one comparison of a veto on a measured value: ``above: 0.25`` is ``Threshold("above", 0.25)``."""

    test: ThresholdTest
    limit: float

    def holds(self, value: float) -> bool:
        """Whether ``value`` is past the threshold, so the veto triggers."""
        if self.test == "above":
            return value > self.limit
        if self.test == "below":
            return value < self.limit
        if self.test == "at_least":
            return value >= self.limit
        return value <= self.limit


@dataclass(frozen=True, slots=True)
class Veto:
    """A rule that overrides the grade (一票否决) whatever the score; the score itself never changes.

    Without a threshold it triggers when ``when`` measures true or non-zero, with the
    records that made it so as evidence. With one, it compares a measured value (of
    ``when``, or of the indicator ``indicator``) with the threshold; ``when`` is None
    exactly when it tests an indicator, whose own measure and min_sample apply.
    """

    id: str
    name: str
    when: Measure | None
    effect: VetoEffect
    grade: str  # the grade set (effect "grade") or the best grade allowed (effect "cap")
    reason: str = ""
    pointer: str = ""
    indicator: str | None = None
    threshold: Threshold | None = None

    def tested(self) -> str:
        """What a threshold veto compares, as its evidence names it: the indicator's id, or the measure."""
        if self.indicator is not None:
            return self.indicator
        return self.when.describe() if self.when is not None else ""


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """Which records reviewers inspect each period: a reproducible, stratified, risk-weighted draw (sampling.py)."""

    every: PeriodUnit
    source: str | None = None  # None: the main source
    rate: float | None = None  # share of each stratum's eligible records (exactly one of rate and count)
    count: int | None = None  # records per period, shared among the strata by size
    strata: tuple[str, ...] = ()
    min_per_stratum: int = 0
    exclude: Expression | None = None
    oversample: tuple[tuple[Expression, float], ...] = ()
    fields: tuple[str, ...] = ()  # the sample file's columns; () = the source's fields
    seed: str | None = None  # None: the scheme id
    pointer: str = "/sampling"


@dataclass(frozen=True, slots=True)
class Grade:
    """A named score band; a scheme lists them highest first, so the first reached is the grade."""

    name: str
    min: float


@dataclass(frozen=True, slots=True)
class TestCase:
    """A scheme's own worked example: records in, expected numbers out, checked by `qualiscore test`."""

    __test__ = False  # not a pytest test class
    name: str
    expect: Mapping[str, Any]
    # Inline records; for a scheme with several sources, by source name (a source left out has none).
    records: tuple[Mapping[str, Any], ...] | Mapping[str, tuple[Mapping[str, Any], ...]] | None = None
    records_file: str | Mapping[str, str] | None = None
    subject: str | None = None
    tolerance: float = 1e-6
    pointer: str = ""
    # Where records_file is written, for a message about the file it names.
    records_file_location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Confidence:
    """How sure a scorecard must say it is: the intervals' level and the stability an uncertain grade is below."""

    level: float = 0.95
    stable_at: float = 0.8


@dataclass(frozen=True, slots=True)
class Scheme:
    """One version of a scheme, compiled once and shared read-only by every engine and report.

    ``sha256`` is of the YAML text, so a published run names exactly the rules it applied;
    ``git`` is the file's place in its git repository when a run located it (see rulesrepo).
    """

    id: str
    version: str
    title: str
    effective_from: dt.date
    effective_to: dt.date | None
    records: RecordContract
    subject: Subject
    dimensions: tuple[Dimension, ...]
    grades: tuple[Grade, ...]
    vetoes: tuple[Veto, ...] = ()
    derive: tuple[tuple[str, Expression], ...] = ()
    constants: Mapping[str, Any] = field(default_factory=dict)
    calendar: Calendar = field(default_factory=Calendar)
    decimals: int = 2
    approved_by: str | None = None
    approved_on: str | None = None
    changelog: tuple[str, ...] = ()
    tests: tuple[TestCase, ...] = ()
    path: str = "<string>"
    sha256: str = ""
    git: GitPlace | None = None
    # Declared with `sources:` (``records`` is then the first one's contract); empty with `records:`.
    sources: tuple[Source, ...] = ()
    # A source's view of a scheme with several (engine.sources): its scorecards carry measured values only.
    measured_only: bool = False
    sampling: SamplingPlan | None = None
    # How reviewers' results on the same records are compared (`qualiscore calibrate`); None: not declared.
    calibration: Calibration | None = None
    confidence: Confidence = field(default_factory=Confidence)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator in scheme order, for code that does not care which dimension holds it."""
        return tuple(i for d in self.dimensions for i in d.indicators)

    def covers(self, day: dt.date) -> bool:
        """Whether this version is in force on ``day``."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _oneline(expr: Expression | None) -> str:
    return " ".join(expr.source.split()) if expr is not None else ""


def _date(text: Any) -> dt.date:
    return dt.date.fromisoformat(str(text))


def _expr(doc: Document, value: Any, pointer: str) -> Expression:
    return parse(value, location=doc.locate(pointer))


def compile_measure(doc: Document, spec: Mapping[str, Any], pointer: str) -> Measure:
    """Shared by indicators and vetoes, whose `when` is a measure too."""
    kind = next(k for k in MEASURE_KINDS if k in spec)
    where = _expr(doc, spec["where"], f"{pointer}/where") if "where" in spec else None
    source = spec.get("source")
    if kind == "ratio":
        ratio = spec["ratio"]
        if isinstance(ratio["numerator"], Mapping):
            return Measure(kind, terms=(compile_measure(doc, ratio["numerator"], f"{pointer}/ratio/numerator"),
                                        compile_measure(doc, ratio["denominator"], f"{pointer}/ratio/denominator")))
        return Measure(
            kind,
            where=where,
            numerator=_expr(doc, ratio["numerator"], f"{pointer}/ratio/numerator"),
            denominator=_expr(doc, ratio["denominator"], f"{pointer}/ratio/denominator"),
            source=source,
        )
    p = float(spec["p"]) if "p" in spec else None
    return Measure(kind, _expr(doc, spec[kind], f"{pointer}/{kind}"), where=where, p=p, source=source)


def compile_scoring(spec: Mapping[str, Any]) -> Scoring:
    """Bounds and points become floats here, once; `equals` keeps its YAML type because it compares exactly."""
    if "bands" in spec:
        bands = tuple(
            Band(float(b["points"]), _opt(b.get("min")), _opt(b.get("max")), b.get("label")) for b in spec["bands"]
        )
        return Scoring("bands", bands=bands)
    if "linear" in spec:
        return Scoring("linear", start=float(spec["linear"]["from"]), end=float(spec["linear"]["to"]))
    if "pass" in spec:
        rule = spec["pass"]
        return Scoring(
            "pass",
            pass_min=_opt(rule.get("min")),
            pass_max=_opt(rule.get("max")),
            pass_equals=rule.get("equals"),
            has_equals="equals" in rule,
        )
    mapping = tuple((str(k), float(v)) for k, v in spec["map"].items())
    return Scoring("map", mapping=mapping, default=float(spec.get("default", 0)))


def compile_veto(doc: Document, spec: Mapping[str, Any], pointer: str) -> Veto:
    """A veto on a measure (``when``) or on an indicator's value, with at most one threshold key."""
    test = next((t for t in THRESHOLD_TESTS if t in spec), None)
    return Veto(
        id=spec["id"],
        name=spec.get("name", spec["id"]),
        when=compile_measure(doc, spec["when"], f"{pointer}/when") if "when" in spec else None,
        effect=next(iter(spec["effect"])),
        grade=next(iter(spec["effect"].values())),
        reason=spec.get("reason", ""),
        pointer=pointer,
        indicator=spec.get("indicator"),
        threshold=Threshold(test, float(spec[test])) if test is not None else None,
    )


def _opt(x: Any) -> float | None:
    return None if x is None else float(x)


def compile_tests(raw: Any, doc: Document | None = None) -> tuple[TestCase, ...]:
    """Separate from compile_document because tests may also live in a file of their own beside the scheme."""
    return tuple(
        TestCase(
            name=str(t["name"]) if "name" in t else _("test {n}", n=ti + 1),
            expect=t.get("expect") or {},
            records=_test_records(t["records"]) if "records" in t else None,
            records_file=t.get("records_file"),
            subject=t.get("subject"),
            tolerance=float(t.get("tolerance", 1e-6)),
            pointer=f"/tests/{ti}",
            records_file_location=doc.locate(f"/tests/{ti}/records_file") if doc and "records_file" in t else None,
        )
        for ti, t in enumerate(raw)
        if isinstance(t, dict)
    )


def _test_records(raw: Any) -> tuple[Mapping[str, Any], ...] | Mapping[str, tuple[Mapping[str, Any], ...]]:
    if isinstance(raw, Mapping):
        return {name: tuple(rows) for name, rows in raw.items()}
    return tuple(raw)


def compile_document(doc: Document) -> Scheme:
    """Build the frozen Scheme from a document that validation found free of errors."""
    data = doc.data
    sources = tuple(
        Source(name, compile_contract(spec),
               tuple(Lookup(lk["from"], lk["key"], tuple(lk["fields"])) for lk in spec.get("lookup") or ()),
               spec.get("period"), f"/sources/{name}")
        for name, spec in (data.get("sources") or {}).items()
    )
    contract = sources[0].contract if sources else compile_contract(data["records"])
    subj = data.get("subject") or {}
    period = subj.get("period")
    subject = Subject(
        tuple(subj.get("group_by") or ()),
        Period(period["field"], period["every"]) if period else None,
        tuple(subj.get("breakdowns") or ()),
    )
    derive = tuple((name, _expr(doc, src, f"/derive/{name}")) for name, src in (data.get("derive") or {}).items())
    dimensions = []
    for di, d in enumerate(data["dimensions"]):
        inds = []
        for ii, i in enumerate(d["indicators"]):
            ptr = f"/dimensions/{di}/indicators/{ii}"
            inds.append(
                Indicator(
                    id=i["id"],
                    name=i.get("name", i["id"]),
                    measure=compile_measure(doc, i["measure"], f"{ptr}/measure"),
                    scoring=compile_scoring(i["scoring"]),
                    weight=float(i["weight"]),
                    min_sample=int(i.get("min_sample", 1)),
                    when_not_applicable=i.get("when_not_applicable", "redistribute"),
                    target=_opt(i.get("target")),
                    pointer=ptr,
                )
            )
        dimensions.append(
            Dimension(
                id=d["id"],
                name=d.get("name", d["id"]),
                weight=float(d["weight"]),
                indicators=tuple(inds),
                when_not_applicable=d.get("when_not_applicable", "redistribute"),
                pointer=f"/dimensions/{di}",
            )
        )
    vetoes = tuple(compile_veto(doc, v, f"/vetoes/{vi}") for vi, v in enumerate(data.get("vetoes") or ()))
    cal = data.get("calendar") or {}
    calendar = Calendar(
        weekend=frozenset(cal.get("weekend", (6, 7))),
        holidays=frozenset(_date(x) for x in cal.get("holidays", ())),
        workdays=frozenset(_date(x) for x in cal.get("workdays", ())),
    )
    tests = compile_tests(data.get("tests") or (), doc)
    return Scheme(
        id=data["scheme"],
        version=str(data["version"]),
        title=data.get("title", data["scheme"]),
        effective_from=_date(data["effective_from"]),
        effective_to=_date(data["effective_to"]) if "effective_to" in data else None,
        records=contract,
        subject=subject,
        dimensions=tuple(dimensions),
        grades=tuple(Grade(g["name"], float(g["min"])) for g in data["grades"]),
        vetoes=vetoes,
        derive=derive,
        constants=dict(data.get("constants") or {}),
        calendar=calendar,
        decimals=int((data.get("rounding") or {}).get("decimals", 2)),
        approved_by=data.get("approved_by"),
        approved_on=data.get("approved_on"),
        changelog=tuple(data.get("changelog") or ()),
        tests=tests,
        path=doc.path,
        sha256=hashlib.sha256(doc.text.encode("utf-8")).hexdigest(),
        sources=sources,
        sampling=compile_sampling(doc, data["sampling"]) if "sampling" in data else None,
        calibration=compile_calibration(data["calibration"], contract, dimensions) if "calibration" in data else None,
        confidence=Confidence(**{k: float(v) for k, v in (data.get("confidence") or {}).items()}),
    )


def compile_sampling(doc: Document, spec: Mapping[str, Any]) -> SamplingPlan:
    return SamplingPlan(
        every=spec["every"], source=spec.get("source"), rate=_opt(spec.get("rate")), count=spec.get("count"),
        strata=tuple(spec.get("strata") or ()), min_per_stratum=int(spec.get("min_per_stratum", 0)),
        exclude=_expr(doc, spec["exclude"], "/sampling/exclude") if "exclude" in spec else None,
        oversample=tuple((_expr(doc, o["when"], f"/sampling/oversample/{k}/when"), float(o["weight"]))
                         for k, o in enumerate(spec.get("oversample") or ())),
        fields=tuple(spec.get("fields") or ()), seed=spec.get("seed"))


def compile_contract(rec: Mapping[str, Any]) -> RecordContract:
    """A `records:` mapping, or one of `sources:`, as the contract its rows are typed against."""
    fields = tuple(
        Field(
            name=name,
            type=f["type"],
            nullable=bool(f.get("nullable", False)),
            enum=tuple(f["enum"]) if "enum" in f else None,
            minimum=_opt(f.get("minimum")),
            maximum=_opt(f.get("maximum")),
            column=f.get("column"),
            format=f.get("format"),
            true_values=tuple(f["true_values"]) if "true_values" in f else None,
            false_values=tuple(f["false_values"]) if "false_values" in f else None,
        )
        for name, f in rec["fields"].items()
    )
    personal = tuple((name, policy) for name, policy in (rec.get("personal") or {}).items())
    return RecordContract(rec["id"], rec.get("timezone", "UTC"), fields, rec.get("other_columns", "ignore"), personal)


# --------------------------------------------------------------------------- calibration

# How far apart two reviewers' values are, for Krippendorff's alpha: only equal or not (nominal),
# by rank (ordinal), by difference (interval) or by ratio.
AgreementLevel = Literal["nominal", "ordinal", "interval", "ratio"]
AGREEMENT_LEVELS: tuple[AgreementLevel, ...] = get_args(AgreementLevel)
# Field types whose values can be compared at each level: strings only as equal or not.
NUMERIC_ITEM_TYPES: frozenset[FieldType] = frozenset({"integer", "number", "duration", "boolean"})
ITEM_TYPES: frozenset[FieldType] = NUMERIC_ITEM_TYPES | {"string"}


@dataclass(frozen=True, slots=True)
class Calibration:
    """Which checklist items reviewers must agree on, read how, and how much agreement is enough.

    ``levels`` holds every item's level, the defaults filled in, so readers never guess.
    """

    reviewer: str  # the field naming the reviewer of a row
    items: tuple[str, ...]
    levels: Mapping[str, AgreementLevel]
    min_alpha: float = 0.8


def value_fields(dimensions: Sequence[Dimension], contract: RecordContract) -> tuple[str, ...]:
    """The record fields an indicator's ``value:`` measure reads, in scheme order: the default items."""
    names = {f.name for f in contract.fields}
    out: list[str] = []
    for d in dimensions:
        for i in d.indicators:
            if i.measure.kind == "value" and i.measure.expr is not None:
                out.extend(n for n in sorted(i.measure.expr.names) if n in names and n not in out)
    return tuple(out)


def default_level(ftype: FieldType) -> AgreementLevel:
    """Booleans and strings are categories; numbers are compared by their differences."""
    return "nominal" if ftype in ("boolean", "string") else "interval"


def compile_calibration(spec: Mapping[str, Any], contract: RecordContract, dimensions: Sequence[Dimension]) -> Calibration:
    """The `calibration:` mapping, defaults resolved against the contract and the indicators."""
    items = tuple(spec["items"]) if "items" in spec else value_fields(dimensions, contract)
    given = spec.get("levels") or {}
    levels = {name: given.get(name) or default_level(contract.field(name).type) for name in items}
    return Calibration(spec["reviewer"], items, levels, float(spec.get("min_alpha", 0.8)))
