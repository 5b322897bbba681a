"""Expressions of the scheme language as Polars expressions, with the Evaluator's exact semantics.

Part of the columnar engine (``qualiscore[fast]``): only :mod:`qualiscore.engine.columnar`
imports it.

The row Evaluator is dynamically typed; Polars columns have one type each. The
translator therefore infers a *kind* for every node from the kinds of the fields,
derived values and constants it uses (:mod:`.values`).

Datetimes are wall-clock times because every datetime of a record carries the same
ZoneInfo: Python then compares and subtracts them without their offsets.

Every translated node (a :class:`Translated`) carries its value *and* a ``fail`` mask: the
rows where the Evaluator would raise an error, or where the vectorised value is not
guaranteed to be the Evaluator's (integer overflow, NaN comparisons, a rounding tie, a
text or list the Evaluator would find beyond the bounds of
:func:`qualiscore.expressions.check_value`, …). Parts without record values are computed
once by the Evaluator itself, bounds included; an integer constant beyond 64 bits has no
column type, so the engine falls back to the reference code.
The caller evaluates exactly those rows with the row Evaluator, so an answer never
differs. A node that has no vectorised form (float ``//`` and ``%``, text repetition, …)
raises :class:`NeedsPython`; the caller then evaluates that whole expression with the row
Evaluator (``map_batches``), which is correct but slower. :class:`Untranslatable` means
not even the kind of the result is known; the caller falls back further.

Modules: :mod:`.values` (kinds, translated values, their masks), :mod:`.lookups`,
:mod:`.business_days`, :mod:`.comparisons`, :mod:`.translator` (the Translator).
"""

from __future__ import annotations

from .business_days import business_days_expr
from .lookups import lookup
from .translator import Translator
from .values import (
    DTYPES,
    EXACT_INT,
    INTLIKE,
    KINDS,
    NOT_CONSTANT,
    NUMERIC,
    NeedsPython,
    Translated,
    Untranslatable,
    evidence_mask,
    is_true,
    kind_of_value,
    truthy,
    where_mask,
)

__all__ = [
    "DTYPES",
    "EXACT_INT",
    "INTLIKE",
    "KINDS",
    "NOT_CONSTANT",
    "NUMERIC",
    "NeedsPython",
    "Translated",
    "Translator",
    "Untranslatable",
    "business_days_expr",
    "evidence_mask",
    "is_true",
    "kind_of_value",
    "lookup",
    "truthy",
    "where_mask",
]
