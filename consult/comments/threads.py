"""Reading an ask's discussion: threads, filters, paragraph counts and live changes.

Whatever the number of comments, a page costs a fixed number of SQL statements: a page of
top-level comments and every reply under them in one statement (a recursive CTE), counts
with GROUP BY, and nothing loaded lazily while rendering.

Which comments a version's page shows: the comments made on that version, and the paragraph
comments made on earlier versions whose paragraph is unchanged in it (same anchor). Threads
are oldest first; replies nest three levels deep, and deeper replies continue flat at the
third level, saying whom they answer.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import aliased, joinedload

from consult import permissions, text
from consult.extensions import db
from consult.models import (
    Ask,
    Comment,
    CommentReport,
    CommentState,
    DraftVersion,
    LiveEvent,
    Organisation,
)
from consult.text import Paragraph

PER_PAGE = 20
CHANGES_LIMIT = 100  # live events handled by one fetch; the rest by the next, at once
WHOLE_ASK = "whole"
DEEPEST_LEVEL = 3

_ID = re.compile(r"[0-9]{1,9}")
_LOAD = (joinedload(Comment.author), joinedload(Comment.organisation))


def parse_id(value: str | None) -> int | None:
    """A database id from a query parameter, or None for anything else."""
    return int(value) if value and _ID.fullmatch(value) else None


# Filters --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the discussion to (unknown values are ignored)."""

    paragraph: str | None = None  # an anchor of the page's version, or WHOLE_ASK
    organisation_id: int | None = None  # threads started by this organisation
    unresolved: bool = False
    thread: int | None = None  # one thread, by its top-level comment

    @classmethod
    def from_args(cls, args: Mapping[str, str], anchors: Iterable[str]) -> Filters:
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

    def matches(self, root: Comment) -> bool:
        """Whether a top-level comment is one the filters let through (resolution aside:
        a thread resolved while the page is open stays on it)."""
        if self.paragraph == WHOLE_ASK and root.paragraph_anchor is not None:
            return False
        if self.paragraph not in (None, WHOLE_ASK) and root.paragraph_anchor != self.paragraph:
            return False
        if self.organisation_id and root.organisation_id != self.organisation_id:
            return False
        return not (self.thread and root.id != self.thread)


# What a reader sees of a comment --------------------------------------------------------------

FULL, TOMBSTONE = "full", "tombstone"


def shown_as(comment: Comment, viewer: Any, has_replies: bool) -> str | None:
    """FULL, TOMBSTONE (a withdrawn or hidden comment that keeps its thread's shape) or
    None (left out)."""
    if permissions.can_see_comment_body(viewer, comment):
        return FULL
    return TOMBSTONE if has_replies else None


@dataclass
class Node:
    """A comment as displayed: its level (1 top-level, 2 reply, 3 everything deeper) and
    the replies displayed under it."""

    comment: Comment
    level: int
    show: str | None
    replies: list[Node] = field(default_factory=list)
    in_reply_to: Comment | None = None  # for flat replies at the deepest level

    @property
    def id(self) -> int:
        return self.comment.id

    @property
    def has_reply_list(self) -> bool:
        """Whether replies to it are listed under it (deeper ones join its parent's list)."""
        return self.level < DEEPEST_LEVEL


def build_threads(roots: list[Comment], comments: Iterable[Comment], viewer: Any) -> list[Node]:
    """Arrange loaded comments into displayed threads, leaving out what the viewer may not see
    (a withdrawn or hidden comment stays as a tombstone only while it has replies shown)."""
    by_id = {c.id: c for c in comments}
    by_id.update((r.id, r) for r in roots)
    children: dict[int, list[Comment]] = defaultdict(list)
    for comment in sorted(by_id.values(), key=lambda c: c.id):
        if comment.parent_id is not None:
            children[comment.parent_id].append(comment)
    # A reply is always newer than its parent: newest first, every comment's replies are
    # decided before the comment itself (no recursion, however deep a thread goes).
    show: dict[int, str | None] = {}
    for comment in sorted(by_id.values(), key=lambda c: c.id, reverse=True):
        has_replies = any(show.get(child.id) for child in children[comment.id])
        show[comment.id] = shown_as(comment, viewer, has_replies)

    def flat_descendants(comment: Comment) -> list[Comment]:
        found, stack = [], list(children[comment.id])
        while stack:
            child = stack.pop()
            if show[child.id]:
                found.append(child)
            stack.extend(children[child.id])
        return sorted(found, key=lambda c: c.id)

    threads = []
    for root in roots:
        if not show.get(root.id):
            continue
        node = Node(root, 1, show[root.id])
        for reply in children[root.id]:
            if not show[reply.id]:
                continue
            second = Node(reply, 2, show[reply.id])
            second.replies = [
                Node(
                    deeper,
                    DEEPEST_LEVEL,
                    show[deeper.id],
                    in_reply_to=by_id.get(deeper.parent_id)
                    if deeper.parent_id != reply.id
                    else None,
                )
                for deeper in flat_descendants(reply)
            ]
            node.replies.append(second)
        threads.append(node)
    return threads


# The discussion of one version's page ---------------------------------------------------------


@dataclass
class Discussion:
    """Everything the ask page needs to show its discussion."""

    ask: Ask
    version: DraftVersion  # the version whose page this is
    viewer: Any
    paragraphs: list[Paragraph]
    filters: Filters
    live: bool  # the current version, for someone signed in: forms and live updates
    can_comment: bool
    nodes: list[Node] = field(default_factory=list)
    total: int = 0  # top-level threads the filters let through
    remaining: int = 0  # of those, how many come after the last one shown
    start: int = 0  # threads after this top-level comment id are shown
    last: int | None = None  # the last top-level comment id shown
    upto: int = 0  # the largest comment id when the page was made
    cursor: int = 0  # the largest live event id when the page was made
    counts: dict[str, int] = field(default_factory=dict)
    organisations: list[tuple[int, str]] = field(default_factory=list)
    reports: dict[int, int] = field(default_factory=dict)
    form: Any = None  # the comment form at the foot of the discussion
    form_paragraph: Paragraph | None = None

    @property
    def anchors(self) -> list[str]:
        return [p.anchor for p in self.paragraphs]

    def paragraph_number(self, anchor: str | None) -> int | None:
        """The 1-based number of a paragraph of this page's version."""
        for number, paragraph in enumerate(self.paragraphs, start=1):
            if paragraph.anchor == anchor:
                return number
        return None

    def made_on(self, comment: Comment) -> DraftVersion | None:
        """The earlier version a top-level comment was made on, if not this page's."""
        if comment.parent_id is None and comment.version_id != self.version.id:
            return comment.version
        return None

    @property
    def loaded(self) -> int:
        """The newest top-level comment id up to which the page has every thread."""
        return self.upto if not self.remaining else (self.last or self.start)

    def page_url(self, **args: Any) -> str:
        """This version's page, with these query parameters."""
        current = self.ask.current_version
        if current is not None and self.version.id == current.id:
            return url_for("asks.show", ask_id=self.ask.id, **args)
        return url_for("asks.version", ask_id=self.ask.id, number=self.version.number, **args)

    @staticmethod
    def render(source: str) -> Markup:
        """A comment's Markdown (the safe subset) as HTML."""
        return text.render_comment(source)

    @property
    def is_secretariat(self) -> bool:
        return permissions.is_secretariat(self.viewer)

    def can_reply(self, comment: Comment) -> bool:
        return self.live and self.can_comment and comment.state == CommentState.VISIBLE

    def can_edit(self, comment: Comment) -> bool:
        return self.live and permissions.can_edit_comment(self.viewer, comment)

    def can_moderate(self, comment: Comment) -> bool:
        return self.live and permissions.can_moderate(self.viewer) and comment.is_visible

    def can_report(self, comment: Comment) -> bool:
        return self.live and permissions.can_report_comment(self.viewer, comment)


def _version_ids(ask: Ask, version: DraftVersion) -> tuple[list[int], list[int]]:
    """The ids of the ask's versions before this one, and up to and including it."""
    earlier = [v.id for v in ask.versions if v.number < version.number]
    return earlier, [*earlier, version.id]


def _on_page(ask: Ask, version: DraftVersion, anchors: list[str]) -> ColumnElement[bool]:
    """Top-level comments of this version's page (see the module's docstring)."""
    earlier, _ = _version_ids(ask, version)
    condition = Comment.version_id == version.id
    if earlier and anchors:
        condition = or_(
            condition, and_(Comment.version_id.in_(earlier), Comment.paragraph_anchor.in_(anchors))
        )
    return condition


def _shown_condition(viewer: Any) -> ColumnElement[bool]:
    """Top-level comments that may be shown: visible, hidden ones to those who may read
    them, and any with replies (a tombstone, unless every reply is left out too)."""
    reply = aliased(Comment)
    condition = or_(
        Comment.state == CommentState.VISIBLE, exists().where(reply.parent_id == Comment.id)
    )
    if permissions.is_secretariat(viewer):
        return or_(condition, Comment.state == CommentState.HIDDEN)
    if getattr(viewer, "is_authenticated", False):
        return or_(
            condition, and_(Comment.state == CommentState.HIDDEN, Comment.author_id == viewer.id)
        )
    return condition


def _root_conditions(
    ask: Ask, version: DraftVersion, anchors: list[str], filters: Filters, viewer: Any
) -> list[ColumnElement[bool]]:
    conditions = [
        Comment.ask_id == ask.id,
        Comment.parent_id.is_(None),
        _on_page(ask, version, anchors),
        _shown_condition(viewer),
    ]
    if filters.paragraph == WHOLE_ASK:
        conditions.append(Comment.paragraph_anchor.is_(None))
    elif filters.paragraph:
        conditions.append(Comment.paragraph_anchor == filters.paragraph)
    if filters.organisation_id:
        conditions.append(Comment.organisation_id == filters.organisation_id)
    if filters.unresolved:
        conditions.append(Comment.resolved_at.is_(None))
    if filters.thread:
        conditions.append(Comment.id == filters.thread)
    return conditions


def _load_threads(
    conditions: list[ColumnElement[bool]], start: int, upto: int, replies_upto: int | None
) -> list[Comment]:
    """One statement: the next page of top-level comments after `start` (up to `upto`), and
    every reply under them (up to `replies_upto`, when given), oldest first."""
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
    reply = aliased(Comment)
    step = select(reply.id).where(reply.parent_id == tree.c.id)
    if replies_upto is not None:
        step = step.where(reply.id <= replies_upto)
    tree = tree.union_all(step)
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.id.in_(select(tree.c.id)))
            .options(*_LOAD)
            .order_by(Comment.id)
        ).unique()
    )


def latest_ids(ask: Ask) -> tuple[int, int]:
    """The newest live event id and the newest comment id of an ask, read together."""
    row = db.session.execute(
        select(
            select(func.coalesce(func.max(LiveEvent.id), 0))
            .where(LiveEvent.ask_id == ask.id)
            .scalar_subquery(),
            select(func.coalesce(func.max(Comment.id), 0))
            .where(Comment.ask_id == ask.id)
            .scalar_subquery(),
        )
    ).one()
    return int(row[0]), int(row[1])


def paragraph_counts(ask: Ask, version: DraftVersion, anchors: list[str]) -> dict[str, int]:
    """How many visible comments (replies included) each paragraph of the version has,
    counting those made on earlier versions of an unchanged paragraph."""
    if not anchors:
        return {}
    _, upto_this = _version_ids(ask, version)
    rows = db.session.execute(
        select(Comment.paragraph_anchor, func.count())
        .where(
            Comment.ask_id == ask.id,
            Comment.paragraph_anchor.in_(anchors),
            Comment.version_id.in_(upto_this),
            Comment.state == CommentState.VISIBLE,
        )
        .group_by(Comment.paragraph_anchor)
    ).all()
    return {anchor: count for anchor, count in rows}


def _organisations(ask: Ask) -> list[tuple[int, str]]:
    """Organisations that started a thread on the ask, by name (for the filter)."""
    started = select(Comment.organisation_id).where(
        Comment.ask_id == ask.id, Comment.parent_id.is_(None)
    )
    return [
        (org_id, name)
        for org_id, name in db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(started))
            .order_by(Organisation.name)
        ).all()
    ]


def report_counts(viewer: Any, comment_ids: Iterable[int]) -> dict[int, int]:
    """Open reports per comment, for the secretariat (nobody else is told)."""
    ids = list(comment_ids)
    if not ids or not permissions.can_moderate(viewer):
        return {}
    return dict(
        db.session.execute(
            select(CommentReport.comment_id, func.count())
            .where(CommentReport.comment_id.in_(ids), CommentReport.handled_at.is_(None))
            .group_by(CommentReport.comment_id)
        ).all()
    )


def _all_ids(nodes: Iterable[Node]) -> list[int]:
    ids, stack = [], list(nodes)
    while stack:
        node = stack.pop()
        ids.append(node.id)
        stack.extend(node.replies)
    return ids


def load(
    ask: Ask,
    version: DraftVersion,
    paragraphs: list[Paragraph],
    viewer: Any,
    args: Mapping[str, str],
    *,
    more: bool = False,
) -> Discussion:
    """The discussion of a version's page: a page of threads (after ?after=), with counts,
    the organisations to filter by and the live cursor; or, with `more`, only the next
    page of threads for "Show more comments" (bounded by ?upto=, the page's newest id)."""
    anchors = [p.anchor for p in paragraphs]
    current = ask.current_version
    live = (
        current is not None
        and version.id == current.id
        and getattr(viewer, "is_authenticated", False)
    )
    discussion = Discussion(
        ask=ask,
        version=version,
        viewer=viewer,
        paragraphs=paragraphs,
        filters=Filters.from_args(args, anchors),
        live=live,
        can_comment=live and permissions.can_comment(viewer, ask),
        start=parse_id(args.get("after")) or 0,
    )
    conditions = _root_conditions(ask, version, anchors, discussion.filters, viewer)
    if more:
        discussion.upto = parse_id(args.get("upto")) or 0
        # Replies of any age: the live updates skipped them while their thread was not shown.
        comments = _load_threads(conditions, discussion.start, discussion.upto, None)
    else:
        # Read the cursor first: anything newer than it reaches the page through the live
        # updates, so the page leaves it out.
        discussion.cursor, discussion.upto = latest_ids(ask)
        comments = _load_threads(conditions, discussion.start, discussion.upto, discussion.upto)
    roots = [c for c in comments if c.parent_id is None]
    discussion.nodes = build_threads(roots, comments, viewer)
    discussion.last = roots[-1].id if roots else None
    boundary = discussion.last or discussion.start
    total, remaining = db.session.execute(
        select(
            func.count(), func.coalesce(func.sum(case((Comment.id > boundary, 1), else_=0)), 0)
        ).where(*conditions, Comment.id <= discussion.upto)
    ).one()
    discussion.total, discussion.remaining = int(total), int(remaining)
    discussion.reports = report_counts(viewer, _all_ids(discussion.nodes))
    if not more:
        discussion.counts = paragraph_counts(ask, version, anchors)
        discussion.organisations = _organisations(ask)
    return discussion


# Live changes ---------------------------------------------------------------------------------


@dataclass
class Changes:
    """What changed on a page since its cursor, as this viewer may see it."""

    discussion: Discussion
    cursor: int  # the newest live event handled
    more_pending: bool = False
    added: list[tuple[Node, str]] = field(default_factory=list)  # (node, container id)
    updated: list[Node] = field(default_factory=list)
    counts: dict[str, int] | None = None
    announcements: list[str] = field(default_factory=list)
    published: DraftVersion | None = None


@dataclass(frozen=True)
class Window:
    """Which top-level comments a page has: those after `start`, up to `loaded` (more come
    with "Show more comments") and, since the page was made, any newer than `upto`."""

    start: int
    upto: int
    loaded: int

    def holds(self, root_id: int) -> bool:
        return root_id > self.start and (root_id <= self.loaded or root_id > self.upto)


def _ancestry(ids: list[int]) -> dict[int, list[int]]:
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


def changes(
    ask: Ask,
    version: DraftVersion,
    paragraphs: list[Paragraph],
    viewer: Any,
    args: Mapping[str, str],
) -> Changes:
    """What changed on a version's page after the live event ?after=, for this viewer and
    the page's filters: new comments (with the list each joins), changed ones, fresh
    paragraph counts, words for screen readers, and a newly published version."""
    anchors = [p.anchor for p in paragraphs]
    discussion = Discussion(
        ask=ask,
        version=version,
        viewer=viewer,
        paragraphs=paragraphs,
        filters=Filters.from_args(args, anchors),
        live=True,
        can_comment=permissions.can_comment(viewer, ask),
        start=parse_id(args.get("start")) or 0,
        upto=parse_id(args.get("upto")) or 0,
    )
    after = parse_id(args.get("after")) or 0
    window = Window(
        discussion.start, discussion.upto, max(parse_id(args.get("loaded")) or 0, discussion.start)
    )
    events = db.session.execute(
        select(LiveEvent.id, LiveEvent.name, LiveEvent.object_id)
        .where(LiveEvent.ask_id == ask.id, LiveEvent.id > after)
        .order_by(LiveEvent.id)
        .limit(CHANGES_LIMIT + 1)
    ).all()
    result = Changes(discussion=discussion, cursor=after, more_pending=len(events) > CHANGES_LIMIT)
    events = events[:CHANGES_LIMIT]
    if not events:
        return result
    result.cursor = events[-1].id
    added = list(
        dict.fromkeys(e.object_id for e in events if e.name == "comment-added" and e.object_id)
    )
    updated = [
        i
        for i in dict.fromkeys(
            e.object_id for e in events if e.name == "comment-updated" and e.object_id
        )
        if i not in added
    ]
    published = [e.object_id for e in events if e.name == "version-published" and e.object_id]
    if published:
        result.published = db.session.get(DraftVersion, published[-1])
    if added or updated:
        _comment_changes(result, window, added, updated)
        result.counts = paragraph_counts(ask, version, anchors)
    return result


def _comment_changes(result: Changes, window: Window, added: list[int], updated: list[int]) -> None:
    discussion = result.discussion
    ask, viewer = discussion.ask, discussion.viewer
    chains = _ancestry(added + updated)
    wanted = {i for chain in chains.values() for i in chain}
    comments = {
        c.id: c
        for c in db.session.scalars(
            select(Comment).where(Comment.id.in_(wanted), Comment.ask_id == ask.id).options(*_LOAD)
        ).unique()
    }
    with_replies = (
        set(
            db.session.scalars(
                select(Comment.parent_id).where(Comment.parent_id.in_(updated)).distinct()
            )
        )
        if updated
        else set()
    )
    anchors = set(discussion.anchors)
    earlier, _ = _version_ids(ask, discussion.version)

    def placed(comment_id: int) -> tuple[Node, str] | None:
        """The comment as displayed, and the id of the list it is in; None if the page
        does not have its thread."""
        chain = [comments.get(i) for i in chains.get(comment_id, [])]
        if not chain or any(c is None for c in chain):
            return None
        comment, root, depth = chain[0], chain[-1], len(chain) - 1
        on_version = root.version_id == discussion.version.id or (
            root.version_id in earlier and root.paragraph_anchor in anchors
        )
        if not (on_version and discussion.filters.matches(root) and window.holds(root.id)):
            return None
        level = min(depth + 1, DEEPEST_LEVEL)
        in_reply_to = chain[1] if depth >= DEEPEST_LEVEL else None
        node = Node(
            comment,
            level,
            shown_as(comment, viewer, comment.id in with_replies),
            in_reply_to=in_reply_to,
        )
        container = "threads" if depth == 0 else f"replies-{chain[-1 if depth == 1 else -2].id}"
        return node, container

    for comment_id in added:
        found = placed(comment_id)
        if found is None or found[0].show is None:
            continue
        result.added.append(found)
        comment = found[0].comment
        if comment.author_id != getattr(viewer, "id", None):
            kind = "comment" if comment.parent_id is None else "reply"
            result.announcements.append(f"New {kind} from {comment.organisation.name}")
    for comment_id in updated:
        found = placed(comment_id)
        if found is not None:
            result.updated.append(found[0])
    result.discussion.reports = report_counts(
        viewer, [n.id for n, _ in result.added] + [n.id for n in result.updated]
    )


def root_of(comment: Comment) -> Comment:
    """The top-level comment of a comment's thread (one statement, however deep)."""
    if comment.parent_id is None:
        return comment
    chain = _ancestry([comment.id])[comment.id]
    return db.session.get(Comment, chain[-1])


def single(comment: Comment, viewer: Any) -> Changes | None:
    """One comment as the current version's page shows it to the viewer (after the viewer
    changed it), or None when that page does not show it."""
    ask = comment.ask
    version = ask.current_version
    if version is None:
        return None
    discussion = Discussion(
        ask=ask,
        version=version,
        viewer=viewer,
        paragraphs=text.paragraphs(version.body),
        filters=Filters(),
        live=True,
        can_comment=permissions.can_comment(viewer, ask),
    )
    result = Changes(discussion=discussion, cursor=0)
    everything = Window(start=0, upto=0, loaded=2**31)
    _comment_changes(result, everything, [], [comment.id])
    return result


# The ask page -------------------------------------------------------------------------------


def paragraph_of(ask: Ask, anchor: str | None) -> Paragraph | None:
    """A paragraph of the ask's current version, by its anchor."""
    current = ask.current_version
    if not anchor or current is None:
        return None
    return next((p for p in text.paragraphs(current.body) if p.anchor == anchor), None)


def for_page(
    ask: Ask, version: DraftVersion, paragraphs: list[Paragraph], *, more: bool = False
) -> Discussion:
    """The discussion of a version's page for this request: the signed-in reader, the
    page's query (?after=, filters) and, for those who may comment, the form at its foot:
    on the whole ask, or on the paragraph chosen with "Comment on paragraph N" without
    JavaScript (?comment_on=)."""
    from consult.comments.forms import CommentForm

    discussion = load(ask, version, paragraphs, current_user, request.args, more=more)
    if discussion.can_comment and not more:
        paragraph = paragraph_of(ask, request.args.get("comment_on"))
        form = CommentForm(formdata=None).use_ids("comment")
        form.paragraph.data = paragraph.anchor if paragraph else ""
        discussion.form, discussion.form_paragraph = form, paragraph
    return discussion
