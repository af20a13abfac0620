"""An organisation's own notes on an ask: where its members agree their line before their
delegate acts. Only that organisation's members read them (not the secretariat)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, enum_type, utcnow
from consult.models.consultations import Ask, DraftVersion
from consult.models.positions import Stance


class OrganisationNote(Base):
    """A note, or a reply to one, that members of one organisation write on an ask.

    Any member may propose a note as the organisation's position ("propose this as our
    position"): a stance, with the note's text as the reason, on the version current then.
    The delegate's position form shows the latest proposal; nothing is set by it.

    A note deleted by its author goes, with its proposal; one that has replies keeps its
    place (its text cleared) so that the replies still read as answers.
    """

    __tablename__ = "organisation_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"))
    # The author's organisation when they wrote it: only its members read the note.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation_note.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    proposed_stance: Mapped[Stance | None] = mapped_column(enum_type(Stance, 30))
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    proposed_at: Mapped[datetime | None]
    proposed_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft_version.id", ondelete="SET NULL")
    )

    ask: Mapped[Ask] = relationship()
    organisation: Mapped[Organisation] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    parent: Mapped[OrganisationNote | None] = relationship(remote_side=[id])
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    proposed_version: Mapped[DraftVersion | None] = relationship()

    __table_args__ = (
        CheckConstraint(proposed_stance.in_([s.value for s in Stance]), name="proposed_stance"),
        CheckConstraint(
            "(proposed_stance IS NULL AND proposed_by_id IS NULL AND proposed_at IS NULL)"
            " OR (proposed_stance IS NOT NULL AND proposed_by_id IS NOT NULL"
            " AND proposed_at IS NOT NULL)",
            name="proposal_complete",
        ),
        CheckConstraint(
            "deleted_at IS NULL OR proposed_stance IS NULL", name="deleted_not_proposed"
        ),
        Index("ix_organisation_note_ask_org_id", "ask_id", "organisation_id", "id"),
    )

    def __repr__(self) -> str:
        return f"<OrganisationNote {self.id} on ask {self.ask_id} org={self.organisation_id}>"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_proposal(self) -> bool:
        return self.proposed_stance is not None
