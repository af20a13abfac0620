"""Fixtures for the admin tests: one person of each role, and helpers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consult.extensions import db
from consult.models import AuditEvent, Organisation, OrganisationKind, Role, User
from tests import factories


@dataclass
class Cast:
    secretariat_org: Organisation
    member_org: Organisation
    other_org: Organisation
    secretariat: User
    member: User
    observer: User
    other_member: User

    def by_role(self, role: str) -> User | None:
        return {"anonymous": None, "secretariat": self.secretariat, "member": self.member,
                "observer": self.observer, "other_member": self.other_member}[role]


@pytest.fixture
def cast(app) -> Cast:
    """A secretariat person, a member and an observer of one organisation, a member of another."""
    secretariat_org = factories.organisation("Coalition secretariat", kind=OrganisationKind.OTHER)
    member_org = factories.organisation("Green Councils Network",
                                        kind=OrganisationKind.LOCAL_AUTHORITY)
    other_org = factories.organisation("Climate Research Institute", kind=OrganisationKind.RESEARCH)
    cast = Cast(
        secretariat_org=secretariat_org,
        member_org=member_org,
        other_org=other_org,
        secretariat=factories.user(Role.SECRETARIAT, secretariat_org, name="Sam Secretary",
                                   email="sam@secretariat.example"),
        member=factories.user(Role.MEMBER, member_org, name="Mina Member",
                              email="mina@councils.example"),
        observer=factories.user(Role.OBSERVER, member_org, name="Oli Observer",
                                email="oli@councils.example"),
        other_member=factories.user(Role.MEMBER, other_org, name="Rae Researcher",
                                    email="rae@research.example"),
    )
    db.session.commit()
    return cast


def audit_count(action: str | None = None) -> int:
    """How many audit events there are (of this action)."""
    stmt = select(func.count(AuditEvent.id))
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    return db.session.scalar(stmt)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]
