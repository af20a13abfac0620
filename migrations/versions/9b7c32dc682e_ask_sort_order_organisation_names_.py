"""Ask sort order, organisation names unique ignoring case, participants

Ask.position becomes Ask.sort_order, so that "position" is free for organisations'
positions. Organisation names become unique ignoring case (a functional index). Each
consultation gets its participants: the organisations it consults, the denominator of its
quorum. Existing consultations take part with every active member organisation (one with a
member and no secretariat person).

Revision ID: 9b7c32dc682e
Revises: bc50c768fa23
Create Date: 2026-11-29 10:01:17.393736

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9b7c32dc682e'
down_revision = 'bc50c768fa23'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_participant_consultation_id_consultation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_participant_organisation_id_organisation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('consultation_id', 'organisation_id', name=op.f('uq_participant_consultation_id_organisation_id'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_organisation_id'), ['organisation_id'], unique=False)

    with op.batch_alter_table('ask', schema=None) as batch_op:
        batch_op.alter_column('position', new_column_name='sort_order',
                              existing_type=sa.Integer(), existing_nullable=False)

    op.create_index('uq_organisation_name_lower', 'organisation', [sa.text('lower(name)')],
                    unique=True)

    op.execute(
        """
        INSERT INTO participant (consultation_id, organisation_id, created_at)
        SELECT c.id, o.id, CURRENT_TIMESTAMP
        FROM consultation c CROSS JOIN organisation o
        WHERE o.active
          AND EXISTS (SELECT 1 FROM user_account u
                      WHERE u.organisation_id = o.id AND u.role = 'member')
          AND NOT EXISTS (SELECT 1 FROM user_account u
                          WHERE u.organisation_id = o.id AND u.role = 'secretariat')
        """
    )


def downgrade():
    op.drop_index('uq_organisation_name_lower', table_name='organisation')

    with op.batch_alter_table('ask', schema=None) as batch_op:
        batch_op.alter_column('sort_order', new_column_name='position',
                              existing_type=sa.Integer(), existing_nullable=False)

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_participant_consultation_id'))

    op.drop_table('participant')
