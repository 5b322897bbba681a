"""The language of every message: English in the code, translated through gettext catalogs.

A message is written once, in English, as the catalog key (the msgid), with named
``{placeholders}``; :func:`_` looks it up in the current language and fills it, so a
translation may put the values in another order. The language is ``--lang``, else
``QUALISCORE_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``); anything
not known is English. Codes, JSON keys, exit statuses and file columns never change
with it. The catalogs (``locale/<lang>/LC_MESSAGES/qualiscore.po``) are extracted,
merged and compiled by :mod:`.catalog` (``make messages``) and shipped compiled.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

__all__ = ["DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "_", "choose", "kept", "language", "language_of", "ngettext",
           "translated", "translated_plural", "using"]

DOMAIN = "qualiscore"
LANGUAGES = ("en", "zh-CN")  # what --lang accepts; the first is the default and the language of the code
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
ENVIRONMENT = ("QUALISCORE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")  # the first one set decides

# A language tag or a POSIX locale name: "zh-CN", "zh_CN.UTF-8", "zh_Hans_CN", "en_GB@euro", "C".
_TAG = re.compile(r"([A-Za-z]{1,8})(?:[-_]([A-Za-z0-9]{1,8}))?(?:[-_]([A-Za-z0-9]{1,8}))?(?:[.@].*)?")
_CHINESE_SIMPLIFIED = {None, "cn", "sg", "hans", "my"}

_chosen: ContextVar[str | None] = ContextVar("qualiscore_language", default=None)


@cache
def language_of(text: str | None) -> str | None:
    """The language of ``LANGUAGES`` that a tag or locale name asks for, or None when it asks for none of them."""
    match = _TAG.fullmatch((text or "").strip())
    if match is None:
        return None
    lang, region, script = (g.lower() if g else None for g in match.groups())
    if lang == "zh" and region in _CHINESE_SIMPLIFIED and (script is None or script in _CHINESE_SIMPLIFIED):
        return "zh-CN"
    if lang in ("en", "c", "posix"):
        return "en"
    return None


def language() -> str:
    """The language messages are written in now: the one chosen with :func:`using`, else the environment's."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    for name in ENVIRONMENT:
        value = os.environ.get(name)
        if value:
            return language_of(value) or LANGUAGES[0]
    return LANGUAGES[0]


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Write messages in ``lang`` (a tag or locale name; anything else: English) inside the block;
    None changes nothing."""
    if lang is None:
        yield language()
        return
    token = _chosen.set(language_of(lang) or LANGUAGES[0])
    try:
        yield language()
    finally:
        _chosen.reset(token)


def choose(lang: str) -> None:
    """Write messages in ``lang`` from now on, in this context (the command line's ``--lang``; see :func:`kept`)."""
    _chosen.set(language_of(lang) or LANGUAGES[0])


@contextmanager
def kept() -> Iterator[None]:
    """The language as it is now, again after the block, whatever :func:`choose` did inside it."""
    token = _chosen.set(_chosen.get())
    try:
        yield
    finally:
        _chosen.reset(token)


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    if lang == LANGUAGES[0]:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang.replace("-", "_")], fallback=True)


def _(message: str, /, **values: object) -> str:
    """``message`` in the current language, its ``{placeholders}`` filled from ``values``."""
    return _catalog(language()).gettext(message).format(**values)


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The form of a message that fits the number ``n`` (``{n}`` is filled too)."""
    return _catalog(language()).ngettext(singular, plural, n).format(n=n, **values)


def translated(message: str, /) -> str:
    """``message`` in the current language, as it is (click's own texts, which click fills itself)."""
    return _catalog(language()).gettext(message)


def translated_plural(singular: str, plural: str, n: int, /) -> str:
    return _catalog(language()).ngettext(singular, plural, n)


def N_(message: str, /) -> str:
    """Marks a message kept in a table for translation where it is shown (``_(TABLE[key])``)."""
    return message
