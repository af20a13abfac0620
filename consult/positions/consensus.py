"""The consensus rule: where one version of an ask stands, from its organisations' positions.

A pure function of the rule, the positions and the organisations taking part: no database,
no clock. How each stance counts:

- **Quorum** is the share of the organisations taking part that have taken a position.
  Every stance counts as responding, abstain included. It is reached when
  ``responded * 100 >= quorum_percent * taking_part`` (exactly at the line is reached).
  With no organisation taking part it is reached only when the quorum is 0%.
- **Threshold** is the share of supporting responses among the responses that are not
  abstentions: an abstention counts towards the quorum but is left out of the threshold
  altogether (neither for nor against). "Support" always counts as supporting; "support with
  changes" counts as supporting when the rule says so (``changes_count_as_support``), and
  otherwise as a response that does not support; "object" never supports. The threshold is met
  when ``supporting * 100 >= threshold_percent * counted``, compared exactly in integers, never
  through a rounded percentage. With nothing to count (no responses, or only abstentions) it
  is met only when the threshold is 0%.
- **Blocked**: when the rule says an objection blocks, one objection is enough.
- The rule is met when the quorum is reached, the threshold is met and nothing blocks. It
  informs the secretariat, who alone declare wording agreed.

The percentage shown (``support_percent``) is rounded down, so it never appears to meet a
threshold the exact comparison misses: for a whole-number threshold T, the rounded-down
percentage is at least T exactly when the support is.

Positions of organisations not taking part (for example one that left the consultation after
taking a position) are ignored; taking-part organisations without a position have not
responded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from consult.models import Consultation, Stance


@dataclass(frozen=True)
class Rule:
    """A consultation's consensus rule (see the module docstring for how it counts)."""

    quorum_percent: int
    threshold_percent: int
    objection_blocks: bool
    changes_count_as_support: bool

    @classmethod
    def of(cls, consultation: Consultation) -> Rule:
        """The rule a consultation has set."""
        return cls(
            quorum_percent=consultation.quorum_percent,
            threshold_percent=consultation.threshold_percent,
            objection_blocks=consultation.objection_blocks,
            changes_count_as_support=consultation.changes_count_as_support,
        )


@dataclass(frozen=True)
class Verdict:
    """Where one version stands against a rule: the counts and each part of the rule."""

    taking_part: int  # organisations taking part
    responded: int  # of those, how many took a position (abstain counts as responding)
    support: int  # stance SUPPORT
    support_with_changes: int
    object: int
    abstain: int
    objectors: tuple[str, ...]  # names of organisations that object, by name
    not_responded: tuple[str, ...]  # names of taking-part organisations with no position
    quorum_reached: bool
    # Whole percent (rounded down) of supporting responses among those that are not
    # abstentions; None when there are none.
    support_percent: int | None
    threshold_met: bool
    blocked: bool  # an objection blocks (rule.objection_blocks and object > 0)

    @property
    def meets_rule(self) -> bool:
        """The quorum is reached, the threshold met, and no objection blocks."""
        return self.quorum_reached and self.threshold_met and not self.blocked

    @property
    def counted(self) -> int:
        """The responses the threshold counts: every response but abstentions."""
        return self.responded - self.abstain


def _by_name(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(names, key=lambda name: (name.casefold(), name)))


def quorum_needed(rule: Rule, taking_part: int) -> int:
    """The fewest responses that reach the quorum (the quorum share, rounded up)."""
    return -(-rule.quorum_percent * taking_part // 100)


def supporting(rule: Rule, *, support: int, support_with_changes: int) -> int:
    """How many responses count as supporting under the rule."""
    return support + (support_with_changes if rule.changes_count_as_support else 0)


def evaluate(
    rule: Rule, positions: Mapping[int, Stance], participants: Mapping[int, str]
) -> Verdict:
    """Where a version stands, from its positions, against the rule.

    positions: organisation id -> stance on the version; participants: organisation id -> name.
    Positions of organisations not taking part (e.g. one that left the consultation) are
    ignored. See the module docstring for how each stance counts.
    """
    stances = {
        organisation_id: Stance(stance)
        for organisation_id, stance in positions.items()
        if organisation_id in participants
    }
    counts = dict.fromkeys(Stance, 0)
    for stance in stances.values():
        counts[stance] += 1
    taking_part = len(participants)
    responded = len(stances)
    if taking_part == 0:
        quorum_reached = rule.quorum_percent == 0
    else:
        quorum_reached = responded * 100 >= rule.quorum_percent * taking_part
    counted = responded - counts[Stance.ABSTAIN]
    for_ = supporting(
        rule,
        support=counts[Stance.SUPPORT],
        support_with_changes=counts[Stance.SUPPORT_WITH_CHANGES],
    )
    if counted == 0:
        support_percent = None
        threshold_met = rule.threshold_percent == 0
    else:
        support_percent = for_ * 100 // counted
        threshold_met = for_ * 100 >= rule.threshold_percent * counted
    return Verdict(
        taking_part=taking_part,
        responded=responded,
        support=counts[Stance.SUPPORT],
        support_with_changes=counts[Stance.SUPPORT_WITH_CHANGES],
        object=counts[Stance.OBJECT],
        abstain=counts[Stance.ABSTAIN],
        objectors=_by_name(
            participants[org] for org, stance in stances.items() if stance is Stance.OBJECT
        ),
        not_responded=_by_name(name for org, name in participants.items() if org not in stances),
        quorum_reached=quorum_reached,
        support_percent=support_percent,
        threshold_met=threshold_met,
        blocked=rule.objection_blocks and counts[Stance.OBJECT] > 0,
    )


# In words --------------------------------------------------------------------------------


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (plural or singular + 's')}"


def _and_list(names: Iterable[str]) -> str:
    """ "A", "A and B", "A, B and C" (no serial comma, as GOV.UK writes)."""
    items = list(names)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _quorum_words(verdict: Verdict, rule: Rule) -> str:
    needed = quorum_needed(rule, verdict.taking_part)
    quorum = f"the quorum is {needed}" if needed else "there is no quorum"
    if verdict.taking_part == 0:
        return "No organisations are taking part in this consultation."
    if verdict.responded == 0:
        return (
            "No organisation has taken a position yet. "
            f"0 of {verdict.taking_part} have responded; {quorum}."
        )
    if verdict.quorum_reached:
        return (
            f"Quorum reached: {verdict.responded} of "
            f"{_plural(verdict.taking_part, 'organisation')}."
        )
    return (
        f"Quorum not reached: {verdict.responded} of "
        f"{_plural(verdict.taking_part, 'organisation')} have responded; {quorum}."
    )


def _support_words(verdict: Verdict, rule: Rule) -> str:
    threshold = rule.threshold_percent
    if verdict.support_percent is None:
        # Everyone who responded abstained: there is no support to count.
        if verdict.abstain == 1:
            start = "The only response is an abstention"
        else:
            start = f"All {verdict.abstain} responses are abstentions"
        if threshold == 0:
            return f"{start}, and there is no support threshold."
        return f"{start}, so the {threshold}% support threshold is not met."
    support = f"{verdict.support_percent}% support"
    if not rule.changes_count_as_support:
        support += " without changes"
    if threshold == 0:
        return f"{support}; there is no support threshold."
    if not verdict.threshold_met:
        return f"{support}, below the {threshold}% threshold."
    if verdict.support_percent == threshold:
        return f"{support}, which meets the {threshold}% threshold."
    return f"{support}, above the {threshold}% threshold."


def summary(verdict: Verdict, rule: Rule) -> str:
    """Where the ask stands in plain words.

    For example: "Quorum reached: 7 of 9 organisations. 71% support, below the 75%
    threshold. 1 objection: Green Futures Alliance." Then, when it applies, "An objection
    blocks agreement under this consultation's rule." or "This meets the consultation's
    rule."
    """
    sentences = [_quorum_words(verdict, rule)]
    if verdict.responded:
        sentences.append(_support_words(verdict, rule))
    if verdict.object:
        sentences.append(f"{_plural(verdict.object, 'objection')}: {_and_list(verdict.objectors)}.")
    if verdict.blocked:
        sentences.append("An objection blocks agreement under this consultation's rule.")
    elif verdict.meets_rule and verdict.responded:
        sentences.append("This meets the consultation's rule.")
    return " ".join(sentences)
