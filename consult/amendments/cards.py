"""What the pages show of amendments: the ask page's cards under each paragraph of the
current version, an amendment's backing in words, and where an amendment applies.

The ask page's queries are fixed in number, whatever the number of amendments: one counts
them by state; when there are some to show, one loads the open ones and those accepted into
the version shown, and one their backing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from consult import permissions, text
from consult.amendments import services
from consult.extensions import db
from consult.models import (
    Amendment,
    AmendmentBacking,
    AmendmentState,
    Ask,
    Backing,
    DraftVersion,
)


@dataclass
class Support:
    """An amendment's backing: the organisations backing and opposing it, and the stance of
    the viewer's organisation, if it has one."""

    backed: list[AmendmentBacking]
    opposed: list[AmendmentBacking]
    own: AmendmentBacking | None

    @classmethod
    def of(cls, backings: list[AmendmentBacking], viewer: Any) -> Support:
        organisation_id = getattr(viewer, "organisation_id", None)
        return cls(
            backed=[b for b in backings if b.stance == Backing.BACK],
            opposed=[b for b in backings if b.stance == Backing.OPPOSE],
            own=next((b for b in backings if b.organisation_id == organisation_id), None),
        )

    def summary(self) -> str:
        """ "Backed by 2 organisations: A, B. Opposed by 1: C." """
        if not self.backed and not self.opposed:
            return "No organisation has backed or opposed it yet."
        parts = []
        if self.backed:
            names = ", ".join(b.organisation.name for b in self.backed)
            noun = "organisation" if len(self.backed) == 1 else "organisations"
            parts.append(f"Backed by {len(self.backed)} {noun}: {names}.")
        else:
            parts.append("Backed by no organisation.")
        if self.opposed:
            names = ", ".join(b.organisation.name for b in self.opposed)
            parts.append(f"Opposed by {len(self.opposed)}: {names}.")
        else:
            parts.append("Opposed by none.")
        return " ".join(parts)


@dataclass
class Card:
    """One open amendment shown under the paragraph it replaces (or after the wording)."""

    amendment: Amendment
    target: services.Target
    blocks: list[text.DiffBlock]
    support: Support
    can_back: bool


@dataclass
class AskAmendments:
    """The amendments part of an ask page, for one viewer and the version shown."""

    ask: Ask
    live: bool  # the current version: cards, and links to propose
    by_paragraph: dict[str, list[Card]] = field(default_factory=dict)
    whole: list[Card] = field(default_factory=list)
    stale: int = 0  # open amendments whose wording has changed since
    open_count: int = 0
    total: int = 0
    accepted: list[Amendment] = field(default_factory=list)  # into the version shown
    can_propose: bool = False
    can_accept: bool = False

    @staticmethod
    def where(amendment: Amendment) -> str:
        return where(amendment)

    @property
    def cards(self) -> int:
        return len(self.whole) + sum(len(c) for c in self.by_paragraph.values())


def where(amendment: Amendment) -> str:
    """ "paragraph 2 of v1" or "the whole text of v1": what it replaces, where it was
    proposed."""
    if amendment.paragraph_anchor is None:
        return f"the whole text of {amendment.version.label}"
    for number, paragraph in enumerate(text.paragraphs(amendment.version.body), start=1):
        if paragraph.anchor == amendment.paragraph_anchor:
            return f"paragraph {number} of {amendment.version.label}"
    return f"a paragraph of {amendment.version.label}"  # not reached: anchors are kept


def diff(amendment: Amendment) -> list[text.DiffBlock]:
    """The amendment's wording against the wording it replaces, word by word."""
    return text.paragraph_diff(amendment.original, amendment.wording)


def build(ask: Ask, version: DraftVersion | None, viewer: Any) -> AskAmendments | None:
    """The amendments part of the ask page for this viewer, or None without a version: one
    query counts them; only when there are some, one loads those shown and one their
    backing."""
    current = ask.current_version
    if version is None or current is None:
        return None
    live = version.id == current.id
    result = AskAmendments(ask=ask, live=live)
    if live:
        result.can_propose = permissions.can_propose_amendment(viewer, ask)
        result.can_accept = permissions.can_accept_amendments(viewer, ask)
    accepted_here = 0
    for state, accepted_version_id, number in db.session.execute(
        select(Amendment.state, Amendment.accepted_version_id, func.count(Amendment.id))
        .where(Amendment.ask_id == ask.id)
        .group_by(Amendment.state, Amendment.accepted_version_id)
    ):
        result.total += number
        if state == AmendmentState.OPEN:
            result.open_count += number
        if accepted_version_id == version.id:
            accepted_here += number
    shown_open = live and result.open_count > 0
    if not (shown_open or accepted_here):
        return result
    wanted = Amendment.accepted_version_id == version.id
    if shown_open:
        wanted = or_(wanted, Amendment.state == AmendmentState.OPEN)
    shown = list(
        db.session.scalars(
            select(Amendment)
            .options(joinedload(Amendment.organisation), joinedload(Amendment.version))
            .where(Amendment.ask_id == ask.id, wanted)
            .order_by(Amendment.id)
        )
    )
    result.accepted = [a for a in shown if a.accepted_version_id == version.id]
    open_ = [a for a in shown if a.is_open]
    if not shown_open:
        return result
    backings = services.backings_of(open_)
    for amendment in open_:
        target = services.target_in(amendment, current)
        if target is None:
            result.stale += 1
            continue
        card = Card(
            amendment=amendment,
            target=target,
            blocks=diff(amendment),
            support=Support.of(backings[amendment.id], viewer),
            can_back=permissions.can_back_amendment(viewer, amendment),
        )
        if target.anchor is None:
            result.whole.append(card)
        else:
            result.by_paragraph.setdefault(target.anchor, []).append(card)
    return result
