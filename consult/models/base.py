"""Declarative base with a constraint naming convention, and shared column types."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Enum, MetaData
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Expression indexes that Alembic cannot compare with the database (each database reflects
# the expression in its own words): written by hand in their migration, left out of
# autogenerate and of `flask db check`.
HAND_WRITTEN_INDEXES = frozenset({"uq_organisation_name_lower"})


# The search index's full-text parts, which only one database has and the models do not
# describe (see consult/models/search.py): PostgreSQL's generated tsvector column and its GIN
# index, SQLite's FTS5 table and the shadow tables FTS5 keeps.
SEARCH_COLUMNS = frozenset({("search_document", "tsv")})
SEARCH_INDEXES = frozenset({"ix_search_document_tsv"})
SEARCH_TABLE_PREFIX = "search_fts"


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object hook: everything but the hand-written indexes and the search
    index's full-text parts."""
    if type_ == "index" and (name in HAND_WRITTEN_INDEXES or name in SEARCH_INDEXES):
        return False
    if type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIX):
        return False
    if type_ == "column" and reflected:
        table = getattr(getattr(obj, "table", None), "name", None)
        return (table, name) not in SEARCH_COLUMNS
    return True


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ImmutableError(RuntimeError):
    """Raised when code tries to change a row that must never change."""


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def enum_type(enum_class: type[StrEnum], length: int = 30) -> Enum:
    """A StrEnum stored as its value in a VARCHAR, loaded back as the enum member.

    The allowed values are enforced by each table's own named CHECK constraint.
    """
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )
