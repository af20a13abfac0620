"""Consultation rounds, their asks, and the immutable draft versions of each ask."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, ImmutableError, enum_type, utcnow


class ConsultationState(StrEnum):
    UPCOMING = "upcoming"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Consultation(Base):
    __tablename__ = "consultation"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    # Consensus rule: percentages of organisations.
    quorum_percent: Mapped[int] = mapped_column(default=50)
    threshold_percent: Mapped[int] = mapped_column(default=75)
    objection_blocks: Mapped[bool] = mapped_column(default=False)
    # Whether "support with changes" counts towards the support threshold.
    changes_count_as_support: Mapped[bool] = mapped_column(default=True)
    # Explicit steps by the secretariat, on top of the dates.
    closed_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    # Sign-off of the agreed manifesto: opened once every ask is agreed, then closed before
    # the manifesto is published.
    signoff_opened_at: Mapped[datetime | None]
    signoff_closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    asks: Mapped[list[Ask]] = relationship(
        back_populates="consultation", order_by="Ask.sort_order, Ask.id"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("closes_at > opens_at", name="closes_after_opens"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_percent"),
        CheckConstraint("threshold_percent BETWEEN 0 AND 100", name="threshold_percent"),
        CheckConstraint(
            "signoff_closed_at IS NULL OR signoff_opened_at IS NOT NULL",
            name="signoff_closed_after_opened",
        ),
    )

    def __repr__(self) -> str:
        return f"<Consultation {self.id} {self.title!r}>"

    def state_at(self, now: datetime) -> ConsultationState:
        if self.published_at is not None:
            return ConsultationState.PUBLISHED
        if self.closed_at is not None or now >= self.closes_at:
            return ConsultationState.CLOSED
        if now < self.opens_at:
            return ConsultationState.UPCOMING
        return ConsultationState.OPEN

    @property
    def state(self) -> ConsultationState:
        return self.state_at(utcnow())


class Participant(Base):
    """An organisation that a consultation consults ("taking part").

    The participants are the denominator of the consultation's quorum: by default every
    active member organisation, never the secretariat's own or an observer's.
    """

    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="participants")
    # Loaded with the participant: lists of participants always show the names.
    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("consultation_id", "organisation_id"),)

    def __repr__(self) -> str:
        return f"<Participant consultation={self.consultation_id} org={self.organisation_id}>"


class AskState(StrEnum):
    DRAFTING = "drafting"
    IN_REVIEW = "in_review"
    AGREED = "agreed"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return {
            "drafting": "Drafting",
            "in_review": "In review",
            "agreed": "Agreed",
            "published": "Published",
        }[self.value]


class Ask(Base):
    __tablename__ = "ask"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(100), default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    state: Mapped[AskState] = mapped_column(enum_type(AskState, 20), default=AskState.DRAFTING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship(back_populates="asks")
    versions: Mapped[list[DraftVersion]] = relationship(
        back_populates="ask", order_by="DraftVersion.number"
    )

    __table_args__ = (CheckConstraint(state.in_([s.value for s in AskState]), name="state"),)

    def __repr__(self) -> str:
        return f"<Ask {self.id} {self.title!r}>"

    @property
    def current_version(self) -> DraftVersion | None:
        """The latest published version, or None before the first is published."""
        return self.versions[-1] if self.versions else None


class DraftVersion(Base):
    """Published wording of an ask. Immutable: editing means publishing the next number."""

    __tablename__ = "draft_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    # The secretariat's note, then (for accepted amendments) who is credited: any length.
    change_note: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ask: Mapped[Ask] = relationship(back_populates="versions")
    author: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("ask_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    def __repr__(self) -> str:
        return f"<DraftVersion ask={self.ask_id} v{self.number}>"

    @property
    def label(self) -> str:
        return f"v{self.number}"


@event.listens_for(DraftVersion, "before_update")
def _refuse_version_update(mapper, connection, target) -> None:
    raise ImmutableError("A published draft version never changes; publish a new version.")


class VersionDraft(Base):
    """The secretariat's unpublished wording for an ask's next version: one per ask, saved
    and edited again until it is published (then it is gone) or discarded. Members never see
    it. `based_on` is the version number it was written against."""

    __tablename__ = "version_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"), unique=True)
    body: Mapped[str] = mapped_column(Text)
    change_note: Mapped[str] = mapped_column(Text, default="")
    based_on: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)

    ask: Mapped[Ask] = relationship()
    author: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("based_on >= 0", name="based_on_not_negative"),)

    def __repr__(self) -> str:
        return f"<VersionDraft ask={self.ask_id} on v{self.based_on}>"
