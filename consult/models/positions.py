"""Organisations' positions on a draft version: one per organisation per version."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, enum_type, utcnow
from consult.models.consultations import Ask, DraftVersion


class Stance(StrEnum):
    SUPPORT = "support"
    SUPPORT_WITH_CHANGES = "support_with_changes"
    OBJECT = "object"
    ABSTAIN = "abstain"

    @property
    def label(self) -> str:
        return {
            "support": "Support",
            "support_with_changes": "Support with changes",
            "object": "Object",
            "abstain": "Abstain",
        }[self.value]

    @property
    def needs_reason(self) -> bool:
        """A reason is required for "support with changes" and for "object"."""
        return self in (Stance.SUPPORT_WITH_CHANGES, Stance.OBJECT)


class Position(Base):
    """An organisation's stance on one version of an ask, set by one of its delegates.

    Changing it replaces the row (an upsert on the unique pair); the audit log keeps every
    earlier value. A new version starts with no positions: each is reconfirmed.
    """

    __tablename__ = "position"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_version.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    stance: Mapped[Stance] = mapped_column(enum_type(Stance, 30))
    reason: Mapped[str] = mapped_column(String(2000), default="")
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    ask: Mapped[Ask] = relationship()
    version: Mapped[DraftVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    set_by: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("organisation_id", "version_id"),
        CheckConstraint(stance.in_([s.value for s in Stance]), name="stance"),
        CheckConstraint(
            "stance NOT IN ('support_with_changes', 'object') OR reason != ''",
            name="reason_when_required",
        ),
        Index("ix_position_ask_id_version_id", "ask_id", "version_id"),
    )

    def __repr__(self) -> str:
        return f"<Position org={self.organisation_id} v={self.version_id} {self.stance}>"


class Reminder(Base):
    """A reminder emailed to one delegate about one version their organisation had not
    answered. The unique constraint makes a second run of send-reminders send nothing new;
    a new version (a new version id) makes the organisation due again.
    """

    __tablename__ = "reminder"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_version.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("version_id", "organisation_id", "user_id", "kind"),
        CheckConstraint("kind IN ('position-missing')", name="kind"),
    )

    def __repr__(self) -> str:
        return f"<Reminder {self.kind} v={self.version_id} org={self.organisation_id}>"
