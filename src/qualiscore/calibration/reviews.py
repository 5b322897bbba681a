"""Reviewers' rows in: typed by the form's own contract, one row per (record id, reviewer)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError
from ..i18n import _
from ..model import Calibration, Field, RecordContract, Scheme
from ..records import Dataset, read_records


def calibration_of(scheme: Scheme) -> Calibration:
    """The scheme's ``calibration:``, or a usage error saying how to declare one."""
    if scheme.calibration is None:
        raise UsageError(
            _("scheme {scheme} {version} declares no calibration, so there is nothing to compare", scheme=scheme.id,
              version=scheme.version),
            hint=_("add calibration: {{reviewer: FIELD}} to the scheme (docs/inspection.md, \"Calibrating reviewers\")"),
        )
    return scheme.calibration


def review_contract(scheme: Scheme) -> RecordContract:
    """The form's contract with the reviewer column required: a row without a reviewer compares with nobody.

    The reviewer is a field of the form, or else a text column of the reviewers' files only
    (the form's own exports, one reviewer per record, need not have it).
    """
    reviewer = calibration_of(scheme).reviewer
    fields = scheme.records.fields
    if not any(f.name == reviewer for f in fields):
        fields = (*fields, Field(reviewer, "string"))
    fields = tuple(dataclasses.replace(f, nullable=False) if f.name == reviewer else f for f in fields)
    return dataclasses.replace(scheme.records, fields=fields)


def read_reviews(paths: Sequence[str | Path], scheme: Scheme, *, encoding: str | None = None,
                 sheet: str | None = None) -> Dataset:
    """Read reviewers' result files; a record id may repeat once per reviewer, not more.

    Every cell is typed and checked as `evaluate` would; a bad cell, a missing reviewer
    or a second row of the same record by the same reviewer rejects the row with a
    reason (``Dataset.problems``), so rows read = rows used + rows rejected.
    """
    return read_records(list(paths), review_contract(scheme), encoding=encoding, sheet=sheet,
                        unique_with=calibration_of(scheme).reviewer)
