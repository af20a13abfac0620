"""The database's revision: a token that every transaction that writes replaces as it commits
(consult/page_cache.py), so that a page kept rendered under one token is never served once
anything it could show has changed."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from consult.models.base import Base


class DataRevision(Base):
    """One row (id 1): the token of the last committed write. No row yet is a revision too
    (an empty database's); the first write makes the row."""

    __tablename__ = "data_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    def __repr__(self) -> str:
        return f"<DataRevision {self.token}>"
