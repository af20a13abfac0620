"""Search index

One row per thing a search can find (an ask's title, each paragraph of its current version,
each comment not withdrawn, each amendment), indexed by PostgreSQL's full-text search (a
generated tsvector column, English configuration, with a GIN index) or SQLite's FTS5 (an
external-content table kept in step by triggers). Existing rows are indexed here; from now
on consult/search/index.py keeps the index in step, in the same transaction as each write.

Revision ID: f3c81d5a7e20
Revises: f1a2b3c4d5e6
Create Date: 2026-12-01 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3c81d5a7e20'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None

# The same statements as consult/models/search.py runs after create_all.
POSTGRES_DDL = (
    "ALTER TABLE search_document ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED",
    "CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)",
)
SQLITE_DDL = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(text, content='search_document', "
    "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_document_ai AFTER INSERT ON search_document BEGIN "
    "INSERT INTO search_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER search_document_ad AFTER DELETE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER search_document_au AFTER UPDATE ON search_document BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO search_fts(rowid, text) VALUES (new.id, new.text); END",
)


def upgrade():
    op.create_table('search_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ask', 'paragraph', 'comment', 'amendment', name='searchkind', native_enum=False, create_constraint=False, length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('ask_id', sa.Integer(), nullable=False),
    sa.Column('paragraph_anchor', sa.String(length=40), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.CheckConstraint("kind IN ('ask', 'paragraph', 'comment', 'amendment')", name=op.f('ck_search_document_kind')),
    sa.ForeignKeyConstraint(['ask_id'], ['ask.id'], name=op.f('fk_search_document_ask_id_ask'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_document'))
    )
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_document_ask_id'), ['ask_id'], unique=False)
        batch_op.create_index('ix_search_document_kind_object_id', ['kind', 'object_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in POSTGRES_DDL if dialect == 'postgresql' else SQLITE_DDL:
        op.execute(statement)
    _backfill()


def _backfill():
    """Index what is already there, as consult/search/index.py would have."""
    from consult.search.index import amendment_text, ask_text, comment_text, paragraph_rows

    connection = op.get_bind()
    document = sa.table(
        'search_document',
        sa.column('kind'), sa.column('object_id'), sa.column('ask_id'),
        sa.column('paragraph_anchor'), sa.column('position'), sa.column('text'),
    )
    rows = []
    for ask_id, title, theme in connection.execute(sa.text('SELECT id, title, theme FROM ask')):
        rows.append({'kind': 'ask', 'object_id': ask_id, 'ask_id': ask_id,
                     'paragraph_anchor': None, 'position': 0, 'text': ask_text(title, theme)})
    current = sa.text(
        'SELECT v.id, v.ask_id, v.body FROM draft_version v WHERE v.number = '
        '(SELECT max(w.number) FROM draft_version w WHERE w.ask_id = v.ask_id)'
    )
    for version_id, ask_id, body in connection.execute(current):
        for row in paragraph_rows(version_id, ask_id, body):
            rows.append({**row, 'kind': 'paragraph'})
    comments = sa.text(
        "SELECT id, ask_id, paragraph_anchor, body FROM comment WHERE state != 'withdrawn'"
    )
    for comment_id, ask_id, anchor, body in connection.execute(comments):
        rows.append({'kind': 'comment', 'object_id': comment_id, 'ask_id': ask_id,
                     'paragraph_anchor': anchor, 'position': 0, 'text': comment_text(body)})
    amendments = sa.text('SELECT id, ask_id, paragraph_anchor, wording, rationale FROM amendment')
    for amendment_id, ask_id, anchor, wording, rationale in connection.execute(amendments):
        rows.append({'kind': 'amendment', 'object_id': amendment_id, 'ask_id': ask_id,
                     'paragraph_anchor': anchor, 'position': 0,
                     'text': amendment_text(wording, rationale)})
    if rows:
        op.bulk_insert(document, rows)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TABLE IF EXISTS search_fts')
    with op.batch_alter_table('search_document', schema=None) as batch_op:
        batch_op.drop_index('ix_search_document_kind_object_id')
        batch_op.drop_index(batch_op.f('ix_search_document_ask_id'))

    op.drop_table('search_document')
