"""The discussion's SQL: threads, counts, ancestries and live events, each in a fixed number
of statements whatever the number of comments (recursive CTEs, GROUP BY, nothing loaded
lazily). No request, no viewer: callers pass the conditions `rules` builds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, literal, select
from sqlalchemy.orm import aliased, joinedload

from consult.extensions import db
from consult.models import (
    Ask,
    Comment,
    CommentReport,
    CommentState,
    Disposition,
    LiveEvent,
    Organisation,
)

PER_PAGE = 20  # top-level comments per page of threads

LOAD_OPTIONS = (joinedload(Comment.author), joinedload(Comment.organisation))
# Made once: a new alias builds its columns again, each time a statement uses it.
_REPLY = aliased(Comment)


def threads(
    conditions: Sequence[ColumnElement[bool]], start: int, upto: int, replies_upto: int | None
) -> tuple[list[Comment], dict[int, Disposition]]:
    """One statement: the next page of top-level comments after `start` (up to `upto`), and
    every reply under them (up to `replies_upto`, when given), oldest first; with the
    secretariat's answer to each comment that has one (by comment id)."""
    page = (
        select(Comment.id)
        .where(*conditions, Comment.id > start, Comment.id <= upto)
        .order_by(Comment.id)
        .limit(PER_PAGE)
        .cte("page_roots")
    )
    tree = (
        select(Comment.id.label("id"))
        .where(Comment.id.in_(select(page.c.id)))
        .cte("thread_tree", recursive=True)
    )
    step = select(_REPLY.id).where(_REPLY.parent_id == tree.c.id)
    if replies_upto is not None:
        step = step.where(_REPLY.id <= replies_upto)
    tree = tree.union_all(step)
    rows = db.session.execute(
        select(Comment, Disposition)
        .outerjoin(Disposition, Disposition.comment_id == Comment.id)
        .where(Comment.id.in_(select(tree.c.id)))
        .options(*LOAD_OPTIONS)
        .order_by(Comment.id)
    ).unique()
    comments: list[Comment] = []
    outcomes: dict[int, Disposition] = {}
    for comment, disposition in rows:
        comments.append(comment)
        if disposition is not None:
            outcomes[comment.id] = disposition
    return comments, outcomes


def count_roots(
    starts: Sequence[ColumnElement[bool]], shown: ColumnElement[bool], upto: int, boundary: int
) -> tuple[int, int]:
    """How many top-level comments meet `starts` (rules.thread_starts_sql) and `shown` (the
    viewer may see them) up to `upto`, and how many of them come after `boundary`.

    Visible comments are shown to everyone: they are counted by ix_comment_thread_starts
    alone, as a range of its entries (ask, top level, version, state, then id), without
    testing each one. Only the few withdrawn or hidden ones are tested against `shown`."""
    others = [state for state in CommentState if state != CommentState.VISIBLE]

    def counted(*where: ColumnElement[bool], bound: int) -> Any:
        return select(func.count()).where(*starts, *where, Comment.id <= bound).scalar_subquery()

    before = min(boundary, upto)
    row = db.session.execute(
        select(
            counted(Comment.state == CommentState.VISIBLE, bound=upto),
            counted(Comment.state == CommentState.VISIBLE, bound=before),
            counted(Comment.state.in_(others), shown, bound=upto),
            counted(Comment.state.in_(others), shown, bound=before),
        )
    ).one()
    total = int(row[0]) + int(row[2])
    return total, total - int(row[1]) - int(row[3])


def latest_ids(ask_id: int) -> tuple[int, int]:
    """The newest live event id and the newest comment id of an ask, read together."""
    row = db.session.execute(
        select(
            select(func.coalesce(func.max(LiveEvent.id), 0))
            .where(LiveEvent.ask_id == ask_id)
            .scalar_subquery(),
            select(func.coalesce(func.max(Comment.id), 0))
            .where(Comment.ask_id == ask_id)
            .scalar_subquery(),
        )
    ).one()
    return int(row[0]), int(row[1])


def ask_counts(ask_ids: Iterable[int], readable: ColumnElement[bool]) -> dict[int, tuple[int, int]]:
    """Per ask, in one statement: how many comments (replies included) the reader may read
    (`readable`: see `rules.body_visible_sql`), and how many visible top-level comments are
    not resolved. Asks without comments are left out."""
    ids = list(ask_ids)
    if not ids:
        return {}
    unresolved = case(
        (
            and_(
                Comment.parent_id.is_(None),
                Comment.state == CommentState.VISIBLE,
                Comment.resolved_at.is_(None),
            ),
            1,
        ),
        else_=0,
    )
    rows = db.session.execute(
        select(Comment.ask_id, func.count(Comment.id), func.sum(unresolved))
        .where(Comment.ask_id.in_(ids), readable)
        .group_by(Comment.ask_id)
    )
    return {ask_id: (int(total), int(open_ or 0)) for ask_id, total, open_ in rows}


class ParagraphCount(NamedTuple):
    """A paragraph's discussion in figures: visible comments (replies included), and its
    visible threads not yet resolved."""

    comments: int
    unresolved: int


def paragraph_counts(
    ask_id: int, version_ids: list[int], anchors: list[str]
) -> dict[str, ParagraphCount]:
    """Each paragraph's comments and unresolved threads, counting those made on any of these
    versions (a version and the earlier ones), in one statement."""
    if not anchors:
        return {}
    unresolved = case((Comment.parent_id.is_(None) & Comment.resolved_at.is_(None), 1), else_=0)
    rows = db.session.execute(
        select(Comment.paragraph_anchor, func.count(), func.sum(unresolved))
        .where(
            Comment.ask_id == ask_id,
            Comment.paragraph_anchor.in_(anchors),
            Comment.version_id.in_(version_ids),
            Comment.state == CommentState.VISIBLE,
        )
        .group_by(Comment.paragraph_anchor)
    ).all()
    return {
        anchor: ParagraphCount(count, int(open_threads or 0))
        for anchor, count, open_threads in rows
        if anchor is not None
    }


def organisations(ask_id: int) -> list[tuple[int, str]]:
    """Organisations that started a thread on the ask, by name (for the filter).

    One probe of ix_comment_ask_organisation per organisation, which stops at its first
    thread: the cost grows with the organisations, not with the ask's comments."""
    started = (
        select(Comment.id)
        .where(
            Comment.ask_id == ask_id,
            Comment.organisation_id == Organisation.id,
            Comment.parent_id.is_(None),
        )
        .exists()
    )
    return [
        (org_id, name)
        for org_id, name in db.session.execute(
            select(Organisation.id, Organisation.name).where(started).order_by(Organisation.name)
        ).all()
    ]


def report_counts(comment_ids: Iterable[int]) -> dict[int, int]:
    """Open reports per comment."""
    ids = list(comment_ids)
    if not ids:
        return {}
    return {
        comment_id: count
        for comment_id, count in db.session.execute(
            select(CommentReport.comment_id, func.count())
            .where(CommentReport.comment_id.in_(ids), CommentReport.handled_at.is_(None))
            .group_by(CommentReport.comment_id)
        ).all()
    }


def outcomes(comment_ids: Iterable[int]) -> dict[int, Disposition]:
    """The secretariat's answer to each of these comments that has one (top-level comments
    only have them), with the version that answered it."""
    ids = list(comment_ids)
    if not ids:
        return {}
    return {
        d.comment_id: d
        for d in db.session.scalars(
            select(Disposition)
            .options(joinedload(Disposition.version))
            .where(Disposition.comment_id.in_(ids))
        )
        if d.comment_id is not None
    }


def ancestry(ids: list[int]) -> dict[int, list[int]]:
    """For each comment id, its chain of ids up to its top-level comment (itself first),
    in one recursive statement."""
    chain = (
        select(
            Comment.id.label("start"),
            Comment.id.label("id"),
            Comment.parent_id.label("parent_id"),
            literal(0).label("step"),
        )
        .where(Comment.id.in_(ids))
        .cte("ancestry", recursive=True)
    )
    parent = aliased(Comment)
    chain = chain.union_all(
        select(chain.c.start, parent.id, parent.parent_id, chain.c.step + 1).where(
            parent.id == chain.c.parent_id
        )
    )
    result: dict[int, list[int]] = defaultdict(list)
    for start, comment_id, _, _ in db.session.execute(
        select(chain).order_by(chain.c.start, chain.c.step)
    ).all():
        result[start].append(comment_id)
    return result


def root_of(comment: Comment) -> Comment:
    """The top-level comment of a comment's thread (one statement, however deep)."""
    if comment.parent_id is None:
        return comment
    chain = ancestry([comment.id])[comment.id]
    root = db.session.get(Comment, chain[-1])
    if root is None:  # pragma: no cover - the chain was just read
        raise LookupError(f"comment {chain[-1]} not found")
    return root


def comments_of_ask(ask_id: int, ids: Iterable[int]) -> dict[int, Comment]:
    """These comments of the ask, by id, with their authors and organisations."""
    return {
        c.id: c
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(list(ids)), Comment.ask_id == ask_id)
            .options(*LOAD_OPTIONS)
        ).unique()
    }


def with_replies(ids: list[int]) -> set[int]:
    """Those of these comments that have at least one reply."""
    if not ids:
        return set()
    return {
        parent_id
        for parent_id in db.session.scalars(
            select(Comment.parent_id).where(Comment.parent_id.in_(ids)).distinct()
        )
        if parent_id is not None
    }


def live_events(ask_id: int, after: int, limit: int) -> Sequence[Row[int, str, int | None]]:
    """Up to `limit` live events of the ask after the event `after`, oldest first."""
    return db.session.execute(
        select(LiveEvent.id, LiveEvent.name, LiveEvent.object_id)
        .where(LiveEvent.ask_id == ask_id, LiveEvent.id > after)
        .order_by(LiveEvent.id)
        .limit(limit)
    ).all()


# The secretariat's queue of unresolved threads ---------------------------------------------


def _unresolved_conditions(consultation_id: int) -> list[ColumnElement[bool]]:
    return [
        Comment.ask_id.in_(select(Ask.id).where(Ask.consultation_id == consultation_id)),
        Comment.parent_id.is_(None),
        Comment.state == CommentState.VISIBLE,
        Comment.resolved_at.is_(None),
    ]


def unresolved_statement(
    consultation_id: int, ask_id: int | None = None, organisation_id: int | None = None
) -> Select[Any]:
    """The consultation's visible threads not yet resolved, oldest first (optionally of one
    ask, or started by one organisation), with what the queue shows of each loaded."""
    conditions = _unresolved_conditions(consultation_id)
    if ask_id is not None:
        conditions.append(Comment.ask_id == ask_id)
    if organisation_id is not None:
        conditions.append(Comment.organisation_id == organisation_id)
    return (
        select(Comment)
        .options(*LOAD_OPTIONS, joinedload(Comment.ask), joinedload(Comment.version))
        .where(*conditions)
        .order_by(Comment.created_at, Comment.id)
    )


def unresolved_count(consultation_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Comment.id)).where(*_unresolved_conditions(consultation_id))
        )
        or 0
    )


def unresolved_organisations(consultation_id: int) -> list[tuple[int, str]]:
    """The organisations that started the consultation's unresolved threads, by name."""
    started = select(Comment.organisation_id).where(*_unresolved_conditions(consultation_id))
    return [
        (org_id, name)
        for org_id, name in db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(started))
            .order_by(Organisation.name)
        ).all()
    ]
