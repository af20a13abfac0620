"""Building an ask's discussion as a page displays it: threads of nodes, and the Discussion
view model the templates read.

Threads are oldest first; replies nest three levels deep, and deeper replies continue flat at
the third level, saying whom they answer. Which comments a page lists is decided by `rules`;
the SQL lives in `queries`; whether the viewer may act on a comment by `permissions`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from flask import has_request_context, request, url_for
from markupsafe import Markup
from werkzeug.local import LocalProxy

from consult import permissions
from consult.comments import queries, rules
from consult.comments.rules import Filters, Page
from consult.fragments import FragmentCache
from consult.models import Ask, Comment, CommentState, Disposition, DraftVersion
from consult.text import Paragraph

DEEPEST_LEVEL = 3

# Comments as rendered (the template's comment_content), by everything each was made from: a
# page's comments, and those of the pages read since, are not rendered again. About 2 KB each
# (the markup and its key), so 8 MB a process at most.
CONTENTS = FragmentCache(4096)


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
        show[comment.id] = rules.shown_as(comment, viewer, has_replies)

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
                    in_reply_to=(
                        by_id.get(deeper.parent_id)
                        if deeper.parent_id is not None and deeper.parent_id != reply.id
                        else None
                    ),
                )
                for deeper in flat_descendants(reply)
            ]
            node.replies.append(second)
        threads.append(node)
    return threads


def all_ids(nodes: Iterable[Node]) -> list[int]:
    """The comment ids of these nodes and of every reply under them."""
    ids, stack = [], list(nodes)
    while stack:
        node = stack.pop()
        ids.append(node.id)
        stack.extend(node.replies)
    return ids


# The discussion of one version's page ---------------------------------------------------------


class Actions(NamedTuple):
    """What the viewer may do with one comment, as its controls show it."""

    reply: bool = False
    edit: bool = False  # edit or withdraw
    moderate: bool = False  # hide
    resolve: bool = False
    report: bool = False
    record_outcome: bool = False


# A comment id no page has: url_for builds an endpoint's URL once around it, and each comment's
# link puts its own id in its place.
_URL_ID = 9876543210123456789
# The same for a paragraph's anchor (anchors are letters, digits and hyphens: never escaped).
_URL_ANCHOR = "p-anchor0000000000"


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
    counts: dict[str, queries.ParagraphCount] = field(default_factory=dict)
    organisations: list[tuple[int, str]] = field(default_factory=list)
    reports: dict[int, int] = field(default_factory=dict)
    # The secretariat's answer to each top-level comment shown that has one, by comment id.
    outcomes: dict[int, Disposition] = field(default_factory=dict)
    form: Any = None  # the comment form at the foot of the discussion
    form_paragraph: Paragraph | None = None
    rights: permissions.CommentRights | None = None  # the viewer's, decided once
    _url_parts: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        ask: Ask,
        version: DraftVersion,
        paragraphs: list[Paragraph],
        viewer: Any,
        filters: Filters,
        **fields: Any,
    ) -> Discussion:
        """A version's discussion as this viewer may take part in it (no comments yet)."""
        if isinstance(viewer, LocalProxy):  # current_user: its object, looked up once
            viewer = viewer._get_current_object()
        live = version.id == getattr(ask.current_version, "id", None) and (
            permissions.can_follow_discussion(viewer, ask)
        )
        return cls(
            ask=ask,
            version=version,
            viewer=viewer,
            paragraphs=paragraphs,
            filters=filters,
            live=live,
            can_comment=live and permissions.can_comment(viewer, ask),
            rights=permissions.CommentRights.of(viewer, ask),
            **fields,
        )

    @property
    def anchors(self) -> list[str]:
        return [p.anchor for p in self.paragraphs]

    @property
    def page(self) -> Page:
        """Which top-level comments belong on this version's page."""
        return Page.of(self.ask, self.version, self.anchors)

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

    def can_see_body(self, comment: Comment) -> bool:
        return rules.can_see_body(self.viewer, comment)

    @property
    def _rights(self) -> permissions.CommentRights:
        if self.rights is None:
            self.rights = permissions.CommentRights.of(self.viewer, self.ask)
        return self.rights

    def comment_content(self, node: Node, oob: bool, render: Any) -> Markup:
        """A comment as this viewer sees it (the template's content_made, given as `render`),
        rendered once for all the requests that would render it alike: the key holds every
        value the template reads, the viewer's controls included, so an edit, a hidden
        parent, a resolution, a renamed author or organisation, a new report or other rights
        make a new one. A tombstone, and a thread start with the secretariat's answer, are
        rendered each time (the first is short, the second rare)."""
        c = node.comment
        if node.show != rules.FULL or (node.level == 1 and c.id in self.outcomes):
            return render(node, self, oob)
        parent = node.in_reply_to
        answering = None
        if parent is not None:
            readable = self.can_see_body(parent)
            answering = (parent.id, parent.state, parent.author.name if readable else None)
        placed = None
        if node.level == 1:
            made_on = self.made_on(c)
            anchor = c.paragraph_anchor
            placed = (
                anchor,
                self.paragraph_number(anchor) if anchor else None,
                made_on.label if made_on is not None else None,
                c.quote,
            )
        key = (
            c.id,
            node.level,
            c.author.name,
            c.organisation.name,
            c.created_at,
            c.edited_at,
            answering,
            placed,
            c.state,
            c.hidden_reason,
            c.body_html,
            c.resolution_html if c.resolved_at is not None else None,
            self.actions(c),
            self.reports.get(c.id, 0),
            oob,
            request.script_root if has_request_context() else "",
        )
        return CONTENTS.get(key, lambda: render(node, self, oob))

    def actions(self, comment: Comment) -> Actions | None:
        """What the viewer may do with a comment of this page (None: nothing): the controls
        that open a form under it only on the live page; recording an outcome (a page of its
        own) anywhere."""
        rights = self._rights
        if not self.live:
            return Actions(record_outcome=True) if rights.can_record_outcome(comment) else None
        visible = comment.state == CommentState.VISIBLE
        may = Actions(
            reply=self.can_comment and visible,
            edit=rights.can_edit(comment),
            moderate=rights.moderates and visible,
            resolve=rights.can_resolve(comment),
            report=rights.can_report(comment),
            record_outcome=rights.can_record_outcome(comment),
        )
        return may if any(may) else None

    def paragraph_url(self, kind: str, anchor: str) -> str:
        """A link about one paragraph of this page, built once per kind for the page (which
        links each paragraph's margin several times): "page" (its comments on this page),
        "comment_on" (this page with the form on it), "new" (that form alone, for htmx) or
        "threads" (its threads in its margin)."""
        parts = self._url_parts.get(kind)
        if parts is None:
            if kind == "page":
                url = self.page_url(paragraph=_URL_ANCHOR)
            elif kind == "comment_on":
                url = self.page_url(comment_on=_URL_ANCHOR)
            elif kind == "new":
                url = url_for("comments.new", ask_id=self.ask.id, paragraph=_URL_ANCHOR)
            else:
                url = url_for(
                    "comments.paragraph_threads",
                    ask_id=self.ask.id,
                    anchor=_URL_ANCHOR,
                    version=self.version.number,
                )
            before, _, after = url.partition(_URL_ANCHOR)
            parts = self._url_parts[kind] = (before, after)
        return f"{parts[0]}{anchor}{parts[1]}"

    def comment_url(self, endpoint: str, comment_id: int) -> str:
        """`url_for(endpoint, comment_id=comment_id)`, built once per endpoint for the page
        (which links each of its comments several times)."""
        parts = self._url_parts.get(endpoint)
        if parts is None:
            before, _, after = url_for(endpoint, comment_id=_URL_ID).partition(str(_URL_ID))
            parts = self._url_parts[endpoint] = (before, after)
        return f"{parts[0]}{comment_id}{parts[1]}"

    def load_outcomes(self, nodes: Iterable[Node]) -> None:
        """The answers to the top-level comments among these nodes, in one statement."""
        self.outcomes.update(queries.outcomes(n.id for n in nodes if n.level == 1))

    def count_reports(self, comment_ids: Iterable[int]) -> None:
        """Open reports per comment shown, for those who moderate (nobody else is told)."""
        if self._rights.moderates:
            self.reports = queries.report_counts(comment_ids)


def load(
    ask: Ask,
    version: DraftVersion,
    paragraphs: list[Paragraph],
    viewer: Any,
    filters: Filters,
    *,
    start: int = 0,
    more: bool = False,
    upto: int = 0,
) -> Discussion:
    """The discussion of a version's page: a page of threads (after `start`), with counts,
    the organisations to filter by and the live cursor; or, with `more`, only the next
    page of threads for "Show more comments" (bounded by `upto`, the page's newest id)."""
    discussion = Discussion.of(ask, version, paragraphs, viewer, filters, start=start)
    page = discussion.page
    # rules.listed_sql, in its two parts: the count tests only some comments against `shown`.
    starts, shown = rules.thread_starts_sql(ask.id, page, filters), rules.shown_sql(viewer)
    conditions = [*starts, shown]
    if more:
        discussion.upto = upto
        # Replies of any age: the live updates skipped them while their thread was not shown.
        comments, outcomes = queries.threads(conditions, discussion.start, discussion.upto, None)
    else:
        # Read the cursor first: anything newer than it reaches the page through the live
        # updates, so the page leaves it out.
        discussion.cursor, discussion.upto = queries.latest_ids(ask.id)
        comments, outcomes = queries.threads(
            conditions, discussion.start, discussion.upto, discussion.upto
        )
    roots = [c for c in comments if c.parent_id is None]
    discussion.nodes = build_threads(roots, comments, viewer)
    # Its version is one of the ask's, already loaded: the template reads it without a query.
    discussion.outcomes = outcomes
    discussion.last = roots[-1].id if roots else None
    discussion.total, discussion.remaining = queries.count_roots(
        starts, shown, discussion.upto, discussion.last or discussion.start
    )
    ids = all_ids(discussion.nodes)
    if ids:
        discussion.count_reports(ids)
    if not more:
        discussion.counts = queries.paragraph_counts(ask.id, page.up_to_this, discussion.anchors)
        discussion.organisations = queries.organisations(ask.id)
    return discussion
