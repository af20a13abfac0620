"""Mail queue, notification preferences and digest items

Emails are queued in the transaction that caused them and sent after commit, with retries;
each person chooses per kind of notification: at once, in a daily digest, or never.

Revision ID: f1a2b3c4d5e6
Revises: b320ac208d9e
Create Date: 2026-12-01 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'b320ac208d9e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoing_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'sending', 'sent', 'failed', name='emailstate', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed')", name=op.f('ck_outgoing_email_state')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outgoing_email_attempts_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_email'))
    )
    with op.batch_alter_table('outgoing_email', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_email_state_next_attempt_at', ['state', 'next_attempt_at'], unique=False)

    op.create_table('notification_preference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reply', 'hidden', 'resolved', 'outcome', 'new_version', 'reconfirm', 'reminder', 'report_outcome', name='notificationkind', native_enum=False, length=20), nullable=False),
    sa.Column('delivery', sa.Enum('immediately', 'digest', 'never', name='delivery', native_enum=False, length=20), nullable=False),
    sa.CheckConstraint("kind IN ('reply', 'hidden', 'resolved', 'outcome', 'new_version', 'reconfirm', 'reminder', 'report_outcome')", name=op.f('ck_notification_preference_kind')),
    sa.CheckConstraint("delivery IN ('immediately', 'digest', 'never')", name=op.f('ck_notification_preference_delivery')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notification_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preference')),
    sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_notification_preference_user_id_kind'))
    )

    op.create_table('digest_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reply', 'hidden', 'resolved', 'outcome', 'new_version', 'reconfirm', 'reminder', 'report_outcome', name='notificationkind', native_enum=False, length=20), nullable=False),
    sa.Column('ask_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('reply', 'hidden', 'resolved', 'outcome', 'new_version', 'reconfirm', 'reminder', 'report_outcome')", name=op.f('ck_digest_item_kind')),
    sa.ForeignKeyConstraint(['ask_id'], ['ask.id'], name=op.f('fk_digest_item_ask_id_ask'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_digest_item_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_item'))
    )
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.create_index('ix_digest_item_digested_at_user_id', ['digested_at', 'user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('digest_item', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_item_digested_at_user_id')

    op.drop_table('digest_item')
    op.drop_table('notification_preference')
    with op.batch_alter_table('outgoing_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_email_state_next_attempt_at')

    op.drop_table('outgoing_email')
