"""Signing in and out, invitations, password reset and the account page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult.extensions import db
from consult.htmx import is_htmx
from consult.models import User

bp = Blueprint("auth", __name__)


def load_user(session_token: str) -> User | None:
    """Flask-Login's loader: the session cookie holds the person's current session token.

    A deactivated person, or one whose organisation is deactivated, is not loaded: their
    cookie stops working at once.
    """
    user = db.session.scalar(
        select(User).options(joinedload(User.organisation)).where(User.session_token == session_token)
    )
    return user if user is not None and user.is_active else None


def safe_next(target: str | None) -> str | None:
    """Accept only a same-site path (no scheme, no host, no backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def unauthorised() -> Response:
    """Send an anonymous visitor to sign in, coming back here afterwards."""
    target = request.full_path if request.method == "GET" else None
    location = url_for("auth.sign_in", next=safe_next(target.rstrip("?") if target else None))
    if is_htmx():
        response = Response("", 401)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location)


@bp.get("/account")
def account():
    """Placeholder replaced by the auth helper."""
    return "account"


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Placeholder replaced by the auth helper."""
    return "sign in"


@bp.post("/sign-out")
def sign_out():
    """Placeholder replaced by the auth helper."""
    return "sign out"


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Placeholder replaced by the auth helper."""
    return "accept"


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Placeholder replaced by the auth helper."""
    return "reset"
