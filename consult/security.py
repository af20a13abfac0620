"""Security headers on every response."""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, current_app

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


def register(app: Flask) -> None:
    app.after_request(_headers)
