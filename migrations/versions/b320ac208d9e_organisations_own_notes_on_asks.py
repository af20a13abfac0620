"""Organisations' own notes on asks

Notes and replies that only the members of one organisation read, and the stance a member
proposes from one as the organisation's position.

Revision ID: b320ac208d9e
Revises: e4a7c2d9b1f3
Create Date: 2026-11-29 16:37:06.876033

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b320ac208d9e'
down_revision = 'e4a7c2d9b1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisation_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ask_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('proposed_stance', sa.Enum('support', 'support_with_changes', 'object', 'abstain', name='stance', native_enum=False, length=30), nullable=True),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('proposed_version_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("proposed_stance IN ('support', 'support_with_changes', 'object', 'abstain')", name=op.f('ck_organisation_note_proposed_stance')),
    sa.CheckConstraint('(proposed_stance IS NULL AND proposed_by_id IS NULL AND proposed_at IS NULL) OR (proposed_stance IS NOT NULL AND proposed_by_id IS NOT NULL AND proposed_at IS NOT NULL)', name=op.f('ck_organisation_note_proposal_complete')),
    sa.CheckConstraint('deleted_at IS NULL OR proposed_stance IS NULL', name=op.f('ck_organisation_note_deleted_not_proposed')),
    sa.ForeignKeyConstraint(['ask_id'], ['ask.id'], name=op.f('fk_organisation_note_ask_id_ask'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_organisation_note_author_id_user_account')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_organisation_note_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['parent_id'], ['organisation_note.id'], name=op.f('fk_organisation_note_parent_id_organisation_note'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'], name=op.f('fk_organisation_note_proposed_by_id_user_account')),
    sa.ForeignKeyConstraint(['proposed_version_id'], ['draft_version.id'], name=op.f('fk_organisation_note_proposed_version_id_draft_version'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_note'))
    )
    with op.batch_alter_table('organisation_note', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_note_ask_org_id', ['ask_id', 'organisation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_note_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_note_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_note_parent_id'), ['parent_id'], unique=False)


def downgrade():
    with op.batch_alter_table('organisation_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_note_parent_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_note_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_organisation_note_author_id'))
        batch_op.drop_index('ix_organisation_note_ask_org_id')

    op.drop_table('organisation_note')
