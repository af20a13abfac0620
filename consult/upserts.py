"""One row per organisation (a position on a version, a stance on an amendment): written as
one upsert, under the organisation's lock so the audit log's "before" is exact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from consult.extensions import db
from consult.models import Ask, Base, Organisation


def lock_organisation(organisation_id: int) -> None:
    """Hold this organisation's lock until the transaction ends.

    PostgreSQL: a row lock on the organisation (FOR NO KEY UPDATE, which rows referring to
    the organisation do not wait for). SQLite: a write, which makes this transaction the one
    writer of the database until it ends (Python's sqlite3 begins the transaction just
    before it, so no earlier read has fixed an older snapshot).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Organisation.id)
            .where(Organisation.id == organisation_id)
            .with_for_update(key_share=True)
        )
    else:
        db.session.execute(
            update(Organisation)
            .where(Organisation.id == organisation_id)
            .values(active=Organisation.active)
            .execution_options(synchronize_session=False)
        )


def lock_ask(ask_id: int) -> None:
    """Hold this ask's lock until the transaction ends, as `lock_organisation` does for an
    organisation: what changes the ask's state (publishing a version, declaring it agreed,
    reopening it) takes it first, so each sees the others' committed changes."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Ask.id).where(Ask.id == ask_id).with_for_update(key_share=True))
    else:
        db.session.execute(
            update(Ask)
            .where(Ask.id == ask_id)
            .values(state=Ask.state)
            .execution_options(synchronize_session=False)
        )


def upsert(
    model: type[Base], values: dict[str, Any], *, unique: Sequence[str], replace: Sequence[str]
) -> int:
    """INSERT … ON CONFLICT (unique columns) DO UPDATE SET (replace columns) … RETURNING id,
    on PostgreSQL and SQLite alike."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    table = model.__table__
    query = statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in unique],
        set_={name: statement.excluded[name] for name in replace},
    ).returning(table.c.id)
    return int(db.session.execute(query).scalar_one())
