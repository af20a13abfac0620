"""Visits to asks: what each person last saw of an ask, and what is new to them since.

A visit is written when someone signed in opens an ask's page (not its fragments), as one
upsert. It is not a change to anything, so it has no audit event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, select

from consult.comments import rules
from consult.extensions import db
from consult.models import Ask, AskVisit, Comment, DraftVersion, User, utcnow
from consult.upserts import upsert


@dataclass(frozen=True)
class News:
    """What is new in an ask since the reader's last visit to its page."""

    visited: bool  # False: the reader has never opened the ask
    comments: int = 0  # comments by others, made since, that the reader may read
    version: DraftVersion | None = None  # the current version, if published since

    @property
    def anything(self) -> bool:
        return bool(self.comments or self.version)


NOT_VISITED = News(visited=False)
# An unchanged visit's time is brought up to date at most this often.
VISIT_REFRESH = timedelta(hours=1)


def record_visit(*, reader: User, ask: Ask, version_number: int, last_comment_id: int) -> bool:
    """Remember that the reader opened the ask's page showing this version (0: none yet)
    and the ask's comments up to this id (0: none), replacing their previous visit.

    A visit that saw what the last one saw is written at most every VISIT_REFRESH: reading a
    page again must not cost a write (on SQLite, every write waits for every other). True
    when something was written (the caller commits)."""
    seen = db.session.execute(
        select(AskVisit.version_number, AskVisit.last_comment_id, AskVisit.visited_at).where(
            AskVisit.user_id == reader.id, AskVisit.ask_id == ask.id
        )
    ).first()
    now = utcnow()
    if (
        seen is not None
        and (seen.version_number, seen.last_comment_id) == (version_number, last_comment_id)
        and now - seen.visited_at < VISIT_REFRESH
    ):
        return False
    upsert(
        AskVisit,
        {
            "user_id": reader.id,
            "ask_id": ask.id,
            "visited_at": now,
            "last_comment_id": last_comment_id,
            "version_number": version_number,
        },
        unique=("user_id", "ask_id"),
        replace=("visited_at", "last_comment_id", "version_number"),
    )
    return True


def since_last_visit(asks: Iterable[Ask], reader: User) -> dict[int, News]:
    """For each ask, what is new to the reader since their last visit, in one statement
    (the asks' versions must already be loaded): comments by other people, newer than the
    newest the ask had then, that the reader may read; and a version published since."""
    by_id = {ask.id: ask for ask in asks}
    news = dict.fromkeys(by_id, NOT_VISITED)
    if not by_id:
        return news
    new_comment = and_(
        Comment.ask_id == AskVisit.ask_id,
        Comment.id > AskVisit.last_comment_id,
        Comment.author_id != reader.id,
        rules.body_visible_sql(reader),
    )
    rows = db.session.execute(
        select(AskVisit.ask_id, AskVisit.version_number, func.count(Comment.id))
        .outerjoin(Comment, new_comment)
        .where(AskVisit.user_id == reader.id, AskVisit.ask_id.in_(list(by_id)))
        .group_by(AskVisit.ask_id, AskVisit.version_number)
    )
    for ask_id, seen_version, comments in rows:
        current = by_id[ask_id].current_version
        newer = current if current is not None and current.number > seen_version else None
        news[ask_id] = News(visited=True, comments=int(comments), version=newer)
    return news
