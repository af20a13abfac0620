"""Error pages: a full page normally, a small fragment into the message region for htmx."""

from __future__ import annotations

import logging
import math
import re
import time
from datetime import datetime
from typing import NoReturn, cast

from flask import Flask, Response, abort, g, request
from flask_limiter.errors import RateLimitExceeded
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed, SecurityError

from consult import database
from consult.database import DATABASE_UNAVAILABLE
from consult.extensions import db, limiter, login_manager
from consult.htmx import is_htmx, render
from consult.models import Ask, AskState, Consultation, ConsultationState, utcnow

log = logging.getLogger(__name__)

NUL_REFUSED = "What you sent contains a character that cannot be stored (a NUL byte). Remove it and try again."

# A 429's message; {wait} becomes how long until the limit's window ends ("5 minutes").
TOO_MANY = "You have tried too many times. Wait {wait}, then try again."

MESSAGES = {
    400: ("There is a problem with your request", "Go back, check what you entered and try again."),
    401: ("Sign in to continue", "You need to sign in to see this page."),
    403: (
        "You cannot do that",
        "Your account does not have permission to see this page or do this.",
    ),
    404: ("Page not found", "If you typed the web address, check it is correct."),
    405: ("That cannot be done here", "This page does not accept that kind of request."),
    409: (
        "That cannot be done now",
        "It has changed since you opened the page. Go back and reload it.",
    ),
    413: ("That is too large", "What you sent is larger than Consult accepts."),
    415: (
        "Consult cannot read that",
        "Consult accepts what its own forms send. Go back to the page and send the form from it.",
    ),
    422: ("There is a problem", "Check what you entered and try again."),
    429: ("Too many attempts", "You have tried too many times. Wait a while, then try again."),
    500: (
        "Sorry, there is a problem with Consult",
        "Try again later. What you entered may not have been saved.",
    ),
    503: (
        "Sorry, the service is unavailable",
        "Try again in a minute. What you entered may not have been saved.",
    ),
}

DATABASE_RETRY_AFTER = 60  # seconds, in the 503's Retry-After ("Try again in a minute")


def error_page(code: int, description: str | None = None) -> Response:
    """The error page (or, for htmx, the message fragment) for this status."""
    title, default = MESSAGES.get(code, (f"Error {code}", "Something went wrong."))
    response = render(
        "errors/error.html",
        block="message" if is_htmx() else None,
        status=code,
        code=code,
        fragment=is_htmx(),
        title=title,
        description=description or default,
    )
    if is_htmx():
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def refuse() -> NoReturn:
    """Send an anonymous visitor to sign in; refuse a signed-in one with 403."""
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    abort(403)


def closed_on(consultation: Consultation) -> datetime | None:
    """When a consultation closed: closed early, at its closing time, or (at the latest) when
    its outcome was published."""
    if consultation.closed_at is not None:
        return consultation.closed_at
    if consultation.closes_at <= utcnow():
        return consultation.closes_at
    return consultation.published_at


def closed_refusal(
    consultation: Consultation, could_act: bool, consequence: str
) -> Response | None:
    """For someone who could have done this while the consultation was open, a 403 that says
    it has closed and when (it is not their account that is at fault); None otherwise."""
    from consult.filters import format_datetime  # filters imports permissions, which is heavy

    if not (could_act and current_user.is_authenticated):
        return None
    if consultation.state not in (ConsultationState.CLOSED, ConsultationState.PUBLISHED):
        return None
    return error_page(
        403, f"The consultation closed on {format_datetime(closed_on(consultation))}. {consequence}"
    )


def agreed_refusal(ask: Ask, could_act: bool) -> Response | None:
    """For someone who could have done this before the ask's wording was agreed, a 403 that
    says it was agreed and when (it is not their account that is at fault); None otherwise."""
    from consult.agreements.services import current_agreement  # imports permissions
    from consult.filters import format_date

    if not (could_act and current_user.is_authenticated) or ask.state != AskState.AGREED:
        return None
    agreement = current_agreement(ask)
    when = f" on {format_date(agreement.agreed_at)}" if agreement is not None else ""
    return error_page(
        403,
        f"The wording of this ask was agreed{when}; comments, positions and amendments are closed.",
    )


SESSION_ENDED = "session-ended"  # the X-Consult header value the page's script acts on
FORM_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*-form")


def session_ended(sign_in_url: str) -> Response:
    """For a form posted with htmx when the session has ended (or the page's form token no
    longer matches it): a 401 (or, still signed in, 400) message put beside the form, which keeps its text. The
    person signs in in a new tab and posts again; the page's script fetches a fresh form
    token first. Nothing was done."""
    response = render(
        "errors/session_ended.html",
        # Signed out: 401. Still signed in, with a page from an earlier session: 400.
        status=400 if current_user.is_authenticated else 401,
        signed_in=current_user.is_authenticated,
        sign_in_url=sign_in_url,
    )
    # The slot inside the form that was posted (its id is htmx's HX-Target), else #messages.
    target = request.headers.get("HX-Target") or ""
    slot = f"#{target[: -len('-form')]}-session" if FORM_ID.fullmatch(target) else "#messages"
    response.headers["HX-Retarget"] = slot
    response.headers["HX-Reswap"] = "innerHTML"
    response.headers["X-Consult"] = SESSION_ENDED
    response.headers["Cache-Control"] = "no-store"
    return response


def handle_http_exception(error: HTTPException) -> Response:
    code = error.code or 500
    description = None
    if isinstance(error, CSRFError) and request.method != "GET":
        # Almost always a session that ended (the token belongs to the session): keep the
        # text. htmx: the message beside the form; otherwise sign in and come back to it.
        from consult.auth.views import sign_in_url  # auth.views imports this module

        if is_htmx():
            return session_ended(sign_in_url())
        if not current_user.is_authenticated and request.blueprint != "auth":
            # (Signing in, invitations and password resets are for people signed out.)
            return cast(Response, login_manager.unauthorized())
    if error.description == NUL_REFUSED:
        description = NUL_REFUSED
    elif isinstance(error, CSRFError):
        description = "Your form had expired or was sent from elsewhere. Go back, reload the page and try again."
    elif code == 429:
        retry = retry_after(error)
        message = getattr(error, "message", None) or TOO_MANY
        description = message.format(wait=wait_phrase(retry))
    response = error_page(code, description)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429:
        response.headers["Retry-After"] = str(retry)
    return response


def retry_after(error: HTTPException) -> int:
    """Whole seconds until the refused request may work: what the limit that refused it
    says (its window's real end), never a made-up figure."""
    retry = getattr(error, "retry_after", None)
    if isinstance(retry, int):
        return max(1, retry)
    current = limiter.current_limit if isinstance(error, RateLimitExceeded) else None
    if current is not None:
        return max(1, math.ceil(current.window[0] - time.time()))
    return 60


def wait_phrase(seconds: int) -> str:
    """How long to wait, in words: "40 seconds", "a minute", "5 minutes"."""
    if seconds < 55:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return "a minute" if minutes == 1 else f"{minutes} minutes"


def handle_server_error(error: InternalServerError) -> Response:
    """Roll back whatever the failed request had done, then show the 500 page (or, when the
    database stopped answering after the view, as while finishing the response, the 503)."""
    if database.unavailable(error.original_exception):
        return unavailable_page(cast(Exception, error.original_exception))
    db.session.rollback()
    return error_page(500)


def handle_database_unavailable(error: Exception) -> Response:
    """The database did not answer: the 503 page. Any other error of the same classes (SQLite
    reports a mistake in SQL as OperationalError) goes on to the 500 page, with its
    traceback."""
    if not database.unavailable(error):
        raise error
    return unavailable_page(error)


def unavailable_page(error: Exception) -> Response:
    """ "Sorry, the service is unavailable" (503) with Retry-After, made without the database
    (as for someone signed out: who is signed in cannot be looked up). Logged by
    consult.database.outage, without a traceback."""
    database.outage.refused(error)
    try:
        db.session.rollback()  # whatever the request had done (a dead connection is dropped)
    except SQLAlchemyError as again:  # the session is closed at teardown all the same
        log.debug("Rolling back after the database stopped answering: %s", again)
    g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request cache
    response = error_page(503)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
    response.headers["Cache-Control"] = "no-store"
    return response


UNTRUSTED_HOST_PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Bad request – Consult</title></head>
<body><main><h1>Bad request</h1>
<p>Consult does not answer on this address. Check the address you used.</p></main></body>
</html>
"""


def handle_untrusted_host(error: SecurityError) -> Response:
    """A request naming a host outside TRUSTED_HOSTS: a plain 400 page, made without the
    request's URLs (Flask cannot build any for a host it does not trust)."""
    return Response(UNTRUSTED_HOST_PAGE, status=400, mimetype="text/html")


def register(app: Flask) -> None:
    app.register_error_handler(SecurityError, handle_untrusted_host)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_server_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, handle_database_unavailable)
    # Registered after Flask-SQLAlchemy's teardown, so it runs first.
    app.teardown_appcontext(database.close_session)
