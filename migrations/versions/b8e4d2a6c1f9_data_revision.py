"""The database's revision: a token every write replaces, under which ask pages are kept

Revision ID: b8e4d2a6c1f9
Revises: a7d2c5e8f1b3
Create Date: 2026-11-30 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e4d2a6c1f9'
down_revision = 'a7d2c5e8f1b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.CheckConstraint('id = 1', name=op.f('ck_data_revision_one_row')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_revision')),
    )


def downgrade():
    op.drop_table('data_revision')
