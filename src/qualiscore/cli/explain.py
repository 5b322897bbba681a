"""`qualiscore explain`: one scorecard as a readable tree, from an output directory or a fresh run."""

from __future__ import annotations

import datetime as dt
import difflib
import json
from pathlib import Path
from typing import Any, NoReturn

import click

from .._display import visible
from ..approval import approval_of, published_approval
from ..errors import EXIT_USAGE, DamagedOutputError, OutputError
from ..explain import explain_text
from ..i18n import N_, _
from ..manifest import read_manifest
from ..options import RunOptions
from ..runs import execute
from ..scorecard import scorecard_dict
from . import DSN_FILE, Command, echo, fail
from ._params import DATE, FIELDS, PSEUDONYMISE_KEY


@click.command("explain", cls=Command)
@click.argument("source", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--subject", required=True, help="Subject key, e.g. A017/2026-05 (see scorecards.csv).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--by", type=FIELDS, default=None, metavar="FIELD[,FIELD]",
              help="With SCHEME DATA: regroup as evaluate --by.")
@click.option("--encoding", default=None, help="With SCHEME DATA: input text encoding.")
@click.option("--as-of", type=DATE, default=None,
              help="With a directory of versions: use the version in force on this date.")
@PSEUDONYMISE_KEY
@DSN_FILE
def command(source: tuple[str, ...], subject: str, fmt: str, by: tuple[str, ...] | None, encoding: str | None,
            as_of: dt.datetime | None, pseudonymise_key: bytes | None) -> None:
    """Explain one scorecard: every value, band, weight and contribution.

    SOURCE is an output directory of `evaluate`, or a scheme followed by data files.
    Under the first line, the scheme's approved_by and approved_on are shown as an
    approval only when the run recorded the scheme file as committed unchanged in its
    git repository (see `qualiscore verify --rules-rev` for the proof).

    \b
    Examples:
      qualiscore explain out/ --subject A017/2026-05
      qualiscore explain rules/cs-quality/2026Q2.yaml data.csv --subject A017/2026-05
    """
    published = len(source) == 1 and Path(source[0]).is_dir()
    if published:
        outdir = Path(source[0])
        card, decimals = card_from_outdir(outdir, subject)
        scheme = card.get("scheme")
        sha256 = scheme.get("sha256") if isinstance(scheme, dict) else None
        approval = published_approval(read_manifest(outdir), outdir, sha256) \
            if isinstance(sha256, str) and fmt == "text" else None
    else:
        if len(source) < 2:
            raise click.UsageError(_("give an output directory, or a scheme followed by data files"))
        options = RunOptions(engine="rows", by=by, as_of=as_of.date() if as_of else None, encoding=encoding,
                             pseudonymise_key=pseudonymise_key)
        run = execute(source[0], source[1:], options)
        match = [c for c in run.scorecards if c.subject == subject]
        if not match:
            no_subject(subject, [c.subject for c in run.scorecards])
        card, decimals = scorecard_dict(match[0]), match[0].decimals
        approval = next((approval_of(s, s.git) for s in run.schemes if s.sha256 == match[0].scheme_sha256), None)
    line = visible(approval.text()) if approval is not None else None
    if fmt == "json":
        echo(json.dumps(card, ensure_ascii=False, indent=2, sort_keys=True))
    elif not published:
        echo(explain_text(shown(card), decimals, line), nl=False)
    else:
        try:
            text = explain_text(shown(card), decimals, line)
        except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:  # an edited scorecard
            raise DamagedOutputError(_("the scorecard of {subject} is not complete ({kind}: {reason})",
                                       subject=subject, kind=type(exc).__name__, reason=exc),
                                     code="damaged-output", hint=_(DAMAGED_HINT)) from None
        echo(text, nl=False)


def card_from_outdir(outdir: Path, subject: str) -> tuple[dict[str, Any], int]:
    """The subject's line of a published scorecards.jsonl, and its decimals."""
    read_manifest(outdir)
    subjects = []
    path = outdir / "scorecards.jsonl"
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                card = json.loads(line)
                if not isinstance(card, dict) or not isinstance(card.get("dimensions"), list):
                    raise DamagedOutputError(_("{path}:{line} is not a scorecard", path=path, line=n),
                                             code="damaged-output", hint=_(DAMAGED_HINT))
                if card.get("subject") == subject:
                    return card, _decimals(card)
                subjects.append(card.get("subject"))
    except FileNotFoundError:
        raise OutputError(_("{outdir} has no scorecards.jsonl", outdir=outdir),
                          hint=_("give the -o directory of `qualiscore evaluate`")) from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise DamagedOutputError(_("cannot read {path}: {reason}", path=path, reason=exc), code="damaged-output",
                                 hint=_(DAMAGED_HINT)) from None
    no_subject(subject, subjects)


DAMAGED_HINT = N_("the output was edited or damaged after the run; re-run evaluate")


def _decimals(card: dict[str, Any]) -> int:
    decimals = card.get("decimals", 2)
    return decimals if isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 12 else 2


def no_subject(subject: str, subjects: list[Any]) -> NoReturn:
    """A usage error naming the closest subjects there are."""
    close = difflib.get_close_matches(subject, [s for s in subjects if isinstance(s, str)], n=3)
    hint = (_("did you mean {subjects}?", subjects=", ".join(close)) if close
            else _("subjects are listed in the first column of scorecards.csv"))
    fail(_("no scorecard for subject {subject!r} — {hint}", subject=subject, hint=hint), EXIT_USAGE)


def shown(value: Any) -> Any:
    """``value`` with each string in it :func:`visible`, so a name or key with a line break stays on its line."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {key: shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shown(item) for item in value]
    return value
