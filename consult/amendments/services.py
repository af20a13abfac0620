"""Amendments: proposing new wording, backing or opposing it, withdrawing it, and the
secretariat accepting some into the next version or declining one. Dispositions: the
secretariat's answer to a comment or an amendment ("you said, we did").

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from consult import audit, text
from consult.asks.services import normalise_wording, publish_version
from consult.extensions import db
from consult.live.services import announce
from consult.models import (
    Amendment,
    AmendmentBacking,
    AmendmentState,
    Ask,
    Backing,
    Comment,
    CommentState,
    Disposition,
    DraftVersion,
    Outcome,
    User,
    utcnow,
)
from consult.notifications import services as notifications
from consult.upserts import lock_organisation, upsert

WORDING_MAX = 20_000
RATIONALE_MAX = 5_000
REASON_MAX = 5_000
WHOLE_TEXT = "whole"  # the form's value for "the whole text"


class AmendmentError(ValueError):
    """A change to an amendment that cannot be made; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str = "amendments") -> None:
        super().__init__(message)
        self.field = field


# Reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an amendment replaces in a version: one paragraph (numbered from 1), or the
    whole text (number None)."""

    anchor: str | None
    number: int | None
    source: str

    @property
    def label(self) -> str:
        return "the whole text" if self.number is None else f"paragraph {self.number}"


def target_in(amendment: Amendment, version: DraftVersion) -> Target | None:
    """Where the amendment applies in a version: its paragraph, unchanged, or the whole text,
    unchanged; None when that wording has changed since the amendment was proposed."""
    if amendment.paragraph_anchor is None:
        if normalise_wording(version.body) != normalise_wording(amendment.original):
            return None
        return Target(None, None, version.body)
    for number, paragraph in enumerate(text.paragraphs(version.body), start=1):
        if paragraph.anchor == amendment.paragraph_anchor:
            if paragraph.source != amendment.original:
                return None  # same words, other case or spacing: no longer the same text
            return Target(paragraph.anchor, number, paragraph.source)
    return None


def amendments_of(ask: Ask, *states: AmendmentState) -> list[Amendment]:
    """The ask's amendments (in these states, if given), oldest first, with what lists
    them show loaded."""
    query = (
        select(Amendment)
        .options(
            joinedload(Amendment.organisation),
            joinedload(Amendment.proposer),
            joinedload(Amendment.version),
            joinedload(Amendment.accepted_version),
        )
        .where(Amendment.ask_id == ask.id)
        .order_by(Amendment.id)
    )
    if states:
        query = query.where(Amendment.state.in_(states))
    return list(db.session.scalars(query))


def backings_of(amendments: Sequence[Amendment]) -> dict[int, list[AmendmentBacking]]:
    """Each amendment's backing, by amendment id, in one query."""
    found: dict[int, list[AmendmentBacking]] = {a.id: [] for a in amendments}
    if not amendments:
        return found
    for backing in db.session.scalars(
        select(AmendmentBacking)
        .options(joinedload(AmendmentBacking.organisation))
        .where(AmendmentBacking.amendment_id.in_(list(found)))
        .order_by(AmendmentBacking.set_at, AmendmentBacking.id)
    ):
        found[backing.amendment_id].append(backing)
    return found


# Proposing, backing, withdrawing --------------------------------------------------------------


def _clean_text(value: str | None, *, field: str, empty: str, limit: int, name: str) -> str:
    cleaned = normalise_wording(value or "")
    if text.says_nothing(cleaned):
        raise AmendmentError(empty, field=field)
    if len(cleaned) > limit:
        raise AmendmentError(f"{name} must be {limit:,} characters or fewer", field=field)
    return cleaned


def propose(
    *,
    actor: User,
    ask: Ask,
    paragraph: str | None,
    wording: str,
    rationale: str,
    submission_key: str | None = None,
) -> tuple[Amendment, bool]:
    """Propose new wording for one paragraph of the ask's current version (its anchor), or
    for the whole text (WHOLE_TEXT). Returns the amendment and whether it is new: the same
    submission key from the same person returns the first one."""
    if submission_key:
        existing = db.session.scalar(
            select(Amendment).where(
                Amendment.proposer_id == actor.id, Amendment.submission_key == submission_key
            )
        )
        if existing is not None:
            return existing, False
    current = ask.current_version
    if current is None:
        raise AmendmentError("This ask has no wording to amend yet", field="paragraph")
    if not paragraph:
        raise AmendmentError("Choose the paragraph your wording replaces", field="paragraph")
    if paragraph == WHOLE_TEXT:
        anchor, original = None, current.body
    else:
        found = next((p for p in text.paragraphs(current.body) if p.anchor == paragraph), None)
        if found is None:
            raise AmendmentError(
                f"That paragraph is not in the current wording ({current.label}). "
                "Choose a paragraph of the current wording.",
                field="paragraph",
            )
        anchor, original = found.anchor, found.source
    wording = _clean_text(
        wording,
        field="wording",
        empty="Enter the wording you propose",
        limit=WORDING_MAX,
        name="Wording",
    )
    rationale = _clean_text(
        rationale,
        field="rationale",
        empty="Explain why you propose this wording",
        limit=RATIONALE_MAX,
        name="Your reasons",
    )
    if normalise_wording(original) == wording:
        raise AmendmentError(
            "Your wording is the same as the current wording. Change it before you propose it.",
            field="wording",
        )
    amendment = Amendment(
        ask_id=ask.id,
        version_id=current.id,
        paragraph_anchor=anchor,
        original=original,
        wording=wording,
        rationale=rationale,
        organisation_id=actor.organisation_id,
        proposer_id=actor.id,
        submission_key=submission_key or None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(amendment)
            db.session.flush()
    except IntegrityError:
        # The same form, sent twice at once: the other request made it first.
        existing = db.session.scalar(
            select(Amendment).where(
                Amendment.proposer_id == actor.id, Amendment.submission_key == submission_key
            )
        )
        if existing is None:
            raise
        return existing, False
    audit.record(
        actor,
        "amendment.propose",
        amendment,
        after=audit.snapshot(
            amendment, "version_id", "paragraph_anchor", "wording", "rationale", "organisation_id"
        ),
    )
    announce(ask_id=ask.id, name="amendment-changed", object_id=amendment.id)
    return amendment, True


def set_backing(
    *, actor: User, amendment: Amendment, stance: Backing | str | None
) -> AmendmentBacking:
    """Back or oppose an amendment for the actor's organisation (replacing its stance), as
    one upsert under the organisation's lock, like a position."""
    try:
        chosen = Backing(stance) if stance else None
    except ValueError:
        chosen = None
    if chosen is None:
        raise AmendmentError("Choose whether to back or oppose the amendment", field="stance")
    lock_organisation(actor.organisation_id)
    db.session.refresh(amendment, ["state"])
    if not amendment.is_open:
        raise AmendmentError(
            f"This amendment has been {amendment.state.value}, so it can no longer be backed "
            "or opposed.",
            field="stance",
        )
    previous = db.session.scalar(
        select(AmendmentBacking.stance).where(
            AmendmentBacking.amendment_id == amendment.id,
            AmendmentBacking.organisation_id == actor.organisation_id,
        )
    )
    backing_id = upsert(
        AmendmentBacking,
        {
            "amendment_id": amendment.id,
            "organisation_id": actor.organisation_id,
            "stance": chosen,
            "set_by_id": actor.id,
            "set_at": utcnow(),
        },
        unique=("amendment_id", "organisation_id"),
        replace=("stance", "set_by_id", "set_at"),
    )
    backing = db.session.get(AmendmentBacking, backing_id, populate_existing=True)
    assert backing is not None
    audit.record(
        actor,
        "amendment.back",
        amendment,
        before=None if previous is None else {"stance": previous.value},
        after={"stance": chosen.value, "organisation_id": actor.organisation_id},
    )
    announce(ask_id=amendment.ask_id, name="amendment-changed", object_id=amendment.id)
    return backing


def _close(amendment: Amendment, state: AmendmentState) -> dict[str, Any]:
    db.session.refresh(amendment, ["state"])
    if not amendment.is_open:
        raise AmendmentError(f"This amendment has already been {amendment.state.value}.")
    before = {"state": amendment.state.value}
    amendment.state = state
    amendment.closed_at = utcnow()
    return before


def withdraw(*, actor: User, amendment: Amendment) -> None:
    """The proposer withdraws their open amendment."""
    before = _close(amendment, AmendmentState.WITHDRAWN)
    db.session.flush()
    audit.record(
        actor, "amendment.withdraw", amendment, before=before, after={"state": "withdrawn"}
    )
    announce(ask_id=amendment.ask_id, name="amendment-changed", object_id=amendment.id)


def decline(*, actor: User, amendment: Amendment, reason: str) -> None:
    """The secretariat declines an open amendment; the reason is also its disposition
    ("not adopted"), which its organisation reads on "You said, we did"."""
    reason = _clean_text(
        reason,
        field="reason",
        empty="Give the reason for declining",
        limit=REASON_MAX,
        name="Reason",
    )
    before = _close(amendment, AmendmentState.DECLINED)
    amendment.decline_reason = reason
    amendment.decided_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "amendment.decline",
        amendment,
        before=before,
        after={"state": "declined", "reason": reason},
    )
    record_disposition(actor=actor, amendment=amendment, outcome=Outcome.NOT_ADOPTED, reason=reason)
    announce(ask_id=amendment.ask_id, name="amendment-changed", object_id=amendment.id)


# Accepting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Acceptance:
    """What accepting these amendments would publish: the new wording and the credits."""

    amendments: list[Amendment]
    targets: dict[int, Target]  # by amendment id
    body: str
    credits: str


def _credit(amendment: Amendment, target: Target) -> str:
    return f"amendment {amendment.id} from {amendment.organisation.name} ({target.label})"


def plan_acceptance(ask: Ask, amendments: Sequence[Amendment]) -> Acceptance:
    """Check that these open amendments can be accepted together into the ask's next
    version, and work out its wording. Refuses, with the reason, amendments that are not
    open, whose wording has changed since, two for the same paragraph, or a whole-text
    amendment with any other."""
    if not amendments:
        raise AmendmentError("Select at least one amendment to accept")
    current = ask.current_version
    if current is None:
        raise AmendmentError("This ask has no wording to amend yet")
    chosen = sorted(amendments, key=lambda a: a.id)
    targets: dict[int, Target] = {}
    by_paragraph: dict[str | None, Amendment] = {}
    for amendment in chosen:
        if amendment.ask_id != ask.id:
            raise AmendmentError(f"Amendment {amendment.id} is not an amendment to this ask")
        if not amendment.is_open:
            raise AmendmentError(
                f"Amendment {amendment.id} has already been {amendment.state.value}"
            )
        target = target_in(amendment, current)
        if target is None:
            raise AmendmentError(
                f"The wording amendment {amendment.id} replaces has changed since it was "
                f"proposed on {amendment.version.label}, so it cannot be accepted as it stands. "
                "Decline it, or write the change into a new version yourself."
            )
        other = by_paragraph.get(amendment.paragraph_anchor)
        if other is not None:
            raise AmendmentError(
                f"Amendments {other.id} and {amendment.id} both replace {target.label}. "
                "Accept one of them, then decide on the other against the new version."
            )
        by_paragraph[amendment.paragraph_anchor] = amendment
        targets[amendment.id] = target
    if None in by_paragraph and len(chosen) > 1:
        whole = by_paragraph[None]
        raise AmendmentError(
            f"Amendment {whole.id} replaces the whole text, so accept it on its own."
        )
    if None in by_paragraph:
        body = chosen[0].wording
    else:
        body = text.replace_paragraphs(
            current.body, {a.paragraph_anchor: a.wording for a in chosen if a.paragraph_anchor}
        )
    credits = "Accepted " + "; ".join(_credit(a, targets[a.id]) for a in chosen) + "."
    return Acceptance(chosen, targets, normalise_wording(body), credits)


def accept(
    *,
    actor: User,
    ask: Ask,
    amendments: Sequence[Amendment],
    change_note: str,
    based_on: int | None = None,
) -> DraftVersion:
    """Publish the ask's next version with these amendments' wording in place, a change note
    that credits each amendment and its organisation, and each amendment accepted into it
    (its disposition: adopted). Raises AmendmentError, or AskError/VersionConflict from
    publishing."""
    for amendment in amendments:
        db.session.refresh(amendment, ["state"])
    plan = plan_acceptance(ask, amendments)
    note = " ".join(part for part in (change_note.strip(), plan.credits) if part)
    version = publish_version(
        actor=actor, ask=ask, body=plan.body, change_note=note, based_on=based_on
    )
    for amendment in plan.amendments:
        before = _close(amendment, AmendmentState.ACCEPTED)
        amendment.accepted_version_id = version.id
        amendment.decided_by_id = actor.id
        db.session.flush()
        audit.record(
            actor,
            "amendment.accept",
            amendment,
            before=before,
            after={"state": "accepted", "version": version.number},
        )
        record_disposition(
            actor=actor,
            amendment=amendment,
            outcome=Outcome.ADOPTED,
            reason=f"Accepted into {version.label}.",
        )
    return version


# Dispositions ---------------------------------------------------------------------------------


def record_disposition(
    *,
    actor: User,
    outcome: Outcome | str | None,
    reason: str,
    comment: Comment | None = None,
    amendment: Amendment | None = None,
) -> Disposition:
    """Record (or change) the secretariat's answer to a top-level comment or an amendment,
    against the ask's current version: the one that answers it."""
    subject: Comment | Amendment | None = comment if comment is not None else amendment
    assert subject is not None and (comment is None) != (amendment is None)
    try:
        chosen = Outcome(outcome) if outcome else None
    except ValueError:
        chosen = None
    if chosen is None:
        raise AmendmentError("Choose the outcome", field="outcome")
    reason = _clean_text(
        reason,
        field="reason",
        empty="Give the reason for this outcome",
        limit=REASON_MAX,
        name="Reason",
    )
    if comment is not None:
        if comment.parent_id is not None:
            raise AmendmentError(
                "Outcomes are recorded on a thread's first comment", field="outcome"
            )
        if comment.state == CommentState.WITHDRAWN:
            raise AmendmentError("This comment was withdrawn by its author", field="outcome")
    ask = subject.ask
    current = ask.current_version
    assert current is not None  # a comment or an amendment needs a version
    disposition = db.session.scalar(
        select(Disposition).where(
            Disposition.comment_id == comment.id
            if comment is not None
            else Disposition.amendment_id == subject.id
        )
    )
    before = (
        None
        if disposition is None
        else {
            "outcome": disposition.outcome.value,
            "reason": disposition.reason,
            "version_id": disposition.version_id,
        }
    )
    values = {
        "outcome": chosen,
        "reason": reason,
        "version_id": current.id,
        "decided_by_id": actor.id,
        "decided_at": utcnow(),
    }
    if disposition is None:
        disposition = Disposition(
            ask_id=ask.id,
            comment_id=comment.id if comment is not None else None,
            amendment_id=amendment.id if amendment is not None else None,
            organisation_id=subject.organisation_id,
            **values,
        )
        db.session.add(disposition)
    else:
        for name, value in values.items():
            setattr(disposition, name, value)
    db.session.flush()
    audit.record(
        actor,
        "disposition.record",
        subject,
        before=before,
        after={"outcome": chosen.value, "reason": reason, "version_id": current.id},
    )
    if comment is not None:  # the ask page shows a comment's answer under it: refresh it live
        announce(ask_id=ask.id, name="comment-updated", object_id=comment.id)
    notifications.outcome_recorded(actor=actor, disposition=disposition)
    return disposition


def disposition_of(
    *, comment: Comment | None = None, amendment: Amendment | None = None
) -> Disposition | None:
    if comment is not None:
        return db.session.scalar(select(Disposition).where(Disposition.comment_id == comment.id))
    assert amendment is not None
    return db.session.scalar(select(Disposition).where(Disposition.amendment_id == amendment.id))
