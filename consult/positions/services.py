"""Organisations' positions on an ask's current version: set (one upsert), read, audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult.audit import record
from consult.extensions import db
from consult.live.services import announce
from consult.models import Ask, DraftVersion, Organisation, Position, Stance, User, utcnow
from consult.upserts import lock_organisation, upsert

REASON_MAX = 2000


class PositionError(ValueError):
    """A position that cannot be set as given; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def _clean(stance: Stance | str | None, reason: str | None) -> tuple[Stance, str]:
    try:
        chosen = Stance(stance) if stance else None
    except ValueError:
        chosen = None
    if chosen is None:
        raise PositionError("Select your organisation's position", field="stance")
    text = (reason or "").replace("\r\n", "\n").strip()
    if chosen.needs_reason and not text:
        raise PositionError("Give a reason for your position", field="reason")
    if len(text) > REASON_MAX:
        raise PositionError("Reason must be 2,000 characters or fewer", field="reason")
    return chosen, text


def _values(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"stance": position.stance.value, "reason": position.reason or None}


def set_position(*, actor: User, ask: Ask, stance: Stance | str | None, reason: str) -> Position:
    """Set the actor's organisation's position on the ask's current version (replacing any).

    Written as one upsert on the unique (organisation, version) pair. The audit event
    `position.set` records the value it replaced, which must be read before the upsert and
    must still be the row's value when the upsert runs: so the transaction first takes the
    organisation's position lock (`lock_organisation`: a row lock on PostgreSQL, the write
    lock on SQLite), and only then reads the current version and its previous position.
    Two delegates of one organisation setting positions at once are thereby serialised: each
    audit event's "before" is exactly the "after" of the change committed just before it.
    """
    chosen, text = _clean(stance, reason)
    lock_organisation(actor.organisation_id)
    version = db.session.scalar(
        select(DraftVersion)
        .where(DraftVersion.ask_id == ask.id)
        .order_by(DraftVersion.number.desc())
        .limit(1)
    )
    if version is None:
        raise PositionError(
            "This ask has no published wording to take a position on", field="stance"
        )
    previous = db.session.execute(
        select(Position.stance, Position.reason).where(
            Position.organisation_id == actor.organisation_id, Position.version_id == version.id
        )
    ).one_or_none()
    position_id = upsert(
        Position,
        {
            "ask_id": ask.id,
            "version_id": version.id,
            "organisation_id": actor.organisation_id,
            "stance": chosen,
            "reason": text,
            "set_by_id": actor.id,
            "set_at": utcnow(),
        },
        unique=("organisation_id", "version_id"),
        replace=("stance", "reason", "set_by_id", "set_at"),
    )
    position = db.session.get(Position, position_id, populate_existing=True)
    assert position is not None
    before = (
        None
        if previous is None
        else {"stance": previous.stance.value, "reason": previous.reason or None}
    )
    record(actor, "position.set", position, before=before, after=_values(position))
    announce(ask_id=ask.id, name="position-set", object_id=position.id)
    return position


def positions_for(version: DraftVersion) -> dict[int, Position]:
    """The positions taken on a version, by organisation id."""
    found = db.session.scalars(
        select(Position)
        .options(joinedload(Position.organisation), joinedload(Position.set_by))
        .where(Position.version_id == version.id)
    )
    return {position.organisation_id: position for position in found}


def previous_position(organisation: Organisation, ask: Ask) -> Position | None:
    """The organisation's position on the version before the ask's current one, if any."""
    current = ask.current_version
    if current is None or current.number < 2:
        return None
    return db.session.scalar(
        select(Position)
        .join(DraftVersion, Position.version_id == DraftVersion.id)
        .options(joinedload(Position.version), joinedload(Position.set_by))
        .where(
            DraftVersion.ask_id == ask.id,
            DraftVersion.number == current.number - 1,
            Position.organisation_id == organisation.id,
        )
    )
