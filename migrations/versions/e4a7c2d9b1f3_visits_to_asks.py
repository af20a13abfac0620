"""Visits to asks

When each person last opened each ask, with the highest comment id and the version number
the ask had then: the dashboard says what is new since.

Revision ID: e4a7c2d9b1f3
Revises: ac8242f3bb0b
Create Date: 2026-11-30 10:12:41.318504

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a7c2d9b1f3'
down_revision = 'ac8242f3bb0b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ask_visit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ask_id', sa.Integer(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_comment_id', sa.Integer(), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_comment_id >= 0', name=op.f('ck_ask_visit_last_comment_id_not_negative')),
    sa.CheckConstraint('version_number >= 0', name=op.f('ck_ask_visit_version_number_not_negative')),
    sa.ForeignKeyConstraint(['ask_id'], ['ask.id'], name=op.f('fk_ask_visit_ask_id_ask'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ask_visit_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ask_visit')),
    sa.UniqueConstraint('user_id', 'ask_id', name=op.f('uq_ask_visit_user_id_ask_id'))
    )
    with op.batch_alter_table('ask_visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ask_visit_ask_id'), ['ask_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ask_visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ask_visit_ask_id'))

    op.drop_table('ask_visit')
