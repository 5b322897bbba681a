"""The verification record: a dated account of one ``verify``, to file with an audit.

The record is data first: one JSON object naming the verifier, the tool, every check
with its expected and found values, every discrepancy and the verdict, sealed by the
SHA-256 of its canonical form (and signed, when the verifier gives a key). Markdown
and HTML are renderings of that object with the object itself embedded, so
:func:`check_record` can confirm a filed record by re-rendering it from the embedded
JSON and comparing bytes: a record whose readable text was edited, or whose JSON no
longer matches its seal, is reported as altered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from ._display import visible
from .errors import QualiscoreError
from .signing import default_operator, host_name

FORMAT = "qualiscore-verification/v1"
FORMATS = ("json", "md", "html")
_JSON_FENCE = "```json"
_SCRIPT = '<script type="application/json" id="qualiscore-record">'


class RecordError(QualiscoreError):
    """A file given as a verification record is not one, or was altered after it was written."""

    exit_code = 13
    code = "record-altered"


class DamagedRecordError(RecordError):
    exit_code = 16
    code = "damaged-record"


def build(report: Any, manifest: Mapping[str, Any], *, command: Sequence[str],
          when: dt.datetime | None = None) -> dict[str, Any]:
    """The record of ``report`` (a :class:`qualiscore.verify.Report`) for the run ``manifest`` describes."""
    moment = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    record: dict[str, Any] = {
        "format": FORMAT,
        "verified_at": moment.isoformat().replace("+00:00", "Z"),
        "verifier": {"operator": default_operator(), "host": host_name(), "qualiscore": __version__,
                     "command": list(command)},
        **report.as_dict(),
        "run": {
            "manifest_sha256": report.manifest_sha256,
            "engine": manifest["engine"],
            "schemes": [{"id": s["id"], "version": s["version"], "path": s["path"]} for s in manifest["schemes"]],
            "rows": manifest["rows"],
            # a run has subjects; an inspection sample (qualiscore sample) has its period instead
            **({"subjects": manifest["subjects"]} if "subjects" in manifest else {"period": manifest.get("period")}),
        },
    }
    record["seal"] = {"sha256": _seal(record)}
    return record


def _canonical(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _seal(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical({k: v for k, v in record.items() if k != "seal"})).hexdigest()


def sign(record: dict[str, Any], key: Path) -> None:
    """Add the verifier's Ed25519 signature of the seal to ``record``."""
    from .signing import sign_bytes

    record["seal"]["signature"] = sign_bytes(record["seal"]["sha256"].encode("ascii"), key)


# --------------------------------------------------------------------------- rendering


def render(record: Mapping[str, Any], fmt: str) -> bytes:
    if fmt == "json":
        return _embedded(record).encode("utf-8")
    if fmt == "md":
        return _markdown(record).encode("utf-8")
    return _html(record).encode("utf-8")


def _embedded(record: Mapping[str, Any]) -> str:
    """The record as indented JSON that can sit inside a Markdown fence or an HTML script element."""
    text = json.dumps(record, ensure_ascii=True, sort_keys=True, indent=2)
    return text.replace("`", "\\u0060").replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def _rows(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    v = record["verifier"]
    run = record["run"]
    sig = record.get("signature") or {}
    schemes = ", ".join(f"{s['id']} {s['version']} ({s['path']})" for s in run["schemes"])
    rows = [
        ("Verdict", "VERIFIED" if record["verified"] else f"NOT VERIFIED (exit {record['exit_code']})"),
        ("Verified at", record["verified_at"]),
        ("Verified by", f"{v['operator']} on {v['host']}, qualiscore {v['qualiscore']}"),
        ("Command", " ".join(v["command"])),
        ("Output directory", record["outdir"]),
        ("Manifest SHA-256", run["manifest_sha256"] or "—"),
        ("Run made by", f"qualiscore {run['engine']['version']} ({run['engine']['engine']} engine)"),
        ("Schemes", schemes),
        ("Rows", f"read {run['rows']['read']} = scored {run['rows']['scored']} + rejected {run['rows']['rejected']}"
         if "scored" in run["rows"] else  # an inspection sample
         f"read {run['rows']['read']} = kept {run['rows']['read'] - run['rows']['rejected']} + rejected "
         f"{run['rows']['rejected']}; {run['rows'].get('sampled', 0)} sampled in {run.get('period')}"),
        ("Signature", sig.get("summary", "not signed") if sig else (
            f"signed by {record['signer']}" if record.get("signer") else "not signed")),
        ("Record seal (SHA-256)", record["seal"]["sha256"]),
    ]
    signed = record["seal"].get("signature")
    if signed:
        rows.append(("Record signed by", signed["fingerprint"]))
    return rows


def _md(text: Any) -> str:
    out = visible(" ".join(str(text).split()))
    out = html.escape(out, quote=False)
    for ch in "\\`*_[]|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _markdown(record: Mapping[str, Any]) -> str:
    out = ["# Verification record", "",
           "| | |", "|---|---|", *[f"| {_md(k)} | {_md(v)} |" for k, v in _rows(record)], "",
           "## Checks", "", "| check | item | expected | found | result |", "|---|---|---|---|---|"]
    out += [f"| {_md(c['check'])} | {_md(c['item'])} | {_md(c['expected'] or '—')} | {_md(c['found'] or '—')} "
            f"| {_md(c['result'])} |" for c in record["checks"]]
    out += ["", "## Discrepancies", ""]
    out += [f"- **{_md(d['kind'])}**: {_md(d['message'])}" for d in record["discrepancies"]] or ["None."]
    out += ["", "## The record as data", "",
            "This block is the record itself; `qualiscore check-record FILE` confirms that it matches its "
            "seal and that the text above is its rendering.", "", _JSON_FENCE, _embedded(record) + "```", ""]
    return "\n".join(out)


_CSS = ("body{font:14px/1.5 system-ui,'Noto Sans CJK SC',sans-serif;margin:2em auto;max-width:60em;color:#222}"
        "table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
        "text-align:left;vertical-align:top}code,.mono{font-family:ui-monospace,monospace;word-break:break-all}"
        ".pass{color:#1b7e3c}.fail{color:#b3261e;font-weight:bold}.ok{background:#e6f4ea}.bad{background:#fce8e6}"
        "@media print{body{margin:0;max-width:none}}")


def _html(record: Mapping[str, Any]) -> str:
    e = html.escape
    verified = record["verified"]
    facts = "".join(f"<tr><th>{e(k)}</th><td class=\"mono\">{e(visible(str(v)))}</td></tr>" for k, v in _rows(record))
    checks = "".join(
        f"<tr><td>{e(c['check'])}</td><td class=\"mono\">{e(visible(str(c['item'])))}</td>"
        f"<td class=\"mono\">{e(str(c['expected'] or '—'))}</td><td class=\"mono\">{e(str(c['found'] or '—'))}</td>"
        f"<td class=\"{'pass' if c['result'] == 'pass' else 'fail'}\">{e(c['result'])}</td></tr>"
        for c in record["checks"])
    found = "".join(f"<li><b>{e(d['kind'])}</b>: {e(visible(d['message']))}</li>" for d in record["discrepancies"])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Verification record {e(record['verified_at'])}</title><style>{_CSS}</style></head>\n<body>"
        f"<h1>Verification record</h1><p class=\"{'ok' if verified else 'bad'}\">"
        f"{'VERIFIED' if verified else 'NOT VERIFIED'}: {e(visible(record['outdir']))}</p>"
        f"<table>{facts}</table><h2>Checks</h2><table><tr><th>check</th><th>item</th><th>expected</th>"
        f"<th>found</th><th>result</th></tr>{checks}</table><h2>Discrepancies</h2>"
        f"{f'<ul>{found}</ul>' if found else '<p>None.</p>'}"
        "<p>The record as data is embedded in this page; <code>qualiscore check-record FILE</code> confirms that it "
        "matches its seal and that this page is its rendering.</p>\n"
        f"{_SCRIPT}\n{_embedded(record)}</script>\n</body></html>\n"
    )


# --------------------------------------------------------------------------- checking a filed record


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """A filed record confirmed: its format, its seal and who signed it (None when unsigned)."""

    fmt: str
    record: dict[str, Any]
    signer: str | None


def check_record(path: str | Path) -> RecordCheck:
    """Confirm the record in ``path``: its JSON matches its seal and the file is exactly its rendering."""
    file = Path(path)
    try:
        data = file.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedRecordError(f"cannot read {file} as a verification record: {exc}",
                                 hint="give the file `qualiscore verify --format md|json|html` wrote") from None
    fmt, embedded = _extract(text, file)
    try:
        record = json.loads(embedded)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DamagedRecordError(f"the record embedded in {file} is not valid JSON: {exc}",
                                 hint="restore the filed copy") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("seal"), dict):
        raise DamagedRecordError(f"{file} does not hold a {FORMAT} record", hint="restore the filed copy")
    if record["seal"].get("sha256") != _seal(record):
        raise RecordError(f"{file}: the record's content does not match its seal: it was edited after "
                          f"`verify` wrote it", hint="do not rely on this record; verify the run again")
    try:
        again = render(record, fmt)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DamagedRecordError(f"{file} holds a record this version cannot render: {exc}",
                                 hint="check it with the qualiscore version named in the record") from None
    if again != data:
        line = _first_difference(data, again)
        raise RecordError(f"{file}: line {line} differs from the rendering of the sealed record: the readable "
                          "text was edited", hint="read the sealed data at the end of the file, or verify the run "
                          "again")
    signer = None
    signature = record["seal"].get("signature")
    if signature is not None:
        from .signing import check_bytes

        signer = check_bytes(signature, record["seal"]["sha256"].encode("ascii"))
    return RecordCheck(fmt, record, signer)


def _extract(text: str, file: Path) -> tuple[str, str]:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return "json", text
    if text.startswith("# Verification record"):
        start = text.rfind(_JSON_FENCE + "\n")
        end = text.rfind("```\n")
        if 0 <= start < end:
            return "md", text[start + len(_JSON_FENCE) + 1:end]
    if stripped.startswith("<!DOCTYPE html>"):
        match = re.search(re.escape(_SCRIPT) + r"\n(.*)</script>", text, re.S)
        if match:
            return "html", match[1]
    raise DamagedRecordError(f"{file} is not a verification record (no sealed record found in it)",
                             hint="give the file `qualiscore verify --format md|json|html` wrote")


def _first_difference(a: bytes, b: bytes) -> int:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return n
    return min(len(a.splitlines()), len(b.splitlines())) + 1
