"""Comments on draft versions, paragraph by paragraph, in threads; and reports about them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, enum_type, utcnow
from consult.models.consultations import Ask, DraftVersion


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
        Index("ix_comment_ask_paragraph", "ask_id", "paragraph_anchor"),
        Index("ix_comment_ask_id_id", "ask_id", "id"),
    )

    def __repr__(self) -> str:
        return f"<Comment {self.id} on ask {self.ask_id}>"

    @property
    def is_visible(self) -> bool:
        return self.state == CommentState.VISIBLE

    @property
    def is_resolved(self) -> bool:
        return self.resolved_at is not None


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
