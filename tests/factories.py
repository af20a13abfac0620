"""Factories for test data: small functions that add rows and flush, never commit."""

from __future__ import annotations

import itertools
from datetime import timedelta

from consult.auth.services import hash_password
from consult.extensions import db
from consult.models import (
    Ask,
    Consultation,
    DraftVersion,
    Organisation,
    OrganisationKind,
    Role,
    User,
    utcnow,
)

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def organisation(
    name: str | None = None, kind: OrganisationKind = OrganisationKind.NGO, **fields
) -> Organisation:
    org = Organisation(name=name or f"Organisation {next(_seq)}", kind=kind, **fields)
    db.session.add(org)
    db.session.flush()
    return org


def user(
    role: Role = Role.MEMBER,
    org: Organisation | None = None,
    email: str | None = None,
    name: str | None = None,
    password: str | None = PASSWORD,
    **fields,
) -> User:
    n = next(_seq)
    person = User(
        email=(email or f"person{n}@example.org").lower(),
        name=name or f"Person {n}",
        role=role,
        organisation=org or organisation(),
        password_hash=hash_password(password) if password else None,
        **fields,
    )
    db.session.add(person)
    db.session.flush()
    return person


def consultation(
    title: str | None = None, opens_in_days: float = -1, closes_in_days: float = 14, **fields
) -> Consultation:
    now = utcnow()
    item = Consultation(
        title=title or f"Consultation {next(_seq)}",
        summary=fields.pop("summary", "A round of review."),
        opens_at=now + timedelta(days=opens_in_days),
        closes_at=now + timedelta(days=closes_in_days),
        **fields,
    )
    db.session.add(item)
    db.session.flush()
    return item


def ask(
    consultation_: Consultation | None = None,
    title: str | None = None,
    versions: tuple[str, ...] = ("First paragraph.\n\nSecond paragraph.",),
    author: User | None = None,
    **fields,
) -> Ask:
    item = Ask(
        consultation=consultation_ or consultation(),
        title=title or f"Ask {next(_seq)}",
        sort_order=fields.pop("sort_order", next(_seq)),
        **fields,
    )
    db.session.add(item)
    db.session.flush()
    writer = author or user(Role.SECRETARIAT)
    for number, body in enumerate(versions, start=1):
        db.session.add(
            DraftVersion(
                ask=item, number=number, body=body, change_note=f"Version {number}", author=writer
            )
        )
    db.session.flush()
    return item
