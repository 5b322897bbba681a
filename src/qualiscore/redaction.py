"""Personal data in free text, redacted wherever text from the data is copied into an output.

A rejected cell's value and reason, and a veto's evidence, are copied from the input into
files that are shared beyond the team (rejects.csv, scorecards, the report). China's
Personal Information Protection Law asks for minimised, de-identified processing, so the
numbers and addresses that identify a person are replaced by what they are:

* e-mail addresses → ``[email]``;
* 18-digit resident ID numbers whose GB 11643 check digit (ISO 7064 MOD 11-2) holds → ``[id]``;
* mainland mobile numbers (11 digits from 13–19, optionally +86) → ``[mobile]``;
* landline numbers with their area code (0xx-xxxxxxxx) → ``[phone]``;
* bank card numbers, 13–19 digits that pass the Luhn check → ``[card]``.

A number that only looks like one (an 18-digit id whose check digit fails, 16 digits that
fail Luhn) is left as it is, so record ids and amounts stay readable.
"""

from __future__ import annotations

import re

__all__ = ["redact"]

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_DIGITS = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?\d[\d -]{9,24}[\dXx](?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def redact(text: str | None) -> str | None:
    """``text`` with every e-mail address, resident ID, mobile, landline and bank card number replaced."""
    if not text:
        return text
    text = _EMAIL.sub("[email]", text)
    text = _DIGITS.sub(_number, text)
    return _LANDLINE.sub("[phone]", text)


def _number(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"[ -]", "", raw)
    bare = digits.removeprefix("+").removeprefix("86") if len(digits) > 11 and digits.lstrip("+").startswith("86") \
        else digits
    if len(digits) == 18 and _resident_id(digits):
        return "[id]"
    if len(bare) == 11 and re.fullmatch(r"1[3-9]\d{9}", bare):
        return "[mobile]"
    if digits.isdigit() and 13 <= len(digits) <= 19 and _luhn(digits):
        return "[card]"
    return raw


def _resident_id(number: str) -> bool:
    """The check digit of an 18-digit resident ID (GB 11643-1999, ISO 7064 MOD 11-2)."""
    if not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def _luhn(number: str) -> bool:
    total = 0
    for k, d in enumerate(reversed(number)):
        n = int(d)
        if k % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
