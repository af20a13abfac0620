"""Downloads of the agreed text: Markdown, HTML (print-ready), Word and PDF, made from the
database at each request. Before publication they are for the secretariat only; once the
consultation is published, anyone may download them. Nothing is stored and no link is
shared: each download is an ordinary, permission-checked request."""

from __future__ import annotations

from types import ModuleType

from flask import Blueprint, Response

from consult import errors, permissions, security
from consult.exports import docx, html, markdown, pdf
from consult.exports.gather import NotAgreed, gather
from consult.loading import load
from consult.models import Consultation
from consult.text import slug

bp = Blueprint("exports", __name__)

# fmt in the URL: (renderer, file extension, shown in the browser rather than saved)
FORMATS: dict[str, tuple[ModuleType, str, bool]] = {
    "md": (markdown, "md", False),
    "html": (html, "html", True),
    "docx": (docx, "docx", False),
    "pdf": (pdf, "pdf", False),
}


@bp.get("/consultations/<int:consultation_id>/agreed.<fmt>")
def download(consultation_id: int, fmt: str):
    """The agreed text of every ask, in order, with its provenance annex, in one format."""
    consultation = load(Consultation, consultation_id, permissions.can_download_agreed_text)
    if fmt not in FORMATS:
        return errors.error_page(
            404,
            "The agreed text can be downloaded as Markdown (.md), HTML (.html), Word "
            "(.docx) or PDF (.pdf).",
        )
    try:
        document = gather(consultation)
    except NotAgreed as refusal:
        return errors.error_page(409, str(refusal))
    renderer, extension, inline = FORMATS[fmt]
    response = Response(renderer.render(document), mimetype=renderer.MEDIA_TYPE)
    name = f"{slug(consultation.title)}-agreed-text.{extension}"
    response.headers["Content-Disposition"] = (
        f'{"inline" if inline else "attachment"}; filename="{name}"'
    )
    response.headers["Cache-Control"] = "no-store"
    if fmt == "html":  # shown in the browser: its own stylesheet applies
        response.headers["Content-Security-Policy"] = security.csp_allowing_own_styles(
            response.get_data(as_text=True)
        )
    return response
