"""One kind of the consultation report as CSV: UTF-8 with a byte-order mark (so Excel reads
UK characters right), a header row, every text cell made safe from formula injection."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from consult.reports.gather import Cell, Sheet
from consult.reports.safe import neutralise

MIMETYPE = "text/csv"


def cell_text(value: Cell) -> str:
    """A cell as CSV text: times as ISO 8601 with their UK offset, numbers as digits, text
    neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


def render(sheet: Sheet) -> bytes:
    """The sheet as a CSV file's bytes."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in sheet.headers])
    for row in sheet.rows:
        writer.writerow([cell_text(value) for value in row])
    return out.getvalue().encode("utf-8-sig")
