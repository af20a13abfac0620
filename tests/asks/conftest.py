"""Fixtures for the asks tests: one person per role, asks with versions, a database snapshot."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import Ask, AuditEvent, DraftVersion, Role, User, utcnow
from tests import factories

ROLES = ("anonymous", "observer", "member", "other_member", "secretariat")


@dataclass
class People:
    observer: User
    member: User
    other_member: User
    secretariat: User

    def get(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def people(app) -> People:
    """An observer and a member of one organisation, a member of another, and the secretariat."""
    home = factories.organisation("Home Organisation")
    other = factories.organisation("Other Organisation")
    coalition = factories.organisation("Coalition Secretariat")
    result = People(
        observer=factories.user(Role.OBSERVER, home, name="Olive Observer"),
        member=factories.user(Role.MEMBER, home, name="Mina Member"),
        other_member=factories.user(Role.MEMBER, other, name="Otto Other"),
        secretariat=factories.user(Role.SECRETARIAT, coalition, name="Sam Secretariat"),
    )
    db.session.commit()
    return result


V1 = "The council should act.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"
V2 = "The council must act now.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"


@pytest.fixture
def open_ask(people) -> Ask:
    """An ask with two versions in an open consultation, written by the secretariat."""
    consultation = factories.consultation("Net zero by 2040")
    ask = factories.ask(consultation, title="Declare a climate emergency", theme="Manifesto asks",
                        versions=(V1, V2), author=people.secretariat)
    db.session.commit()
    return ask


def snapshot() -> dict:
    """Everything the asks feature may change, as committed in the database."""
    db.session.rollback()
    db.session.expire_all()
    return {
        "asks": db.session.execute(
            select(Ask.id, Ask.title, Ask.theme, Ask.position, Ask.state).order_by(Ask.id)
        ).all(),
        "versions": db.session.execute(
            select(DraftVersion.ask_id, DraftVersion.number, DraftVersion.body,
                   DraftVersion.change_note).order_by(DraftVersion.id)
        ).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
    }


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ))


def published_consultation(**fields):
    return factories.consultation(published_at=utcnow(), **fields)
