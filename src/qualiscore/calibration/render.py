"""A calibration as people and programs read it: a text table, CSV files and one JSON document."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .._display import display_width, fmt_number
from ..i18n import _
from ..scorecard import rejects_csv, safe_cell
from .agreement import TOTAL, Calibrated, ItemAgreement

CALIBRATION_CSV = "calibration.csv"
REVIEWERS_CSV = "reviewers.csv"
CALIBRATION_JSON = "calibration.json"
CALIBRATION_MD = "calibration.md"  # the report section, to paste into a review
REJECTS_CSV = "rejects.csv"

_KAPPA = {"cohen": "Cohen", "fleiss": "Fleiss", "": ""}


def _num(x: float | None, decimals: int = 3) -> float | None:
    return None if x is None else round(x, decimals)


def _yes(flag: bool) -> str:
    """A flag in calibration.csv: yes or no, whatever the language."""
    return "yes" if flag else "no"


def _yes_shown(flag: bool) -> str:
    """A flag in the tables people read."""
    return _("yes") if flag else _("no")


def _item_name(item: str) -> str:
    """An item as the tables show it: the field's name, or "total" for the form's total score."""
    return _("total") if item == TOTAL else item


def counts_line(result: Calibrated) -> str:
    """rows read = used + rejected, as every command that reads data prints it."""
    ds = result.dataset
    line = _("rows read {read} = used {used} + rejected {rejected}", read=ds.rows_read, used=ds.rows_accepted,
             rejected=ds.rows_rejected)
    if result.unscored:
        rows = len({(p.source, p.row) for p in result.unscored})
        line += _("; {n} used row(s) have no total score (the form could not score them)", n=rows)
    return line


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Columns padded by terminal width (Chinese names take two cells), numbers right-aligned."""
    widths = [max(display_width(r[k]) for r in [header, *rows]) for k in range(len(header))]

    def line(cells: list[str]) -> str:
        out = []
        for k, cell in enumerate(cells):
            pad = " " * (widths[k] - display_width(cell))
            out.append(cell + pad if k == 0 else pad + cell)
        return "  ".join(out).rstrip()

    return [line(header), *(line(r) for r in rows)]


def _item_row(i: ItemAgreement) -> list[str]:
    kappa = f"{fmt_number(i.kappa, 3)} {_KAPPA[i.kappa_kind]}".rstrip() if i.kappa_kind else "—"
    agreement = "—" if i.agreement is None else f"{100 * i.agreement:.1f}%"
    return [_item_name(i.item), i.level, str(i.records), str(i.reviewers), fmt_number(i.alpha, 3), kappa,
            str(i.kappa_records), agreement, _yes_shown(i.calibrated)]


def text(result: Calibrated) -> str:
    """The report printed by default: a table per item, then one per reviewer."""
    scheme = result.scheme
    lines = [_("calibration of {scheme} {version}: {counts}", scheme=scheme.id, version=scheme.version,
               counts=counts_line(result)), ""]
    header = [_("item"), _("level"), _("records"), _("reviewers"), _("alpha"), _("kappa"), _("kappa n"),
              _("agreement"), _("calibrated")]
    lines += _table(header, [_item_row(i) for i in result.items])
    failing = [_item_name(i.item) for i in result.items if not i.calibrated]
    lines += ["", _("calibrated: Krippendorff's alpha ≥ {min_alpha:g}. kappa: on the kappa n records every "
                    "reviewer rated (Cohen for two reviewers, Fleiss for more).", min_alpha=result.min_alpha),
              _("total: alpha compares the form's total scores; kappa and agreement compare the grades."),
              _("every item is calibrated") if not failing else
              _("not calibrated: {items}", items=", ".join(failing)), ""]
    items = [i.item for i in result.items if i.item != TOTAL]
    rows = []
    for r in result.reviewers:
        cells = [r.reviewer, str(r.rows)]
        for d in r.items:
            rate = "—" if d.disagreement is None else f"{100 * d.disagreement:.0f}%"
            diff = "" if d.mean_difference is None else f" {d.mean_difference:+.2f}"
            cells.append(rate + diff)
        cells.append("—" if r.total_difference is None else f"{r.total_difference:+.2f}")
        rows.append(cells)
    lines.append(_("per reviewer: disagreement with the consensus and mean difference from it "
                   "(+ lenient, − strict); total: mean score difference"))
    lines += _table([_("reviewer"), _("rows"), *items, _("total")], rows)
    return "\n".join(lines) + "\n"


def markdown(result: Calibrated) -> str:
    """The report section: the item and reviewer tables in Markdown, to paste into the committee's review."""
    from ..report.markdown import _cell, _table

    scheme = result.scheme
    items = [[_cell(c) for c in _item_row(i)] for i in result.items]
    names = [i.item for i in result.items if i.item != TOTAL]
    reviewers = []
    for r in result.reviewers:
        cells = [_cell(r.reviewer), str(r.rows)]
        for d in r.items:
            rate = "—" if d.disagreement is None else f"{100 * d.disagreement:.0f}%"
            cells.append(rate + ("" if d.mean_difference is None else f" ({d.mean_difference:+.2f})"))
        cells.append("—" if r.total_difference is None else f"{r.total_difference:+.2f}")
        reviewers.append(cells)
    failing = [_item_name(i.item) for i in result.items if not i.calibrated]
    verdict = (_("every item is calibrated.") if not failing else
               _("not calibrated: {items}.", items=", ".join(map(_cell, failing))))
    return "\n".join([
        _("## Reviewer calibration · {scheme} {version}", scheme=_cell(scheme.id), version=_cell(scheme.version))
        + "\n",
        _("{counts}. Calibrated: Krippendorff's alpha ≥ {min_alpha:g}; {verdict}", counts=_cell(counts_line(result)),
          min_alpha=result.min_alpha, verdict=verdict) + "\n",
        _table([_("Item"), _("Level"), _("Records"), _("Reviewers"), _("Alpha"), _("Kappa"), _("Kappa n"),
                _("Agreement"), _("Calibrated")], items, right=range(2, 8)),
        _("### Each reviewer against the consensus") + "\n",
        _("Disagreement rate per item (mean difference: + lenient, − strict); total: mean score difference.") + "\n",
        _table([_("Reviewer"), _("Rows"), *map(_cell, names), _("Total")], reviewers, right=range(1, len(names) + 3)),
    ])


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for row in rows:
        w.writerow([safe_cell("" if x is None else x) for x in row])
    return buf.getvalue()


def items_csv(result: Calibrated) -> str:
    """calibration.csv: one row per item, then the total."""
    return _csv(["item", "level", "records", "reviewers", "alpha", "kappa", "kappa_kind", "kappa_records",
                 "agreement", "calibrated", "min_alpha"],
                [[i.item, i.level, i.records, i.reviewers, _num(i.alpha), _num(i.kappa), i.kappa_kind,
                  i.kappa_records, _num(i.agreement), _yes(i.calibrated), result.min_alpha] for i in result.items])


def reviewers_csv(result: Calibrated) -> str:
    """reviewers.csv: one row per reviewer and item, then the reviewer's total score difference."""
    rows: list[list[Any]] = []
    for r in result.reviewers:
        rows += [[r.reviewer, d.item, d.rated, _num(d.disagreement), _num(d.mean_difference)] for d in r.items]
        rows.append([r.reviewer, TOTAL, r.rows, None, _num(r.total_difference)])
    return _csv(["reviewer", "item", "rated", "disagreement", "mean_difference"], rows)


def as_dict(result: Calibrated) -> dict[str, Any]:
    """calibration.json (and --format json): everything the tables show, with the counts."""
    ds = result.dataset
    return {
        "scheme": result.scheme.id,
        "version": result.scheme.version,
        "scheme_sha256": result.scheme.sha256,
        "min_alpha": result.min_alpha,
        "calibrated": result.calibrated,
        "rows": {"read": ds.rows_read, "used": ds.rows_accepted, "rejected": ds.rows_rejected,
                 "without_total": len({(p.source, p.row) for p in result.unscored})},
        "inputs": [{"path": i.path, "sha256": i.sha256, "rows_read": i.rows_read, "rows_rejected": i.rows_rejected}
                   for i in ds.inputs],
        "items": [{"item": i.item, "level": i.level, "records": i.records, "reviewers": i.reviewers,
                   "alpha": _num(i.alpha, 6), "kappa": _num(i.kappa, 6), "kappa_kind": i.kappa_kind or None,
                   "kappa_records": i.kappa_records, "agreement": _num(i.agreement, 6),
                   "calibrated": i.calibrated} for i in result.items],
        "reviewers": [{"reviewer": r.reviewer, "rows": r.rows, "total_difference": _num(r.total_difference, 6),
                       "items": {d.item: {"rated": d.rated, "disagreement": _num(d.disagreement, 6),
                                          "mean_difference": _num(d.mean_difference, 6)} for d in r.items}}
                      for r in result.reviewers],
    }


def json_text(result: Calibrated) -> str:
    return json.dumps(as_dict(result), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def files(result: Calibrated) -> dict[str, bytes]:
    """What ``calibrate -o DIR`` publishes."""
    return {
        CALIBRATION_CSV: items_csv(result).encode("utf-8"),
        REVIEWERS_CSV: reviewers_csv(result).encode("utf-8"),
        CALIBRATION_JSON: json_text(result).encode("utf-8"),
        CALIBRATION_MD: markdown(result).encode("utf-8"),
        REJECTS_CSV: rejects_csv(result.problems).encode("utf-8"),
    }
