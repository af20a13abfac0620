"""Publishing a consultation's agreed manifesto, and its backers: outside organisations that
support it from the public page, confirm by a single-use emailed link, and are listed once
the secretariat approves them.

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from consult import audit
from consult.agreements import manifesto as manifesto_module
from consult.extensions import db
from consult.filters import format_date
from consult.mail import absolute_url, queue_message
from consult.models import (
    AskState,
    Backer,
    BackerState,
    Consultation,
    Decision,
    Endorsement,
    Organisation,
    User,
    hash_token,
    utcnow,
)
from consult.reports.safe import neutralise
from consult.uktime import utc_to_london

ORGANISATION_MAX = 200
NAME_MAX = 200
EMAIL_MAX = 254
WEBSITE_MAX = 500
REASON_MAX = 2000
DEFAULT_TOKEN_DAYS = 7


class PublicationError(ValueError):
    """A request that cannot be carried out; the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# Publishing -----------------------------------------------------------------------------------


def blockers(consultation: Consultation) -> list[str]:
    """Why the manifesto cannot be published now, in plain words (empty when it can)."""
    if consultation.published_at is not None:
        return [f"It was published on {format_date(consultation.published_at)}."]
    found = []
    manifesto = manifesto_module.build(consultation)
    if not manifesto.entries:
        found.append("The consultation has no asks.")
    else:
        waiting = len(manifesto.entries) - manifesto.agreed_count
        if waiting:
            found.append(
                f"{waiting} of {len(manifesto.entries)} asks {'is' if waiting == 1 else 'are'} "
                "not agreed yet."
            )
    if consultation.signoff_opened_at is None:
        found.append("Sign-off has not been opened.")
    elif consultation.signoff_closed_at is None:
        found.append("Sign-off is still open: close it first.")
    return found


def publish(*, actor: User, consultation: Consultation) -> None:
    """Publish the agreed manifesto: the consultation and every agreed ask become public."""
    problems = blockers(consultation)
    if problems:
        raise PublicationError(" ".join(problems))
    now = utcnow()
    consultation.published_at = now
    asks = [ask for ask in consultation.asks if ask.state == AskState.AGREED]
    for ask in asks:
        ask.state = AskState.PUBLISHED
    db.session.flush()
    audit.record(
        actor,
        "consultation.publish",
        consultation,
        after={"published_at": now.isoformat(), "asks": [ask.id for ask in asks]},
    )


def published_manifesto_query() -> Select[Any]:
    """Published consultations, most recently published first."""
    return (
        select(Consultation)
        .where(Consultation.published_at.is_not(None))
        .order_by(Consultation.published_at.desc(), Consultation.id.desc())
    )


def listed_organisations(consultation: Consultation) -> list[Organisation]:
    """Organisations that endorsed the manifesto and allowed their names to be listed."""
    return list(
        db.session.scalars(
            select(Organisation)
            .join(Endorsement, Endorsement.organisation_id == Organisation.id)
            .where(
                Endorsement.consultation_id == consultation.id,
                Endorsement.decision == Decision.ENDORSE,
                Endorsement.list_publicly.is_(True),
            )
            .order_by(Organisation.name)
        )
    )


def approved_backers(consultation: Consultation) -> list[Backer]:
    """The backers listed on the public page: only approved ones."""
    return list(
        db.session.scalars(
            select(Backer)
            .where(Backer.consultation_id == consultation.id, Backer.state == BackerState.APPROVED)
            .order_by(Backer.organisation_name, Backer.id)
        )
    )


def is_web_address(value: str) -> bool:
    """True for an absolute http or https address with a host."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


# Backers --------------------------------------------------------------------------------------


@dataclass
class Offer:
    """What the back-the-manifesto form sent, cleaned."""

    organisation_name: str
    contact_name: str
    email: str
    website: str


def token_lifetime() -> timedelta:
    """How long a confirmation link works (BACKER_TOKEN_DAYS, 7 days by default)."""
    return timedelta(days=current_app.config.get("BACKER_TOKEN_DAYS") or DEFAULT_TOKEN_DAYS)


def _new_token(backer: Backer) -> str:
    raw = secrets.token_urlsafe(32)
    backer.token_hash = hash_token(raw)
    backer.token_expires_at = utcnow() + token_lifetime()
    return raw


def _send_confirmation(backer: Backer, consultation: Consultation, raw: str) -> None:
    link = absolute_url("publication.confirm_backer", token=raw)
    days = token_lifetime().days
    queue_message(
        to=backer.email,
        template="backer_confirm",
        subject=f"Confirm your support for {consultation.title}",
        consultation=consultation,
        backer=backer,
        link=link,
        days=days,
    )


def _send_already_recorded(backer: Backer, consultation: Consultation) -> None:
    queue_message(
        to=backer.email,
        template="backer_already",
        subject=f"Your support for {consultation.title}",
        consultation=consultation,
    )


def offer_backing(*, consultation: Consultation, offer: Offer) -> None:
    """Record an offer of support and email its contact a confirmation link. The caller
    answers the same whatever happens here, so nobody learns whether an email is known."""
    if consultation.published_at is None:
        raise PublicationError("This manifesto is not published.")
    email = offer.email.strip().lower()
    existing = db.session.scalar(
        select(Backer).where(Backer.consultation_id == consultation.id, Backer.email == email)
    )
    if existing is not None:
        if existing.state == BackerState.UNCONFIRMED:
            existing.organisation_name = offer.organisation_name
            existing.contact_name = offer.contact_name
            existing.website = offer.website
            raw = _new_token(existing)  # the earlier link stops working
            db.session.flush()
            _send_confirmation(existing, consultation, raw)
        else:
            _send_already_recorded(existing, consultation)
        return
    backer = Backer(
        consultation_id=consultation.id,
        organisation_name=offer.organisation_name,
        contact_name=offer.contact_name,
        email=email,
        website=offer.website,
        state=BackerState.UNCONFIRMED,
    )
    raw = _new_token(backer)
    db.session.add(backer)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # The same email offered at the same moment: the first one stands.
        return
    _send_confirmation(backer, consultation, raw)


def find_backer_by_token(raw: str) -> Backer | None:
    """The unconfirmed backer whose link this is, if the link is still usable."""
    if not raw or len(raw) > 200:
        return None
    backer = db.session.scalar(select(Backer).where(Backer.token_hash == hash_token(raw)))
    if backer is None or backer.state != BackerState.UNCONFIRMED:
        return None
    if backer.token_expires_at is None or backer.token_expires_at <= utcnow():
        return None
    if backer.consultation.published_at is None:
        return None
    return backer


def confirm_backer(*, backer: Backer) -> None:
    """Use the link: the backer is confirmed and waits for the secretariat; the link is spent."""
    now = utcnow()
    result = cast(
        CursorResult,
        db.session.execute(
            update(Backer)
            .where(
                Backer.id == backer.id,
                Backer.state == BackerState.UNCONFIRMED,
                Backer.token_hash == backer.token_hash,
            )
            .values(
                state=BackerState.CONFIRMED,
                confirmed_at=now,
                token_hash=None,
                token_expires_at=None,
            )
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise PublicationError("This link has already been used.")
    db.session.refresh(backer)
    audit.record(None, "backer.confirm", backer, after={"state": backer.state.value})


def _decide(actor: User, backer: Backer, state: BackerState, reason: str | None) -> None:
    if backer.state != BackerState.CONFIRMED:
        raise PublicationError(
            "Only a backer who has confirmed and is waiting for approval can be approved or "
            "rejected."
        )
    before = {"state": backer.state.value}
    backer.state = state
    backer.decided_at = utcnow()
    backer.decided_by_id = actor.id
    backer.reject_reason = reason
    db.session.flush()
    action = "backer.approve" if state == BackerState.APPROVED else "backer.reject"
    audit.record(
        actor, action, backer, before=before, after={"state": state.value, "reason": reason}
    )


def approve_backer(*, actor: User, backer: Backer) -> None:
    """List a confirmed backer on the public page."""
    _decide(actor, backer, BackerState.APPROVED, None)


def reject_backer(*, actor: User, backer: Backer, reason: str | None) -> None:
    """Refuse a confirmed backer, with a reason; it is never listed."""
    text = (reason or "").replace("\r\n", "\n").strip()
    if not text:
        raise PublicationError("Enter why you are rejecting this backer", field="reason")
    if len(text) > REASON_MAX:
        raise PublicationError(f"Reason must be {REASON_MAX:,} characters or fewer", field="reason")
    _decide(actor, backer, BackerState.REJECTED, text)


def backers_query(consultation: Consultation, state: BackerState | None = None) -> Select[Any]:
    """A consultation's backers, newest first, optionally of one state."""
    stmt = select(Backer).where(Backer.consultation_id == consultation.id)
    if state is not None:
        stmt = stmt.where(Backer.state == state)
    return stmt.order_by(Backer.created_at.desc(), Backer.id.desc())


CSV_HEADERS = (
    "Organisation",
    "Contact name",
    "Email",
    "Website",
    "State",
    "Offered at",
    "Confirmed at",
    "Decided at",
    "Rejection reason",
)


def backers_csv(consultation: Consultation) -> bytes:
    """Every backer of the consultation as CSV: UTF-8 with a byte-order mark, every text
    cell neutralised against formula injection."""

    def when(value) -> str:
        return utc_to_london(value).isoformat(timespec="seconds") if value else ""

    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS)
    for backer in db.session.scalars(backers_query(consultation)):
        writer.writerow(
            [
                neutralise(backer.organisation_name),
                neutralise(backer.contact_name),
                neutralise(backer.email),
                neutralise(backer.website),
                backer.state.label,
                when(backer.created_at),
                when(backer.confirmed_at),
                when(backer.decided_at),
                neutralise(backer.reject_reason or ""),
            ]
        )
    return out.getvalue().encode("utf-8-sig")
