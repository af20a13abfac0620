"""The discussion's rules, each in its two forms side by side: SQL (to choose rows) and Python
(to decide for one comment already loaded). tests/comments/test_rules.py proves that the two
forms of each rule always agree; change them together.

- Who may read a comment's text, and whether it is shown at all (`can_see_body`, `shown_as`;
  `body_visible_sql`, `shown_sql`).
- Which top-level comments belong on a version's page (`Page.holds`; `Page.condition`).
- What the reader narrowed the discussion to (`Filters.matches`; `Filters.conditions`).

Role tests stay in `consult.permissions`; the rules only ask it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_
from sqlalchemy.orm import aliased

from consult import permissions
from consult.models import Ask, Comment, CommentState, DraftVersion

WHOLE_ASK = "whole"
FULL, TOMBSTONE = "full", "tombstone"

_ID = re.compile(r"[0-9]{1,9}")


def parse_id(value: str | None) -> int | None:
    """A database id from a query parameter, or None for anything else."""
    return int(value) if value and _ID.fullmatch(value) else None


def _viewer_id(viewer: Any) -> int | None:
    return viewer.id if getattr(viewer, "is_authenticated", False) else None


# (a) Who may read a comment's text; whether it is shown -----------------------------------------


def can_see_body(viewer: Any, comment: Comment) -> bool:
    """A visible comment's text is for everyone who reads the ask; a hidden one's for its
    author (who is told why) and those who read hidden comments (the secretariat); a
    withdrawn one's for nobody (a tombstone keeps the thread's shape)."""
    if comment.state == CommentState.VISIBLE:
        return True
    if comment.state == CommentState.HIDDEN:
        return permissions.can_read_hidden_comments(viewer) or (
            _viewer_id(viewer) is not None and comment.author_id == _viewer_id(viewer)
        )
    return False


def body_visible_sql(viewer: Any) -> ColumnElement[bool]:
    """SQL form of `can_see_body`."""
    hidden = Comment.state == CommentState.HIDDEN
    if permissions.can_read_hidden_comments(viewer):
        readable_hidden: ColumnElement[bool] = hidden
    elif (viewer_id := _viewer_id(viewer)) is not None:
        readable_hidden = and_(hidden, Comment.author_id == viewer_id)
    else:
        readable_hidden = false()
    return or_(Comment.state == CommentState.VISIBLE, readable_hidden)


def shown_as(comment: Comment, viewer: Any, has_replies: bool) -> str | None:
    """FULL (the viewer may read it), TOMBSTONE (a withdrawn or hidden comment that keeps its
    thread's shape while it has replies) or None (left out)."""
    if can_see_body(viewer, comment):
        return FULL
    return TOMBSTONE if has_replies else None


# Made once: a new alias builds its columns again, each time a statement uses it.
_REPLY = aliased(Comment)


def shown_sql(viewer: Any) -> ColumnElement[bool]:
    """SQL form of `shown_as(...) is not None`, where `has_replies` means any reply at all.
    (Building the threads then also leaves out a tombstone whose replies are all left out.)"""
    return or_(body_visible_sql(viewer), exists().where(_REPLY.parent_id == Comment.id))


# (b) Which top-level comments belong on a version's page ----------------------------------------


@dataclass(frozen=True)
class Page:
    """A version's page shows the comments made on that version, and the paragraph comments
    made on earlier versions whose paragraph is unchanged in it (same anchor)."""

    version_id: int
    earlier: frozenset[int]  # ids of the ask's versions before this one
    anchors: frozenset[str]  # the paragraphs of this version

    @classmethod
    def of(cls, ask: Ask, version: DraftVersion, anchors: Iterable[str]) -> Page:
        return cls(
            version_id=version.id,
            earlier=frozenset(v.id for v in ask.versions if v.number < version.number),
            anchors=frozenset(anchors),
        )

    @property
    def up_to_this(self) -> list[int]:
        """The ids of the versions up to and including this one."""
        return [*sorted(self.earlier), self.version_id]

    def holds(self, root: Comment) -> bool:
        """Whether a top-level comment belongs on this page."""
        return root.version_id == self.version_id or (
            root.version_id in self.earlier
            and root.paragraph_anchor is not None
            and root.paragraph_anchor in self.anchors
        )

    def condition(self) -> ColumnElement[bool]:
        """SQL form of `holds`."""
        condition: ColumnElement[bool] = Comment.version_id == self.version_id
        if self.earlier and self.anchors:
            condition = or_(
                condition,
                and_(
                    Comment.version_id.in_(sorted(self.earlier)),
                    Comment.paragraph_anchor.in_(sorted(self.anchors)),
                ),
            )
        return condition


# (c) What the reader narrowed the discussion to -------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the discussion to (unknown values are ignored)."""

    paragraph: str | None = None  # an anchor of the page's version, or WHOLE_ASK
    organisation_id: int | None = None  # threads started by this organisation
    unresolved: bool = False
    thread: int | None = None  # one thread, by its top-level comment

    @classmethod
    def from_args(cls, args: Mapping[str, str], anchors: Collection[str]) -> Filters:
        """The filters from a page's query parameters (the inverse of `args`)."""
        paragraph = args.get("paragraph") or None
        if paragraph != WHOLE_ASK and paragraph not in set(anchors):
            paragraph = None
        return cls(
            paragraph=paragraph,
            organisation_id=parse_id(args.get("organisation")),
            unresolved=args.get("unresolved") == "1",
            thread=parse_id(args.get("thread")),
        )

    @property
    def active(self) -> bool:
        return any((self.paragraph, self.organisation_id, self.unresolved, self.thread))

    def args(self) -> dict[str, Any]:
        """The filters as query parameters, for links that keep them."""
        result: dict[str, Any] = {}
        if self.paragraph:
            result["paragraph"] = self.paragraph
        if self.organisation_id:
            result["organisation"] = self.organisation_id
        if self.unresolved:
            result["unresolved"] = 1
        if self.thread:
            result["thread"] = self.thread
        return result

    def matches(self, root: Comment, *, resolution: bool = True) -> bool:
        """Whether a top-level comment is one the filters let through. Live changes leave
        `resolution` aside: a thread resolved while the page is open stays on it."""
        if self.paragraph == WHOLE_ASK and root.paragraph_anchor is not None:
            return False
        if self.paragraph not in (None, WHOLE_ASK) and root.paragraph_anchor != self.paragraph:
            return False
        if self.organisation_id and root.organisation_id != self.organisation_id:
            return False
        if resolution and self.unresolved and root.resolved_at is not None:
            return False
        return not (self.thread and root.id != self.thread)

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL form of `matches`."""
        conditions: list[ColumnElement[bool]] = []
        if self.paragraph == WHOLE_ASK:
            conditions.append(Comment.paragraph_anchor.is_(None))
        elif self.paragraph:
            conditions.append(Comment.paragraph_anchor == self.paragraph)
        if self.organisation_id:
            conditions.append(Comment.organisation_id == self.organisation_id)
        if self.unresolved:
            conditions.append(Comment.resolved_at.is_(None))
        if self.thread:
            conditions.append(Comment.id == self.thread)
        return conditions


# The three together: the top-level comments a page lists ----------------------------------------


def listed(root: Comment, page: Page, filters: Filters, viewer: Any, has_replies: bool) -> bool:
    """Whether a version's page lists a top-level comment of its ask for this viewer."""
    return (
        root.parent_id is None
        and page.holds(root)
        and filters.matches(root)
        and shown_as(root, viewer, has_replies) is not None
    )


def listed_sql(ask_id: int, page: Page, filters: Filters, viewer: Any) -> list[ColumnElement[bool]]:
    """SQL form of `listed` (conditions to AND together), for the comments of one ask."""
    return [*thread_starts_sql(ask_id, page, filters), shown_sql(viewer)]


def thread_starts_sql(ask_id: int, page: Page, filters: Filters) -> list[ColumnElement[bool]]:
    """`listed_sql` but for what the viewer may see: the top-level comments of a version's
    page that the filters let through."""
    return [
        Comment.ask_id == ask_id,
        Comment.parent_id.is_(None),
        page.condition(),
        *filters.conditions(),
    ]
