"""Fixtures for the admin tests: one person of each role (helpers are in tests/helpers.py)."""

from __future__ import annotations

import pytest

from consult.extensions import db
from consult.models import OrganisationKind, Role
from tests import factories
from tests.helpers import Cast


@pytest.fixture
def cast(app) -> Cast:
    """A secretariat person, a member and an observer of one organisation, a member of another."""
    secretariat_org = factories.organisation("Coalition secretariat", kind=OrganisationKind.OTHER)
    member_org = factories.organisation(
        "Green Councils Network", kind=OrganisationKind.LOCAL_AUTHORITY
    )
    other_org = factories.organisation("Climate Research Institute", kind=OrganisationKind.RESEARCH)
    cast = Cast(
        secretariat_org=secretariat_org,
        member_org=member_org,
        other_org=other_org,
        secretariat=factories.user(
            Role.SECRETARIAT, secretariat_org, name="Sam Secretary", email="sam@secretariat.example"
        ),
        member=factories.user(
            Role.MEMBER, member_org, name="Mina Member", email="mina@councils.example"
        ),
        observer=factories.user(
            Role.OBSERVER, member_org, name="Oli Observer", email="oli@councils.example"
        ),
        other_member=factories.user(
            Role.MEMBER, other_org, name="Rae Researcher", email="rae@research.example"
        ),
    )
    db.session.commit()
    return cast
