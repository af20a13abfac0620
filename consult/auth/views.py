"""Signing in and out, invitations, password reset and the account page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user
from flask_wtf.csrf import generate_csrf
from werkzeug.wrappers import Response as BaseResponse

from consult import errors, permissions, throttle
from consult.auth import attempts, services, sessions
from consult.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    RequestPasswordResetForm,
    ResetPasswordForm,
    SignInForm,
)
from consult.extensions import db, limiter
from consult.htmx import is_htmx, redirect_to, render
from consult.models import TokenPurpose, User
from consult.notifications import services as notifications
from consult.notifications.forms import PreferencesForm
from consult.transactions import after_the_answer

bp = Blueprint("auth", __name__)

SIGN_IN_ERROR = "Enter a correct email address and password"
INVITATION_EXPIRED = (
    "This invitation link has expired or has already been used. "
    "Ask the secretariat to send a new one."
)
RESET_EXPIRED = (
    "This password reset link has expired or has already been used. You can ask for a new one."
)

# Throttling. Each limit string may be overridden in the app's configuration; it is read
# at request time, so a test (or an operator) can change it without a restart.
# Failed sign-ins: consult/auth/attempts.py. Wrong current passwords are counted before
# they are checked (consult/throttle.py), so a burst cannot all be checked.
LIMIT_DEFAULTS = {
    **attempts.LIMIT_DEFAULTS,
    "PASSWORD_RESET_ADDRESS_LIMIT": "5 per 15 minutes",  # reset requests per remote address
    "PASSWORD_RESET_ACCOUNT_LIMIT": "3 per 15 minutes",  # reset emails per email address
    "CHANGE_PASSWORD_LIMIT": "10 per 5 minutes",  # wrong current passwords per person
}


def load_user(session_token: str) -> User | None:
    """Flask-Login's loader: the session cookie holds the person's current session token.

    A deactivated person, or one whose organisation is deactivated, is not loaded: their
    cookie stops working at once.
    """
    return services.person_for_session(session_token)


def safe_next(target: str | None) -> str | None:
    """Accept only a same-site path: no scheme, no host, no backslash or control characters."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    # Browsers drop tabs and newlines from URLs, so "/\t/evil.com" would become "//evil.com".
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def referring_page() -> str | None:
    """The same-site page a form was posted from (htmx's HX-Current-URL, else the Referer),
    as a path for `next`; None if there is none or it is another site's."""
    url = request.headers.get("HX-Current-URL") or request.referrer
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))


def sign_in_url() -> str:
    """Where to sign in, coming back afterwards: to this page for a GET, and for a form
    posted to the page it was on (where the browser has kept what was typed)."""
    if request.method == "GET":
        target = safe_next(request.full_path.rstrip("?"))
    else:
        target = referring_page()
    return url_for("auth.sign_in", next=target)


def unauthorised() -> BaseResponse:
    """Send an anonymous visitor to sign in, coming back here afterwards. A form posted
    with htmx stays where it is, with its text: a message beside it says the session ended."""
    location = sign_in_url()
    if is_htmx():
        if request.method != "GET":
            return errors.session_ended(location)
        response = Response("", 401)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location)


# Rate-limit keys and values -----------------------------------------------------------------


def _limit(name: str) -> Callable[[], str]:
    return lambda: current_app.config.get(name) or LIMIT_DEFAULTS[name]


def _posted_email_key() -> str:
    """The account being tried: the lower-cased email address posted."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _remote_address_key() -> str:
    """The client's address (set from X-Forwarded-For by ProxyFix behind trusted proxies)."""
    return "address:" + (request.remote_addr or "unknown")


def _person_key() -> str:
    return "person:" + str(getattr(current_user, "id", "anonymous"))


def _failed(response: Response) -> bool:
    """Count only attempts that failed (the form came back with an error)."""
    return response.status_code == 422


def _address() -> str:
    return request.remote_addr or "unknown"


# Routes -------------------------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """Sign in with email address and password. Failures are limited without locking the
    owner out (consult/auth/attempts.py): each is counted before its password is checked."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect_to(next_url or url_for("consultations.index"))
    form = SignInForm()
    if form.validate_on_submit():
        attempt = attempts.begin(form.email.data, _address())
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            attempt.succeeded()
            sessions.begin(user)
            services.record_sign_in(user)
            db.session.commit()
            return redirect_to(next_url or url_for("consultations.index"))
        if attempt.failed():
            services.warn_of_failed_sign_ins(
                form.email.data,
                failures=attempt.failures,
                window=errors.wait_phrase(attempt.window_seconds),
            )
            db.session.commit()
        # One message, whatever the reason: unknown, wrong password, deactivated, invited.
        form.email.errors.append(SIGN_IN_ERROR)
    return render(
        "auth/sign_in.html", form=form, next_url=next_url, status=422 if form.errors else 200
    )


@bp.get("/csrf-token")
def csrf_token_for_page():
    """A fresh form token for the current session, signed in or not: a page whose session
    ended (and was signed in again in another tab) fetches it before posting again. Read
    only by same-site scripts (no CORS), never cached."""
    response = jsonify({"csrfToken": generate_csrf(), "signedIn": current_user.is_authenticated})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sign-out")
@login_required
def sign_out():
    """Sign out, ending every session this person had (their session token is rotated)."""
    services.record_sign_out(current_user._get_current_object())
    sessions.end()
    db.session.commit()
    flash("You have signed out", "success")
    return redirect_to(url_for("auth.sign_in"))


def _link_expired(message: str, *, reset: bool = False) -> Response:
    return render("auth/link_expired.html", message=message, reset=reset, status=404)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Accept an invitation: choose a name and password, then arrive signed in."""
    record = services.find_token(token, TokenPurpose.INVITATION)
    if record is None:
        return _link_expired(INVITATION_EXPIRED)
    invitee = record.user
    form = AcceptInvitationForm(
        account_email=invitee.email,
        data=None if request.method == "POST" else {"name": invitee.name},
    )
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token=record, name=form.name.data, password=form.password.data
            )
        except services.AccountError:
            db.session.rollback()
            return _link_expired(INVITATION_EXPIRED)
        sessions.begin(user)
        services.record_sign_in(user)
        db.session.commit()
        flash("Your account is ready. Welcome to Consult.", "success")
        return redirect_to(url_for("consultations.index"))
    return render(
        "auth/accept_invitation.html",
        form=form,
        invitee=invitee,
        status=422 if form.errors else 200,
    )


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(
    _limit("PASSWORD_RESET_ADDRESS_LIMIT"), key_func=_remote_address_key, methods=["POST"]
)
@limiter.limit(_limit("PASSWORD_RESET_ACCOUNT_LIMIT"), key_func=_posted_email_key, methods=["POST"])
def request_password_reset():
    """Ask for a password reset link; the answer is the same whether or not the account exists."""
    form = RequestPasswordResetForm()
    if form.validate_on_submit():
        email = form.email.data
        return after_the_answer(
            redirect_to(url_for("auth.password_reset_sent")),
            lambda: services.request_password_reset(email),
        )
    return render("auth/request_password_reset.html", form=form, status=422 if form.errors else 200)


@bp.get("/password-reset/sent")
def password_reset_sent():
    """Confirm that a reset link was sent, without saying whether the account exists."""
    return render("auth/password_reset_sent.html", hours=current_app.config["PASSWORD_RESET_HOURS"])


@bp.route("/password-reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from a reset link, then sign in with it."""
    record = services.find_token(token, TokenPurpose.PASSWORD_RESET)
    if record is None:
        return _link_expired(RESET_EXPIRED, reset=True)
    form = ResetPasswordForm(account_email=record.user.email)
    if form.validate_on_submit():
        try:
            user = services.reset_password(token=record, password=form.password.data)
        except services.AccountError:
            db.session.rollback()
            return _link_expired(RESET_EXPIRED, reset=True)
        db.session.commit()
        attempts.forget(user.email, _address())  # the emailed link lets the owner back in
        flash("Your password has been reset. Sign in with your new password.", "success")
        return redirect_to(url_for("auth.sign_in"))
    return render("auth/reset_password.html", form=form, status=422 if form.errors else 200)


@bp.get("/account")
@login_required
def account():
    """The signed-in person's own details, and who their organisation's delegates are."""
    user = current_user._get_current_object()
    delegates = (
        services.organisation_delegates(user.organisation)
        if permissions.can_be_delegate(user)
        else None
    )
    form = PreferencesForm(current=notifications.preferences(user))
    return render("auth/account.html", user=user, delegates=delegates, form=form)


@bp.post("/account/notifications")
@login_required
def notification_preferences():
    """Save how the signed-in person wants to hear of each kind of notification."""
    user = current_user._get_current_object()
    form = PreferencesForm(current=notifications.preferences(user))
    if form.validate_on_submit():
        notifications.set_preferences(person=user, choices=form.choices())
        db.session.commit()
        flash("Your email choices have been saved", "success")
        return redirect_to(url_for("auth.account") + "#notifications")
    delegates = (
        services.organisation_delegates(user.organisation)
        if permissions.can_be_delegate(user)
        else None
    )
    return render("auth/account.html", user=user, delegates=delegates, form=form, status=422)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@throttle.counted(_limit("CHANGE_PASSWORD_LIMIT"), _person_key, counts=_failed)
def change_password():
    """Change one's password; every other session ends, this one carries on."""
    user = current_user._get_current_object()
    form = ChangePasswordForm(account_email=user.email)
    if form.validate_on_submit():
        if services.check_password(user, form.current_password.data):
            services.change_password(user=user, new_password=form.password.data)
            login_user(user)  # the session token was rotated: give this browser the new one
            db.session.commit()
            flash("Your password has been changed", "success")
            return redirect_to(url_for("auth.account"))
        form.current_password.errors.append("Your current password is incorrect")
    return render("auth/change_password.html", form=form, status=422 if form.errors else 200)
