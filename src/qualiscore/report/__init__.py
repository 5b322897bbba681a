"""The run report: one self-contained HTML page (or a Markdown summary) of an output directory.

Reading and computing happen once; rendering only formats:

* :mod:`.run` (with :mod:`.files` and :mod:`.breakdowns`): the output directory, the
  scheme files and inputs that still match its manifest, breakdowns per team or channel
  scored from pooled records;
* :mod:`.view` (with :mod:`.stats`): every fact and figure the report shows, as
  frozen data;
* :mod:`.html` (with :mod:`.charts`, plotly, and :mod:`.assets`) and :mod:`.markdown`:
  the same view as a page or as tables to paste in a review.

Plotly is an optional dependency (``pip install 'qualiscore[report]'``) and is only
imported when an HTML report is built. The command (``qualiscore report``) lives with
the CLI.
"""

from __future__ import annotations

from .breakdowns import Breakdown, BreakdownRow
from .build import FORMATS, build_report, write_report
from .html import HEADINGS, SECTIONS, heading, render_html
from .markdown import render_markdown
from .run import Published, RunOutput, load_run
from .view import ReportView, build_view

__all__ = [
    "FORMATS",
    "HEADINGS",
    "SECTIONS",
    "Breakdown",
    "BreakdownRow",
    "Published",
    "ReportView",
    "RunOutput",
    "build_report",
    "build_view",
    "heading",
    "load_run",
    "render_html",
    "render_markdown",
    "write_report",
]
