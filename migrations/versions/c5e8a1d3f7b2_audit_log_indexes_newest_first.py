"""Audit log indexes for reading it newest first

Each way the audit log page filters (none, an action, an object type, a person) has an index
that ends in the page's order, (created_at, id): a page of a large log reads its rows
without sorting every match, and the next page goes on from the last event's key. They
replace the single-column indexes on created_at, action and actor_id (each is a prefix of its
replacement), and the object index gains the same order for a person's page. Building them
reads the whole table once (seconds for a million events).

Revision ID: c5e8a1d3f7b2
Revises: a7d4e2f9c1b8
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5e8a1d3f7b2'
down_revision = 'a7d4e2f9c1b8'
branch_labels = None
depends_on = None

NEWEST = ('created_at', 'id')


def upgrade():
    # Plain index statements, no batch: a batch that rebuilt the table on SQLite would lose
    # the append-only triggers.
    op.drop_index('ix_audit_event_created_at', table_name='audit_event')
    op.drop_index('ix_audit_event_action', table_name='audit_event')
    op.drop_index('ix_audit_event_actor_id', table_name='audit_event')
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    op.create_index('ix_audit_event_newest', 'audit_event', list(NEWEST))
    op.create_index('ix_audit_event_action_newest', 'audit_event', ['action', *NEWEST])
    op.create_index(
        'ix_audit_event_object_type_newest', 'audit_event', ['object_type', *NEWEST]
    )
    op.create_index('ix_audit_event_actor_newest', 'audit_event', ['actor_id', *NEWEST])
    op.create_index(
        'ix_audit_event_object', 'audit_event', ['object_type', 'object_id', *NEWEST]
    )


def downgrade():
    op.drop_index('ix_audit_event_object', table_name='audit_event')
    op.drop_index('ix_audit_event_actor_newest', table_name='audit_event')
    op.drop_index('ix_audit_event_object_type_newest', table_name='audit_event')
    op.drop_index('ix_audit_event_action_newest', table_name='audit_event')
    op.drop_index('ix_audit_event_newest', table_name='audit_event')
    op.create_index('ix_audit_event_object', 'audit_event', ['object_type', 'object_id'])
    op.create_index('ix_audit_event_actor_id', 'audit_event', ['actor_id'])
    op.create_index('ix_audit_event_action', 'audit_event', ['action'])
    op.create_index('ix_audit_event_created_at', 'audit_event', ['created_at'])
