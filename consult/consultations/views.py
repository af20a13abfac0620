"""The dashboard, consultation pages, and the secretariat's management of consultations."""

from flask import Blueprint

bp = Blueprint("consultations", __name__)


@bp.get("/")
def index():
    """Placeholder replaced by the consultations helper."""
    return "index"


@bp.get("/consultations")
def manage():
    """Placeholder replaced by the consultations helper."""
    return "manage"
