"""The consultation report as one XLSX workbook: a sheet per kind, a bold header row that
stays in view, columns sized to their content, long text wrapped. Every text cell is made
safe from formula injection; ids stay numbers and times stay dates (on the UK clock)."""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from consult.reports.gather import Cell, Report
from consult.reports.safe import neutralise

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
MIN_WIDTH = 8
MAX_WIDTH = 60
DATETIME_WIDTH = 20


def cell_value(value: Cell) -> str | int | datetime | None:
    """A cell's value for openpyxl: text neutralised and without the control characters
    XML cannot carry; times without their zone (Excel has none), on the UK clock."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _width(value: str | int | datetime | None) -> int:
    if value is None:
        return 0
    if isinstance(value, datetime):
        return DATETIME_WIDTH
    return max((len(line) for line in str(value).splitlines()), default=0)


def render(report: Report) -> bytes:
    """The report as an XLSX file's bytes."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    workbook.properties.title = f"{report.title}: consultation report"
    workbook.properties.creator = "Consult"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    for sheet in report.sheets:
        ws = workbook.create_sheet(sheet.title)
        ws.append([neutralise(h) for h in sheet.headers])
        for cell in ws[1]:
            cell.font = bold
        widths = [len(h) for h in sheet.headers]
        for row in sheet.rows:
            values = [cell_value(v) for v in row]
            ws.append(values)
            for index, value in enumerate(values):
                widths[index] = max(widths[index], _width(value))
        for index, width in enumerate(widths, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
            alignment = wrap if width > MAX_WIDTH else top
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.alignment = alignment
                if isinstance(cell.value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(cell.value, str):
                    cell.data_type = "s"  # text, never a formula
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
