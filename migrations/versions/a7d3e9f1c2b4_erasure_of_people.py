"""Erasure of people

When the secretariat erased a person (UK GDPR): their name and email are replaced, their
password removed, and they can never be active again (a check constraint says so).

Revision ID: a7d3e9f1c2b4
Revises: f3c81d5a7e20
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d3e9f1c2b4'
down_revision = 'f3c81d5a7e20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_user_account_erased_is_inactive'),
            'erased_at IS NULL OR (NOT active AND NOT is_delegate AND password_hash IS NULL)',
        )


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_erased_is_inactive'), type_='check')
        batch_op.drop_column('erased_at')
