"""The pages every footer links to: the privacy notice, the accessibility statement and the
terms of participation. Public: anyone may read them, signed in or not."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app

from consult.htmx import render

bp = Blueprint("pages", __name__)


def _context() -> dict[str, Any]:
    """What the pages name: the coalition, where to write, and how long things are kept."""
    config = current_app.config
    return {
        "coalition": config["COALITION_NAME"],
        "contact_email": config.get("CONTACT_EMAIL"),
        "public_url": config.get("PUBLIC_URL") or "",
        "invitation_days": config["INVITATION_DAYS"],
        "reset_hours": config["PASSWORD_RESET_HOURS"],
    }


@bp.get("/privacy")
def privacy():
    """The privacy notice: what Consult holds about people, why, and their rights."""
    return render("pages/privacy.html", **_context())


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement, in the GOV.UK format."""
    return render("pages/accessibility.html", **_context())


@bp.get("/terms")
def terms():
    """The terms of participation: what taking part in a consultation means."""
    return render("pages/terms.html", **_context())
