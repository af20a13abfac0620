"""Security headers on every response."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, abort, current_app, request, session

from consult.errors import NUL_REFUSED

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def csp_allowing_own_styles(html: str) -> str:
    """The policy, letting a standalone document's own <style> blocks apply (by their hashes,
    so no other inline style can): the agreed text's HTML export carries its stylesheet."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"
        for style in _STYLE.findall(html)
    )
    return CSP.replace("style-src 'self'", f"style-src 'self' {hashes}".rstrip())


def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["PRODUCTION"]:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


# What Consult's forms send (htmx sends the same); an empty body is fine.
FORM_TYPES = frozenset({"", "application/x-www-form-urlencoded"})


def _refuse_unusable_input() -> None:
    """Input Consult cannot use is refused before any view sees it, with a 4xx, never a 500:
    bodies other than a form's (JSON and multipart fed odd types to the forms), NUL bytes
    (PostgreSQL cannot store them), and the stylesheet's build sources under static/src."""
    if request.path.startswith("/static/src/"):
        abort(404)
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype not in FORM_TYPES:
        abort(415)
    values = (
        request.args.values()
        if request.method in ("GET", "HEAD")
        else (
            *request.args.values(),
            *request.form.values(),
        )
    )
    if any("\x00" in value for value in values):
        abort(400, NUL_REFUSED)


def _no_store_when_signed_in(response: Response) -> Response:
    """Pages for someone signed in are theirs alone: no cache (a shared computer's browser,
    a proxy) may keep them. Responses that say otherwise keep their own Cache-Control."""
    if request.endpoint == "static" or "Cache-Control" in response.headers:
        return response
    # The session says who is signed in: read it, not the database (no query added).
    if "_user_id" in session:
        response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.before_request(_refuse_unusable_input)
    app.after_request(_headers)
    app.after_request(_no_store_when_signed_in)
