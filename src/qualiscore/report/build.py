"""Building a report: read the run once, compute its view once, format it as HTML or Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import OutputError, UsageError
from ..i18n import _
from ..manifest import MANIFEST, RECORD_FILES, read_manifest, record_report, write_file_atomically
from ..provenance import SAMPLE_FORMAT
from .charts import plotly_modules
from .html import render_html
from .markdown import render_markdown
from .run import Published, load_run
from .view import build_view

FORMATS = ("html", "md")


def build_report(outdir: str | Path, *, fmt: str = "html", by_dirs: Sequence[str | Path] = (),
                 recompute: bool = True, published: Published | None = None,
                 pseudonymise_key: bytes | None = None) -> str:
    """The report of the output directory ``outdir`` as text: ``html`` (self-contained page) or ``md``.

    ``by_dirs`` are output directories of ``evaluate --by FIELD`` to chart as breakdowns;
    without them (and unless ``recompute`` is false) the scheme's breakdown fields are
    re-evaluated from the run's own inputs when they are on disk and unchanged.
    ``published``: the report is one of the run's outputs (``evaluate --report``).
    ``pseudonymise_key``: the key of a run that pseudonymised personal fields, to recompute breakdowns.
    """
    if fmt not in FORMATS:
        raise UsageError(_("unknown report format {format!r}", format=fmt),
                         hint=_("choose one of: {choices}", choices=", ".join(FORMATS)))
    if read_manifest(outdir)["format"] == SAMPLE_FORMAT:  # an inspection sample: its coverage per stratum
        from .sample import sample_report

        return sample_report(outdir, fmt)
    if fmt == "html":
        plotly_modules()  # fail before any work when plotly is missing
    view = build_view(load_run(outdir, by_dirs=by_dirs, recompute=recompute, published=published,
                               pseudonymise_key=pseudonymise_key))
    return render_markdown(view) if fmt == "md" else render_html(view)


def write_report(outdir: str | Path, path: str | Path | None = None, fmt: str = "html", *,
                 by_dirs: Sequence[str | Path] = (), recompute: bool = True,
                 pseudonymise_key: bytes | None = None) -> Path:
    """Write the report (default ``OUTDIR/report.html`` or ``report.md``) atomically; return its path.

    A report written into ``outdir`` is recorded with its SHA-256 in ``OUTDIR/reports.json``
    (with the manifest's), so ``verify`` can tell it from a file added by hand; it never
    replaces a file of the run itself.
    """
    out = Path(outdir)
    target = Path(path) if path is not None else out / f"report.{fmt}"
    if target.is_dir():
        raise OutputError(_("{path} is a directory", path=target),
                          hint=_("give a file name with -o, e.g. -o report.html"))
    inside = _inside(target, out)
    if inside and (target.name in read_manifest(out)["outputs"] or target.name in RECORD_FILES):
        raise OutputError(_("{path} is one of the run's own files (listed in {manifest}); writing over it "
                            "would make the run fail `qualiscore verify`", path=target, manifest=MANIFEST),
                          hint=_("give the report another name with -o, e.g. -o {example}, or write it outside "
                                 "{outdir}", example=out / ("report-2." + fmt), outdir=out))
    data = build_report(outdir, fmt=fmt, by_dirs=by_dirs, recompute=recompute,
                        pseudonymise_key=pseudonymise_key).encode("utf-8")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_file_atomically(target, data)
        if inside:
            record_report(out, target.name, data)
    except OSError as exc:
        raise OutputError(_("cannot write {path}: {reason}", path=target, reason=exc.strerror or exc),
                          hint=_("check the path and permissions")) from None
    return target


def _inside(target: Path, outdir: Path) -> bool:
    """True when ``target`` is a file directly in ``outdir``; OutputError when in a folder below it."""
    parent, out = target.resolve().parent, outdir.resolve()
    if parent == out:
        return True
    if out in parent.parents:
        raise OutputError(_("{path} is in a folder inside the output directory {outdir}, which holds only the "
                            "run's files and its reports", path=target, outdir=outdir),
                          hint=_("write the report directly in {outdir}, or outside it", outdir=outdir))
    return False
