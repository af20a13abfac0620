"""Cells that a spreadsheet never reads as a formula (OWASP's advice on CSV injection).

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` as a formula, and some
skip leading whitespace first, or start a formula after a tab or carriage return. Such a
value is prefixed with a single quote, which makes it text; the quote shows, so nothing
is hidden from the reader.
"""

from __future__ import annotations

# The ASCII triggers and their full-width forms (which some spreadsheets also accept).
FORMULA_STARTS = frozenset("=+-@＝＋－＠")
# A value starting with one of these is prefixed whatever follows it.
RISKY_FIRST = frozenset("\t\r")
# Invisible characters that str.isspace() does not count as whitespace.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def neutralise(value: str) -> str:
    """The value, prefixed with a single quote if a spreadsheet could read it as a formula:
    it starts with a tab or a carriage return, or, once leading whitespace of any kind is
    set aside, with `=`, `+`, `-` or `@`."""
    if not value:
        return value
    if value[0] in RISKY_FIRST or _first_visible(value) in FORMULA_STARTS:
        return "'" + value
    return value


def _first_visible(value: str) -> str:
    """The first character that is neither whitespace (of any kind) nor invisible."""
    head = value
    while True:
        stripped = head.lstrip().lstrip(INVISIBLE)
        if stripped == head:
            return head[:1]
        head = stripped
