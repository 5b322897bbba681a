"""Plain values of a scheme document: comparing them by meaning and writing them as a person would.

The differ compares YAML values, not compiled objects, so that it can also describe
documents that do not validate; these helpers never raise on a malformed value.
"""

from __future__ import annotations

import ast
import math
from typing import Any

from .._plain import dict_of, is_number, list_of
from ..i18n import _
from ..loader import escape_pointer_token
from ..model import MEASURE_KINDS, SCORING_KINDS, MeasureKind, ScoringKind


def pointer(*tokens: Any) -> str:
    """The JSON pointer of ``tokens``, each escaped (``~0``, ``~1``)."""
    return "".join("/" + escape_pointer_token(str(t)) for t in tokens)


def same_value(a: Any, b: Any) -> bool:
    """Deep equality that tells booleans from numbers (``True != 1``) but not ``1`` from ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if is_number(a) and is_number(b):
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def canonical(x: Any) -> str:
    """A hashable, type-aware spelling of a plain value (for set comparisons)."""
    if isinstance(x, bool):
        return f"b:{x}"
    if is_number(x):
        f = float(x)
        return f"n:{int(f)}" if f.is_integer() else f"n:{f!r}"
    return f"{type(x).__name__}:{x!r}"


def show(x: Any) -> str:
    """A value as a person writes it: 180 not 180.0, true not True."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(show(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in x.items()) + "}"
    return str(x)


def json_value(x: Any) -> Any:
    """``x`` as strict JSON can hold it: non-finite numbers become text."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, list):
        return [json_value(v) for v in x]
    if isinstance(x, dict):
        return {str(k): json_value(v) for k, v in x.items()}
    return x


def _expr_source(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if is_number(value):
        return repr(value) if isinstance(value, float) else str(value)
    return str(value)


def normalise_expression(value: Any) -> str | None:
    """The parsed syntax tree of an expression as text (``ast.dump``); None for no expression.

    Whitespace, line breaks and redundant parentheses do not change it; a text that
    does not parse is compared as its stripped text.
    """
    if value is None:
        return None
    source = _expr_source(value).strip()
    try:
        return ast.dump(ast.parse(source, mode="eval"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "text:" + source


def expr_text(value: Any) -> str | None:
    return None if value is None else " ".join(_expr_source(value).split())


def measure_kind(spec: Any) -> MeasureKind | None:
    return next((k for k in MEASURE_KINDS if k in dict_of(spec)), None)


def measure_text(spec: Any) -> str:
    spec = dict_of(spec)
    kind = measure_kind(spec)
    if kind is None:
        return "?"
    if kind == "ratio":
        r = dict_of(spec["ratio"])
        parts = [f"({measure_text(p)})" if isinstance(p, dict) else expr_text(p)
                 for p in (r.get("numerator"), r.get("denominator"))]
        text = f"ratio: {parts[0]} / {parts[1]}"
    else:
        text = f"{kind}: {expr_text(spec[kind])}"
    if "p" in spec:
        text += f", p {show(spec['p'])}"
    if "where" in spec:
        text += f", where {expr_text(spec['where'])}"
    if "source" in spec:
        text += _(", of {source}", source=spec["source"])
    return text


def scoring_kind(spec: Any) -> ScoringKind | None:
    return next((k for k in SCORING_KINDS if k in dict_of(spec)), None)


def band_text(band: Any) -> str:
    b = dict_of(band)
    parts = []
    if "min" in b:
        parts.append(f"≥ {show(b['min'])}")
    if "max" in b:
        parts.append(f"≤ {show(b['max'])}")
    cond = _(" and ").join(parts) or _("otherwise")
    return f"{cond} → {show(b.get('points'))}"


def scoring_text(spec: Any) -> str:
    spec = dict_of(spec)
    kind = scoring_kind(spec)
    if kind == "bands":
        return "bands: " + "; ".join(band_text(b) for b in list_of(spec["bands"]))
    if kind == "linear":
        lin = dict_of(spec["linear"])
        return f"linear {show(lin.get('from'))} → {show(lin.get('to'))}"
    if kind == "pass":
        return "pass " + ", ".join(f"{k} {show(v)}" for k, v in dict_of(spec["pass"]).items())
    if kind == "map":
        text = "map " + show(dict_of(spec["map"]))
        if "default" in spec:
            text += f", default {show(spec['default'])}"
        return text
    return "?"


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}%".replace(".00%", "%")
