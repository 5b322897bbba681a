"""A scorecard as a readable tree: every point accounted for.

Works from the JSON form of a scorecard, so it explains a fresh evaluation and a
published output directory the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .redaction import redact


def _fmt(x: Any, decimals: int | None = None) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, float)) and decimals is not None:
        return f"{float(x):.{decimals}f}"
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _value(ind: Mapping[str, Any], level: float | None) -> str:
    v = ind["value"]
    text = f"{ind['measure']} = {_fmt(v)}"
    if ind.get("interval") and level is not None:
        low, high = ind["interval"]
        text += f" [{_pct(level)} CI {low:.4g} – {high:.4g}]"
    num, den = ind.get("numerator"), ind.get("denominator")
    if ind["measure"] in ("share", "ratio", "count", "mean") and num is not None and den is not None:
        text += f" ({_fmt(num)}/{_fmt(den)})"
    elif ind["measure"] == "nps" and ind.get("inputs"):
        i = ind["inputs"]
        text += f" ({i.get('promoters')} promoters, {i.get('passives')} passives, {i.get('detractors')} detractors)"
    text += f", sample {ind['sample']}"
    if ind.get("skipped"):
        text += f", {ind['skipped']} skipped as missing"
    if ind.get("source"):  # a scheme with several record sources: which one it measured
        text += f" · {ind['source']}"
    return text


def explain_text(card: Mapping[str, Any], decimals: int = 2, approval: str | None = None) -> str:
    """The tree of ``card``; ``approval`` is a line on the scheme's approval, shown under the first line."""
    d = decimals
    scheme = card["scheme"]
    confidence = card.get("confidence") or {}
    level = confidence.get("level")
    lines = [
        f"{redact(card['subject'])} · {scheme['id']} {scheme['version']} (sha256 {scheme['sha256'][:12]}) · "
        f"{card['records']} record(s)"
    ]
    if approval:
        lines.append(approval)
    dims = card["dimensions"]
    for di, dim in enumerate(dims):
        last_dim = di == len(dims) - 1
        branch, stem = ("└─ ", "   ") if last_dim else ("├─ ", "│  ")
        if dim["counted"]:
            head = (f"{dim['name']} [{dim['id']}]  score {_fmt(dim['score'], d)} · weight {_fmt(dim['weight'])}"
                    f" → effective {_fmt(dim['effective_weight'], d)}% → contributes {_fmt(dim['contribution'], d)}")
        else:
            head = f"{dim['name']} [{dim['id']}]  not applicable: {dim['reason']}"
        if dim["counted"] and dim.get("reason"):
            head += f"  ({dim['reason']})"
        lines.append(branch + head)
        inds = dim["indicators"]
        for ii, ind in enumerate(inds):
            b2, s2 = ("└─ ", "   ") if ii == len(inds) - 1 else ("├─ ", "│  ")
            lines.append(stem + b2 + f"{ind['name']} [{ind['id']}]: {_value(ind, level)}")
            if ind["status"] == "scored":
                detail = f"{ind['rule']} → {_fmt(ind['points'], d)} points"
            else:
                detail = f"not applicable: {ind['reason']}"
            if ind["counted"]:
                if ind["status"] != "scored":
                    detail += f" → counts {_fmt(ind['counted_points'], d)} points"
                detail += (f" · weight {_fmt(ind['weight'])} → effective {_fmt(ind['effective_weight'], d)}%"
                           f" → contributes {_fmt(ind['contribution'], d)}")
            elif dim["counted"]:
                detail += " · weight redistributed to the other indicators"
            if ind.get("target") is not None:
                detail += f" · target {_fmt(ind['target'])}"
            lines.append(stem + s2 + "   " + detail)
    parts = [dim["contribution"] for dim in dims if dim["counted"]]
    if card["score"] is None:
        lines.append(f"Total: no score — {card['note']}")
    else:
        total = sum((Decimal(str(p)) for p in parts), Decimal(0))
        lines.append(f"Total {_fmt(float(card['score']), d)} = " + " + ".join(_fmt(float(p), d) for p in parts)
                     + ("" if total == Decimal(str(card["score"])) else "  (!)"))
    grade = card["grade"]
    decided = card["decided_by"]
    if decided == "score":
        lines.append(f"Grade {grade}: decided by the score")
    elif decided.startswith("veto:"):
        lines.append(f"Grade {grade}: decided by veto {decided[5:]} (the score alone gives {card['score_grade'] or '—'})")
    else:
        lines.append("Grade: none (no score)")
    if card.get("stability") is not None:
        line = f"Stability {_pct(card['stability'])}: the share of plausible values of the indicators that keep {grade}"
        if card.get("uncertain"):
            line += f" — uncertain (below {_pct(confidence.get('stable_at', 0.8))}): more records could change it"
        lines.append(line)
    for v in card["vetoes"]:
        effect = f"grade {v['grade']}" if v["effect"] == "grade" else f"grade capped at {v['grade']}"
        if v.get("measured") is not None:
            evidence = measured_text(v["measured"])
        else:
            evidence = f"{len(v['evidence'])} record(s): " + ", ".join(v["evidence"][:20]) + (
                " …" if len(v["evidence"]) > 20 else "")
        lines.append(f"Veto {v['name']} [{v['id']}]: {effect} — {v['reason']}; {evidence}")
    return "\n".join(lines) + "\n"


def _pct(share: float) -> str:
    return f"{100 * share:.1f}".rstrip("0").rstrip(".") + "%"


_SYMBOLS = {"above": ">", "below": "<", "at_least": "≥", "at_most": "≤"}


def measured_text(measured: Mapping[str, Any]) -> str:
    """The evidence of a veto on a measured value, as explain and the report show it: ``abandon_rate 0.4 > 0.25``."""
    test = next((t for t in _SYMBOLS if t in measured), None)
    threshold = f" {_SYMBOLS[test]} {_figure(measured[test])}" if test is not None else ""
    return f"{measured.get('of')} {_figure(measured.get('value'))}{threshold}"


def _figure(x: Any) -> str:
    """A number in full (to the 12 significant digits a value is kept to), without a trailing ``.0``."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)
