"""Live changes to a version's page: what changed after a live event, as this viewer may see
it and where on the page each change belongs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from consult import permissions, text
from consult.comments import queries, rules
from consult.comments.rules import Filters
from consult.comments.threads import DEEPEST_LEVEL, Discussion, Node
from consult.extensions import db
from consult.models import Ask, Comment, DraftVersion
from consult.text import Paragraph

CHANGES_LIMIT = 100  # live events handled by one fetch; the rest by the next, at once


@dataclass
class Changes:
    """What changed on a page since its cursor, as this viewer may see it."""

    discussion: Discussion
    cursor: int  # the newest live event handled
    more_pending: bool = False
    added: list[tuple[Node, str]] = field(default_factory=list)  # (node, container id)
    updated: list[Node] = field(default_factory=list)
    counts: dict[str, queries.ParagraphCount] | None = None
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


def _live_discussion(
    ask: Ask, version: DraftVersion, paragraphs: list[Paragraph], viewer: Any, filters: Filters
) -> Discussion:
    return Discussion(
        ask=ask,
        version=version,
        viewer=viewer,
        paragraphs=paragraphs,
        filters=filters,
        live=True,
        can_comment=permissions.can_comment(viewer, ask),
    )


def changes(
    ask: Ask,
    version: DraftVersion,
    paragraphs: list[Paragraph],
    viewer: Any,
    filters: Filters,
    *,
    after: int,
    window: Window,
) -> Changes:
    """What changed on a version's page after the live event `after`, for this viewer and
    the page's filters and window: new comments (with the list each joins), changed ones,
    fresh paragraph counts, words for screen readers, and a newly published version."""
    discussion = _live_discussion(ask, version, paragraphs, viewer, filters)
    discussion.start, discussion.upto = window.start, window.upto
    events = queries.live_events(ask.id, after, CHANGES_LIMIT + 1)
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
        result.counts = queries.paragraph_counts(
            ask.id, discussion.page.up_to_this, discussion.anchors
        )
    return result


def _comment_changes(result: Changes, window: Window, added: list[int], updated: list[int]) -> None:
    discussion = result.discussion
    viewer = discussion.viewer
    page = discussion.page
    chains = queries.ancestry(added + updated)
    comments = queries.comments_of_ask(
        discussion.ask.id, {i for chain in chains.values() for i in chain}
    )
    with_replies = queries.with_replies(updated)

    def placed(comment_id: int) -> tuple[Node, str] | None:
        """The comment as displayed, and the id of the list it is in; None if the page
        does not have its thread."""
        chain: list[Comment] = []
        for i in chains.get(comment_id, []):
            found = comments.get(i)
            if found is None:
                return None
            chain.append(found)
        if not chain:
            return None
        comment, root, depth = chain[0], chain[-1], len(chain) - 1
        # A thread resolved while the page is open stays on it.
        if not (
            page.holds(root)
            and discussion.filters.matches(root, resolution=False)
            and window.holds(root.id)
        ):
            return None
        level = min(depth + 1, DEEPEST_LEVEL)
        in_reply_to = chain[1] if depth >= DEEPEST_LEVEL else None
        node = Node(
            comment,
            level,
            rules.shown_as(comment, viewer, comment.id in with_replies),
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
    ids = [n.id for n, _ in result.added] + [n.id for n in result.updated]
    if ids:
        discussion.count_reports(ids)
        discussion.load_outcomes([n for n, _ in result.added] + result.updated)


def single(comment: Comment, viewer: Any) -> Changes | None:
    """One comment as the current version's page shows it to the viewer (after the viewer
    changed it), or None when that page does not show it."""
    ask = comment.ask
    version = ask.current_version
    if version is None:
        return None
    discussion = _live_discussion(ask, version, text.paragraphs(version.body), viewer, Filters())
    result = Changes(discussion=discussion, cursor=0)
    everything = Window(start=0, upto=0, loaded=2**31)
    _comment_changes(result, everything, [], [comment.id])
    return result
