"""Sign-off of the agreed manifesto by the organisations taking part, and backers: outside
organisations that support the published manifesto from its public page."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, enum_type, utcnow
from consult.models.consultations import Consultation


class Decision(StrEnum):
    ENDORSE = "endorse"
    DECLINE = "decline"

    @property
    def label(self) -> str:
        return {"endorse": "Endorsed", "decline": "Declined"}[self.value]


class Endorsement(Base):
    """An organisation's sign-off of a consultation's agreed manifesto, set by one of its
    delegates while sign-off is open: endorse (and whether its name may be listed publicly)
    or decline with a reason. One per organisation; changing it replaces it (one upsert)."""

    __tablename__ = "endorsement"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    decision: Mapped[Decision] = mapped_column(enum_type(Decision, 20))
    list_publicly: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship()
    organisation: Mapped[Organisation] = relationship()
    set_by: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("consultation_id", "organisation_id"),
        CheckConstraint(decision.in_([d.value for d in Decision]), name="decision"),
        CheckConstraint("decision != 'decline' OR reason != ''", name="decline_has_reason"),
        CheckConstraint("decision = 'endorse' OR NOT list_publicly", name="listed_if_endorsed"),
    )

    def __repr__(self) -> str:
        return f"<Endorsement {self.decision} org={self.organisation_id}>"


class BackerState(StrEnum):
    UNCONFIRMED = "unconfirmed"  # the contact has not followed the emailed link yet
    CONFIRMED = "confirmed"  # waiting for the secretariat
    APPROVED = "approved"  # listed on the public page
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {
            "unconfirmed": "Not confirmed",
            "confirmed": "Waiting for approval",
            "approved": "Approved",
            "rejected": "Rejected",
        }[self.value]


class Backer(Base):
    """An organisation outside the coalition that supports a published manifesto. Listed
    only once its contact has confirmed by the single-use emailed link and the secretariat
    has approved it. The email is stored lower-cased: one backer per email per manifesto."""

    __tablename__ = "backer"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    organisation_name: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    website: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[BackerState] = mapped_column(
        enum_type(BackerState, 20), default=BackerState.UNCONFIRMED
    )
    # sha256 of the single-use confirmation token; cleared once used.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)

    consultation: Mapped[Consultation] = relationship()
    decided_by: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("consultation_id", "email"),
        CheckConstraint(state.in_([s.value for s in BackerState]), name="state"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint(
            "state = 'unconfirmed' OR confirmed_at IS NOT NULL", name="confirmed_has_time"
        ),
        CheckConstraint(
            "state NOT IN ('approved', 'rejected') OR decided_at IS NOT NULL",
            name="decided_has_time",
        ),
    )

    def __repr__(self) -> str:
        return f"<Backer {self.id} {self.state}>"
