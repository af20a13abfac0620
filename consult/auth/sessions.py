"""Signed-in sessions: begun afresh at sign-in, emptied at sign-out, and ended by themselves
after SESSION_IDLE_MINUTES without a request or SESSION_LIFETIME_SECONDS after sign-in.

The session is Flask's signed cookie. Whose it is comes from the person's session token
(`User.session_token`, rotated at sign-out, password change, role change and deactivation,
which ends every copy of every cookie at once). Here:

- sign-in starts from an empty session: nothing set before it survives (a form token someone
  else may know, a cookie planted before sign-in), so the cookie and its form token are new;
- sign-out empties the session, form token included;
- the cookie carries when the person signed in and when they were last seen; a request past
  either limit is treated as signed out. Open event streams do not count as being seen (a tab
  left open is not someone at work), and end when the session would.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request, session
from flask_login import login_user, logout_user

from consult.models import User

SIGNED_IN_AT = "_signed_in_at"
SEEN_AT = "_seen_at"
# The cookie is rewritten (signed again and sent back) only when the session changes, so "last
# seen" moves at most once a minute: the idle limit is kept to the minute, and most requests
# answer without a Set-Cookie (SESSION_REFRESH_EACH_REQUEST is off).
SEEN_EVERY = 60
CSRF_FIELD = "csrf_token"  # where Flask-WTF keeps the raw form token: session and g
# Requests that do not show the person is there: the live stream reconnects by itself.
NOT_ACTIVITY = frozenset({"live.stream", "static"})


def _now() -> int:
    return int(time.time())


def _forget_form_token() -> None:
    session.pop(CSRF_FIELD, None)
    g.pop(CSRF_FIELD, None)  # generate_csrf() keeps this request's token here


def begin(user: User) -> None:
    """Sign user in on this browser, in a session begun afresh (new cookie, new form token)."""
    session.clear()
    _forget_form_token()
    session.permanent = True
    login_user(user)
    now = _now()
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def end() -> None:
    """Sign out on this browser: the session is emptied, its form token with it."""
    logout_user()
    session.clear()
    _forget_form_token()


def ends_at() -> float | None:
    """When this request's signed-in session ends if nothing more happens (a Unix time), or
    None if it carries no times (a cookie from before sessions had them: not valid)."""
    signed_in, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if not isinstance(signed_in, int) or not isinstance(seen, int):
        return None
    return min(
        signed_in + current_app.permanent_session_lifetime.total_seconds(),
        seen + float(current_app.config["SESSION_IDLE_MINUTES"]) * 60,
    )


def token() -> str | None:
    """This request's session token (whose session it is), or None when it carries none.

    For a response that outlives its request (an event stream), the session stands while the
    token is still the person's (not rotated by sign-out, a password change or
    deactivation), the person and organisation are active (services.sessions_that_stand
    checks many at once) and ends_at() has not passed."""
    value = session.get("_user_id")
    return value if isinstance(value, str) else None


def _end_expired_session() -> None:
    """Before each request: a session past its time is emptied (the request is then
    anonymous); otherwise, unless the request is a stream's, the person was seen now."""
    if "_user_id" not in session:
        return
    ends = ends_at()
    if ends is None or _now() >= ends:
        session.clear()
        g.pop("_login_user", None)  # in case something loaded the person already
        return
    now = _now()
    if request.endpoint not in NOT_ACTIVITY and now - session[SEEN_AT] >= SEEN_EVERY:
        session[SEEN_AT] = now


def register(app: Flask) -> None:
    # First of all: rate-limit keys and everything after see the session as it really is.
    app.before_request_funcs.setdefault(None, []).insert(0, _end_expired_session)
