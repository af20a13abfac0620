"""The consultation report's rows, read from the database in a fixed number of queries.

One query reads the asks and their versions, then one query per kind (comments,
amendments with one more for their backing, positions, dispositions), whatever the size of
the consultation. Rows are plain tuples in the order of their sheet's headers, sorted by
ask (in the consultation's order), then organisation, then time. Times are on the UK clock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from consult import text
from consult.extensions import db
from consult.models import (
    Amendment,
    AmendmentBacking,
    Ask,
    Backing,
    Comment,
    CommentState,
    Consultation,
    Disposition,
    DraftVersion,
    Organisation,
    Position,
    User,
)
from consult.uktime import utc_to_london

Cell = str | int | datetime | None

COMMENTS = "comments"
AMENDMENTS = "amendments"
POSITIONS = "positions"
DISPOSITIONS = "dispositions"
KINDS = (COMMENTS, AMENDMENTS, POSITIONS, DISPOSITIONS)

TITLES = {
    COMMENTS: "Comments",
    AMENDMENTS: "Amendments",
    POSITIONS: "Positions",
    DISPOSITIONS: "Dispositions",
}

HEADERS: dict[str, tuple[str, ...]] = {
    COMMENTS: (
        "Ask",
        "Version",
        "Paragraph",
        "Comment ID",
        "Reply to comment ID",
        "Organisation",
        "Author",
        "Created at (UK time)",
        "State",
        "Resolved",
        "Comment",
    ),
    AMENDMENTS: (
        "Ask",
        "Version",
        "Paragraph",
        "Amendment ID",
        "Organisation",
        "Proposer",
        "Proposed at (UK time)",
        "State",
        "Wording",
        "Rationale",
        "Backed by",
        "Opposed by",
        "Accepted into version",
        "Decline reason",
    ),
    POSITIONS: (
        "Ask",
        "Version",
        "Current version",
        "Organisation",
        "Position",
        "Reason",
        "Set by",
        "Set at (UK time)",
    ),
    DISPOSITIONS: (
        "Ask",
        "Subject",
        "Subject ID",
        "Organisation",
        "Outcome",
        "Reason",
        "Answered in version",
        "Decided by",
        "Decided at (UK time)",
    ),
}

WHOLE_ASK = "Whole ask"
WHOLE_TEXT = "Whole text"
UNKNOWN_PARAGRAPH = "Not found"


@dataclass(frozen=True)
class Sheet:
    """One kind of record: its headers and its rows (tuples in the headers' order)."""

    kind: str
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


@dataclass
class Report:
    """The consultation's report: a sheet for each kind asked for, in KINDS order."""

    title: str
    sheets: list[Sheet] = field(default_factory=list)

    def sheet(self, kind: str) -> Sheet:
        return next(s for s in self.sheets if s.kind == kind)


@dataclass
class _Versions:
    """The consultation's asks and versions, from one query."""

    ask_titles: dict[int, str]
    numbers: dict[int, int]  # version id -> number
    bodies: dict[int, str]
    current: set[int]  # ids of each ask's latest version
    _paragraphs: dict[int, dict[str, int]] = field(default_factory=dict)

    def label(self, version_id: int | None) -> str | None:
        return None if version_id is None else f"v{self.numbers[version_id]}"

    def paragraph(self, version_id: int, anchor: str | None, whole: str) -> Cell:
        """The paragraph's number in its version (from 1), or `whole` for the whole text."""
        if anchor is None:
            return whole
        if version_id not in self._paragraphs:
            self._paragraphs[version_id] = {
                p.anchor: number
                for number, p in enumerate(text.paragraphs(self.bodies[version_id]), start=1)
            }
        return self._paragraphs[version_id].get(anchor, UNKNOWN_PARAGRAPH)


def _uk(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc_to_london(moment).replace(microsecond=0)


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def gather(consultation: Consultation, kinds: Iterable[str] = KINDS) -> Report:
    """The report's sheets of these kinds for a consultation, every version included."""
    wanted = set(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"unknown report kinds: {', '.join(sorted(unknown))}")
    versions = _versions(consultation)
    report = Report(title=consultation.title)
    readers = {
        COMMENTS: _comments,
        AMENDMENTS: _amendments,
        POSITIONS: _positions,
        DISPOSITIONS: _dispositions,
    }
    for kind in KINDS:
        if kind in wanted:
            rows = readers[kind](consultation, versions)
            report.sheets.append(Sheet(kind, TITLES[kind], HEADERS[kind], rows))
    return report


def _versions(consultation: Consultation) -> _Versions:
    result = db.session.execute(
        select(Ask.id, Ask.title, DraftVersion.id, DraftVersion.number, DraftVersion.body)
        .outerjoin(DraftVersion, DraftVersion.ask_id == Ask.id)
        .where(Ask.consultation_id == consultation.id)
        .order_by(Ask.id, DraftVersion.number)
    ).all()
    versions = _Versions(ask_titles={}, numbers={}, bodies={}, current=set())
    latest: dict[int, int] = {}
    for ask_id, title, version_id, number, body in result:
        versions.ask_titles[ask_id] = title
        if version_id is not None:
            versions.numbers[version_id] = number
            versions.bodies[version_id] = body
            latest[ask_id] = version_id  # ordered by number: the last one is current
    versions.current = set(latest.values())
    return versions


def _ask_order():
    return (Ask.sort_order, Ask.id)


def _comments(consultation: Consultation, versions: _Versions) -> list[tuple[Cell, ...]]:
    rows = db.session.execute(
        select(
            Comment.ask_id,
            Comment.version_id,
            Comment.paragraph_anchor,
            Comment.id,
            Comment.parent_id,
            Organisation.name,
            User.name,
            Comment.created_at,
            Comment.state,
            Comment.resolved_at,
            Comment.body,
        )
        .join(Ask, Comment.ask_id == Ask.id)
        .join(Organisation, Comment.organisation_id == Organisation.id)
        .join(User, Comment.author_id == User.id)
        .where(Ask.consultation_id == consultation.id)
        .order_by(*_ask_order(), func.lower(Organisation.name), Comment.created_at, Comment.id)
    ).all()
    return [
        (
            versions.ask_titles[ask_id],
            versions.label(version_id),
            versions.paragraph(version_id, anchor, WHOLE_ASK),
            comment_id,
            parent_id,
            organisation,
            author,
            _uk(created_at),
            state.label,
            _yes_no(resolved_at is not None),
            # Its author withdrew it: the report keeps that it was there, not what it said.
            "" if state == CommentState.WITHDRAWN else body,
        )
        for (
            ask_id,
            version_id,
            anchor,
            comment_id,
            parent_id,
            organisation,
            author,
            created_at,
            state,
            resolved_at,
            body,
        ) in rows
    ]


def _amendments(consultation: Consultation, versions: _Versions) -> list[tuple[Cell, ...]]:
    backers = aliased(Organisation)
    backing: dict[tuple[int, Backing], list[str]] = defaultdict(list)
    for amendment_id, stance, name in db.session.execute(
        select(AmendmentBacking.amendment_id, AmendmentBacking.stance, backers.name)
        .join(Amendment, AmendmentBacking.amendment_id == Amendment.id)
        .join(Ask, Amendment.ask_id == Ask.id)
        .join(backers, AmendmentBacking.organisation_id == backers.id)
        .where(Ask.consultation_id == consultation.id)
        .order_by(func.lower(backers.name))
    ):
        backing[amendment_id, stance].append(name)
    rows = db.session.execute(
        select(
            Amendment.ask_id,
            Amendment.version_id,
            Amendment.paragraph_anchor,
            Amendment.id,
            Organisation.name,
            User.name,
            Amendment.created_at,
            Amendment.state,
            Amendment.wording,
            Amendment.rationale,
            Amendment.accepted_version_id,
            Amendment.decline_reason,
        )
        .join(Ask, Amendment.ask_id == Ask.id)
        .join(Organisation, Amendment.organisation_id == Organisation.id)
        .join(User, Amendment.proposer_id == User.id)
        .where(Ask.consultation_id == consultation.id)
        .order_by(*_ask_order(), func.lower(Organisation.name), Amendment.created_at, Amendment.id)
    ).all()
    return [
        (
            versions.ask_titles[ask_id],
            versions.label(version_id),
            versions.paragraph(version_id, anchor, WHOLE_TEXT),
            amendment_id,
            organisation,
            proposer,
            _uk(created_at),
            state.label,
            wording,
            rationale,
            "; ".join(backing[amendment_id, Backing.BACK]),
            "; ".join(backing[amendment_id, Backing.OPPOSE]),
            versions.label(accepted_version_id),
            decline_reason,
        )
        for (
            ask_id,
            version_id,
            anchor,
            amendment_id,
            organisation,
            proposer,
            created_at,
            state,
            wording,
            rationale,
            accepted_version_id,
            decline_reason,
        ) in rows
    ]


def _positions(consultation: Consultation, versions: _Versions) -> list[tuple[Cell, ...]]:
    rows = db.session.execute(
        select(
            Position.ask_id,
            Position.version_id,
            Organisation.name,
            Position.stance,
            Position.reason,
            User.name,
            Position.set_at,
        )
        .join(Ask, Position.ask_id == Ask.id)
        .join(Organisation, Position.organisation_id == Organisation.id)
        .join(User, Position.set_by_id == User.id)
        .where(Ask.consultation_id == consultation.id)
        .order_by(*_ask_order(), func.lower(Organisation.name), Position.set_at, Position.id)
    ).all()
    return [
        (
            versions.ask_titles[ask_id],
            versions.label(version_id),
            _yes_no(version_id in versions.current),
            organisation,
            stance.label,
            reason,
            set_by,
            _uk(set_at),
        )
        for ask_id, version_id, organisation, stance, reason, set_by, set_at in rows
    ]


def _dispositions(consultation: Consultation, versions: _Versions) -> list[tuple[Cell, ...]]:
    rows = db.session.execute(
        select(
            Disposition.ask_id,
            Disposition.comment_id,
            Disposition.amendment_id,
            Organisation.name,
            Disposition.outcome,
            Disposition.reason,
            Disposition.version_id,
            User.name,
            Disposition.decided_at,
        )
        .join(Ask, Disposition.ask_id == Ask.id)
        .join(Organisation, Disposition.organisation_id == Organisation.id)
        .join(User, Disposition.decided_by_id == User.id)
        .where(Ask.consultation_id == consultation.id)
        .order_by(
            *_ask_order(), func.lower(Organisation.name), Disposition.decided_at, Disposition.id
        )
    ).all()
    return [
        (
            versions.ask_titles[ask_id],
            "Comment" if comment_id is not None else "Amendment",
            comment_id if comment_id is not None else amendment_id,
            organisation,
            outcome.label,
            reason,
            versions.label(version_id),
            decided_by,
            _uk(decided_at),
        )
        for (
            ask_id,
            comment_id,
            amendment_id,
            organisation,
            outcome,
            reason,
            version_id,
            decided_by,
            decided_at,
        ) in rows
    ]
