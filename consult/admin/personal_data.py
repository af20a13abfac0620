"""People's data (UK GDPR): everything Consult holds about a person, as JSON, and erasure.

`export(actor=, person=)` gathers the person's account, what they wrote and set, their
notification preferences and the audit events they did or were the object of. Organisation
notes are counted, never quoted: only the organisation's own members may read them, not the
secretariat that downloads the export (the export says so).

`erase(actor=, person=)` removes the person's name and email address everywhere Consult keeps
them: the account gets "A member of <organisation>" and an address that can receive nothing,
loses its password, its links and its preferences, and is signed out for good. What they
contributed stays, shown as by "a member of <organisation>". The audit log is append-only:
its events keep their ids, and the pages that show them leave out an erased person's old
name and email address (see `redacted_keys`) and where they signed in from.

Not covered: backers (outside organisations' contacts, consult/models/signoff.py) are not
accounts; and text that people typed (a comment that mentions someone by name) is not
rewritten.

Services flush and record the audit event; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from markupsafe import escape
from sqlalchemy import delete, func, or_, select

from consult import audit
from consult.admin import sentences
from consult.admin.services import AdminError
from consult.extensions import db
from consult.models import (
    AccountToken,
    Amendment,
    AmendmentBacking,
    AskVisit,
    AuditEvent,
    Comment,
    CommentReport,
    DigestItem,
    Endorsement,
    NotificationPreference,
    OrganisationNote,
    OutgoingEmail,
    Position,
    User,
    utcnow,
)

FORMAT = "consult-person-data"
VERSION = 1
NAME_MAX_LENGTH = 200  # User.name
# The fields of an audit event's values that hold a person's name or email address.
PERSONAL_KEYS = frozenset({"name", "email"})
NOTES_LEFT_OUT = (
    "Organisation notes are counted, not included: only members of {organisation} may read "
    "them, not the secretariat. The person can read and copy their notes on each ask's "
    "notes page while their account is active."
)


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _value(value: Any) -> Any:
    """An enum's value, anything else as it is."""
    return getattr(value, "value", value)


# Export -------------------------------------------------------------------------------------


def _comments(person: User) -> list[Comment]:
    return list(
        db.session.scalars(
            select(Comment).where(Comment.author_id == person.id).order_by(Comment.id)
        )
    )


def _comment(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "ask": {"id": comment.ask_id, "title": comment.ask.title},
        "version": comment.version.number,
        "paragraph_anchor": comment.paragraph_anchor,
        "quote": comment.quote,
        "in_reply_to": comment.parent_id,
        "organisation": comment.organisation.name,
        "body": comment.body,
        "state": _value(comment.state),
        "created_at": _when(comment.created_at),
        "edited_at": _when(comment.edited_at),
        "hidden_reason": comment.hidden_reason,
        "resolved_at": _when(comment.resolved_at),
        "resolution": comment.resolution,
    }


def _audit_events(person: User) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                (AuditEvent.actor_id == person.id)
                | (
                    (AuditEvent.object_type == User.__tablename__)
                    & (AuditEvent.object_id == person.id)
                )
            )
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
    )


def _audit_event(event: AuditEvent, person: User, sentence: str) -> dict[str, Any]:
    """One event: what it says, and its values unless they are about someone else's account;
    the address it came from only if the person did it (no one else's address)."""
    by_them = event.actor_id == person.id
    about_someone_else = event.object_type == User.__tablename__ and event.object_id != person.id
    hidden = redacted_keys(event, {person.id} if person.is_erased else set())

    def shown(values: dict[str, Any] | None) -> dict[str, Any] | None:
        if about_someone_else or not isinstance(values, dict):
            return None
        return {key: value for key, value in values.items() if key not in hidden}

    return {
        "id": event.id,
        "created_at": _when(event.created_at),
        "action": event.action,
        "sentence": sentence,
        "done_by_them": by_them,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "before": shown(event.before),
        "after": shown(event.after),
        # Their own address, until they are erased; never anyone else's.
        "ip_address": event.ip_address if by_them and not person.is_erased else None,
    }


def gather(person: User) -> dict[str, Any]:
    """Everything Consult holds about a person, as JSON-ready data (no password hash, no
    session or link tokens, no one else's address)."""
    comments = _comments(person)
    events = _audit_events(person)
    described = sentences.describe(events)
    counted = select(func.count(OrganisationNote.id)).where(OrganisationNote.author_id == person.id)
    notes = db.session.scalar(counted.where(OrganisationNote.parent_id.is_(None))) or 0
    replies = db.session.scalar(counted.where(OrganisationNote.parent_id.is_not(None))) or 0
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _when(utcnow()),
        "person": {
            "id": person.id,
            "name": person.name,
            "email": person.email,
            "organisation": {"id": person.organisation_id, "name": person.organisation.name},
            "role": _value(person.role),
            "delegate": person.is_delegate,
            "active": person.active,
            "accepted_invitation": person.has_accepted_invitation,
            "created_at": _when(person.created_at),
            "last_login_at": _when(person.last_login_at),
            "erased_at": _when(person.erased_at),
        },
        "comments": [_comment(c) for c in comments if c.parent_id is None],
        "replies": [_comment(c) for c in comments if c.parent_id is not None],
        "positions_set": [
            {
                "ask": {"id": p.ask_id, "title": p.ask.title},
                "version": p.version.number,
                "organisation": p.organisation.name,
                "stance": _value(p.stance),
                "reason": p.reason,
                "set_at": _when(p.set_at),
            }
            for p in db.session.scalars(
                select(Position).where(Position.set_by_id == person.id).order_by(Position.id)
            )
        ],
        "amendments_proposed": [
            {
                "id": a.id,
                "ask": {"id": a.ask_id, "title": a.ask.title},
                "version": a.version.number,
                "paragraph_anchor": a.paragraph_anchor,
                "organisation": a.organisation.name,
                "wording": a.wording,
                "rationale": a.rationale,
                "state": _value(a.state),
                "created_at": _when(a.created_at),
                "decline_reason": a.decline_reason,
            }
            for a in db.session.scalars(
                select(Amendment).where(Amendment.proposer_id == person.id).order_by(Amendment.id)
            )
        ],
        "backings_set": [
            {
                "amendment": b.amendment_id,
                "organisation": b.organisation.name,
                "stance": _value(b.stance),
                "set_at": _when(b.set_at),
            }
            for b in db.session.scalars(
                select(AmendmentBacking)
                .where(AmendmentBacking.set_by_id == person.id)
                .order_by(AmendmentBacking.id)
            )
        ],
        "endorsements_set": [
            {
                "consultation": {"id": e.consultation_id, "title": e.consultation.title},
                "organisation": e.organisation.name,
                "decision": _value(e.decision),
                "list_publicly": e.list_publicly,
                "reason": e.reason,
                "set_at": _when(e.set_at),
            }
            for e in db.session.scalars(
                select(Endorsement)
                .where(Endorsement.set_by_id == person.id)
                .order_by(Endorsement.id)
            )
        ],
        "comments_reported": [
            {
                "comment": r.comment_id,
                "reason": r.reason,
                "created_at": _when(r.created_at),
                "handled_at": _when(r.handled_at),
            }
            for r in db.session.scalars(
                select(CommentReport)
                .where(CommentReport.reporter_id == person.id)
                .order_by(CommentReport.id)
            )
        ],
        "organisation_notes": {
            "notes": notes,
            "replies": replies,
            "left_out": NOTES_LEFT_OUT.format(organisation=person.organisation.name),
        },
        "notification_preferences": [
            {"kind": _value(p.kind), "delivery": _value(p.delivery)}
            for p in db.session.scalars(
                select(NotificationPreference)
                .where(NotificationPreference.user_id == person.id)
                .order_by(NotificationPreference.kind)
            )
        ],
        "digest_items_waiting": [
            {"kind": _value(d.kind), "summary": d.summary, "created_at": _when(d.created_at)}
            for d in db.session.scalars(
                select(DigestItem)
                .where(DigestItem.user_id == person.id, DigestItem.digested_at.is_(None))
                .order_by(DigestItem.id)
            )
        ],
        "asks_visited": [
            {"ask": v.ask_id, "visited_at": _when(v.visited_at)}
            for v in db.session.scalars(
                select(AskVisit).where(AskVisit.user_id == person.id).order_by(AskVisit.id)
            )
        ],
        "emails_to_them": [
            {
                "subject": e.subject,
                "state": _value(e.state),
                "created_at": _when(e.created_at),
                "sent_at": _when(e.sent_at),
            }
            for e in db.session.scalars(
                select(OutgoingEmail)
                .where(OutgoingEmail.recipient == person.email)
                .order_by(OutgoingEmail.id)
            )
        ],
        "audit_events": [_audit_event(e, person, described[e.id]) for e in events],
    }


def export(*, actor: User, person: User) -> dict[str, Any]:
    """Everything held about a person, for the secretariat to send them; recorded in the
    audit log (who downloaded whose data)."""
    data = gather(person)
    audit.record(actor, "user.export_data", person)
    return data


# Erasure ------------------------------------------------------------------------------------


def erased_name(person: User) -> str:
    """What an erased person is called from then on: "A member of <organisation>"."""
    return f"A member of {person.organisation.name}"[:NAME_MAX_LENGTH]


def erased_email(person: User) -> str:
    """An address unique to the account that can receive nothing (.invalid is reserved)."""
    return f"erased-{person.id}@invalid"


def _replace_in_stored_text(old: Iterable[str], new: str) -> None:
    """Put `new` for each of `old` (and its HTML-escaped form) in every stored email and
    digest line: the emails to other people that named the person (a reply, an invitation)."""
    pairs: dict[str, str] = {}
    for text in old:
        if text:
            pairs[text] = new
            pairs[str(escape(text))] = str(escape(new))

    def scrub(value: str | None) -> str | None:
        if value is None:
            return None
        for before, after in pairs.items():
            value = value.replace(before, after)
        return value

    if not pairs:
        return
    emails = db.session.scalars(
        select(OutgoingEmail).where(
            or_(
                *(
                    column.contains(text, autoescape=True)
                    for text in pairs
                    for column in (
                        OutgoingEmail.subject,
                        OutgoingEmail.text_body,
                        OutgoingEmail.html_body,
                    )
                )
            )
        )
    )
    for email in emails:
        email.subject = scrub(email.subject) or ""
        email.text_body = scrub(email.text_body) or ""
        email.html_body = scrub(email.html_body)
    items = db.session.scalars(
        select(DigestItem).where(
            or_(*(DigestItem.summary.contains(text, autoescape=True) for text in pairs))
        )
    )
    for item in items:
        item.summary = scrub(item.summary) or ""


def erase(*, actor: User, person: User) -> None:
    """Erase a person's name and email address everywhere (UK GDPR), keeping what their
    organisation contributed through them: refused for oneself and for someone already
    erased. They are signed out for good; their links, notification preferences, waiting
    digest lines, visits and every email to them go."""
    if person.id == actor.id:
        raise AdminError("You cannot erase your own account.")
    if person.is_erased:
        raise AdminError("This person has already been erased.")
    old_name, old_email = person.name, person.email
    before = audit.snapshot(person, "active", "is_delegate")
    person.name = erased_name(person)
    person.email = erased_email(person)
    person.password_hash = None
    person.active = False
    person.is_delegate = False
    person.erased_at = utcnow()
    person.rotate_session()
    db.session.execute(delete(AccountToken).where(AccountToken.user_id == person.id))
    db.session.execute(
        delete(NotificationPreference).where(NotificationPreference.user_id == person.id)
    )
    db.session.execute(delete(DigestItem).where(DigestItem.user_id == person.id))
    db.session.execute(delete(AskVisit).where(AskVisit.user_id == person.id))
    db.session.execute(
        delete(OutgoingEmail)
        .where(OutgoingEmail.recipient == old_email)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    _replace_in_stored_text((old_email, old_name), person.name)
    db.session.flush()
    audit.record(
        actor,
        "user.erase",
        person,
        before=before,
        after=audit.snapshot(person, "active", "is_delegate", "erased_at"),
    )


def erased_people(ids: Iterable[int | None]) -> set[int]:
    """Which of these people have been erased (one query)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return set()
    return set(
        db.session.scalars(select(User.id).where(User.id.in_(wanted), User.erased_at.is_not(None)))
    )


def erased_in(events: Iterable[AuditEvent]) -> set[int]:
    """The erased people among these events' actors and the people they are about."""
    events = list(events)
    return erased_people(
        [e.actor_id for e in events]
        + [e.object_id for e in events if e.object_type == User.__tablename__]
    )


def redacted_keys(event: AuditEvent, erased: set[int]) -> frozenset[str]:
    """The before/after fields not to show for an event: an erased person's old name and
    email address, in the events about their account."""
    if event.object_type == User.__tablename__ and event.object_id in erased:
        return PERSONAL_KEYS
    return frozenset()
