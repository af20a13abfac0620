"""Organisations' own notes on an ask: writing, replying, editing, deleting, proposing a note
as the organisation's position; and reading them for one organisation only.

Nothing here records an audit event or announces a live event: notes are not governance
actions, and no event, log, report, export or archive may carry them out of the
organisation. Every query takes the organisation explicitly and filters on it. None commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from consult.extensions import db
from consult.models import Ask, OrganisationNote, Stance, User, utcnow
from consult.positions.services import REASON_MAX
from consult.text import says_nothing

# A note may become the reason of a position: it is held to a position's reason's length.
BODY_MAX = REASON_MAX
PER_PAGE = 10


class NoteError(ValueError):
    """A note request that cannot be carried out; the message is for the user, and `field`
    names the form field it belongs to."""

    def __init__(self, message: str, *, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


def _clean_body(body: str | None) -> str:
    text = (body or "").replace("\r\n", "\n").strip()
    if says_nothing(text):
        raise NoteError("Enter your note")
    if len(text) > BODY_MAX:
        raise NoteError(f"Note must be {BODY_MAX:,} characters or fewer")
    return text


def add_note(
    *, author: User, ask: Ask, body: str | None, parent: OrganisationNote | None = None
) -> OrganisationNote:
    """Add a note to the author's organisation's notes on the ask, or a reply to one of them
    (a reply to a reply joins its thread)."""
    text = _clean_body(body)
    if parent is not None:
        if parent.parent is not None:
            parent = parent.parent
        if parent.ask_id != ask.id or parent.organisation_id != author.organisation_id:
            raise NoteError("You can only reply to your organisation’s notes on this ask")
        if parent.is_deleted:
            raise NoteError("This note was deleted: it can no longer be replied to")
    note = OrganisationNote(
        ask_id=ask.id,
        organisation_id=author.organisation_id,
        author_id=author.id,
        parent=parent,
        body=text,
    )
    db.session.add(note)
    db.session.flush()
    return note


def edit_note(*, actor: User, note: OrganisationNote, body: str | None) -> bool:
    """Change the text of one's own note (a proposal made from it keeps the new text as its
    reason); returns whether anything changed."""
    if note.author_id != actor.id or note.is_deleted:
        raise NoteError("You can only change your own notes")
    text = _clean_body(body)
    if text == note.body:
        return False
    note.body = text
    note.edited_at = utcnow()
    db.session.flush()
    return True


def _has_replies(note: OrganisationNote) -> bool:
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(OrganisationNote)
            .where(OrganisationNote.parent_id == note.id)
        )
    )


def delete_note(*, actor: User, note: OrganisationNote) -> None:
    """Delete one's own note, and any proposal made from it. A note with replies keeps its
    place, its text gone, so the replies still read as answers; a deleted note whose last
    reply goes, goes too."""
    if note.author_id != actor.id or note.is_deleted:
        raise NoteError("You can only delete your own notes")
    parent = note.parent
    if _has_replies(note):
        note.body = ""
        note.deleted_at = utcnow()
        note.proposed_stance = note.proposed_by_id = note.proposed_at = None
        note.proposed_version_id = None
        db.session.flush()
        return
    db.session.delete(note)
    db.session.flush()
    if parent is not None and parent.is_deleted and not _has_replies(parent):
        db.session.delete(parent)
        db.session.flush()


def propose(*, actor: User, note: OrganisationNote, stance: Stance | str | None) -> Stance:
    """Propose a note of one's organisation as its position on the ask's current version: a
    stance, with the note's text as the reason. The delegate's form shows the latest
    proposal; nothing is set."""
    try:
        chosen = Stance(stance) if stance else None
    except ValueError:
        chosen = None
    if chosen is None:
        raise NoteError("Select the position you propose", field="stance")
    if note.organisation_id != actor.organisation_id or note.is_deleted:
        raise NoteError("You can only propose your organisation’s notes", field="stance")
    current = note.ask.current_version
    if current is None:
        raise NoteError("This ask has no published wording to take a position on", field="stance")
    note.proposed_stance = chosen
    note.proposed_by_id = actor.id
    note.proposed_at = utcnow()
    note.proposed_version_id = current.id
    db.session.flush()
    return chosen


# Reading: always for one organisation -------------------------------------------------------


def _of(ask: Ask, organisation_id: int) -> Select[OrganisationNote]:
    return select(OrganisationNote).where(
        OrganisationNote.ask_id == ask.id, OrganisationNote.organisation_id == organisation_id
    )


def threads_query(ask: Ask, organisation_id: int) -> Select[OrganisationNote]:
    """The organisation's notes on the ask (not replies), newest first, for a page of them."""
    return (
        _of(ask, organisation_id)
        .options(joinedload(OrganisationNote.author), joinedload(OrganisationNote.proposed_by))
        .where(OrganisationNote.parent_id.is_(None))
        .order_by(OrganisationNote.id.desc())
    )


@dataclass
class Thread:
    note: OrganisationNote
    replies: list[OrganisationNote]


def threads(notes: list[OrganisationNote], organisation_id: int) -> list[Thread]:
    """These notes with their replies, oldest reply first (one query for all the replies)."""
    replies: dict[int, list[OrganisationNote]] = {note.id: [] for note in notes}
    if notes:
        found = db.session.scalars(
            select(OrganisationNote)
            .options(joinedload(OrganisationNote.author), joinedload(OrganisationNote.proposed_by))
            .where(
                OrganisationNote.organisation_id == organisation_id,
                OrganisationNote.parent_id.in_(list(replies)),
            )
            .order_by(OrganisationNote.id)
        )
        for reply in found:
            assert reply.parent_id is not None
            replies[reply.parent_id].append(reply)
    return [Thread(note, replies[note.id]) for note in notes]


def count_for(ask: Ask, organisation_id: int) -> int:
    """How many notes and replies the organisation has on the ask (deleted ones left out)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OrganisationNote)
            .where(
                OrganisationNote.ask_id == ask.id,
                OrganisationNote.organisation_id == organisation_id,
                OrganisationNote.deleted_at.is_(None),
            )
        )
        or 0
    )


def latest_proposal(ask: Ask, organisation_id: int) -> OrganisationNote | None:
    """The organisation's latest proposal for its position on the ask's current version."""
    current = ask.current_version
    if current is None:
        return None
    return db.session.scalar(
        _of(ask, organisation_id)
        .options(joinedload(OrganisationNote.proposed_by))
        .where(OrganisationNote.proposed_version_id == current.id)
        .order_by(OrganisationNote.proposed_at.desc(), OrganisationNote.id.desc())
        .limit(1)
    )
