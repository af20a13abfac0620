"""Secretariat pages: organisations, people and the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/organisations")
def organisations():
    """Placeholder replaced by the admin helper."""
    return "organisations"


@bp.get("/people")
def people():
    """Placeholder replaced by the admin helper."""
    return "people"


@bp.get("/audit")
def audit_log():
    """Placeholder replaced by the admin helper."""
    return "audit"
