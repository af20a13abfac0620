"""The mail queue, each person's notification preferences, and what waits for their digest."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consult.models.base import Base, enum_type, utcnow


class EmailState(StrEnum):
    QUEUED = "queued"  # waiting, or waiting to be tried again (next_attempt_at)
    SENDING = "sending"  # claimed by one sender until next_attempt_at (a lease)
    SENT = "sent"
    FAILED = "failed"  # given up after every retry; the secretariat may retry it

    @property
    def label(self) -> str:
        return {
            "queued": "Waiting to be sent",
            "sending": "Sending",
            "sent": "Sent",
            "failed": "Not sent",
        }[self.value]


class OutgoingEmail(Base):
    """An email queued in the transaction that caused it (so a rolled-back change sends
    nothing), sent after commit by consult.mail, and tried again with backoff."""

    __tablename__ = "outgoing_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # Extra headers (List-Unsubscribe, Message-ID), by name.
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[EmailState] = mapped_column(enum_type(EmailState, 20), default=EmailState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(state.in_([s.value for s in EmailState]), name="state"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outgoing_email_state_next_attempt_at", "state", "next_attempt_at"),
    )

    def __repr__(self) -> str:
        return f"<OutgoingEmail {self.id} {self.state.value} to {self.recipient!r}>"


class NotificationKind(StrEnum):
    """What a person can be told about, each with its own preference."""

    REPLY = "reply"
    HIDDEN = "hidden"
    RESOLVED = "resolved"
    OUTCOME = "outcome"
    NEW_VERSION = "new_version"
    RECONFIRM = "reconfirm"
    REMINDER = "reminder"
    REPORT_OUTCOME = "report_outcome"

    @property
    def label(self) -> str:
        return {
            "reply": "Replies to your comments",
            "hidden": "Your comment hidden by the secretariat",
            "resolved": "Your comment marked as resolved",
            "outcome": "The secretariat’s outcome for your comment or amendment",
            "new_version": "New versions of asks you follow",
            "reconfirm": "New versions your organisation must reconfirm its position on",
            "reminder": "Reminders before a consultation closes",
            "report_outcome": "What happened to a comment you reported",
        }[self.value]


class Delivery(StrEnum):
    IMMEDIATELY = "immediately"
    DIGEST = "digest"
    NEVER = "never"

    @property
    def label(self) -> str:
        return {
            "immediately": "Email me at once",
            "digest": "In a daily digest",
            "never": "Never",
        }[self.value]


class NotificationPreference(Base):
    """How one person wants to hear of one kind of thing; no row means the kind's default."""

    __tablename__ = "notification_preference"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind, 20))
    delivery: Mapped[Delivery] = mapped_column(enum_type(Delivery, 20))

    __table_args__ = (
        UniqueConstraint("user_id", "kind"),
        CheckConstraint(kind.in_([k.value for k in NotificationKind]), name="kind"),
        CheckConstraint(delivery.in_([d.value for d in Delivery]), name="delivery"),
    )


class DigestItem(Base):
    """A notification waiting for its person's daily digest; digested_at is set in the
    transaction that queues the digest, so a second run sends nothing twice."""

    __tablename__ = "digest_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_type(NotificationKind, 20))
    ask_id: Mapped[int | None] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(String(500))
    link: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    digested_at: Mapped[datetime | None]

    __table_args__ = (
        CheckConstraint(kind.in_([k.value for k in NotificationKind]), name="kind"),
        Index("ix_digest_item_digested_at_user_id", "digested_at", "user_id"),
    )
