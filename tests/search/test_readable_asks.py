"""`permissions.can_read_ask_sql` selects exactly the asks `permissions.can_read_ask` allows,
for every kind of reader and every state a consultation and an ask can be in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from consult import permissions
from consult.extensions import db
from consult.models import Ask, Consultation, utcnow
from tests import factories

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database

READERS = ("anonymous", "observer", "member", "other_member", "secretariat")


def consultations() -> list[Consultation]:
    """One consultation in each state: upcoming, open, closed by its date, closed by the
    secretariat before its date, published."""
    now = utcnow()
    return [
        factories.consultation("Upcoming", opens_in_days=2, closes_in_days=9),
        factories.consultation("Open"),
        factories.consultation("Ended", opens_in_days=-9, closes_in_days=-1),
        factories.consultation("Closed early", closed_at=now - timedelta(hours=1)),
        factories.consultation("Published", opens_in_days=-9, closes_in_days=-2, published_at=now),
    ]


def test_both_forms_agree(people):
    asks = []
    for consultation in consultations():
        asks.append(factories.ask(consultation, versions=()))
        asks.append(factories.ask(consultation, versions=("Wording.",)))
    db.session.commit()
    sizes = {}
    for name in READERS:
        reader = AnonymousUserMixin() if name == "anonymous" else getattr(people, name)
        in_python = {ask.id for ask in asks if permissions.can_read_ask(reader, ask)}
        in_sql = set(
            db.session.scalars(
                select(Ask.id).join(Consultation).where(permissions.can_read_ask_sql(reader))
            )
        )
        assert in_sql == in_python, name
        sizes[name] = len(in_sql)
    # Not trivially: the public reads the published one, people signed in the four that
    # have opened (with a version), the secretariat every one.
    assert sizes == {
        "anonymous": 1,
        "observer": 4,
        "member": 4,
        "other_member": 4,
        "secretariat": 10,
    }
