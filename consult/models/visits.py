"""When each person last opened each ask, and what it held then: the dashboard's "new since
your last visit"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consult.models.base import Base, utcnow


class AskVisit(Base):
    """A person's last visit to an ask's page: one row per person per ask, replaced by each
    visit (an upsert on the pair). Not a change to anything, so not in the audit log.

    What was there is kept exactly: the highest comment id the ask had (0: none), so any
    comment with a higher id is new; and the number of the version shown (0: none yet).
    """

    __tablename__ = "ask_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"), index=True)
    visited_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_comment_id: Mapped[int] = mapped_column(default=0)
    version_number: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        UniqueConstraint("user_id", "ask_id"),
        CheckConstraint("last_comment_id >= 0", name="last_comment_id_not_negative"),
        CheckConstraint("version_number >= 0", name="version_number_not_negative"),
    )

    def __repr__(self) -> str:
        return f"<AskVisit user={self.user_id} ask={self.ask_id}>"
