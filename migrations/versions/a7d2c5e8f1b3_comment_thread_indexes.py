"""Indexes for the ask page's threads: their count, and the organisations that started them

At 10,000 comments, two of the ask page's statements read every one of the ask's threads:

- the organisations that started threads (the filter's list): 1.6 ms of the page's database
  time on SQLite. A new index, by ask and organisation, lets it ask each organisation whether
  it has a thread on the ask: one probe each, stopping at the first thread found;
- how many threads there are, tested one by one against what the viewer may see: 2.4 ms.
  ix_comment_thread_starts now holds the id after the state, so that the visible threads up
  to an id are a range of its entries, counted without testing each (0.9 ms).

Revision ID: a7d2c5e8f1b3
Revises: e9b3f6a2c8d4
Create Date: 2026-11-30 05:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7d2c5e8f1b3'
down_revision = 'e9b3f6a2c8d4'
branch_labels = None
depends_on = None

OLD_THREAD_STARTS = ['ask_id', 'parent_id', 'version_id', 'state', 'author_id', 'organisation_id']
NEW_THREAD_STARTS = [
    'ask_id', 'parent_id', 'version_id', 'state', 'id', 'author_id', 'organisation_id'
]


def upgrade():
    op.create_index(
        'ix_comment_ask_organisation',
        'comment',
        ['ask_id', 'organisation_id', 'parent_id'],
    )
    op.drop_index('ix_comment_thread_starts', table_name='comment')
    op.create_index('ix_comment_thread_starts', 'comment', NEW_THREAD_STARTS)


def downgrade():
    op.drop_index('ix_comment_thread_starts', table_name='comment')
    op.create_index('ix_comment_thread_starts', 'comment', OLD_THREAD_STARTS)
    op.drop_index('ix_comment_ask_organisation', table_name='comment')
