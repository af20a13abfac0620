"""Comments on draft versions, paragraph by paragraph, in threads; and reports about them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from markupsafe import Markup
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, enum_type, utcnow
from consult.models.consultations import Ask, DraftVersion
from consult.text import COMMENT_RENDERER_VERSION, render_comment


class CommentState(StrEnum):
    VISIBLE = "visible"
    WITHDRAWN = "withdrawn"
    HIDDEN = "hidden"

    @property
    def label(self) -> str:
        return {"visible": "Visible", "withdrawn": "Withdrawn", "hidden": "Hidden"}[self.value]


class Comment(Base):
    """A comment on one version of an ask: on the whole text or on one paragraph of it.

    The paragraph is named by its anchor, which depends only on the paragraph's text, so a
    comment re-anchors to the same, unchanged paragraph in a later version.
    """

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_version.id", ondelete="CASCADE"), index=True
    )
    paragraph_anchor: Mapped[str | None] = mapped_column(String(40))
    quote: Mapped[str | None] = mapped_column(String(300))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The author's organisation when they wrote it: the record stays true if they move.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    # The body and the secretariat's response as HTML, rendered (and sanitised) once when
    # they are written, by the renderer whose version is body_html_version (for both):
    # pages show these and never render a stored comment. Written only by `rendered`,
    # through the attribute events below; `flask consult render-comments` renders again
    # the comments of an earlier renderer.
    body_html: Mapped[str] = mapped_column(Text)
    body_html_version: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[CommentState] = mapped_column(
        enum_type(CommentState, 20), default=CommentState.VISIBLE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolution_html: Mapped[str | None] = mapped_column(Text)
    # A random key the comment form carries: a double click or a resent form finds the
    # comment already made instead of making a second one.
    submission_key: Mapped[str | None] = mapped_column(String(64))

    ask: Mapped[Ask] = relationship()
    version: Mapped[DraftVersion] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    organisation: Mapped[Organisation] = relationship()
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    __table_args__ = (
        UniqueConstraint("author_id", "submission_key"),
        CheckConstraint(state.in_([s.value for s in CommentState]), name="state"),
        CheckConstraint("state != 'hidden' OR hidden_reason IS NOT NULL", name="hidden_has_reason"),
        CheckConstraint(
            "resolved_at IS NULL OR resolution IS NOT NULL", name="resolved_has_response"
        ),
        CheckConstraint(
            "(resolution IS NULL) = (resolution_html IS NULL)", name="resolution_has_html"
        ),
        Index("ix_comment_ask_paragraph", "ask_id", "paragraph_anchor"),
        Index("ix_comment_ask_id_id", "ask_id", "id"),
        # Covering the ask page's and the dashboard's counts, so that they read no table rows
        # (consult/comments/queries.py: paragraph_counts, ask_counts; count_roots).
        Index(
            "ix_comment_paragraph_counts",
            "ask_id",
            "state",
            "paragraph_anchor",
            "version_id",
            "parent_id",
            "resolved_at",
            "author_id",
        ),
        # The organisations that started threads on an ask (queries.organisations): one probe
        # per organisation.
        Index("ix_comment_ask_organisation", "ask_id", "organisation_id", "parent_id"),
        # The top-level comments of a version's page: those up to an id are a range of it
        # (queries.count_roots counts the visible ones without reading each).
        Index(
            "ix_comment_thread_starts",
            "ask_id",
            "parent_id",
            "version_id",
            "state",
            "id",
            "author_id",
            "organisation_id",
        ),
    )

    def __repr__(self) -> str:
        return f"<Comment {self.id} on ask {self.ask_id}>"

    @property
    def is_visible(self) -> bool:
        return self.state == CommentState.VISIBLE

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def body_markup(self) -> Markup:
        """The body as stored HTML: sanitised when it was rendered, so safe to show."""
        return Markup(self.body_html)

    @property
    def resolution_markup(self) -> Markup | None:
        """The secretariat's response as stored HTML (sanitised), if there is one."""
        return None if self.resolution_html is None else Markup(self.resolution_html)

    @staticmethod
    def rendered(body: str | None, resolution: str | None = None) -> dict[str, Any]:
        """The stored HTML of a comment's body and response, rendered now: the columns to
        write with them. The one place they are computed: setting `body` or `resolution`
        calls it (the events below); a bulk insert, which bypasses them, adds it to each
        row: `{**row, **Comment.rendered(row["body"])}`."""
        return {
            "body_html": None if body is None else str(render_comment(body)),
            "resolution_html": None if resolution is None else str(render_comment(resolution)),
            "body_html_version": COMMENT_RENDERER_VERSION,
        }

    def render(self) -> None:
        """Render this comment's stored HTML again, with the current renderer."""
        for name, value in Comment.rendered(self.body, self.resolution).items():
            setattr(self, name, value)


# Whatever writes a comment's text (a service, the archive loader, the demo, a test), its HTML
# is rendered with it: the constructor's keywords set attributes too.
@event.listens_for(Comment.body, "set")
def _body_set(target: Comment, value: str | None, oldvalue: Any, initiator: Any) -> None:
    for name, html in Comment.rendered(value, target.resolution).items():
        setattr(target, name, html)


@event.listens_for(Comment.resolution, "set")
def _resolution_set(target: Comment, value: str | None, oldvalue: Any, initiator: Any) -> None:
    for name, html in Comment.rendered(target.body, value).items():
        setattr(target, name, html)


class CommentReport(Base):
    """A person's report of a comment to the secretariat. One per person per comment."""

    __tablename__ = "comment_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]

    comment: Mapped[Comment] = relationship()
    reporter: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)
