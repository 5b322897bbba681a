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
from .i18n import LANGUAGES, N_, _, language, language_of, translated, using
from .signing import default_operator, host_name
from .trust import described

FORMAT = "qualiscore-verification/v1"
FORMATS = ("json", "md", "html")
_JSON_FENCE = "```json"
_SCRIPT = '<script type="application/json" id="qualiscore-record">'
_WRITTEN_BY_VERIFY = N_("give the file `qualiscore verify --format md|json|html` wrote")
# A check's result is data ("pass", "fail", "not checked"); the renderings show it in the record's language.
_RESULTS = {"pass": N_("pass"), "fail": N_("fail"), "not checked": N_("not checked")}


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
        # the language of the record's sentences (the report's messages), in which it is rendered and checked
        "language": getattr(report, "language", None) or language(),
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
    """The record as a file, its readable text in the record's language (whatever the language in force)."""
    if fmt == "json":
        return _embedded(record).encode("utf-8")
    with using(record_language(record)):
        if fmt == "md":
            return _markdown(record).encode("utf-8")
        return _html(record).encode("utf-8")


def record_language(record: Mapping[str, Any]) -> str:
    """The language a record was written in: English for a record that names none (or one not known)."""
    named = record.get("language")
    return (language_of(named) if isinstance(named, str) else None) or LANGUAGES[0]


def _word(text: Any) -> str:
    """A name the record holds in English (a check, a result), in the language in force."""
    return translated(text) if isinstance(text, str) and text else str(text)


def _embedded(record: Mapping[str, Any]) -> str:
    """The record as indented JSON that can sit inside a Markdown fence or an HTML script element."""
    text = json.dumps(record, ensure_ascii=True, sort_keys=True, indent=2)
    return text.replace("`", "\\u0060").replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def _rows(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    v = record["verifier"]
    run = record["run"]
    sig = record.get("signature") or {}
    schemes = ", ".join(f"{s['id']} {s['version']} ({s['path']})" for s in run["schemes"])
    rows_ = run["rows"]
    rows = [
        (_("Verdict"), _("VERIFIED") if record["verified"] else _("NOT VERIFIED (exit {code})",
                                                                  code=record["exit_code"])),
        (_("Verified at"), record["verified_at"]),
        (_("Verified by"), _("{operator} on {host}, qualiscore {version}", operator=v["operator"], host=v["host"],
                             version=v["qualiscore"])),
        (_("Command"), " ".join(v["command"])),
        (_("Output directory"), record["outdir"]),
        (_("Manifest SHA-256"), run["manifest_sha256"] or "—"),
        (_("Run made by"), _("qualiscore {version} ({engine} engine)", version=run["engine"]["version"],
                             engine=run["engine"]["engine"])),
        (_("Schemes"), schemes),
        (_("Rows"), _("read {read} = scored {scored} + rejected {rejected}", read=rows_["read"],
                      scored=rows_["scored"], rejected=rows_["rejected"])
         if "scored" in rows_ else  # an inspection sample
         _("read {read} = kept {kept} + rejected {rejected}; {sampled} sampled in {period}", read=rows_["read"],
           kept=rows_["read"] - rows_["rejected"], rejected=rows_["rejected"], sampled=rows_.get("sampled", 0),
           period=run.get("period"))),
        (_("Signature"), described(sig.get("status", "not-signed"), sig, sig.get("owner")) if sig else (
            _("signed by {signer}", signer=record["signer"]) if record.get("signer") else _("not signed"))),
        (_("Record seal (SHA-256)"), record["seal"]["sha256"]),
    ]
    signed = record["seal"].get("signature")
    if signed:
        rows.append((_("Record signed by"), signed["fingerprint"]))
    return rows


def _md(text: Any) -> str:
    out = visible(" ".join(str(text).split()))
    out = html.escape(out, quote=False)
    for ch in "\\`*_[]|#":
        out = out.replace(ch, "\\" + ch)
    return out


def _markdown(record: Mapping[str, Any]) -> str:
    heads = " | ".join(_md(h) for h in _check_headings())
    out = ["# " + _md(_("Verification record")), "",
           "| | |", "|---|---|", *[f"| {_md(k)} | {_md(v)} |" for k, v in _rows(record)], "",
           "## " + _md(_("Checks")), "", f"| {heads} |", "|---|---|---|---|---|"]
    out += [f"| {_md(_word(c['check']))} | {_md(c['item'])} | {_md(c['expected'] or '—')} | {_md(c['found'] or '—')} "
            f"| {_md(_word(_RESULTS.get(c['result'], c['result'])))} |" for c in record["checks"]]
    out += ["", "## " + _md(_("Discrepancies")), ""]
    out += [f"- **{_md(d['kind'])}**: {_md(d['message'])}" for d in record["discrepancies"]] or [_md(_("None."))]
    out += ["", "## " + _md(_("The record as data")), "",
            _("This block is the record itself; `qualiscore check-record FILE` confirms that it matches its "
              "seal and that the text above is its rendering."), "", _JSON_FENCE, _embedded(record) + "```", ""]
    return "\n".join(out)


def _check_headings() -> tuple[str, ...]:
    """The columns of the table of checks (the keys of a check in the record's data, put in words)."""
    return _("check"), _("item"), _("expected"), _("found"), _("result")


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
        f"<tr><td>{e(_word(c['check']))}</td><td class=\"mono\">{e(visible(str(c['item'])))}</td>"
        f"<td class=\"mono\">{e(str(c['expected'] or '—'))}</td><td class=\"mono\">{e(str(c['found'] or '—'))}</td>"
        f"<td class=\"{'pass' if c['result'] == 'pass' else 'fail'}\">"
        f"{e(_word(_RESULTS.get(c['result'], c['result'])))}</td></tr>"
        for c in record["checks"])
    found = "".join(f"<li><b>{e(d['kind'])}</b>: {e(visible(d['message']))}</li>" for d in record["discrepancies"])
    heads = "".join(f"<th>{e(h)}</th>" for h in _check_headings())
    title = e(_("Verification record"))
    word = _("VERIFIED") if verified else _("NOT VERIFIED")
    verdict = e(_("{verdict}: {outdir}", verdict=word, outdir=visible(record["outdir"])))
    checks_title, discrepancies_title, none = e(_("Checks")), e(_("Discrepancies")), e(_("None."))
    # The sentence's words escaped, its command in <code> (a placeholder no translation escapes).
    embedded = e(_("The record as data is embedded in this page; {command} confirms that it matches its seal and "
                   "that this page is its rendering.", command="\0")).replace("\0", "<code>qualiscore check-record "
                                                                                   "FILE</code>")
    return (
        f"<!DOCTYPE html>\n<html lang=\"{e(language())}\"><head><meta charset=\"utf-8\">"
        f"<title>{title} {e(record['verified_at'])}</title><style>{_CSS}</style></head>\n<body>"
        f"<h1>{title}</h1><p class=\"{'ok' if verified else 'bad'}\">"
        f"{verdict}</p>"
        f"<table>{facts}</table><h2>{checks_title}</h2><table><tr>{heads}</tr>{checks}</table>"
        f"<h2>{discrepancies_title}</h2>"
        f"{f'<ul>{found}</ul>' if found else f'<p>{none}</p>'}"
        f"<p>{embedded}</p>\n"
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
        raise DamagedRecordError(_("cannot read {file} as a verification record: {reason}", file=file, reason=exc),
                                 hint=_(_WRITTEN_BY_VERIFY)) from None
    fmt, embedded = _extract(text, file)
    try:
        record = json.loads(embedded)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise DamagedRecordError(_("the record embedded in {file} is not valid JSON: {reason}", file=file,
                                   reason=exc),
                                 hint=_("restore the filed copy")) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT or not isinstance(record.get("seal"), dict):
        raise DamagedRecordError(_("{file} does not hold a {format} record", file=file, format=FORMAT),
                                 hint=_("restore the filed copy"))
    if record["seal"].get("sha256") != _seal(record):
        raise RecordError(_("{file}: the record's content does not match its seal: it was edited after `verify` "
                            "wrote it", file=file), hint=_("do not rely on this record; verify the run again"))
    try:
        again = render(record, fmt)  # in the record's language, whatever the language of this check
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise DamagedRecordError(_("{file} holds a record this version cannot render: {reason}", file=file,
                                   reason=exc),
                                 hint=_("check it with the qualiscore version named in the record")) from None
    if again != data:
        line = _first_difference(data, again)
        raise RecordError(_("{file}: line {line} differs from the rendering of the sealed record: the readable "
                            "text was edited", file=file, line=line),
                          hint=_("read the sealed data at the end of the file, or verify the run again"))
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
    if text.startswith("# "):  # the title, in the record's language
        start = text.rfind(_JSON_FENCE + "\n")
        end = text.rfind("```\n")
        if 0 <= start < end:
            return "md", text[start + len(_JSON_FENCE) + 1:end]
    if stripped.startswith("<!DOCTYPE html>"):
        match = re.search(re.escape(_SCRIPT) + r"\n(.*)</script>", text, re.S)
        if match:
            return "html", match[1]
    raise DamagedRecordError(_("{file} is not a verification record (no sealed record found in it)", file=file),
                             hint=_(_WRITTEN_BY_VERIFY))


def _first_difference(a: bytes, b: bytes) -> int:
    for n, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), 1):
        if x != y:
            return n
    return min(len(a.splitlines()), len(b.splitlines())) + 1
