"""Search: one function over asks (their titles and current wording), comments and
amendments, on PostgreSQL's full-text search or SQLite's FTS5, as the reader may read them.

The index (`search_document`) is kept in step by `consult.search.index`. Who may read what
is decided here, in SQL, from the live rows each hit points at: asks by
`permissions.can_read_ask_sql`, a comment's text by `comments.rules.body_visible_sql`
(hidden ones only for the secretariat and their author; withdrawn ones are not indexed at
all), amendments with their ask. Nothing is filtered after the query, so pages and counts
are right and the page costs the same few statements however many results it shows.

- PostgreSQL: `websearch_to_tsquery('english', q)` against the generated `tsv` column (GIN
  index), ranked by `ts_rank`, highlighted by `ts_headline`. Its syntax (quotes, `or`, `-`)
  never fails.
- SQLite: FTS5 `MATCH` with the Porter stemmer, ranked by `bm25()`, highlighted by
  `snippet()`. The reader's words are each quoted, so FTS5's own syntax never reaches it:
  every word must match.

Highlighting is safe against markup in the text: the database wraps matches in private
control characters (removed from the text when indexed), the snippet is escaped whole, and
only then do the markers become <mark> elements.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)

from consult import permissions
from consult.comments import rules
from consult.extensions import db
from consult.models import Amendment, Ask, Comment, Consultation, Organisation, SearchKind
from consult.models.search import SearchDocument

QUERY_MAX = 200
PER_PAGE = 20
START, STOP = "\x02", "\x03"  # private markers around a match, turned into <mark>

_WORD = re.compile(r"\w+")
_MATCH = re.compile(f"{START}([^{START}{STOP}]*){STOP}")


class SearchError(ValueError):
    """A search that cannot be run; the message is for the user."""


def clean_query(raw: str | None) -> str:
    """The reader's search, trimmed; SearchError when it is empty, too long or has no word."""
    query = " ".join((raw or "").split())
    if not query:
        raise SearchError("Enter words to search for")
    if len(query) > QUERY_MAX:
        raise SearchError(f"Search for {QUERY_MAX} characters or fewer")
    if not _WORD.search(query):
        raise SearchError("Enter words to search for, not only punctuation")
    return query


def fts5_query(query: str) -> str:
    """The reader's words as an FTS5 query: each word quoted, all of them required."""
    return " ".join(f'"{word}"' for word in _WORD.findall(query))


def highlight(snippet: str | None) -> Markup:
    """A snippet with its matches marked: escaped whole first, then the markers become
    <mark> elements (stray markers are dropped)."""
    escaped = str(escape(snippet or ""))
    marked = _MATCH.sub(r"<mark>\1</mark>", escaped)
    return Markup(marked.replace(START, "").replace(STOP, ""))


@dataclass(frozen=True)
class Result:
    """One thing found: what it is, where it leads, and the words around the match."""

    kind: SearchKind
    object_id: int
    ask_id: int
    ask_title: str
    paragraph_anchor: str | None
    position: int
    organisation: str | None
    snippet: Markup

    @property
    def label(self) -> str:
        return self.kind.label

    @classmethod
    def of(cls, row: Row[Any]) -> Result:
        return cls(
            kind=SearchKind(row.kind),
            object_id=row.object_id,
            ask_id=row.ask_id,
            ask_title=row.ask_title,
            paragraph_anchor=row.paragraph_anchor,
            position=row.position,
            organisation=row.organisation,
            snippet=highlight(row.snippet),
        )


def _postgres(query: str) -> tuple[ColumnElement[bool], ColumnElement[Any], ColumnElement[Any]]:
    """Match, score (higher is better) and snippet on PostgreSQL."""
    english: ColumnElement[Any] = literal_column("'english'::regconfig")
    tsquery = func.websearch_to_tsquery(english, query)
    tsv: ColumnElement[Any] = literal_column("search_document.tsv")
    options = (
        f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    return (
        tsv.op("@@")(tsquery),
        func.ts_rank(tsv, tsquery),
        func.ts_headline(english, SearchDocument.text, tsquery, options),
    )


_fts = table("search_fts", column("rowid"))


def _sqlite(query: str) -> tuple[ColumnElement[bool], ColumnElement[Any], ColumnElement[Any]]:
    """Match, score (higher is better) and snippet on SQLite's FTS5 table."""
    fts: ColumnElement[Any] = literal_column("search_fts")
    return (
        fts.op("MATCH")(fts5_query(query)),
        -func.bm25(fts),
        func.snippet(fts, 0, START, STOP, " … ", 32),
    )


def search(reader: Any, query: str) -> Select[Any]:
    """What this reader may read that matches the query, best first: a statement of rows
    (kind, object_id, ask_id, ask_title, paragraph_anchor, position, organisation, snippet),
    for `consult.pagination.paginate_rows`. The query must have been through `clean_query`."""
    doc = SearchDocument
    postgres = db.engine.dialect.name == "postgresql"
    match, score, snippet = _postgres(query) if postgres else _sqlite(query)
    statement = select(
        doc.kind,
        doc.object_id,
        doc.ask_id,
        Ask.title.label("ask_title"),
        doc.paragraph_anchor,
        doc.position,
        Organisation.name.label("organisation"),
        snippet.label("snippet"),
    ).select_from(doc)
    if not postgres:
        statement = statement.join(_fts, _fts.c.rowid == doc.id)
    return (
        statement.join(Ask, Ask.id == doc.ask_id)
        .join(Consultation, Consultation.id == Ask.consultation_id)
        .outerjoin(Comment, and_(doc.kind == SearchKind.COMMENT, Comment.id == doc.object_id))
        .outerjoin(Amendment, and_(doc.kind == SearchKind.AMENDMENT, Amendment.id == doc.object_id))
        .outerjoin(
            Organisation,
            Organisation.id == func.coalesce(Comment.organisation_id, Amendment.organisation_id),
        )
        .where(
            match,
            permissions.can_read_ask_sql(reader),
            or_(doc.kind != SearchKind.COMMENT, rules.body_visible_sql(reader)),
        )
        .order_by(score.desc(), doc.id)
    )
