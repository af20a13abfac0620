"""Consultations: the dashboard's queries, creating and editing rounds.

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from consult import audit
from consult.comments import queries as comment_queries
from consult.comments import rules
from consult.extensions import db
from consult.models import (
    Amendment,
    AmendmentState,
    Ask,
    Comment,
    CommentState,
    Consultation,
    DraftVersion,
    Organisation,
    Participant,
    Position,
    Role,
    Stance,
    User,
    utcnow,
)

CONSULTATION_FIELDS = (
    "title",
    "summary",
    "opens_at",
    "closes_at",
    "quorum_percent",
    "threshold_percent",
    "objection_blocks",
    "changes_count_as_support",
)


class ConsultationError(ValueError):
    """A change to a consultation that cannot be made; the message is for the user."""


class ParticipantError(ConsultationError):
    """A list of organisations taking part that cannot be used; the message is for the user."""


# Taking part ------------------------------------------------------------------------------


def member_organisations_statement() -> Select:
    """Active member organisations, by name: those with a member and no secretariat person.

    A consultation consults these by default; the secretariat's own organisation and an
    observer's never take part (they are not counted in the quorum).
    """
    people = select(User.id).where(User.organisation_id == Organisation.id)
    return (
        select(Organisation)
        .where(
            Organisation.active.is_(True),
            people.where(User.role == Role.MEMBER).exists(),
            ~people.where(User.role == Role.SECRETARIAT).exists(),
        )
        .order_by(func.lower(Organisation.name), Organisation.id)
    )


def member_organisations() -> list[Organisation]:
    """Every active member organisation (see member_organisations_statement)."""
    return list(db.session.scalars(member_organisations_statement()))


def participating_organisations(consultation: Consultation) -> list[Organisation]:
    """The organisations taking part in a consultation, by name."""
    return list(
        db.session.scalars(
            select(Organisation)
            .join(Participant, Participant.organisation_id == Organisation.id)
            .where(Participant.consultation_id == consultation.id)
            .order_by(func.lower(Organisation.name), Organisation.id)
        )
    )


def organisations_with_ids(ids: Iterable[int]) -> list[Organisation]:
    """The organisations with these ids, refusing any id that names none."""
    wanted = set(ids)
    if not wanted:
        return []
    found = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(wanted))))
    if len(found) != len(wanted):
        raise ParticipantError("Select organisations from the list")
    return found


def _why_not_taking_part(organisation: Organisation) -> str:
    """Why an organisation that is not an active member organisation cannot take part."""
    roles = set(
        db.session.scalars(
            select(User.role).where(User.organisation_id == organisation.id).distinct()
        )
    )
    if not organisation.active:
        return f"{organisation.name} has been deactivated, so it cannot take part"
    if Role.SECRETARIAT in roles:
        return f"{organisation.name} is the secretariat's own organisation, so it cannot take part"
    if Role.OBSERVER in roles:
        return f"{organisation.name} is an observer's organisation, so it cannot take part"
    return f"{organisation.name} has no members yet, so it cannot take part"


def set_participants(
    *, actor: User, consultation: Consultation, organisations: Iterable[Organisation]
) -> bool:
    """Choose which member organisations take part (the quorum's denominator).

    Refuses none at all, the secretariat's own organisation, an observer's and a deactivated
    one (ParticipantError). Returns False, recording nothing, if the list is unchanged.
    """
    wanted = {organisation.id: organisation for organisation in organisations}
    if not wanted:
        raise ParticipantError("Select at least one organisation to take part")
    eligible = {organisation.id for organisation in member_organisations()}
    for organisation in sorted(wanted.values(), key=lambda o: (o.name.lower(), o.id)):
        if organisation.id not in eligible:
            raise ParticipantError(_why_not_taking_part(organisation))
    before = sorted(p.organisation_id for p in consultation.participants)
    after = sorted(wanted)
    if before == after:
        return False
    kept = [p for p in consultation.participants if p.organisation_id in wanted]
    taking_part = set(before)
    added = [Participant(organisation_id=i) for i in after if i not in taking_part]
    consultation.participants = kept + added  # delete-orphan removes the others
    db.session.flush()
    audit.record(
        actor,
        "consultation.participants",
        consultation,
        before={"participants": before},
        after={"participants": after},
    )
    return True


# Reading --------------------------------------------------------------------------------


def asks_and_versions():
    """A loader option: each consultation's asks and their version numbers, in two queries."""
    return (
        selectinload(Consultation.asks)
        .selectinload(Ask.versions)
        .load_only(DraftVersion.id, DraftVersion.ask_id, DraftVersion.number)
    )


def _with_asks(query: Select) -> Select:
    return query.options(asks_and_versions())


def _not_ended():
    return and_(Consultation.published_at.is_(None), Consultation.closed_at.is_(None))


def open_consultations(now: datetime | None = None) -> list[Consultation]:
    """Consultations open now, closing soonest first, with their asks and versions loaded."""
    now = now or utcnow()
    query = (
        select(Consultation)
        .where(_not_ended(), Consultation.opens_at <= now, Consultation.closes_at > now)
        .order_by(Consultation.closes_at, Consultation.id)
    )
    return list(db.session.scalars(_with_asks(query)))


def upcoming_consultations(now: datetime | None = None) -> list[Consultation]:
    """Consultations that have not opened yet, opening soonest first."""
    now = now or utcnow()
    query = (
        select(Consultation)
        .where(_not_ended(), Consultation.opens_at > now)
        .order_by(Consultation.opens_at, Consultation.id)
    )
    return list(db.session.scalars(query))


def recent_ended_consultations(now: datetime | None = None, limit: int = 10) -> list[Consultation]:
    """The most recently closed or published consultations."""
    now = now or utcnow()
    query = (
        select(Consultation)
        .where(
            or_(
                Consultation.published_at.is_not(None),
                Consultation.closed_at.is_not(None),
                Consultation.closes_at <= now,
            )
        )
        .order_by(Consultation.closes_at.desc(), Consultation.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def published_consultations_query() -> Select:
    """The consultations the public may read, most recently published first."""
    return (
        select(Consultation)
        .where(Consultation.published_at.is_not(None))
        .order_by(Consultation.published_at.desc(), Consultation.id.desc())
    )


def all_consultations_query() -> Select:
    """Every consultation, newest first, for the secretariat."""
    return select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())


def ask_counts(consultations: list[Consultation]) -> dict[int, int]:
    """How many asks each of these consultations has, in one query."""
    ids = [c.id for c in consultations]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Ask.consultation_id, func.count(Ask.id))
        .where(Ask.consultation_id.in_(ids))
        .group_by(Ask.consultation_id)
    )
    counts = dict.fromkeys(ids, 0)
    counts.update({consultation_id: count for consultation_id, count in rows})
    return counts


def consensus_rule(consultation: Consultation) -> str:
    """The consultation's consensus rule, in words (consult/positions/consensus.py applies it)."""
    if consultation.quorum_percent == 0:
        quorum = "No minimum share of the organisations taking part must take a position"
    else:
        quorum = (
            f"At least {consultation.quorum_percent}% of the organisations taking part "
            "must take a position"
        )
    if consultation.threshold_percent == 0:
        threshold = "no minimum share of those responding must support"
    else:
        support = (
            "support, with or without changes"
            if consultation.changes_count_as_support
            else "support without changes"
        )
        threshold = f"at least {consultation.threshold_percent}% of those responding must {support}"
    objection = (
        "an objection blocks agreement"
        if consultation.objection_blocks
        else "an objection does not block agreement on its own"
    )
    words = f"{quorum}; {threshold}; {objection}."
    if consultation.threshold_percent:
        words += " Abstentions count towards the quorum but are left out of the support threshold."
    return words


def themed_groups(asks: list[Ask]) -> list[tuple[str, list[Ask]]]:
    """The asks in their order, grouped into runs that share a theme."""
    groups: list[tuple[str, list[Ask]]] = []
    for ask in asks:
        theme = (ask.theme or "").strip()
        if groups and groups[-1][0] == theme:
            groups[-1][1].append(ask)
        else:
            groups.append((theme, [ask]))
    return groups


# Changing ------------------------------------------------------------------------------


def _check(
    *,
    title: str,
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int,
    threshold_percent: int,
) -> None:
    if not title.strip():
        raise ConsultationError("Enter a title")
    if opens_at.tzinfo is None or closes_at.tzinfo is None:
        raise ConsultationError("Opening and closing times must be timezone-aware")
    if closes_at <= opens_at:
        raise ConsultationError("The closing date must be after the opening date")
    for name, value in (("quorum", quorum_percent), ("support threshold", threshold_percent)):
        if not 0 <= value <= 100:
            raise ConsultationError(f"The {name} must be between 0% and 100%")


def create_consultation(
    *,
    actor: User,
    title: str,
    summary: str,
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int,
    threshold_percent: int,
    objection_blocks: bool,
    changes_count_as_support: bool = True,
) -> Consultation:
    """Start a new consultation round with its dates and consensus rule."""
    _check(
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        quorum_percent=quorum_percent,
        threshold_percent=threshold_percent,
    )
    consultation = Consultation(
        title=title.strip(),
        summary=summary.strip(),
        opens_at=opens_at.astimezone(UTC),
        closes_at=closes_at.astimezone(UTC),
        quorum_percent=quorum_percent,
        threshold_percent=threshold_percent,
        objection_blocks=objection_blocks,
        changes_count_as_support=changes_count_as_support,
    )
    consultation.participants = [
        Participant(organisation=organisation) for organisation in member_organisations()
    ]
    db.session.add(consultation)
    db.session.flush()
    audit.record(
        actor,
        "consultation.create",
        consultation,
        after={
            **audit.snapshot(consultation, *CONSULTATION_FIELDS),
            "participants": sorted(p.organisation_id for p in consultation.participants),
        },
    )
    return consultation


def update_consultation(
    *,
    actor: User,
    consultation: Consultation,
    title: str,
    summary: str,
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int,
    threshold_percent: int,
    objection_blocks: bool,
    changes_count_as_support: bool,
) -> bool:
    """Change a consultation's title, summary, dates or rule; False if nothing changed."""
    _check(
        title=title,
        opens_at=opens_at,
        closes_at=closes_at,
        quorum_percent=quorum_percent,
        threshold_percent=threshold_percent,
    )
    before = audit.snapshot(consultation, *CONSULTATION_FIELDS)
    consultation.title = title.strip()
    consultation.summary = summary.strip()
    consultation.opens_at = opens_at.astimezone(UTC)
    consultation.closes_at = closes_at.astimezone(UTC)
    consultation.quorum_percent = quorum_percent
    consultation.threshold_percent = threshold_percent
    consultation.objection_blocks = objection_blocks
    consultation.changes_count_as_support = changes_count_as_support
    after = audit.snapshot(consultation, *CONSULTATION_FIELDS)
    if after == before:
        return False
    db.session.flush()
    audit.record(
        actor,
        "consultation.update",
        consultation,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )
    return True


# The participation grid -------------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    """One organisation's response to one ask: its position on the current version, or
    whether it commented on the ask, or nothing."""

    ask: Ask
    stance: Stance | None
    commented: bool


@dataclass(frozen=True)
class GridRow:
    organisation: Organisation
    cells: list[GridCell]


@dataclass(frozen=True)
class AskActivity:
    """An ask's discussion in numbers, as one reader may read it: comments (replies
    included; hidden ones only for those who may read them, withdrawn ones never) and
    unresolved comments (visible top-level comments without the secretariat's response)."""

    comments: int
    unresolved: int
    amendments: int = 0  # every amendment, whatever became of it
    open_amendments: int = 0


def discussion_activity(asks: Iterable[Ask], reader: Any) -> dict[int, AskActivity]:
    """Each ask's comments and unresolved comments as this reader may read them, in one
    statement whatever the number of asks."""
    ids = [ask.id for ask in asks]
    activity = {ask_id: AskActivity(0, 0) for ask_id in ids}
    counts = comment_queries.ask_counts(ids, rules.body_visible_sql(reader))
    for ask_id, (total, unresolved) in counts.items():
        activity[ask_id] = AskActivity(total, unresolved)
    return activity


@dataclass(frozen=True)
class ParticipationGrid:
    asks: list[Ask]
    rows: list[GridRow]
    activity: dict[int, AskActivity]


def participation_grid(
    consultation: Consultation,
    organisations: list[Organisation],
    reader: Any,
    asks: list[Ask] | None = None,
) -> ParticipationGrid:
    """Organisations × asks (the consultation's, or those given: the ones the reader may
    read), in four queries whatever the size (the asks and their versions must already be
    loaded: see `asks_and_versions`); the comments counted as the reader may read them."""
    asks = list(consultation.asks) if asks is None else asks
    current_ids = [a.current_version.id for a in asks if a.current_version is not None]
    ask_ids = [a.id for a in asks]
    org_ids = [o.id for o in organisations]
    stances: dict[tuple[int, int], Stance] = {}
    commented: set[tuple[int, int]] = set()
    if current_ids and org_ids:
        rows = db.session.execute(
            select(Position.ask_id, Position.organisation_id, Position.stance).where(
                Position.version_id.in_(current_ids), Position.organisation_id.in_(org_ids)
            )
        )
        stances = {(ask_id, org_id): stance for ask_id, org_id, stance in rows}
    if ask_ids and org_ids:
        commented = {
            (ask_id, org_id)
            for ask_id, org_id in db.session.execute(
                select(Comment.ask_id, Comment.organisation_id)
                .where(
                    Comment.ask_id.in_(ask_ids),
                    Comment.organisation_id.in_(org_ids),
                    Comment.state != CommentState.WITHDRAWN,
                )
                .group_by(Comment.ask_id, Comment.organisation_id)
            )
        }
    activity = discussion_activity(asks, reader)
    if ask_ids:
        is_open = case((Amendment.state == AmendmentState.OPEN, 1), else_=0)
        for ask_id, total, open_ in db.session.execute(
            select(Amendment.ask_id, func.count(Amendment.id), func.sum(is_open))
            .where(Amendment.ask_id.in_(ask_ids))
            .group_by(Amendment.ask_id)
        ):
            activity[ask_id] = replace(
                activity[ask_id], amendments=int(total), open_amendments=int(open_ or 0)
            )
    grid_rows = [
        GridRow(
            organisation,
            [
                GridCell(
                    ask,
                    stances.get((ask.id, organisation.id)),
                    (ask.id, organisation.id) in commented,
                )
                for ask in asks
            ],
        )
        for organisation in organisations
    ]
    return ParticipationGrid(asks, grid_rows, activity)
