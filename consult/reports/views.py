"""The consultation report for the secretariat, made from the database at each request:
an XLSX workbook, or one kind of record as CSV. Nothing is stored and no link is shared:
each download is an ordinary, permission-checked request."""

from __future__ import annotations

from flask import Blueprint, Response, request

from consult import errors, permissions
from consult.loading import load
from consult.models import Consultation, utcnow
from consult.reports import csv_report, xlsx_report
from consult.reports.gather import KINDS, gather
from consult.text import slug
from consult.uktime import utc_to_london

bp = Blueprint("reports", __name__)

BAD_KIND = (
    "Choose which part of the report to download as CSV: comments, amendments, positions "
    "or dispositions."
)


def filename(consultation: Consultation, suffix: str) -> str:
    """<title>-report[-kind]-<UK date>.<type>: ASCII only, safe in a quoted header."""
    day = utc_to_london(utcnow()).date().isoformat()
    return f"{slug(consultation.title)}-report{suffix}-{day}"


def _attachment(data: bytes, mimetype: str, name: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/consultations/<int:consultation_id>/report.xlsx")
def xlsx(consultation_id: int):
    """The consultation report as an XLSX workbook, one sheet per kind of record."""
    consultation = load(Consultation, consultation_id, permissions.can_download_report)
    data = xlsx_report.render(gather(consultation))
    return _attachment(data, xlsx_report.MIMETYPE, filename(consultation, "") + ".xlsx")


@bp.get("/consultations/<int:consultation_id>/report.csv")
def csv(consultation_id: int):
    """One kind of record of the consultation report (?kind=comments, amendments,
    positions or dispositions) as CSV."""
    consultation = load(Consultation, consultation_id, permissions.can_download_report)
    kind = request.args.get("kind", "")
    if kind not in KINDS:
        return errors.error_page(400, BAD_KIND)
    data = csv_report.render(gather(consultation, [kind]).sheet(kind))
    name = filename(consultation, f"-{kind}") + ".csv"
    return _attachment(data, csv_report.MIMETYPE, name)  # Flask adds "; charset=utf-8"
