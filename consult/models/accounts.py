"""Organisations, the people who belong to them, and their single-use account tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ColumnElement, ForeignKey, Index, String, and_, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.base import Base, enum_type, utcnow


class OrganisationKind(StrEnum):
    LOCAL_AUTHORITY = "local_authority"
    RESEARCH = "research"
    NGO = "ngo"
    PROFESSIONAL_BODY = "professional_body"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            "local_authority": "Local authority",
            "research": "Research",
            "ngo": "Environmental or other NGO",
            "professional_body": "Professional body",
            "other": "Other",
        }[self.value]


class Role(StrEnum):
    MEMBER = "member"
    OBSERVER = "observer"
    SECRETARIAT = "secretariat"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique ignoring case: see the functional index below.
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind))
    website: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation", order_by="User.name")

    __table_args__ = (
        CheckConstraint(kind.in_([k.value for k in OrganisationKind]), name="kind"),
        Index("uq_organisation_name_lower", func.lower(name), unique=True),
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r}>"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role, 20), default=Role.MEMBER)
    active: Mapped[bool] = mapped_column(default=True)
    # Named by the secretariat: sets the organisation's positions (members only).
    is_delegate: Mapped[bool] = mapped_column(default=False)
    # get_id() returns this token: rotating it signs the person out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the secretariat erased the person (UK GDPR): name and email replaced, no
    # password, never active again. Their organisation's contributions stay.
    erased_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    __table_args__ = (
        CheckConstraint(role.in_([r.value for r in Role]), name="role"),
        CheckConstraint(email == func.lower(email), name="email_lower_case"),
        CheckConstraint("NOT is_delegate OR role = 'member'", name="delegate_is_member"),
        CheckConstraint(
            "erased_at IS NULL OR (NOT active AND NOT is_delegate AND password_hash IS NULL)",
            name="erased_is_inactive",
        ),
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email!r}>"

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        # The same rule as SQL: active_in_sql() below. Change both together.
        return self.active and self.organisation.active and self.password_hash is not None

    @classmethod
    def active_in_sql(cls) -> ColumnElement[bool]:
        """is_active as a condition of a query that joins the person's organisation."""
        return and_(cls.active, Organisation.active, cls.password_hash.is_not(None))

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def has_accepted_invitation(self) -> bool:
        return self.password_hash is not None

    def rotate_session(self) -> None:
        """Invalidate every session cookie issued to this person so far."""
        self.session_token = new_session_token()


class TokenPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountToken(Base):
    """A single-use, expiring link sent by email. Only its hash is stored."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(enum_type(TokenPurpose, 20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        CheckConstraint(purpose.in_([p.value for p in TokenPurpose]), name="purpose"),
    )

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.used_at is None and (now or utcnow()) < self.expires_at
