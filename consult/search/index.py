"""Keeping the search index in step with what it indexes: one way, SQLAlchemy mapper events.

Every write of an ask, a draft version, a comment or an amendment, whichever path makes it
(a service, the archive loader, the demo, the CLI, a test's factory), goes through a flush;
the mapper events below write `search_document` on the flush's own connection, so the index
changes in the same transaction as the row and is rolled back with it (a savepoint's too).
Services need not remember to call anything. Mapper events may emit SQL on the connection
they are given, and nothing else (no session use), which is all these do.

What is indexed:
- an ask's title and theme (kind "ask");
- each paragraph of the ask's current version, as the reader sees it (Markdown rendered to
  text), with its anchor and number: publishing a version replaces the ask's paragraphs;
- each comment's text, as the reader sees it, unless withdrawn (nobody reads that again; a
  hidden comment stays, and the search leaves it out for those who may not read it);
- each amendment's wording and rationale.

Rows of a deleted ask go with it (the foreign key cascades).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, inspect, select, update
from sqlalchemy import event as sa_event

from consult.models import Amendment, Ask, Comment, CommentState, DraftVersion, SearchKind
from consult.models.search import SearchDocument
from consult.text import paragraphs, plain_text, render_comment

MARKERS = str.maketrans({"\x02": " ", "\x03": " "})  # the highlight's private markers

_table: Table = SearchDocument.__table__  # type: ignore[assignment]
# One statement for every row added, given its values: built once, not per row.
_INSERT = insert(_table)


def clean(text: str) -> str:
    """Text as indexed: without the characters that mark a match in a snippet."""
    return text.translate(MARKERS).strip()


def _changed(target: Any, *names: str) -> bool:
    state = inspect(target)
    return any(state.attrs[name].history.has_changes() for name in names)


def _forget(connection: Connection, kind: SearchKind, object_id: int) -> None:
    connection.execute(delete(_table).where(_table.c.kind == kind, _table.c.object_id == object_id))


# Asks ------------------------------------------------------------------------------------------


def ask_text(title: str, theme: str | None) -> str:
    """What is indexed of an ask itself: its title and theme."""
    return clean(f"{title}\n{theme or ''}")


@sa_event.listens_for(Ask, "after_insert")
def _ask_inserted(mapper, connection: Connection, target: Ask) -> None:
    connection.execute(
        _INSERT,
        {
            "kind": SearchKind.ASK,
            "object_id": target.id,
            "ask_id": target.id,
            "text": ask_text(target.title, target.theme),
        },
    )


@sa_event.listens_for(Ask, "after_update")
def _ask_updated(mapper, connection: Connection, target: Ask) -> None:
    if _changed(target, "title", "theme"):
        connection.execute(
            update(_table)
            .where(_table.c.kind == SearchKind.ASK, _table.c.object_id == target.id)
            .values(text=ask_text(target.title, target.theme))
        )


# Versions: the current one's paragraphs ----------------------------------------------------------


def paragraph_rows(version_id: int, ask_id: int, body: str) -> list[dict[str, Any]]:
    """The index rows of a version's paragraphs: each as the reader sees it."""
    return [
        {
            "kind": SearchKind.PARAGRAPH,
            "object_id": version_id,
            "ask_id": ask_id,
            "paragraph_anchor": paragraph.anchor,
            "position": number,
            "text": clean(plain_text(paragraph.html)),
        }
        for number, paragraph in enumerate(paragraphs(body), start=1)
    ]


@sa_event.listens_for(DraftVersion, "after_insert")
def _version_inserted(mapper, connection: Connection, target: DraftVersion) -> None:
    latest = connection.scalar(
        select(func.max(DraftVersion.number)).where(DraftVersion.ask_id == target.ask_id)
    )
    if latest is not None and target.number < latest:
        return  # an earlier version, loaded after a later one: not the current wording
    connection.execute(
        delete(_table).where(
            _table.c.kind == SearchKind.PARAGRAPH, _table.c.ask_id == target.ask_id
        )
    )
    rows = paragraph_rows(target.id, target.ask_id, target.body)
    if rows:
        connection.execute(_INSERT, rows)


# Comments ------------------------------------------------------------------------------------


def comment_text(body: str) -> str:
    """What is indexed of a comment: its text as the reader sees it (rendered from its
    Markdown: for a comment not stored, such as one the search index migration read)."""
    return clean(plain_text(render_comment(body)))


def stored_comment_text(comment: Comment) -> str:
    """What is indexed of a stored comment: the text of the HTML it keeps, rendered when it
    was written (the same as comment_text of its body, without rendering it again)."""
    return clean(plain_text(comment.body_html))


def _index_comment(connection: Connection, comment: Comment) -> None:
    if comment.state == CommentState.WITHDRAWN:
        return
    connection.execute(
        _INSERT,
        {
            "kind": SearchKind.COMMENT,
            "object_id": comment.id,
            "ask_id": comment.ask_id,
            "paragraph_anchor": comment.paragraph_anchor,
            "text": stored_comment_text(comment),
        },
    )


@sa_event.listens_for(Comment, "after_insert")
def _comment_inserted(mapper, connection: Connection, target: Comment) -> None:
    _index_comment(connection, target)


@sa_event.listens_for(Comment, "after_update")
def _comment_updated(mapper, connection: Connection, target: Comment) -> None:
    # The stored HTML changes with the body, and when the comment is rendered again.
    if _changed(target, "body_html", "state"):
        _forget(connection, SearchKind.COMMENT, target.id)
        _index_comment(connection, target)


@sa_event.listens_for(Comment, "after_delete")
def _comment_deleted(mapper, connection: Connection, target: Comment) -> None:
    _forget(connection, SearchKind.COMMENT, target.id)


# Amendments ----------------------------------------------------------------------------------


def amendment_text(wording: str, rationale: str) -> str:
    """What is indexed of an amendment: its wording, then why it is proposed."""
    return clean(f"{wording}\n\n{rationale}")


@sa_event.listens_for(Amendment, "after_insert")
def _amendment_inserted(mapper, connection: Connection, target: Amendment) -> None:
    connection.execute(
        _INSERT,
        {
            "kind": SearchKind.AMENDMENT,
            "object_id": target.id,
            "ask_id": target.ask_id,
            "paragraph_anchor": target.paragraph_anchor,
            "text": amendment_text(target.wording, target.rationale),
        },
    )


@sa_event.listens_for(Amendment, "after_update")
def _amendment_updated(mapper, connection: Connection, target: Amendment) -> None:
    if _changed(target, "wording", "rationale"):
        connection.execute(
            update(_table)
            .where(_table.c.kind == SearchKind.AMENDMENT, _table.c.object_id == target.id)
            .values(text=amendment_text(target.wording, target.rationale))
        )


@sa_event.listens_for(Amendment, "after_delete")
def _amendment_deleted(mapper, connection: Connection, target: Amendment) -> None:
    _forget(connection, SearchKind.AMENDMENT, target.id)
