"""Agreements: the secretariat's declaration that a version of an ask is agreed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import User
from consult.models.base import Base, utcnow
from consult.models.consultations import Ask, DraftVersion


class Agreement(Base):
    """The secretariat's declaration that `version` is the agreed wording of `ask`: who,
    when, and a snapshot of the tally and the rule's verdict at that moment.

    Declaring it against the rule needs a reason. Reopening keeps the row (and so the
    history), marking it reopened with who, when and why; an ask has at most one current
    (not reopened) agreement.
    """

    __tablename__ = "agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_version.id", ondelete="CASCADE"), index=True
    )
    agreed_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    agreed_at: Mapped[datetime] = mapped_column(default=utcnow)
    against_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    # The tally and verdict when it was declared: counts per stance, responded, taking part,
    # support percent, quorum reached, threshold met, blocked, the summary sentence and the
    # organisations with their stances (see consult.agreements.services.snapshot).
    tally: Mapped[dict[str, Any]] = mapped_column(JSON)
    reopened_at: Mapped[datetime | None]
    reopened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reopen_reason: Mapped[str | None] = mapped_column(Text)

    ask: Mapped[Ask] = relationship()
    version: Mapped[DraftVersion] = relationship()
    agreed_by: Mapped[User] = relationship(foreign_keys=[agreed_by_id])
    reopened_by: Mapped[User | None] = relationship(foreign_keys=[reopened_by_id])

    __table_args__ = (
        CheckConstraint(
            "NOT against_rule OR (reason IS NOT NULL AND reason != '')",
            name="against_rule_has_reason",
        ),
        CheckConstraint(
            "(reopened_at IS NULL) = (reopen_reason IS NULL)", name="reopened_has_reason"
        ),
        CheckConstraint(
            "(reopened_at IS NULL) = (reopened_by_id IS NULL)", name="reopened_has_who"
        ),
        # At most one current (not reopened) agreement per ask.
        Index(
            "uq_agreement_ask_id_current",
            "ask_id",
            unique=True,
            sqlite_where=text("reopened_at IS NULL"),
            postgresql_where=text("reopened_at IS NULL"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Agreement ask={self.ask_id} version={self.version_id}>"

    @property
    def is_current(self) -> bool:
        return self.reopened_at is None
