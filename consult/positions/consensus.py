"""The consultation's consensus rule, evaluated for one ask from its positions (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from consult.models import Consultation, Stance


@dataclass(frozen=True)
class Rule:
    quorum_percent: int
    threshold_percent: int
    objection_blocks: bool
    changes_count_as_support: bool

    @classmethod
    def of(cls, consultation: Consultation) -> Rule:
        return cls(
            consultation.quorum_percent,
            consultation.threshold_percent,
            consultation.objection_blocks,
            consultation.changes_count_as_support,
        )


@dataclass(frozen=True)
class Verdict:
    taking_part: int
    responded: int
    support: int
    support_with_changes: int
    object: int
    abstain: int
    objectors: tuple[str, ...]
    not_responded: tuple[str, ...]
    quorum_reached: bool
    support_percent: int | None
    threshold_met: bool
    blocked: bool

    @property
    def meets_rule(self) -> bool:
        return self.quorum_reached and self.threshold_met and not self.blocked


def evaluate(
    rule: Rule, positions: Mapping[int, Stance], participants: Mapping[int, str]
) -> Verdict:
    """Where an ask stands under the rule, counting only taking-part organisations."""
    counted = {org: stance for org, stance in positions.items() if org in participants}
    count = {stance: sum(1 for s in counted.values() if s == stance) for stance in Stance}
    responded = len(counted)
    voting = responded - count[Stance.ABSTAIN]
    supporting = count[Stance.SUPPORT] + (
        count[Stance.SUPPORT_WITH_CHANGES] if rule.changes_count_as_support else 0
    )
    percent = round(100 * supporting / voting) if voting else None
    objectors = tuple(sorted(participants[o] for o, s in counted.items() if s == Stance.OBJECT))
    return Verdict(
        taking_part=len(participants),
        responded=responded,
        support=count[Stance.SUPPORT],
        support_with_changes=count[Stance.SUPPORT_WITH_CHANGES],
        object=count[Stance.OBJECT],
        abstain=count[Stance.ABSTAIN],
        objectors=objectors,
        not_responded=tuple(sorted(n for o, n in participants.items() if o not in counted)),
        quorum_reached=bool(participants)
        and 100 * responded >= rule.quorum_percent * len(participants),
        support_percent=percent,
        threshold_met=percent is not None and percent >= rule.threshold_percent,
        blocked=rule.objection_blocks and bool(objectors),
    )


def summary(verdict: Verdict, rule: Rule) -> str:
    """Where the ask stands, in plain words."""
    words = [
        f"Quorum {'reached' if verdict.quorum_reached else 'not reached'}: "
        f"{verdict.responded} of {verdict.taking_part} organisations."
    ]
    if verdict.support_percent is not None:
        side = "at or above" if verdict.threshold_met else "below"
        words.append(
            f"{verdict.support_percent}% support, {side} the {rule.threshold_percent}% threshold."
        )
    if verdict.objectors:
        n = len(verdict.objectors)
        words.append(f"{n} objection{'s' if n != 1 else ''}: {', '.join(verdict.objectors)}.")
    return " ".join(words)
