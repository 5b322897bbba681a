"""Building a report: read the run once, compute its view once, format it as HTML or Markdown."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..errors import OutputError, UsageError
from .charts import plotly_modules
from .html import render_html
from .markdown import render_markdown
from .run import load_run
from .view import build_view

FORMATS = ("html", "md")


def build_report(outdir: str | Path, *, fmt: str = "html", by_dirs: Sequence[str | Path] = (),
                 recompute: bool = True) -> str:
    """The report of the output directory ``outdir`` as text: ``html`` (self-contained page) or ``md``.

    ``by_dirs`` are output directories of ``evaluate --by FIELD`` to chart as breakdowns;
    without them (and unless ``recompute`` is false) the scheme's breakdown fields are
    re-evaluated from the run's own inputs when they are on disk and unchanged.
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}")
    if fmt == "html":
        plotly_modules()  # fail before any work when plotly is missing
    view = build_view(load_run(outdir, by_dirs=by_dirs, recompute=recompute))
    return render_markdown(view) if fmt == "md" else render_html(view)


def write_report(outdir: str | Path, path: str | Path | None = None, fmt: str = "html", *,
                 by_dirs: Sequence[str | Path] = (), recompute: bool = True) -> Path:
    """Write the report (default ``OUTDIR/report.html`` or ``report.md``) atomically; return its path."""
    text = build_report(outdir, fmt=fmt, by_dirs=by_dirs, recompute=recompute)
    target = Path(path) if path is not None else Path(outdir) / f"report.{fmt}"
    if target.is_dir():
        raise OutputError(f"{target} is a directory", hint="give a file name with -o, e.g. -o report.html")
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}", hint="check the path and permissions") \
            from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return target


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
