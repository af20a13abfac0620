"""The append-only audit log.

Append-only twice over: the ORM refuses to update or delete an event (below), and so does the
database itself, whatever writes to it (raw SQL, another program, a mistaken migration):
triggers created with the table (here, for `create_all`, and by hand in the migration
"audit log append-only in the database") refuse UPDATE and DELETE on SQLite, and UPDATE,
DELETE and TRUNCATE on PostgreSQL. Erasing a person keeps their audit events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.models.accounts import User
from consult.models.base import Base, ImmutableError, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip_address: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[User | None] = relationship()

    # The log is read newest first, (created_at, id) descending, whole or filtered by one
    # column: each filter's index ends in that order, so a page of a million events reads
    # its 50 rows (and the next page goes on from a key, bench/audit_log.py) without a sort.
    # The distinct actions and object types are read from the first two by skipping.
    __table_args__ = (
        Index("ix_audit_event_newest", "created_at", "id"),
        Index("ix_audit_event_action_newest", "action", "created_at", "id"),
        Index("ix_audit_event_object_type_newest", "object_type", "created_at", "id"),
        Index("ix_audit_event_actor_newest", "actor_id", "created_at", "id"),
        Index("ix_audit_event_object", "object_type", "object_id", "created_at", "id"),
    )

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_change(mapper, connection, target) -> None:
    raise ImmutableError("The audit log is append-only.")


# The database's own refusal. The migration runs the same statements.

APPEND_ONLY_MESSAGE = "The audit log is append-only."

APPEND_ONLY_DDL = {
    "sqlite": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    ),
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$",
        "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
    ),
}
# Lifting the refusal: for dropping the table's triggers in the migration's downgrade, and for
# the tests, which empty every table between tests (and put the triggers back at once).
LIFT_APPEND_ONLY_DDL = {
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
    ),
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event",
        "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event",
    ),
}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(
            AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
# Dropping the table drops its triggers; PostgreSQL's function stays unless dropped too.
event.listen(
    AuditEvent.__table__,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS audit_event_append_only()").execute_if(dialect="postgresql"),
)
