"""Fixtures for the asks tests: one person per role, asks with versions, a database snapshot."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import Ask, AuditEvent, DraftVersion, utcnow
from tests import factories
from tests.conftest import ROLES, People, audit_events  # noqa: F401 (shared)

V1 = "The council should act.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"
V2 = "The council must act now.\n\nEvery party commits to net zero.\n\n- Homes\n- Transport"


@pytest.fixture
def open_ask(people) -> Ask:
    """An ask with two versions in an open consultation, written by the secretariat."""
    consultation = factories.consultation("Net zero by 2040")
    ask = factories.ask(
        consultation,
        title="Declare a climate emergency",
        theme="Manifesto asks",
        versions=(V1, V2),
        author=people.secretariat,
    )
    db.session.commit()
    return ask


def snapshot() -> dict:
    """Everything the asks feature may change, as committed in the database."""
    db.session.rollback()
    db.session.expire_all()
    return {
        "asks": db.session.execute(
            select(Ask.id, Ask.title, Ask.theme, Ask.sort_order, Ask.state).order_by(Ask.id)
        ).all(),
        "versions": db.session.execute(
            select(
                DraftVersion.ask_id,
                DraftVersion.number,
                DraftVersion.body,
                DraftVersion.change_note,
            ).order_by(DraftVersion.id)
        ).all(),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)),
    }


def published_consultation(**fields):
    return factories.consultation(published_at=utcnow(), **fields)
