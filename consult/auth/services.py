"""Accounts: passwords, sign-in records, invitations, password resets, deactivation.

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

import functools
import secrets
import sys
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from consult import audit, permissions
from consult.extensions import db
from consult.mail import absolute_url, queue_message
from consult.models import AccountToken, Organisation, Role, TokenPurpose, User, hash_token, utcnow
from consult.text import control_character_problem

_DEFAULT = PasswordHasher()  # argon2id with the library's recommended (RFC 9106) parameters


@functools.cache
def _hasher_with(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    """A hasher, and a hash of a random password verified against when the email is
    unknown, so that both cases cost the same time."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def _hasher() -> tuple[PasswordHasher, str]:
    """The app's hasher: the library's parameters unless ARGON2_TIME_COST/ARGON2_MEMORY_COST
    lower them (the test suite does; production never should)."""
    config = current_app.config if has_app_context() else {}
    return _hasher_with(
        config.get("ARGON2_TIME_COST", _DEFAULT.time_cost),
        config.get("ARGON2_MEMORY_COST", _DEFAULT.memory_cost),
    )


# Threads that compute argon2 hashes under gevent, per worker process: each hash takes tens
# of milliseconds of CPU and 64 MiB, so two at a time, the rest waiting their turn.
HASHING_THREADS = 2
_hashing_pool: Any = None
T = TypeVar("T")


def _off_the_loop(function: Callable[..., T], *args: object) -> T:
    """function(*args), run where it cannot stop the event loop. Under gevent (gunicorn's
    gevent workers) argon2 would hold the loop for every hash, freezing every other request
    and stream of the worker: it runs in a small pool of real threads instead (argon2 lets go
    of the GIL while it works) and only the greenlet that asked waits. Elsewhere (threads of
    the development server, the command line) it runs here."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("threading"):
        return function(*args)
    global _hashing_pool
    if _hashing_pool is None:
        from gevent.threadpool import ThreadPool  # type: ignore[import-untyped]

        _hashing_pool = ThreadPool(maxsize=HASHING_THREADS)
    return _hashing_pool.apply(function, args)


USER_FIELDS = ("email", "name", "organisation_id", "role", "active")

# The account rules, for the web forms and the command line alike.
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254  # User.email
NAME_MAX_LENGTH = 200  # User.name
EMAIL_TAKEN = "A person with this email address already has an account."
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.org"
NOT_A_MEMBER_DELEGATE = "Only members can be delegates. Observers and the secretariat cannot."


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is for the user."""


def is_email_address(email: str) -> bool:
    """True if this looks like an email address (syntax only: no DNS lookup)."""
    if len(email) > EMAIL_MAX_LENGTH:
        return False
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def password_problem(password: str, *, email: str = "") -> str | None:
    """What is wrong with this new password for this account, or None: 10 to 200
    characters, and not the email address."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Password must be {PASSWORD_MIN_LENGTH} characters or more"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer"
    email = email.strip().lower()
    if email and password.strip().lower() == email:
        return "Password must not be the same as your email address"
    return None


def _new_person(email: str, name: str, organisation: Organisation) -> tuple[str, str]:
    """The normalised email and name of a new person, refusing what the forms refuse."""
    email = email.strip().lower()
    name = name.strip()
    if not is_email_address(email):
        raise AccountError(EMAIL_FORMAT)
    if not name or len(name) > NAME_MAX_LENGTH:
        raise AccountError(f"Full name must be 1 to {NAME_MAX_LENGTH} characters")
    problem = control_character_problem("Full name", name)
    if problem:
        raise AccountError(problem)
    if user_by_email(email) is not None:
        raise AccountError(EMAIL_TAKEN)
    if not organisation.active:
        raise AccountError("You cannot add people to a deactivated organisation.")
    return email, name


def _add_person(user: User) -> None:
    """Insert a new person. The unique email index refuses an address taken at the same
    moment, after user_by_email said it was free (a race): that is the same refusal, and
    the caller rolls back as for any AccountError."""
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        raise AccountError(EMAIL_TAKEN) from None


def user_by_email(email: str) -> User | None:
    """The account with this email address, ignoring case and surrounding spaces."""
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def person_for_session(session_token: str) -> User | None:
    """The active person whose current session token this is, or None: a deactivated
    person, or one whose organisation is deactivated, is nobody's session any more."""
    user = db.session.scalar(
        select(User)
        .options(joinedload(User.organisation))
        .where(User.session_token == session_token)
    )
    return user if user is not None and user.is_active else None


def sessions_that_stand(session_tokens: Iterable[str]) -> set[str]:
    """Which of these session tokens are still someone's session, by person_for_session's
    rule (the person's current token; person and organisation active), in one query."""
    wanted = set(session_tokens)
    if not wanted:
        return set()
    return set(
        db.session.scalars(
            select(User.session_token)
            .join(User.organisation)
            .where(User.session_token.in_(wanted), User.active_in_sql())
        )
    )


def hash_password(password: str) -> str:
    """An argon2id hash of password."""
    return _off_the_loop(_hasher()[0].hash, password)


def check_password(user: User | None, password: str) -> bool:
    """True if password is user's. Costs the same whether or not the user exists."""
    hasher, dummy = _hasher()
    stored = user.password_hash if user is not None and user.password_hash else dummy
    try:
        ok = _off_the_loop(hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return ok and user is not None and user.password_hash is not None


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (for any reason)."""
    user = user_by_email(email)
    if not check_password(user, password):
        return None
    if user is None or not user.is_active:
        return None
    if user.password_hash is not None and _hasher()[0].check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def record_sign_in(user: User) -> None:
    """Note when the person signed in, in their record and the audit log."""
    user.last_login_at = utcnow()
    audit.record(user, "user.sign_in", user)


def warn_of_failed_sign_ins(email: str, *, failures: int, window: str) -> None:
    """Tell the owner of this address's account (if there is an active one) that its password
    was got wrong `failures` times in `window`, with a link to reset it."""
    user = user_by_email(email)
    if user is None or not user.is_active or user.password_hash is None:
        return
    audit.record(None, "user.warn_of_failed_sign_ins", user)
    queue_message(
        to=user.email,
        template="failed_sign_ins",
        subject="Wrong passwords for your account",
        attempts=failures,
        window=window,
        link=absolute_url("auth.request_password_reset"),
    )


def record_sign_out(user: User) -> None:
    """Rotate the session token so that every cookie issued so far stops working."""
    user.rotate_session()
    audit.record(user, "user.sign_out", user)


def change_password(*, user: User, new_password: str) -> None:
    """Set a new password, sign the person out of every other session, and end any password
    reset link still unused (it was asked for before this password existed)."""
    user.password_hash = hash_password(new_password)
    user.rotate_session()
    _revoke_tokens(user, TokenPurpose.PASSWORD_RESET)
    db.session.flush()
    audit.record(user, "user.change_password", user)


def _revoke_tokens(user: User | None, purpose: TokenPurpose) -> None:
    """Mark the user's unused links of this purpose as used (None: no one's, the same work)."""
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == (user.id if user is not None else -1),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )


# Single-use links -----------------------------------------------------------------------


def _issue_token(
    user: User, purpose: TokenPurpose, lifetime: timedelta, created_by: User | None
) -> str:
    """Revoke the user's earlier unused links of this purpose and issue a new one."""
    now = utcnow()
    _revoke_tokens(user, purpose)
    raw = secrets.token_urlsafe(32)
    db.session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_token(raw),
            expires_at=now + lifetime,
            created_by_id=getattr(created_by, "id", None),
        )
    )
    db.session.flush()
    return raw


def find_token(raw: str, purpose: TokenPurpose) -> AccountToken | None:
    """The usable token for this raw value, or None.

    Usable: unused, unexpired, and for a person (and organisation) who has not been
    deactivated since the link was sent.
    """
    token = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == hash_token(raw), AccountToken.purpose == purpose
        )
    )
    if token is None or not token.is_usable():
        return None
    if not token.user.active or not token.user.organisation.active:
        return None
    return token


def _use_token(token: AccountToken) -> None:
    """Mark the token used, refusing if a concurrent request used it first."""
    # An UPDATE's result is a CursorResult, which has the row count.
    result = cast(
        CursorResult,
        db.session.execute(
            update(AccountToken)
            .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise AccountError("This link has already been used.")
    db.session.refresh(token)


# Invitations -------------------------------------------------------------------------------


def _send_invitation(user: User, raw: str, inviter: User) -> None:
    link = absolute_url("auth.accept_invitation", token=raw)
    days = current_app.config["INVITATION_DAYS"]
    queue_message(
        to=user.email,
        template="invitation",
        subject="You are invited to Consult",
        inviter=inviter,
        user=user,
        link=link,
        days=days,
    )


def invite(*, actor: User, email: str, name: str, organisation: Organisation, role: Role) -> User:
    """Create a person who has not yet set a password, and email them a single-use link."""
    if not organisation.active:
        raise AccountError("You cannot invite people to a deactivated organisation.")
    email, name = _new_person(email, name, organisation)
    user = User(email=email, name=name, organisation=organisation, role=role)
    _add_person(user)
    raw = _issue_token(
        user, TokenPurpose.INVITATION, timedelta(days=current_app.config["INVITATION_DAYS"]), actor
    )
    audit.record(actor, "user.invite", user, after=audit.snapshot(user, *USER_FIELDS))
    _send_invitation(user, raw, actor)
    return user


def resend_invitation(*, actor: User, user: User) -> None:
    """Send a new invitation link; earlier links stop working."""
    if user.has_accepted_invitation:
        raise AccountError("This person has already accepted their invitation.")
    if not user.active:
        raise AccountError("This person has been deactivated. Reactivate them first.")
    raw = _issue_token(
        user, TokenPurpose.INVITATION, timedelta(days=current_app.config["INVITATION_DAYS"]), actor
    )
    audit.record(actor, "user.resend_invitation", user)
    _send_invitation(user, raw, actor)


def accept_invitation(*, token: AccountToken, name: str, password: str) -> User:
    """Use the invitation: set the person's name and password."""
    problem = control_character_problem("Full name", name)
    if problem:
        raise AccountError(problem)
    _use_token(token)
    user = token.user
    before = audit.snapshot(user, "name")
    user.name = name.strip()
    user.password_hash = hash_password(password)
    user.rotate_session()
    db.session.flush()
    audit.record(
        user, "user.accept_invitation", user, before=before, after=audit.snapshot(user, "name")
    )
    return user


# Password reset ---------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link if an active account has this address; say nothing either way.

    How long this takes tells whether the address has an account (issue 11: twice as long
    when it had), so the view does it after its answer has gone (`after_the_answer`). The
    request is recorded either way (the unknown address itself is not kept)."""
    user = user_by_email(email)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    if user is None or not user.is_active:
        audit.record(None, "user.request_password_reset", audit.Unknown(User.__tablename__))
        return
    raw = _issue_token(user, TokenPurpose.PASSWORD_RESET, timedelta(hours=hours), None)
    audit.record(None, "user.request_password_reset", user)
    link = absolute_url("auth.reset_password", token=raw)
    queue_message(
        to=user.email,
        template="password_reset",
        subject="Reset your Consult password",
        link=link,
        hours=hours,
    )


def reset_password(*, token: AccountToken, password: str) -> User:
    """Use the reset link: set a new password and sign the person out everywhere."""
    _use_token(token)
    user = token.user
    user.password_hash = hash_password(password)
    user.rotate_session()
    db.session.flush()
    audit.record(user, "user.reset_password", user)
    return user


# Administration of people -----------------------------------------------------------------


def create_user(
    *,
    actor: User | None,
    email: str,
    name: str,
    organisation: Organisation,
    role: Role,
    password: str,
) -> User:
    """Create a person who can sign in at once with this password (no invitation)."""
    email, name = _new_person(email, name, organisation)
    problem = password_problem(password, email=email)
    if problem:
        raise AccountError(problem)
    user = User(
        email=email,
        name=name,
        organisation=organisation,
        role=role,
        password_hash=hash_password(password),
    )
    _add_person(user)
    audit.record(actor, "user.create", user, after=audit.snapshot(user, *USER_FIELDS))
    return user


def change_role(*, actor: User, user: User, role: Role) -> bool:
    """Give a person another role; their sessions end so the new role applies at once.

    Returns False (and records nothing) if they already have that role.
    A delegate who stops being a member stops being a delegate too (only members may be),
    recorded in the same event.
    """
    if user.role == role:
        return False
    if user.id == actor.id and role != Role.SECRETARIAT:
        raise AccountError("You cannot remove your own secretariat role.")
    fields = ("role", "is_delegate") if user.is_delegate and role != Role.MEMBER else ("role",)
    before = audit.snapshot(user, *fields)
    user.role = role
    if role != Role.MEMBER:
        user.is_delegate = False
    user.rotate_session()
    db.session.flush()
    audit.record(
        actor, "user.change_role", user, before=before, after=audit.snapshot(user, *fields)
    )
    return True


def set_delegate(*, actor: User, user: User, delegate: bool) -> bool:
    """Name a member as one of their organisation's delegates (who set its positions), or
    stop them being one. An organisation may have several (a lead and an alternate).

    Returns False (and records nothing) if nothing changes. Only an active member of an
    active organisation can be named; anyone can stop being a delegate.
    """
    if user.is_delegate == delegate:
        return False
    if delegate:
        if not permissions.can_be_delegate(user):
            raise AccountError(NOT_A_MEMBER_DELEGATE)
        if not user.active:
            raise AccountError("This person has been deactivated. Reactivate them first.")
        if not user.organisation.active:
            raise AccountError(
                "This person's organisation has been deactivated. Reactivate it first."
            )
    before = audit.snapshot(user, "is_delegate")
    user.is_delegate = delegate
    db.session.flush()
    audit.record(
        actor,
        "user.delegate" if delegate else "user.undelegate",
        user,
        before=before,
        after=audit.snapshot(user, "is_delegate"),
    )
    return True


def organisation_delegates(
    organisation: Organisation, *, include_deactivated: bool = False
) -> list[User]:
    """The organisation's delegates, by name (with those deactivated since, if asked)."""
    stmt = (
        select(User)
        .where(User.organisation_id == organisation.id, User.is_delegate.is_(True))
        .order_by(func.lower(User.name), User.id)
    )
    if not include_deactivated:
        stmt = stmt.where(User.active.is_(True))
    return list(db.session.scalars(stmt))


def set_user_active(*, actor: User, user: User, active: bool) -> None:
    """Deactivate (signing them out everywhere) or reactivate a person."""
    if user.active == active:
        raise AccountError(
            "This person's account is already active."
            if active
            else "This person is already deactivated."
        )
    if user.id == actor.id and not active:
        raise AccountError("You cannot deactivate your own account.")
    if active and user.erased_at is not None:
        raise AccountError("This person was erased: their account cannot be reactivated.")
    before = audit.snapshot(user, "active")
    user.active = active
    user.rotate_session()
    db.session.flush()
    audit.record(
        actor,
        "user.deactivate" if not active else "user.reactivate",
        user,
        before=before,
        after=audit.snapshot(user, "active"),
    )
