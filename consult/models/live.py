"""Events that open ask pages are told about, kept so a reconnecting page can catch up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from consult.models.base import Base, utcnow


class LiveEvent(Base):
    """A change that ask pages are told about: the id is the Server-Sent Events id, so a
    page that reconnects with Last-Event-ID is sent what it missed."""

    __tablename__ = "live_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_live_event_ask_id_id", "ask_id", "id"),)
