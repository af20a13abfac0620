"""The search index: one row per thing a search can find, kept in step with what it indexes.

`search_document` is an ordinary table on both databases, written by the mapper events in
`consult.search.index` in the same flush (so the same transaction) as the row it indexes.
Each database then indexes its `text` its own way, created with the table (here, for
`create_all`, and by hand in the table's migration):

- PostgreSQL: a generated `tsv tsvector` column (English configuration) with a GIN index.
  It is left out of the model (SQLite has no `to_tsvector`) and read by name in queries.
- SQLite: an FTS5 table, `search_fts`, over the same rows (external content, so the text is
  stored once), kept in step by triggers on `search_document`, with the Porter stemmer.

Neither is compared by Alembic (`consult.models.base.include_in_autogenerate`).
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import DDL, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from consult.models.base import Base, enum_type


class SearchKind(StrEnum):
    ASK = "ask"  # an ask's title and theme
    PARAGRAPH = "paragraph"  # one paragraph of an ask's current version
    COMMENT = "comment"  # a comment's text (not withdrawn)
    AMENDMENT = "amendment"  # an amendment's wording and rationale

    @property
    def label(self) -> str:
        return {
            "ask": "Ask",
            "paragraph": "Ask",
            "comment": "Comment",
            "amendment": "Amendment",
        }[self.value]


class SearchDocument(Base):
    """Text that a search can find, and where it leads: one row per ask (its title), per
    paragraph of an ask's current version, per comment and per amendment.

    `object_id` is the ask's, comment's or amendment's id (for a paragraph, the version's);
    who may read it is decided when searching, from the live rows it points at, never
    stored here."""

    __tablename__ = "search_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SearchKind] = mapped_column(enum_type(SearchKind, 20))
    object_id: Mapped[int]
    ask_id: Mapped[int] = mapped_column(ForeignKey("ask.id", ondelete="CASCADE"), index=True)
    # For a paragraph: its anchor (the link's target) and its number, from 1.
    paragraph_anchor: Mapped[str | None] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(kind.in_([s.value for s in SearchKind]), name="kind"),
        Index("ix_search_document_kind_object_id", "kind", "object_id"),
    )

    def __repr__(self) -> str:
        return f"<SearchDocument {self.kind} {self.object_id}>"


# The database's own full-text index of `search_document.text`. The migration that creates
# the table runs the same statements.

FTS_TABLES = ("search_fts",)  # SQLite's FTS5 table (its shadow tables start with the name)
POSTGRES_TSV_COLUMN = "tsv"
POSTGRES_TSV_INDEX = "ix_search_document_tsv"

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

SQLITE_DROP = ("DROP TABLE IF EXISTS search_fts",)

for _statement in POSTGRES_DDL:
    event.listen(
        SearchDocument.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql")
    )
for _statement in SQLITE_DDL:
    event.listen(
        SearchDocument.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite")
    )
for _statement in SQLITE_DROP:
    event.listen(
        SearchDocument.__table__, "before_drop", DDL(_statement).execute_if(dialect="sqlite")
    )
