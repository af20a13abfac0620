"""Amendments (wording an organisation proposes), other organisations' backing of them, and
the secretariat's dispositions ("you said, we did") on comments and amendments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import Organisation, User
from consult.models.base import Base, enum_type, utcnow
from consult.models.consultations import Ask, DraftVersion
from consult.models.discussion import Comment


class AmendmentState(StrEnum):
    OPEN = "open"
    WITHDRAWN = "withdrawn"
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Amendment(Base):
    """Replacement wording for one paragraph of a version (or for its whole text), proposed
    by a member for their organisation, with a rationale.

    `original` is the wording it replaces, as it stood in `version`: the paragraph's source
    (its anchor is `paragraph_anchor`) or, for the whole text, the version's body. Anchors
    depend only on a paragraph's text, so an amendment still applies to a later version
    whose paragraph is unchanged. Accepting it publishes the next version (`accepted_version`).
    """

    __tablename__ = "amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(
        ForeignKey("draft_version.id", ondelete="CASCADE"), index=True
    )
    # None: the amendment replaces the whole text.
    paragraph_anchor: Mapped[str | None] = mapped_column(String(40))
    original: Mapped[str] = mapped_column(Text)
    wording: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    state: Mapped[AmendmentState] = mapped_column(
        enum_type(AmendmentState, 20), default=AmendmentState.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when it stops being open: withdrawn by the proposer, accepted or declined.
    closed_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    accepted_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("draft_version.id", ondelete="SET NULL")
    )
    # A random key the form carries: a resent form finds the amendment already made.
    submission_key: Mapped[str | None] = mapped_column(String(64))

    ask: Mapped[Ask] = relationship()
    version: Mapped[DraftVersion] = relationship(foreign_keys=[version_id])
    accepted_version: Mapped[DraftVersion | None] = relationship(foreign_keys=[accepted_version_id])
    organisation: Mapped[Organisation] = relationship()
    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        UniqueConstraint("proposer_id", "submission_key"),
        CheckConstraint(state.in_([s.value for s in AmendmentState]), name="state"),
        CheckConstraint("wording != '' AND rationale != ''", name="wording_and_rationale"),
        CheckConstraint(
            "state != 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"
        ),
        CheckConstraint(
            "state != 'accepted' OR accepted_version_id IS NOT NULL",
            name="accepted_has_version",
        ),
        CheckConstraint("(state = 'open') = (closed_at IS NULL)", name="closed_when_not_open"),
        Index("ix_amendment_ask_id_state", "ask_id", "state"),
    )

    def __repr__(self) -> str:
        return f"<Amendment {self.id} on ask {self.ask_id} {self.state}>"

    @property
    def is_open(self) -> bool:
        return self.state == AmendmentState.OPEN

    @property
    def is_whole_text(self) -> bool:
        return self.paragraph_anchor is None


class Backing(StrEnum):
    BACK = "back"
    OPPOSE = "oppose"

    @property
    def label(self) -> str:
        return {"back": "Back", "oppose": "Oppose"}[self.value]


class AmendmentBacking(Base):
    """Another organisation's stance on an amendment: back or oppose. One per organisation
    per amendment, set by one of its delegates; changing it replaces it (one upsert)."""

    __tablename__ = "amendment_backing"

    id: Mapped[int] = mapped_column(primary_key=True)
    amendment_id: Mapped[int] = mapped_column(
        ForeignKey("amendment.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    stance: Mapped[Backing] = mapped_column(enum_type(Backing, 20))
    set_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)

    amendment: Mapped[Amendment] = relationship()
    organisation: Mapped[Organisation] = relationship()
    set_by: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("amendment_id", "organisation_id"),
        CheckConstraint(stance.in_([s.value for s in Backing]), name="stance"),
    )

    def __repr__(self) -> str:
        return f"<AmendmentBacking {self.stance} amendment={self.amendment_id}>"


class Outcome(StrEnum):
    ADOPTED = "adopted"
    PARTLY_ADOPTED = "partly_adopted"
    NOT_ADOPTED = "not_adopted"
    NOTED = "noted"

    @property
    def label(self) -> str:
        return {
            "adopted": "Adopted",
            "partly_adopted": "Partly adopted",
            "not_adopted": "Not adopted",
            "noted": "Noted",
        }[self.value]


class Disposition(Base):
    """The secretariat's answer to a top-level comment or to an amendment ("you said, we
    did"): an outcome, the reason, and the version that was current when it was given (the
    one that answered it). One per comment or amendment; changing it replaces it."""

    __tablename__ = "disposition"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="CASCADE"), unique=True
    )
    amendment_id: Mapped[int | None] = mapped_column(
        ForeignKey("amendment.id", ondelete="CASCADE"), unique=True
    )
    # The author's organisation (of the comment or amendment): what "filter by
    # organisation" and "your organisation" read.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(enum_type(Outcome, 20))
    reason: Mapped[str] = mapped_column(Text)
    version_id: Mapped[int] = mapped_column(ForeignKey("draft_version.id", ondelete="CASCADE"))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    comment: Mapped[Comment | None] = relationship()
    amendment: Mapped[Amendment | None] = relationship()
    organisation: Mapped[Organisation] = relationship()
    version: Mapped[DraftVersion] = relationship()
    decided_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(outcome.in_([s.value for s in Outcome]), name="outcome"),
        CheckConstraint("(comment_id IS NULL) != (amendment_id IS NULL)", name="one_subject"),
        CheckConstraint("reason != ''", name="has_reason"),
    )

    def __repr__(self) -> str:
        return (
            f"<Disposition {self.outcome} comment={self.comment_id} amendment={self.amendment_id}>"
        )
