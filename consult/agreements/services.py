"""Declaring the current version of an ask agreed, and reopening it: snapshot and audit.

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from consult.audit import record
from consult.extensions import db
from consult.live.services import announce
from consult.models import Agreement, Ask, AskState, DraftVersion, User, utcnow
from consult.positions import consensus
from consult.positions.panel import participants_of, standing
from consult.positions.services import positions_for
from consult.upserts import lock_ask

REASON_MAX = 2000
SIGNOFF_OPENED = "Sign-off has opened, so the agreed wording can no longer be reopened."


class AgreementError(ValueError):
    """A declaration or reopening refused as given; `field` names the form field at fault."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class StaleVersion(AgreementError):
    """The ask's current version is not the one the page showed."""


@dataclass(frozen=True)
class Standing:
    """Where an ask's current version stands now: what the agree page shows."""

    version: DraftVersion
    rule: consensus.Rule
    verdict: consensus.Verdict
    summary: str
    # organisation name -> stance value, or None for no position, by name.
    organisations: list[tuple[str, str | None]]

    @property
    def failures(self) -> list[str]:
        """Which parts of the rule are not met, in words (empty when it is met)."""
        found = []
        if not self.verdict.quorum_reached:
            found.append("the quorum is not reached")
        if not self.verdict.threshold_met:
            found.append("the support threshold is not met")
        if self.verdict.blocked:
            found.append("an objection blocks agreement")
        return found


def latest_version(ask: Ask) -> DraftVersion | None:
    """The ask's latest version, read from the database."""
    return db.session.scalar(
        select(DraftVersion)
        .where(DraftVersion.ask_id == ask.id)
        .order_by(DraftVersion.number.desc())
        .limit(1)
    )


def standing_of(ask: Ask, version: DraftVersion) -> Standing:
    """Where this version of the ask stands against its consultation's rule, now."""
    positions = positions_for(version)
    participants = participants_of(ask.consultation)
    rule, verdict = standing(ask.consultation, positions, participants)
    names = dict(participants)
    names.update({org: p.organisation.name for org, p in positions.items()})
    organisations = sorted(
        (
            (name, positions[org].stance.value if org in positions else None)
            for org, name in names.items()
        ),
        key=lambda row: (row[0].casefold(), row[0]),
    )
    return Standing(
        version=version,
        rule=rule,
        verdict=verdict,
        summary=consensus.summary(verdict, rule),
        organisations=organisations,
    )


def snapshot(found: Standing) -> dict[str, Any]:
    """The tally and the rule's verdict as JSON, for the agreement to keep."""
    v = found.verdict
    return {
        "support": v.support,
        "support_with_changes": v.support_with_changes,
        "object": v.object,
        "abstain": v.abstain,
        "responded": v.responded,
        "taking_part": v.taking_part,
        "support_percent": v.support_percent,
        "quorum_reached": v.quorum_reached,
        "threshold_met": v.threshold_met,
        "blocked": v.blocked,
        "meets_rule": v.meets_rule,
        "summary": found.summary,
        "rule": {
            "quorum_percent": found.rule.quorum_percent,
            "threshold_percent": found.rule.threshold_percent,
            "objection_blocks": found.rule.objection_blocks,
            "changes_count_as_support": found.rule.changes_count_as_support,
        },
        "organisations": [{"name": name, "stance": stance} for name, stance in found.organisations],
    }


def _clean(reason: str | None, field: str) -> str:
    text = (reason or "").replace("\r\n", "\n").strip()
    if len(text) > REASON_MAX:
        raise AgreementError("Reason must be 2,000 characters or fewer", field=field)
    return text


def _lock(ask: Ask) -> None:
    """Take the ask's lock, then read its state afresh."""
    lock_ask(ask.id)
    db.session.refresh(ask, ["state"])


def current_agreement(ask: Ask) -> Agreement | None:
    """The ask's agreement that has not been reopened, if any."""
    return db.session.scalar(
        select(Agreement).where(Agreement.ask_id == ask.id, Agreement.reopened_at.is_(None))
    )


def declare_agreed(*, actor: User, ask: Ask, reason: str | None, based_on: int | None) -> Agreement:
    """Declare the ask's current version agreed, with a snapshot of where it stands.

    based_on is the version number the page showed: if another version is current now,
    StaleVersion. Declaring it when the rule is not met needs a reason.
    """
    _lock(ask)
    version = latest_version(ask)
    if version is None:
        raise AgreementError("This ask has no published wording to agree", field="reason")
    if ask.state == AskState.AGREED or current_agreement(ask) is not None:
        raise AgreementError("The wording of this ask is already agreed", field="reason")
    if ask.state not in (AskState.DRAFTING, AskState.IN_REVIEW):
        raise AgreementError("The wording of this ask can no longer be agreed", field="reason")
    if based_on != version.number:
        raise StaleVersion(
            f"A new version ({version.label}) has been published since you opened this page. "
            "Check where it stands before declaring it agreed.",
            field="reason",
        )
    text = _clean(reason, "reason")
    found = standing_of(ask, version)
    against_rule = not found.verdict.meets_rule
    if against_rule and not text:
        raise AgreementError(
            "Give a reason for declaring it agreed against the rule", field="reason"
        )
    agreement = Agreement(
        ask_id=ask.id,
        version_id=version.id,
        agreed_by_id=actor.id,
        agreed_at=utcnow(),
        against_rule=against_rule,
        reason=text or None,
        tally=snapshot(found),
    )
    db.session.add(agreement)
    before = {"state": ask.state.value}
    ask.state = AskState.AGREED
    db.session.flush()
    record(
        actor,
        "ask.agree",
        ask,
        before=before,
        after={
            "state": ask.state.value,
            "agreement_id": agreement.id,
            "version": version.number,
            "against_rule": against_rule,
            "reason": agreement.reason,
            "summary": found.summary,
        },
    )
    announce(ask_id=ask.id, name="ask-agreed", object_id=agreement.id)
    return agreement


def reopen(*, actor: User, ask: Ask, reason: str | None) -> Agreement:
    """Reopen an agreed ask, with a reason: its agreement is kept, marked reopened, and the
    ask is in review again (so a new version can follow)."""
    _lock(ask)
    agreement = current_agreement(ask)
    if ask.state != AskState.AGREED or agreement is None:
        raise AgreementError("The wording of this ask is not agreed", field="reason")
    db.session.refresh(ask.consultation, ["signoff_opened_at"])
    if ask.consultation.signoff_opened_at is not None:
        raise AgreementError(SIGNOFF_OPENED, field="reason")
    text = _clean(reason, "reason")
    if not text:
        raise AgreementError("Give a reason for reopening the ask", field="reason")
    actor_id = actor.id  # read before the change: reading it may flush
    agreement.reopened_at, agreement.reopened_by_id = utcnow(), actor_id
    agreement.reopen_reason = text
    before = {"state": ask.state.value, "agreement_id": agreement.id}
    ask.state = AskState.IN_REVIEW
    db.session.flush()
    record(
        actor,
        "ask.reopen",
        ask,
        before=before,
        after={"state": ask.state.value, "reason": text},
    )
    announce(ask_id=ask.id, name="ask-reopened", object_id=agreement.id)
    return agreement


def agreements_of(ask: Ask) -> list[Agreement]:
    """Every agreement of the ask, newest first (reopened ones included)."""
    return list(
        db.session.scalars(
            select(Agreement)
            .where(Agreement.ask_id == ask.id)
            .order_by(Agreement.agreed_at.desc(), Agreement.id.desc())
        )
    )
