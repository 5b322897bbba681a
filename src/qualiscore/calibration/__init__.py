"""Reviewer calibration: several reviewers score the same records; do they agree?

A scheme's ``calibration:`` names the reviewer field, the checklist items compared and
the level of each. ``reviews`` reads the reviewers' rows (one per record and reviewer)
against the form's own contract; ``agreement`` computes, per item and for the total
score, Krippendorff's alpha, Cohen's or Fleiss' kappa and the percent agreement, and per
reviewer how far they stand from the consensus; ``statistics`` is the one place the
statistics libraries (``qualiscore[stats]``) are called; ``render`` writes the result
as text, CSV and JSON. The command is `qualiscore calibrate` (cli/calibrate.py).
"""

from __future__ import annotations

from .agreement import TOTAL, Calibrated, ItemAgreement, ReviewerDeviation, ReviewerItem, calibrate
from .reviews import read_reviews

__all__ = [
    "TOTAL",
    "Calibrated",
    "ItemAgreement",
    "ReviewerDeviation",
    "ReviewerItem",
    "calibrate",
    "read_reviews",
]
