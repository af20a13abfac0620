"""Audit log append-only in the database

Triggers refuse UPDATE and DELETE on audit_event (SQLite), and UPDATE, DELETE and TRUNCATE
(PostgreSQL, through a trigger function), whatever writes to the database. Nothing in Consult
updates or deletes an audit event; the ORM refused it already.

Revision ID: a7d4e2f9c1b8
Revises: a7d3e9f1c2b4
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d4e2f9c1b8'
down_revision = 'a7d3e9f1c2b4'
branch_labels = None
depends_on = None

# The same statements as consult/models/audit.py runs after create_all.
MESSAGE = 'The audit log is append-only.'
SQLITE_DDL = (
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
)
POSTGRES_DDL = (
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
    f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
)
SQLITE_DROP = (
    'DROP TRIGGER IF EXISTS audit_event_no_update',
    'DROP TRIGGER IF EXISTS audit_event_no_delete',
)
POSTGRES_DROP = (
    'DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event',
    'DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event',
    'DROP FUNCTION IF EXISTS audit_event_append_only()',
)


def upgrade():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_DDL if dialect == 'postgresql' else SQLITE_DDL:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_DROP if dialect == 'postgresql' else SQLITE_DROP:
        op.execute(statement)
