"""One-click unsubscribe from a notification email's signed link, without signing in."""

from __future__ import annotations

from flask import Blueprint

from consult.errors import error_page
from consult.extensions import csrf, db
from consult.htmx import render
from consult.notifications import services

bp = Blueprint("notifications", __name__)

BAD_LINK = (
    "This unsubscribe link is not valid. Copy the whole link from the email, or choose what "
    "Consult emails you on your account page."
)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """Ask before unsubscribing: link scanners fetch links, and must not unsubscribe anyone."""
    unsubscription = services.read_unsubscribe_token(token)
    if unsubscription is None:
        return error_page(404, BAD_LINK)
    return render(
        "notifications/unsubscribe.html", unsubscription=unsubscription, token=token, done=False
    )


@csrf.exempt  # the signed token is its authority; RFC 8058 one-click POSTs carry no form token
@bp.post("/unsubscribe/<token>")
def confirm_unsubscribe(token: str):
    """Stop the emails the signed link names (one person, one kind, or their digest)."""
    unsubscription = services.read_unsubscribe_token(token)
    if unsubscription is None:
        return error_page(404, BAD_LINK)
    services.unsubscribe(unsubscription)
    db.session.commit()
    return render(
        "notifications/unsubscribe.html", unsubscription=unsubscription, token=token, done=True
    )
