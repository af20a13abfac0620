"""The ask page's "Positions" panel: what one viewer sees of a version's positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consult import permissions
from consult.models import Ask, Consultation, DraftVersion, Position, Stance
from consult.positions import consensus
from consult.positions.services import positions_for, previous_position

PAST = {
    Stance.SUPPORT: "you supported",
    Stance.SUPPORT_WITH_CHANGES: "you supported, with changes",
    Stance.OBJECT: "you objected",
    Stance.ABSTAIN: "you abstained",
}


@dataclass
class Row:
    """One taking-part (or formerly taking-part) organisation and its position, if any."""

    name: str
    position: Position | None


@dataclass
class Panel:
    ask: Ask
    version: DraftVersion
    live: bool  # the current version: it updates live and may be changed
    rule: consensus.Rule
    verdict: consensus.Verdict
    summary: str
    rows: list[Row]
    can_set: bool
    own: Position | None
    previous: Position | None  # on the version before, when none is set on this one

    def reconfirm_text(self) -> str:
        """ "On v2 you supported, with changes: …" for the viewer's organisation."""
        if self.previous is None:
            return ""
        words = f"On {self.previous.version.label} {PAST[self.previous.stance]}"
        return f"{words}: {self.previous.reason}" if self.previous.reason else f"{words}."


def participants_of(consultation: Consultation) -> dict[int, str]:
    """The active organisations taking part in a consultation: id -> name."""
    return {
        p.organisation_id: p.organisation.name
        for p in consultation.participants
        if p.organisation.active
    }


def standing(
    consultation: Consultation,
    positions: dict[int, Position],
    participants: dict[int, str] | None = None,
) -> tuple[consensus.Rule, consensus.Verdict]:
    """The consultation's rule and where a version with these positions stands against it."""
    if participants is None:
        participants = participants_of(consultation)
    rule = consensus.Rule.of(consultation)
    verdict = consensus.evaluate(
        rule, {org: p.stance for org, p in positions.items()}, participants
    )
    return rule, verdict


def build(ask: Ask, version: DraftVersion | None, viewer: Any) -> Panel | None:
    """The panel for this viewer and version, or None when they may not see positions."""
    if version is None or not permissions.can_see_positions(viewer, ask):
        return None
    current = ask.current_version
    live = current is not None and version.id == current.id
    positions = positions_for(version)
    participants = participants_of(ask.consultation)
    rule, verdict = standing(ask.consultation, positions, participants)
    names = dict(participants)
    names.update({org: p.organisation.name for org, p in positions.items()})
    rows = sorted(
        (Row(name, positions.get(org)) for org, name in names.items()),
        key=lambda row: row.name.lower(),
    )
    can_set = live and permissions.can_set_position(viewer, ask)
    own = positions.get(viewer.organisation_id) if can_set else None
    previous = previous_position(viewer.organisation, ask) if can_set and own is None else None
    return Panel(
        ask=ask,
        version=version,
        live=live,
        rule=rule,
        verdict=verdict,
        summary=consensus.summary(verdict, rule),
        rows=rows,
        can_set=can_set,
        own=own,
        previous=previous,
    )
