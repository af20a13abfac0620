"""The "You said, we did" page's list: every top-level comment the reader may see and every
amendment not withdrawn, newest version first, each with the secretariat's answer.

One page of items costs a fixed number of statements whatever their number: the page of
keys (and its count), the comments on it, the amendments on it, their dispositions, and the
organisations to filter by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, literal, or_, select, union, union_all
from sqlalchemy.orm import joinedload

from consult import text
from consult.amendments.services import target_in
from consult.comments import rules
from consult.comments.rules import parse_id
from consult.extensions import db
from consult.models import (
    Amendment,
    AmendmentState,
    Ask,
    Comment,
    Disposition,
    DraftVersion,
    Organisation,
    Outcome,
)

PER_PAGE = 25
NONE = "none"  # the outcome filter's value for "no answer yet"
COMMENT, AMENDMENT = "comment", "amendment"


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the list to; values that name nothing are ignored."""

    organisation_id: int | None = None
    outcome: str | None = None  # an Outcome value, or NONE

    @classmethod
    def from_args(cls, args: Mapping[str, str], organisation_ids: Sequence[int]) -> Filters:
        organisation_id = parse_id(args.get("organisation"))
        if organisation_id not in organisation_ids:
            organisation_id = None
        outcome = args.get("outcome") or None
        if outcome not in {*(o.value for o in Outcome), NONE}:
            outcome = None
        return cls(organisation_id=organisation_id, outcome=outcome)

    @property
    def active(self) -> bool:
        return bool(self.organisation_id or self.outcome)

    def args(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.organisation_id:
            found["organisation"] = self.organisation_id
        if self.outcome:
            found["outcome"] = self.outcome
        return found

    def outcome_condition(self, subject: ColumnElement[bool]) -> ColumnElement[bool] | None:
        """SQL: the subject (a disposition's comment or amendment column equal to the
        listed row's id) has the outcome asked for, or none at all with NONE."""
        if self.outcome is None:
            return None
        answered = select(Disposition.id).where(subject)
        if self.outcome == NONE:
            return ~answered.exists()
        return answered.where(Disposition.outcome == Outcome(self.outcome)).exists()


def _comments_sql(ask: Ask, viewer: Any) -> list[ColumnElement[bool]]:
    """The ask's top-level comments this viewer may read (withdrawn ones never)."""
    return [
        Comment.ask_id == ask.id,
        Comment.parent_id.is_(None),
        rules.body_visible_sql(viewer),
    ]


def _amendments_sql(ask: Ask) -> list[ColumnElement[bool]]:
    """The ask's amendments, except those their proposer withdrew."""
    return [Amendment.ask_id == ask.id, Amendment.state != AmendmentState.WITHDRAWN]


def organisations(ask: Ask, viewer: Any) -> list[tuple[int, str]]:
    """The organisations that made a comment or an amendment this page lists, by name."""
    made = union(
        select(Comment.organisation_id).where(*_comments_sql(ask, viewer)),
        select(Amendment.organisation_id).where(*_amendments_sql(ask)),
    ).subquery()
    return [
        (org_id, name)
        for org_id, name in db.session.execute(
            select(Organisation.id, Organisation.name)
            .where(Organisation.id.in_(select(made.c.organisation_id)))
            .order_by(Organisation.name, Organisation.id)
        ).all()
    ]


def keys(ask: Ask, viewer: Any, filters: Filters) -> Select[Any]:
    """One statement for both kinds, newest version first, then oldest first: each item as
    one integer key (a comment's id times two; an amendment's, times two, plus one), so that
    it pages like any other list."""
    comment_conditions = _comments_sql(ask, viewer)
    amendment_conditions = _amendments_sql(ask)
    if filters.organisation_id:
        comment_conditions.append(Comment.organisation_id == filters.organisation_id)
        amendment_conditions.append(Amendment.organisation_id == filters.organisation_id)
    for conditions, subject in (
        (comment_conditions, Disposition.comment_id == Comment.id),
        (amendment_conditions, Disposition.amendment_id == Amendment.id),
    ):
        condition = filters.outcome_condition(subject)
        if condition is not None:
            conditions.append(condition)
    both = union_all(
        select(
            (Comment.id * 2).label("key"),
            DraftVersion.number.label("number"),
            Comment.created_at.label("made_at"),
        )
        .join(DraftVersion, DraftVersion.id == Comment.version_id)
        .where(*comment_conditions),
        select(
            (Amendment.id * 2 + literal(1)).label("key"),
            DraftVersion.number.label("number"),
            Amendment.created_at.label("made_at"),
        )
        .join(DraftVersion, DraftVersion.id == Amendment.version_id)
        .where(*amendment_conditions),
    ).subquery("said")
    return select(both.c.key).order_by(both.c.number.desc(), both.c.made_at, both.c.key)


@dataclass
class Item:
    """A comment or an amendment as the page lists it."""

    kind: str  # COMMENT or AMENDMENT
    subject: Any  # Comment | Amendment
    where: str  # "paragraph 2", "the whole ask", "the whole text"
    disposition: Disposition | None

    @property
    def dom_id(self) -> str:
        return f"{self.kind}-{self.subject.id}"

    @property
    def diff(self) -> list[text.DiffBlock]:
        """An amendment's wording compared with the wording it replaces."""
        return text.paragraph_diff(self.subject.original, self.subject.wording)

    @property
    def version(self) -> DraftVersion:
        version: DraftVersion = self.subject.version
        return version


@dataclass
class Group:
    version: DraftVersion
    items: list[Item] = field(default_factory=list)


def _paragraph_numbers(version: DraftVersion, cache: dict[int, dict[str, int]]) -> dict[str, int]:
    if version.id not in cache:
        cache[version.id] = {
            p.anchor: n for n, p in enumerate(text.paragraphs(version.body), start=1)
        }
    return cache[version.id]


def dispositions(
    comment_ids: Sequence[int], amendment_ids: Sequence[int]
) -> dict[str, Disposition]:
    """The dispositions of these comments and amendments, keyed "comment-N"/"amendment-N"."""
    if not comment_ids and not amendment_ids:
        return {}
    found: dict[str, Disposition] = {}
    for disposition in db.session.scalars(
        select(Disposition)
        .options(joinedload(Disposition.version))
        .where(
            or_(
                Disposition.comment_id.in_(comment_ids),
                Disposition.amendment_id.in_(amendment_ids),
            )
        )
    ):
        if disposition.comment_id is not None:
            found[f"{COMMENT}-{disposition.comment_id}"] = disposition
        else:
            found[f"{AMENDMENT}-{disposition.amendment_id}"] = disposition
    return found


def items(page: Pagination) -> list[Group]:
    """The page's comments and amendments, loaded (one statement for each kind, one for
    their dispositions), grouped by the version they were made on, in the page's order."""
    page_keys = list(page.items)
    comment_ids = [key // 2 for key in page_keys if key % 2 == 0]
    amendment_ids = [key // 2 for key in page_keys if key % 2 == 1]
    comments = (
        {
            c.id: c
            for c in db.session.scalars(
                select(Comment)
                .options(
                    joinedload(Comment.author),
                    joinedload(Comment.organisation),
                    joinedload(Comment.version),
                )
                .where(Comment.id.in_(comment_ids))
            )
        }
        if comment_ids
        else {}
    )
    amendments = (
        {
            a.id: a
            for a in db.session.scalars(
                select(Amendment)
                .options(
                    joinedload(Amendment.proposer),
                    joinedload(Amendment.organisation),
                    joinedload(Amendment.version),
                    joinedload(Amendment.accepted_version),
                )
                .where(Amendment.id.in_(amendment_ids))
            )
        }
        if amendment_ids
        else {}
    )
    answers = dispositions(comment_ids, amendment_ids)
    numbers: dict[int, dict[str, int]] = {}
    groups: list[Group] = []
    for key in page_keys:
        item: Item | None = None
        if key % 2 == 0 and (comment := comments.get(key // 2)) is not None:
            if comment.paragraph_anchor is None:
                where = "the whole ask"
            else:
                number = _paragraph_numbers(comment.version, numbers).get(comment.paragraph_anchor)
                where = f"paragraph {number}" if number else "a paragraph"
            item = Item(COMMENT, comment, where, answers.get(f"{COMMENT}-{comment.id}"))
        elif key % 2 == 1 and (amendment := amendments.get(key // 2)) is not None:
            target = target_in(amendment, amendment.version)
            where = target.label if target is not None else "a paragraph"
            item = Item(AMENDMENT, amendment, where, answers.get(f"{AMENDMENT}-{amendment.id}"))
        if item is None:  # pragma: no cover - removed between the two statements
            continue
        if not groups or groups[-1].version.id != item.version.id:
            groups.append(Group(item.version))
        groups[-1].items.append(item)
    return groups
