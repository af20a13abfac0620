"""The consultation's JSON archive, for the secretariat: made from the database at each
request, never stored, and never behind a shareable link (each download is an ordinary,
permission-checked request)."""

from __future__ import annotations

from flask import Blueprint, Response

from consult import permissions
from consult.archive.export import archive, dumps
from consult.loading import load
from consult.models import Consultation, utcnow
from consult.text import slug
from consult.uktime import utc_to_london

bp = Blueprint("archive", __name__)


@bp.get("/consultations/<int:consultation_id>/archive.json")
def download(consultation_id: int):
    """The whole consultation as a JSON archive (see consult/archive/export.py)."""
    consultation = load(Consultation, consultation_id, permissions.can_download_archive)
    data = dumps(archive(consultation)).encode()
    day = utc_to_london(utcnow()).date().isoformat()
    response = Response(data, mimetype="application/json")
    name = f"{slug(consultation.title)}-archive-{day}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
