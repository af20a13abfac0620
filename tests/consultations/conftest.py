"""Fixtures for the consultations tests: one person per role, and a valid consultation form."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import AuditEvent, Consultation, Role, User
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


def form_data(**overrides) -> dict:
    """A valid consultation form: 1 July 2030 09:00 to 31 July 2030 17:00, UK time."""
    data = {
        "title": "Net zero by 2040",
        "summary": "A round of review of the *energy* asks.",
        "opens_date": ["1", "7", "2030"],
        "opens_time": "09:00",
        "closes_date": ["31", "7", "2030"],
        "closes_time": "17:00",
        "quorum_percent": "60",
        "threshold_percent": "80",
        "objection_blocks": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def consultation_count() -> int:
    return count(Consultation)


def audit_events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def row(html: str, dom_id: str) -> str:
    """The HTML of the table row or list item with this id."""
    match = re.search(rf'<(tr|li|section)[^>]*\bid="{re.escape(dom_id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element with id {dom_id}"
    return match.group(2)
