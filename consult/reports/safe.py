"""Cells that a spreadsheet never reads as a formula (OWASP's advice on CSV injection).

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` as a formula, some skip
leading whitespace first, and a tab or a carriage return can start one too. Such a value
is prefixed with a single quote, which makes it text; the quote shows, so nothing is
hidden from the reader.
"""

from __future__ import annotations

# The ASCII triggers and their full-width forms (which some spreadsheets also accept).
FORMULA_STARTS = frozenset("=+-@＝＋－＠")
# Whitespace that a spreadsheet may take as the start of a formula wherever it stands in a
# value's leading whitespace.
RISKY_WHITESPACE = frozenset("\t\r")
# Invisible characters that str.isspace() does not count as whitespace.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def neutralise(value: str) -> str:
    """The value, prefixed with a single quote if a spreadsheet could read it as a formula:
    once leading whitespace of any kind (and invisible characters) is set aside, it starts
    with `=`, `+`, `-` or `@`; or that leading whitespace holds a tab or a carriage return."""
    if not value:
        return value
    rest = _without_leading_space(value)
    lead = value[: len(value) - len(rest)]
    if rest[:1] in FORMULA_STARTS or not RISKY_WHITESPACE.isdisjoint(lead):
        return "'" + value
    return value


def _without_leading_space(value: str) -> str:
    """The value from its first character that is neither whitespace nor invisible."""
    head = value
    while True:
        stripped = head.lstrip().lstrip(INVISIBLE)
        if stripped == head:
            return head
        head = stripped
