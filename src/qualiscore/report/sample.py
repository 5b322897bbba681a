"""The report of an inspection sample (`qualiscore sample`): how each stratum was covered.

Read from the sample's own files (manifest, strata.csv) after their SHA-256 is checked,
so the page says what the published sample holds; Markdown to paste in a review, or one
self-contained HTML page (no chart library: the bars are plain HTML).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ..errors import DamagedOutputError, Location
from ..i18n import N_, _, language
from ..manifest import read_manifest, sha256_file
from ..sampling import SAMPLE, STRATA
from .formatting import escape
from .markdown import _cell, _table


def _strata(out: Path, manifest: dict[str, Any]) -> list[dict[str, str]]:
    path = out / STRATA
    if not path.is_file() or sha256_file(path) != manifest["outputs"].get(STRATA):
        raise DamagedOutputError(_("{file} is missing or not the file the sample wrote", file=STRATA),
                                 location=Location(str(path)), hint=_("run `qualiscore verify` on the sample"))
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


# The columns of the coverage table: strata.csv's column, and its heading.
COLUMNS = (("population", N_("Population")), ("excluded", N_("Excluded")), ("eligible", N_("Eligible")),
           ("sampled", N_("Sampled")))


def sample_report(outdir: str | Path, fmt: str) -> str:
    """The coverage of the sample in ``outdir``: one row per stratum, then the totals."""
    out = Path(outdir)
    manifest = read_manifest(out)
    strata = _strata(out, manifest)
    scheme = manifest["schemes"][0]
    total = {k: sum(int(s[k]) for s in strata) for k, _h in COLUMNS}
    rate = f"{total['sampled'] / total['eligible']:.1%}" if total["eligible"] else "—"
    title = _("Inspection sample · {scheme} {version} · {period}", scheme=scheme["id"], version=scheme["version"],
              period=manifest["period"])
    rows_read = manifest["rows"]
    facts = [(_("Scheme"), f"{scheme['id']} {scheme['version']} (sha256 {scheme['sha256'][:12]}…)"),
             (_("Period"), str(manifest["period"])),
             (_("Rows read"), _("{read} = kept {kept} + rejected {rejected}; {in_period} in the period",
                                read=rows_read["read"], kept=rows_read["read"] - rows_read["rejected"],
                                rejected=rows_read["rejected"], in_period=rows_read["in_period"])),
             (_("Sampled"), _("{sampled} of {eligible} eligible ({rate}), in {file}", sampled=total["sampled"],
                              eligible=total["eligible"], rate=rate, file=SAMPLE))]
    head = (_("Stratum"), *(_(h) for _k, h in COLUMNS), _("Rate"))
    if fmt == "md":
        rows = [[_cell(s["stratum"]), s["population"], s["excluded"], s["eligible"], s["sampled"],
                 f"{float(s['rate']):.1%}" if s["rate"] else "—"] for s in strata]
        rows.append(["**" + _("all") + "**", *(str(total[k]) for k, _h in COLUMNS), rate])
        return "\n".join([f"# {_cell(title)}\n", _table((_("Fact"), _("Value")), [(a, _cell(b)) for a, b in facts]),
                          "## " + _("Coverage per stratum") + "\n", _table(head, rows, right=range(1, 6))])
    widest = max((int(s["eligible"]) for s in strata), default=1) or 1
    body = "".join(_html_row(s, widest) for s in strata)
    cells = "".join(f"<th>{escape(h)}</th>" if n == 0 else f"<th class=n>{escape(h)}</th>" for n, h in enumerate(head))
    return (f"<!DOCTYPE html><html lang=\"{escape(language())}\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2937}td,th{padding:.25rem .6rem;"
            "text-align:left}.n{text-align:right}.bar{background:#e5e7eb;width:16rem}.bar span{display:block;"
            "height:.8rem}.s{background:#2563eb}</style></head><body>"
            f"<h1>{escape(title)}</h1><table>"
            + "".join(f"<tr><th>{escape(a)}</th><td>{escape(b)}</td></tr>" for a, b in facts)
            + "</table><h2>" + escape(_("Coverage per stratum")) + "</h2><table><tr>" + cells
            + "<th>" + escape(_("sampled of eligible")) + f"</th></tr>{body}</table></body></html>\n")


def _html_row(s: dict[str, str], widest: int) -> str:
    eligible, sampled = int(s["eligible"]), int(s["sampled"])
    bar = (f"<div class=bar style=\"width:{16 * eligible / widest:.2f}rem\"><span class=s "
           f"style=\"width:{100 * sampled / eligible if eligible else 0:.1f}%\"></span></div>")
    rate = f"{float(s['rate']):.1%}" if s["rate"] else "—"
    return (f"<tr><td>{escape(s['stratum'])}</td><td class=n>{s['population']}</td><td class=n>{s['excluded']}"
            f"</td><td class=n>{eligible}</td><td class=n>{sampled}</td><td class=n>{rate}</td><td>{bar}</td></tr>")
