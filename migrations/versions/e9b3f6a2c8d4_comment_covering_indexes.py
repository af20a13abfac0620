"""Covering indexes for the ask page's counts of comments

The ask page counts its paragraphs' comments, its threads and the organisations that started
them; the dashboard counts each ask's comments. Each count read every one of the ask's
comments from the table (at 10,000 comments, most of the page's database time). These two indexes hold every column those counts read, so
each is answered from the index alone:

- by state and paragraph: each paragraph's visible comments and unresolved threads, and the
  dashboard's comments and unresolved threads per ask, as the reader may read them;
- by thread start: the threads a version's page lists (and who started them).

Revision ID: e9b3f6a2c8d4
Revises: d4b7e1a9c3f6
Create Date: 2026-11-30 00:15:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e9b3f6a2c8d4'
down_revision = 'd4b7e1a9c3f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_comment_paragraph_counts',
        'comment',
        [
            'ask_id',
            'state',
            'paragraph_anchor',
            'version_id',
            'parent_id',
            'resolved_at',
            'author_id',
        ],
    )
    op.create_index(
        'ix_comment_thread_starts',
        'comment',
        ['ask_id', 'parent_id', 'version_id', 'state', 'author_id', 'organisation_id'],
    )


def downgrade():
    op.drop_index('ix_comment_thread_starts', table_name='comment')
    op.drop_index('ix_comment_paragraph_counts', table_name='comment')
