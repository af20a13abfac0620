"""The JSON archive of a whole consultation: a versioned, deterministic document holding
everything the consultation recorded, for keeping or for moving to another installation.

What it holds, and what it leaves out on purpose:

- People by name, organisation, role and whether they are a delegate only: no email, no
  password hash, no session or account tokens, no sign-in times. They are referred to by
  archive-local keys ("person-1", ...), numbered in the order they were created.
- Every comment, in every state. Hidden comments keep their text and the reason they were
  hidden (the archive is the record; it is for the secretariat only). Withdrawn comments
  keep their place in the thread but not their text (the author withdrew it; the
  consultation report does the same).
- Backers by organisation name, contact name, website and state: not their email, nor
  their confirmation token.
- Not the reports of comments (moderation notes naming who reported whom), nor the audit
  log (it holds IP addresses and emails), nor reminders, live events or the keys forms
  use to spot a resent form.
- Not the organisations' own notes on asks: only each organisation's members read those,
  and the archive is the secretariat's (tests/notes/test_privacy.py).

Ids are replaced by archive-local keys ("organisation-1", "ask-2", "version-3", ...),
numbered in id order, so the archive does not depend on the database it came from. Times
are ISO 8601 in UTC with microseconds. `dumps` serialises with sorted keys, so the same
consultation always gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select

from consult.extensions import db
from consult.models import (
    Agreement,
    Amendment,
    AmendmentBacking,
    Ask,
    Backer,
    Comment,
    CommentState,
    Consultation,
    Disposition,
    DraftVersion,
    Endorsement,
    Organisation,
    Participant,
    Position,
    User,
)

FORMAT = "consult-archive"
VERSION = 1
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def when(moment: datetime | None) -> str | None:
    """A time as ISO 8601 UTC text with microseconds (the same text for the same time)."""
    return None if moment is None else moment.astimezone(UTC).strftime(TIME_FORMAT)


def dumps(document: dict[str, Any]) -> str:
    """The archive as JSON text: sorted keys, two-space indent, UTF-8 characters kept."""
    return json.dumps(document, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _table(model: Any) -> Table:
    return model.__table__


def _rows(model: Any, *where: Any) -> list[Any]:
    """Every row of the model's table matching `where`, as plain rows, in id order: one
    query, no relationships loaded."""
    table = _table(model)
    return list(db.session.execute(select(table).where(*where).order_by(table.c.id)))


class _Keys:
    """Archive-local keys for one kind of record, numbered in id order."""

    def __init__(self, prefix: str, ids: Iterable[int]) -> None:
        self._keys = {ident: f"{prefix}-{n}" for n, ident in enumerate(sorted(set(ids)), 1)}

    def __call__(self, ident: int | None) -> str | None:
        return None if ident is None else self._keys[ident]


def archive(consultation: Consultation) -> dict[str, Any]:
    """The whole consultation as a JSON-ready dict (see the module's docstring)."""
    cid = consultation.id
    asks = _rows(Ask, Ask.consultation_id == cid)
    ask_ids = [a.id for a in asks]
    participants = _rows(Participant, Participant.consultation_id == cid)
    versions = _rows(DraftVersion, DraftVersion.ask_id.in_(ask_ids))
    comments = _rows(Comment, Comment.ask_id.in_(ask_ids))
    amendments = _rows(Amendment, Amendment.ask_id.in_(ask_ids))
    backings = _rows(
        AmendmentBacking,
        AmendmentBacking.amendment_id.in_(
            select(Amendment.id).where(Amendment.ask_id.in_(ask_ids))
        ),
    )
    dispositions = _rows(Disposition, Disposition.ask_id.in_(ask_ids))
    positions = _rows(Position, Position.ask_id.in_(ask_ids))
    agreements = _rows(Agreement, Agreement.ask_id.in_(ask_ids))
    endorsements = _rows(Endorsement, Endorsement.consultation_id == cid)
    backers = _rows(Backer, Backer.consultation_id == cid)

    person_ids = {
        *(v.author_id for v in versions),
        *(c.author_id for c in comments),
        *(c.hidden_by_id for c in comments),
        *(c.resolved_by_id for c in comments),
        *(a.proposer_id for a in amendments),
        *(a.decided_by_id for a in amendments),
        *(b.set_by_id for b in backings),
        *(d.decided_by_id for d in dispositions),
        *(p.set_by_id for p in positions),
        *(a.agreed_by_id for a in agreements),
        *(a.reopened_by_id for a in agreements),
        *(e.set_by_id for e in endorsements),
        *(b.decided_by_id for b in backers),
    } - {None}
    users = _rows(User, User.id.in_(person_ids))
    organisation_ids = {
        *(p.organisation_id for p in participants),
        *(u.organisation_id for u in users),
        *(c.organisation_id for c in comments),
        *(a.organisation_id for a in amendments),
        *(b.organisation_id for b in backings),
        *(d.organisation_id for d in dispositions),
        *(p.organisation_id for p in positions),
        *(e.organisation_id for e in endorsements),
    }
    organisations = _rows(Organisation, Organisation.id.in_(organisation_ids))

    org = _Keys("organisation", organisation_ids)
    person = _Keys("person", person_ids)
    ask = _Keys("ask", ask_ids)
    version = _Keys("version", (v.id for v in versions))
    comment = _Keys("comment", (c.id for c in comments))
    amendment = _Keys("amendment", (a.id for a in amendments))

    return {
        "format": FORMAT,
        "version": VERSION,
        "consultation": {
            "title": consultation.title,
            "summary": consultation.summary,
            "opens_at": when(consultation.opens_at),
            "closes_at": when(consultation.closes_at),
            "rule": {
                "quorum_percent": consultation.quorum_percent,
                "threshold_percent": consultation.threshold_percent,
                "objection_blocks": consultation.objection_blocks,
                "changes_count_as_support": consultation.changes_count_as_support,
            },
            "closed_at": when(consultation.closed_at),
            "signoff_opened_at": when(consultation.signoff_opened_at),
            "signoff_closed_at": when(consultation.signoff_closed_at),
            "published_at": when(consultation.published_at),
            "created_at": when(consultation.created_at),
        },
        "organisations": [
            {
                "key": org(o.id),
                "name": o.name,
                "kind": str(o.kind),
                "website": o.website,
                "active": o.active,
            }
            for o in organisations
        ],
        "people": [
            {
                "key": person(u.id),
                "name": u.name,
                "organisation": org(u.organisation_id),
                "role": str(u.role),
                "delegate": u.is_delegate,
            }
            for u in users
        ],
        "participants": [
            {"organisation": org(p.organisation_id), "created_at": when(p.created_at)}
            for p in participants
        ],
        "asks": [
            {
                "key": ask(a.id),
                "title": a.title,
                "theme": a.theme,
                "sort_order": a.sort_order,
                "state": str(a.state),
                "created_at": when(a.created_at),
            }
            for a in asks
        ],
        "versions": [
            {
                "key": version(v.id),
                "ask": ask(v.ask_id),
                "number": v.number,
                "body": v.body,
                "change_note": v.change_note,
                "author": person(v.author_id),
                "created_at": when(v.created_at),
            }
            for v in versions
        ],
        "comments": [
            {
                "key": comment(c.id),
                "ask": ask(c.ask_id),
                "version": version(c.version_id),
                "paragraph_anchor": c.paragraph_anchor,
                "quote": c.quote,
                "parent": comment(c.parent_id),
                "author": person(c.author_id),
                "organisation": org(c.organisation_id),
                # Withdrawn by its author: kept in its thread, without its text.
                "body": None if c.state == CommentState.WITHDRAWN else c.body,
                "state": str(c.state),
                "created_at": when(c.created_at),
                "edited_at": when(c.edited_at),
                "hidden_reason": c.hidden_reason,
                "hidden_at": when(c.hidden_at),
                "hidden_by": person(c.hidden_by_id),
                "resolved_at": when(c.resolved_at),
                "resolved_by": person(c.resolved_by_id),
                "resolution": c.resolution,
            }
            for c in comments
        ],
        "amendments": [
            {
                "key": amendment(a.id),
                "ask": ask(a.ask_id),
                "version": version(a.version_id),
                "paragraph_anchor": a.paragraph_anchor,
                "original": a.original,
                "wording": a.wording,
                "rationale": a.rationale,
                "organisation": org(a.organisation_id),
                "proposer": person(a.proposer_id),
                "state": str(a.state),
                "created_at": when(a.created_at),
                "closed_at": when(a.closed_at),
                "decided_by": person(a.decided_by_id),
                "decline_reason": a.decline_reason,
                "accepted_version": version(a.accepted_version_id),
            }
            for a in amendments
        ],
        "backings": [
            {
                "amendment": amendment(b.amendment_id),
                "organisation": org(b.organisation_id),
                "stance": str(b.stance),
                "set_by": person(b.set_by_id),
                "set_at": when(b.set_at),
            }
            for b in backings
        ],
        "dispositions": [
            {
                "ask": ask(d.ask_id),
                "comment": comment(d.comment_id),
                "amendment": amendment(d.amendment_id),
                "organisation": org(d.organisation_id),
                "outcome": str(d.outcome),
                "reason": d.reason,
                "version": version(d.version_id),
                "decided_by": person(d.decided_by_id),
                "decided_at": when(d.decided_at),
            }
            for d in dispositions
        ],
        "positions": [
            {
                "ask": ask(p.ask_id),
                "version": version(p.version_id),
                "organisation": org(p.organisation_id),
                "stance": str(p.stance),
                "reason": p.reason,
                "set_by": person(p.set_by_id),
                "set_at": when(p.set_at),
            }
            for p in positions
        ],
        "agreements": [
            {
                "ask": ask(a.ask_id),
                "version": version(a.version_id),
                "agreed_by": person(a.agreed_by_id),
                "agreed_at": when(a.agreed_at),
                "against_rule": a.against_rule,
                "reason": a.reason,
                "tally": a.tally,
                "reopened_at": when(a.reopened_at),
                "reopened_by": person(a.reopened_by_id),
                "reopen_reason": a.reopen_reason,
            }
            for a in agreements
        ],
        "endorsements": [
            {
                "organisation": org(e.organisation_id),
                "decision": str(e.decision),
                "list_publicly": e.list_publicly,
                "reason": e.reason,
                "set_by": person(e.set_by_id),
                "set_at": when(e.set_at),
            }
            for e in endorsements
        ],
        "backers": [
            {
                "organisation_name": b.organisation_name,
                "contact_name": b.contact_name,
                "website": b.website,
                "state": str(b.state),
                "created_at": when(b.created_at),
                "confirmed_at": when(b.confirmed_at),
                "decided_at": when(b.decided_at),
                "decided_by": person(b.decided_by_id),
                "reject_reason": b.reject_reason,
            }
            for b in backers
        ],
    }
