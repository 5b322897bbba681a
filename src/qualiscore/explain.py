"""A scorecard as a readable tree: every point accounted for.

Works from the JSON form of a scorecard, so it explains a fresh evaluation and a
published output directory the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .i18n import _
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
        text += _(" [{level} CI {low:.4g} – {high:.4g}]", level=_pct(level), low=low, high=high)
    num, den = ind.get("numerator"), ind.get("denominator")
    if ind["measure"] in ("share", "ratio", "count", "mean") and num is not None and den is not None:
        text += _(" ({numerator}/{denominator})", numerator=_fmt(num), denominator=_fmt(den))
    elif ind["measure"] == "nps" and ind.get("inputs"):
        i = ind["inputs"]
        text += _(" ({promoters} promoters, {passives} passives, {detractors} detractors)",
                  promoters=i.get("promoters"), passives=i.get("passives"), detractors=i.get("detractors"))
    text += _(", sample {sample}", sample=ind["sample"])
    if ind.get("skipped"):
        text += _(", {skipped} skipped as missing", skipped=ind["skipped"])
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
        _("{subject} · {scheme} {version} (sha256 {sha256}) · {records} record(s)", subject=redact(card["subject"]),
          scheme=scheme["id"], version=scheme["version"], sha256=scheme["sha256"][:12], records=card["records"])
    ]
    if approval:
        lines.append(approval)
    dims = card["dimensions"]
    for di, dim in enumerate(dims):
        last_dim = di == len(dims) - 1
        branch, stem = ("└─ ", "   ") if last_dim else ("├─ ", "│  ")
        if dim["counted"]:
            head = _("{name} [{id}]  score {score} · weight {weight} → effective {effective}% → contributes "
                     "{contribution}", name=dim["name"], id=dim["id"], score=_fmt(dim["score"], d),
                     weight=_fmt(dim["weight"]), effective=_fmt(dim["effective_weight"], d),
                     contribution=_fmt(dim["contribution"], d))
        else:
            head = _("{name} [{id}]  not applicable: {reason}", name=dim["name"], id=dim["id"], reason=dim["reason"])
        if dim["counted"] and dim.get("reason"):
            head += _("  ({reason})", reason=dim["reason"])
        lines.append(branch + head)
        inds = dim["indicators"]
        for ii, ind in enumerate(inds):
            b2, s2 = ("└─ ", "   ") if ii == len(inds) - 1 else ("├─ ", "│  ")
            lines.append(stem + b2 + _("{name} [{id}]: {value}", name=ind["name"], id=ind["id"],
                                       value=_value(ind, level)))
            if ind["status"] == "scored":
                detail = _("{rule} → {points} points", rule=ind["rule"], points=_fmt(ind["points"], d))
            else:
                detail = _("not applicable: {reason}", reason=ind["reason"])
            if ind["counted"]:
                if ind["status"] != "scored":
                    detail += _(" → counts {points} points", points=_fmt(ind["counted_points"], d))
                detail += _(" · weight {weight} → effective {effective}% → contributes {contribution}",
                            weight=_fmt(ind["weight"]), effective=_fmt(ind["effective_weight"], d),
                            contribution=_fmt(ind["contribution"], d))
            elif dim["counted"]:
                detail += _(" · weight redistributed to the other indicators")
            if ind.get("target") is not None:
                detail += _(" · target {target}", target=_fmt(ind["target"]))
            lines.append(stem + s2 + "   " + detail)
    parts = [dim["contribution"] for dim in dims if dim["counted"]]
    if card["score"] is None:
        lines.append(_("Total: no score — {note}", note=card["note"]))
    else:
        total = sum((Decimal(str(p)) for p in parts), Decimal(0))
        lines.append(_("Total {score} = {parts}", score=_fmt(float(card["score"]), d),
                       parts=" + ".join(_fmt(float(p), d) for p in parts))
                     + ("" if total == Decimal(str(card["score"])) else "  (!)"))
    grade = card["grade"]
    decided = card["decided_by"]
    if decided == "score":
        lines.append(_("Grade {grade}: decided by the score", grade=grade))
    elif decided.startswith("veto:"):
        lines.append(_("Grade {grade}: decided by veto {veto} (the score alone gives {score_grade})", grade=grade,
                       veto=decided[5:], score_grade=card["score_grade"] or "—"))
    else:
        lines.append(_("Grade: none (no score)"))
    if card.get("stability") is not None:
        line = _("Stability {stability}: the share of plausible values of the indicators that keep {grade}",
                 stability=_pct(card["stability"]), grade=grade)
        if card.get("uncertain"):
            line += _(" — uncertain (below {stable_at}): more records could change it",
                      stable_at=_pct(confidence.get("stable_at", 0.8)))
        lines.append(line)
    for v in card["vetoes"]:
        effect = (_("grade {grade}", grade=v["grade"]) if v["effect"] == "grade"
                  else _("grade capped at {grade}", grade=v["grade"]))
        if v.get("measured") is not None:
            evidence = measured_text(v["measured"])
        else:
            evidence = _("{n} record(s): {records}", n=len(v["evidence"]), records=", ".join(v["evidence"][:20]) + (
                " …" if len(v["evidence"]) > 20 else ""))
        lines.append(_("Veto {name} [{id}]: {effect} — {reason}; {evidence}", name=v["name"], id=v["id"],
                       effect=effect, reason=v["reason"], evidence=evidence))
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
