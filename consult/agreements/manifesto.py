"""The manifesto view: a consultation's asks in order, each with its state and a one-line
status, and the whole agreed text once every ask is agreed. A fixed number of queries
whatever the number of asks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from consult import text
from consult.extensions import db
from consult.filters import format_date
from consult.models import Agreement, Ask, AskState, Consultation, DraftVersion, Position, Stance
from consult.positions import consensus
from consult.positions.panel import participants_of

# States whose wording is agreed (a published ask was agreed first).
_AGREED = (AskState.AGREED, AskState.PUBLISHED)


@dataclass
class Entry:
    """One ask of the manifesto."""

    ask: Ask
    version: DraftVersion | None  # the current version
    agreement: Agreement | None  # the current (not reopened) agreement
    status: str  # one line: "Agreed on v3, 4 May 2026", "2 objections", …

    @property
    def agreed(self) -> bool:
        return self.ask.state in _AGREED and self.agreement is not None

    def agreed_html(self) -> Markup:
        """The agreed version's wording, rendered."""
        assert self.agreement is not None
        return text.render_markdown(self.agreement.version.body)


@dataclass
class Manifesto:
    entries: list[Entry]

    @property
    def agreed_count(self) -> int:
        return sum(1 for entry in self.entries if entry.agreed)

    @property
    def complete(self) -> bool:
        """Every ask is agreed (and there is at least one)."""
        return bool(self.entries) and self.agreed_count == len(self.entries)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def status_line(verdict: consensus.Verdict, rule: consensus.Rule) -> str:
    """Where a version stands, in one line, for the manifesto."""
    objections = _plural(verdict.object, "objection")
    if not verdict.quorum_reached:
        line = (
            f"Quorum not reached: {verdict.responded} of "
            f"{_plural(verdict.taking_part, 'organisation')} have responded"
        )
    elif verdict.blocked:
        return f"{objections}: an objection blocks agreement"
    elif not verdict.threshold_met:
        if verdict.support_percent is None:
            line = f"No support counted, below the {rule.threshold_percent}% threshold"
        else:
            line = (
                f"Support {verdict.support_percent}%, below the {rule.threshold_percent}% threshold"
            )
    else:
        line = "Meets the rule: ready to agree"
    return f"{line} ({objections})" if verdict.object else line


def build(consultation: Consultation) -> Manifesto:
    """The manifesto of a consultation's asks, in their order."""
    asks = list(
        db.session.scalars(
            select(Ask)
            .where(Ask.consultation_id == consultation.id)
            .order_by(Ask.sort_order, Ask.id)
        )
    )
    latest = (
        select(DraftVersion.ask_id, func.max(DraftVersion.number).label("number"))
        .join(Ask, DraftVersion.ask_id == Ask.id)
        .where(Ask.consultation_id == consultation.id)
        .group_by(DraftVersion.ask_id)
        .subquery()
    )
    versions = {
        v.ask_id: v
        for v in db.session.scalars(
            select(DraftVersion).join(
                latest,
                (DraftVersion.ask_id == latest.c.ask_id) & (DraftVersion.number == latest.c.number),
            )
        )
    }
    agreements = {
        a.ask_id: a
        for a in db.session.scalars(
            select(Agreement)
            .options(joinedload(Agreement.version))
            .join(Ask, Agreement.ask_id == Ask.id)
            .where(Ask.consultation_id == consultation.id, Agreement.reopened_at.is_(None))
        )
    }
    stances: dict[int, dict[int, Stance]] = defaultdict(dict)
    if versions:
        for version_id, organisation_id, stance in db.session.execute(
            select(Position.version_id, Position.organisation_id, Position.stance).where(
                Position.version_id.in_([v.id for v in versions.values()])
            )
        ):
            stances[version_id][organisation_id] = stance
    participants = participants_of(consultation)
    rule = consensus.Rule.of(consultation)
    entries = []
    for ask in asks:
        version = versions.get(ask.id)
        agreement = agreements.get(ask.id)
        if ask.state in _AGREED and agreement is not None:
            status = f"Agreed on {agreement.version.label}, {format_date(agreement.agreed_at)}"
        elif version is None:
            status = "No wording yet"
        else:
            verdict = consensus.evaluate(rule, stances[version.id], participants)
            status = status_line(verdict, rule)
        entries.append(Entry(ask=ask, version=version, agreement=agreement, status=status))
    return Manifesto(entries=entries)
