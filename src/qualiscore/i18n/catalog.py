"""The catalogs: extract every message, merge it into each language's .po, compile the .mo.

``make messages`` runs :func:`main`; the tests call :func:`problems` to check that every
message has a translation with the same placeholders and that each shipped .mo is its
.po compiled. Messages come from three places: ``_``, ``N_`` and ``ngettext`` calls in
the package (Babel's Python extractor), the command line's help (read from the click
commands themselves, since click takes it from docstrings), and click's own texts
("Usage:", "Missing argument …"), which the command line sends through the catalog too.
Needs Babel (the ``test`` extra); nothing at run time imports this module.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import inspect
import io
import os
import re
import string
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from . import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
CLICK_KEYWORDS = {"_": None, "ngettext": (1, 2)}
STAMP = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)  # a fixed date in the headers: a .po changes with its messages only
# click translates these through a variable (``_(extra["required"])``), where no extractor sees them.
CLICK_DYNAMIC = (("click/core.py", "required"),)
_PERCENT = re.compile(r"%(?:\(\w+\))?[sdr]")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def _extracted(root: Path, prefix: str, keywords: Mapping[str, Any]) -> Iterator[tuple[str, str | tuple[str, ...]]]:
    method_map = [("**/i18n/**", "ignore"), ("**.py", "python")]
    for filename, _lineno, message, _comments, _context in extract_from_dir(
            root, method_map=method_map, keywords=keywords, strip_comment_tags=True):
        yield f"{prefix}/{filename}", message


def cli_texts() -> Iterator[tuple[str, str]]:
    """The help of the group, of every command and of every option, as click holds it (located at
    ``help:<module path>``, so that help texts can be told from the messages of the same module)."""
    from .. import cli

    yield "help:qualiscore/cli/__init__.py", inspect.cleandoc(cli.cli.help or "")
    for param in cli.cli.params:
        if isinstance(param, click.Option) and param.help:
            yield "help:qualiscore/cli/__init__.py", param.help
    for _command, lazy in sorted(cli.COMMANDS.items()):
        module, attribute = lazy.target.split(":")
        where = "help:" + module.replace(".", "/") + ".py"
        yield "help:qualiscore/cli/__init__.py", lazy.help
        command = getattr(importlib.import_module(module), attribute)
        for text in (command.help, command.epilog, command.short_help):
            if text:
                yield where, inspect.cleandoc(text)
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                yield where, param.help


def template() -> Catalog:
    """Every message there is to translate, where it is used."""
    catalog = Catalog(project="qualiscore", domain=DOMAIN, fuzzy=False, creation_date=STAMP)
    sources = [*_extracted(PACKAGE, "qualiscore", KEYWORDS), *cli_texts(),
               *_extracted(Path(click.__file__).parent, "click", CLICK_KEYWORDS), *CLICK_DYNAMIC]
    for where, message in sources:
        if not message or (isinstance(message, tuple) and not all(message)):
            continue
        known = catalog.get(message[0] if isinstance(message, tuple) else message)
        if known is not None:
            known.locations.append((where, None))  # type: ignore[arg-type]
        else:
            catalog.add(message, locations=[(where, None)])  # type: ignore[list-item]
    return catalog


def _read(path: Path, lang: str) -> Catalog:
    if not path.is_file():
        return Catalog(locale=lang.replace("-", "_"), project="qualiscore", domain=DOMAIN, creation_date=STAMP,
                       revision_date=STAMP, last_translator="qualiscore maintainers",
                       language_team=f"{lang} <https://github.com/qualiscore>", version="1",
                       header_comment=f"# The {lang} messages of qualiscore: run `make messages` after changing one.")
    with path.open("rb") as f:
        return read_po(f, locale=lang.replace("-", "_"), domain=DOMAIN)


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update(lang: str, template_catalog: Catalog | None = None) -> Catalog:
    """Bring ``lang``'s .po up to the messages of the code (new ones empty, gone ones dropped) and compile it."""
    path = po_path(lang)
    catalog = _read(path, lang)
    catalog.update(template_catalog or template(), no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()
    catalog.fuzzy = False
    text = io.BytesIO()
    write_po(text, catalog, width=100, include_lineno=False, omit_header=False)
    _replace(path, text.getvalue())
    catalog = _read(path, lang)  # compiled as the tests will read it
    _replace(path.with_suffix(".mo"), compiled(catalog))
    return catalog


def _translated(message: Message) -> bool:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return bool(strings) and all(strings)


def placeholders(text: str) -> list[str]:
    """The ``{fields}`` and ``%`` conversions of a message, in sorted order (a translation may reorder them)."""
    fields = sorted(f"{{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
                    for _text, name, spec, conv in string.Formatter().parse(text) if name is not None)
    return fields + sorted(_PERCENT.findall(text))


def problems(lang: str) -> list[str]:
    """What is wrong with ``lang``'s catalog: messages with no translation, placeholders that differ, a stale .mo."""
    path = po_path(lang)
    catalog = _read(path, lang)
    found = []
    for message in template():
        if not message.id:
            continue
        have = catalog.get(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        if have is None or not _translated(have):
            found.append(f"{ids[0]!r} ({message.locations[0][0]}): no {lang} translation")
            continue
        if have.fuzzy:
            found.append(f"{ids[0]!r}: the {lang} translation is marked fuzzy")
        strings = have.string if isinstance(have.string, tuple) else (have.string,)
        # A language with fewer plural forms than English (Chinese has one) may use either form's placeholders.
        wants = [sorted(set(placeholders(str(i)))) for i in ids]
        for translation in strings:
            try:
                got = sorted(set(placeholders(str(translation))))
            except ValueError as exc:
                found.append(f"{ids[0]!r}: the {lang} translation is not a valid format string ({exc})")
                continue
            if got not in wants:
                found.append(f"{ids[0]!r}: placeholders {wants[-1]} in English but {got} in {lang}")
    mo = path.with_suffix(".mo")
    if not mo.is_file() or mo.read_bytes() != compiled(catalog):
        found.append(f"{mo} is not {path.name} compiled: run `make messages`")
    return found


def todo(lang: str, prefixes: list[str]) -> bytes:
    """The messages used in files under ``prefixes`` (``qualiscore/diff/``) that ``lang`` lacks, as a .po to fill."""
    have = _read(po_path(lang), lang)
    out = Catalog(locale=lang.replace("-", "_"), project="qualiscore", domain=DOMAIN, creation_date=STAMP,
                  revision_date=STAMP)
    for message in template():
        if not message.id or not any(w.startswith(p) for w, _line in message.locations for p in prefixes):
            continue
        known = have.get(message.id)
        if known is None or not _translated(known):
            out.add(message.id, locations=message.locations)
    text = io.BytesIO()
    write_po(text, out, width=100, include_lineno=False, omit_header=True)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qualiscore.i18n.catalog", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report what is missing; change nothing")
    parser.add_argument("--todo", nargs="+", metavar="PREFIX",
                        help="print, as a .po to fill in, the untranslated messages of files under these paths "
                             "(e.g. qualiscore/diff/ click/)")
    args = parser.parse_args(argv)
    if args.todo:
        sys.stdout.buffer.write(todo(LANGUAGES[1], args.todo))
        return 0
    status = 0
    tpl = None if args.check else template()
    for lang in LANGUAGES[1:]:
        if not args.check:
            catalog = update(lang, tpl)
            print(f"{po_path(lang)}: {sum(1 for m in catalog if m.id)} messages")
        found = problems(lang)
        for line in found:
            print(line, file=sys.stderr)
        print(f"{lang}: {len(found)} problem(s)")
        status = status or (1 if found else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
