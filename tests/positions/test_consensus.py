"""The consensus rule as a pure function, and where an ask stands in plain words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.models import Stance
from consult.positions.consensus import Rule, Verdict, evaluate, quorum_needed, summary
from tests import factories

S, SWC, OBJ, A = Stance.SUPPORT, Stance.SUPPORT_WITH_CHANGES, Stance.OBJECT, Stance.ABSTAIN

NINE = {
    1: "Anytown Council",
    2: "Borough Energy Office",
    3: "Green Futures Alliance",
    4: "Climate Research Unit",
    5: "Dale Valley Trust",
    6: "East Riding Planners",
    7: "Fenland Cycling",
    8: "Harbour City Council",
    9: "Institute of Retrofit",
}


def rule(quorum: int = 50, threshold: int = 75, blocks: bool = False, changes: bool = True) -> Rule:
    return Rule(
        quorum_percent=quorum,
        threshold_percent=threshold,
        objection_blocks=blocks,
        changes_count_as_support=changes,
    )


def positions(*stances: Stance) -> dict[int, Stance]:
    """Stances of organisations 1, 2, 3, ... in order."""
    return {number: stance for number, stance in enumerate(stances, start=1)}


def test_no_responses_yet():
    verdict = evaluate(rule(), {}, NINE)
    assert (verdict.taking_part, verdict.responded) == (9, 0)
    assert not verdict.quorum_reached
    assert verdict.support_percent is None
    assert not verdict.threshold_met and not verdict.meets_rule
    assert verdict.not_responded == tuple(sorted(NINE.values()))
    assert summary(verdict, rule()) == (
        "No organisation has taken a position yet. 0 of 9 have responded; the quorum is 5."
    )


def test_the_example_in_the_issue():
    verdict = evaluate(rule(), positions(S, S, OBJ, S, SWC, S, S), NINE)
    assert (verdict.support, verdict.support_with_changes, verdict.object) == (5, 1, 1)
    assert verdict.quorum_reached
    assert verdict.support_percent == 85  # 6 of 7, rounded down
    assert verdict.threshold_met and verdict.meets_rule
    assert verdict.objectors == ("Green Futures Alliance",)
    assert verdict.not_responded == ("Harbour City Council", "Institute of Retrofit")
    assert summary(verdict, rule()) == (
        "Quorum reached: 7 of 9 organisations. 85% support, above the 75% threshold. "
        "1 objection: Green Futures Alliance. This meets the consultation's rule."
    )
    below = evaluate(rule(), positions(S, S, OBJ, S, SWC, OBJ, S), NINE)
    assert below.support_percent == 71 and not below.threshold_met
    assert summary(below, rule()) == (
        "Quorum reached: 7 of 9 organisations. 71% support, below the 75% threshold. "
        "2 objections: East Riding Planners and Green Futures Alliance."
    )


def test_all_abstain():
    verdict = evaluate(rule(), positions(A, A, A, A, A), NINE)
    assert verdict.responded == verdict.abstain == 5
    assert verdict.quorum_reached  # abstentions count towards the quorum
    assert verdict.counted == 0
    assert verdict.support_percent is None
    assert not verdict.threshold_met and not verdict.meets_rule
    assert summary(verdict, rule()) == (
        "Quorum reached: 5 of 9 organisations. All 5 responses are abstentions, so the 75% "
        "support threshold is not met."
    )
    one = evaluate(rule(quorum=10), positions(A), NINE)
    assert summary(one, rule(quorum=10)).endswith(
        "The only response is an abstention, so the 75% support threshold is not met."
    )
    no_threshold = rule(threshold=0)
    assert evaluate(no_threshold, positions(A, A, A, A, A), NINE).meets_rule


def test_abstentions_are_left_out_of_the_threshold():
    # 3 support, 1 objects, 4 abstain: 3 of the 4 that took a view is exactly 75%.
    verdict = evaluate(rule(), positions(S, S, S, OBJ, A, A, A, A), NINE)
    assert verdict.counted == 4
    assert verdict.support_percent == 75 and verdict.threshold_met


def test_exactly_at_the_threshold():
    verdict = evaluate(rule(), positions(S, S, S, OBJ), {k: NINE[k] for k in (1, 2, 3, 4)})
    assert verdict.support_percent == 75
    assert verdict.threshold_met
    assert summary(verdict, rule()).startswith(
        "Quorum reached: 4 of 4 organisations. 75% support, which meets the 75% threshold."
    )


def test_just_below_the_threshold_is_compared_exactly_not_rounded():
    # 2 of 3 is 66.67%: it rounds to 67% but misses a 67% threshold, and is shown as 66%.
    three = {k: NINE[k] for k in (1, 2, 3)}
    verdict = evaluate(rule(threshold=67), positions(S, S, OBJ), three)
    assert verdict.support_percent == 66
    assert not verdict.threshold_met
    assert "66% support, below the 67% threshold." in summary(verdict, rule(threshold=67))
    assert evaluate(rule(threshold=66), positions(S, S, OBJ), three).threshold_met
    # 149 of 200 is 74.5%: shown as 74%, below 75%, never as a rounded-up 75%.
    many = {n: f"Organisation {n:03}" for n in range(200)}
    stances = {n: S if n < 149 else OBJ for n in range(200)}
    close = evaluate(rule(), stances, many)
    assert close.support_percent == 74 and not close.threshold_met


@pytest.mark.parametrize("blocks", [True, False])
def test_one_objection_blocks_only_when_the_rule_says_so(blocks):
    the_rule = rule(blocks=blocks)
    verdict = evaluate(the_rule, positions(S, S, S, S, S, S, S, S, OBJ), NINE)
    assert verdict.quorum_reached and verdict.threshold_met  # 8 of 9 is 88%
    assert verdict.objectors == ("Institute of Retrofit",)
    assert verdict.blocked is blocks
    assert verdict.meets_rule is not blocks
    words = summary(verdict, the_rule)
    assert "1 objection: Institute of Retrofit." in words
    assert ("An objection blocks agreement under this consultation's rule." in words) is blocks
    assert ("This meets the consultation's rule." in words) is not blocks


def test_several_objectors_are_listed_by_name():
    verdict = evaluate(rule(), positions(OBJ, OBJ, OBJ, S), NINE)
    assert verdict.objectors == (
        "Anytown Council",
        "Borough Energy Office",
        "Green Futures Alliance",
    )
    assert (
        "3 objections: Anytown Council, Borough Energy Office and Green Futures Alliance."
        in summary(verdict, rule())
    )


def test_an_organisation_that_left_the_consultation_is_ignored():
    # Organisation 10 took a position, then stopped taking part: it is not counted anywhere.
    stances = {**positions(S, S, S, S, S), 10: OBJ}
    verdict = evaluate(rule(blocks=True), stances, NINE)
    assert (verdict.taking_part, verdict.responded, verdict.object) == (9, 5, 0)
    assert verdict.objectors == ()
    assert not verdict.blocked and verdict.meets_rule
    assert len(verdict.not_responded) == 4


@pytest.mark.parametrize(
    ("responded", "taking_part", "quorum", "reached"),
    [
        (5, 10, 50, True),  # exactly at the line
        (4, 10, 50, False),
        (3, 9, 34, False),  # 33.3%
        (4, 9, 44, True),  # 44.4%
        (0, 9, 0, True),  # no quorum
        (9, 9, 100, True),
        (8, 9, 100, False),
        (0, 0, 50, False),  # nobody taking part
        (0, 0, 0, True),
    ],
)
def test_quorum(responded, taking_part, quorum, reached):
    participants = {n: f"Organisation {n}" for n in range(taking_part)}
    stances = {n: A for n in range(responded)}
    verdict = evaluate(rule(quorum=quorum), stances, participants)
    assert verdict.quorum_reached is reached


def test_the_quorum_in_words():
    assert quorum_needed(rule(quorum=50), 9) == 5
    assert quorum_needed(rule(quorum=50), 10) == 5
    assert quorum_needed(rule(quorum=0), 9) == 0
    assert quorum_needed(rule(quorum=100), 9) == 9
    assert summary(evaluate(rule(quorum=0), {}, NINE), rule(quorum=0)) == (
        "No organisation has taken a position yet. 0 of 9 have responded; there is no quorum."
    )
    short = evaluate(rule(), positions(S, S, S), NINE)
    assert summary(short, rule()).startswith(
        "Quorum not reached: 3 of 9 organisations have responded; the quorum is 5. "
        "100% support, above the 75% threshold."
    )
    assert summary(evaluate(rule(), {1: S}, {}), rule()) == (
        "No organisations are taking part in this consultation."
    )


def test_threshold_0_and_100():
    none_needed = rule(threshold=0)
    verdict = evaluate(none_needed, positions(OBJ, OBJ, OBJ, OBJ, OBJ), NINE)
    assert verdict.support_percent == 0 and verdict.threshold_met and verdict.meets_rule
    assert "0% support; there is no support threshold." in summary(verdict, none_needed)
    everyone = rule(threshold=100)
    assert evaluate(everyone, positions(S, S, S, S, SWC, A), NINE).threshold_met
    assert not evaluate(everyone, positions(S, S, S, S, S, OBJ), NINE).threshold_met
    assert not evaluate(everyone, positions(A, A, A, A, A), NINE).threshold_met


@pytest.mark.parametrize(("changes", "percent", "met"), [(True, 80, True), (False, 40, False)])
def test_support_with_changes_counts_as_the_rule_says(changes, percent, met):
    the_rule = rule(changes=changes)
    verdict = evaluate(the_rule, positions(S, S, SWC, SWC, OBJ), NINE)
    assert (verdict.support, verdict.support_with_changes) == (2, 2)
    assert verdict.counted == 5  # "support with changes" is a response either way
    assert verdict.support_percent == percent
    assert verdict.threshold_met is met
    words = summary(verdict, the_rule)
    if changes:
        assert "80% support, above the 75% threshold." in words
    else:
        assert "40% support without changes, below the 75% threshold." in words


def test_positions_may_be_given_as_stance_values():
    verdict = evaluate(rule(), {1: "support", 2: "object"}, NINE)
    assert (verdict.support, verdict.object) == (1, 1)


def test_the_rule_of_a_consultation(app):
    consultation = factories.consultation(
        quorum_percent=40,
        threshold_percent=66,
        objection_blocks=True,
        changes_count_as_support=False,
    )
    assert Rule.of(consultation) == Rule(
        quorum_percent=40,
        threshold_percent=66,
        objection_blocks=True,
        changes_count_as_support=False,
    )
    assert Rule.of(factories.consultation()).changes_count_as_support is True  # the default


# Properties ------------------------------------------------------------------------------

rules = st.builds(
    Rule,
    quorum_percent=st.integers(0, 100),
    threshold_percent=st.integers(0, 100),
    objection_blocks=st.booleans(),
    changes_count_as_support=st.booleans(),
)
stances = st.sampled_from(list(Stance))


@st.composite
def cases(draw) -> tuple[dict[int, Stance], dict[int, str]]:
    participants = draw(st.dictionaries(st.integers(0, 30), st.text(min_size=1, max_size=8)))
    stances_ = draw(st.dictionaries(st.integers(0, 40), stances))
    return stances_, participants


@given(rules, cases())
def test_the_counts_always_add_up(the_rule: Rule, case):
    stances_, participants = case
    verdict = evaluate(the_rule, stances_, participants)
    assert isinstance(verdict, Verdict)
    parts = (verdict.support, verdict.support_with_changes, verdict.object, verdict.abstain)
    assert verdict.responded == sum(parts)
    assert verdict.responded <= verdict.taking_part == len(participants)
    assert len(verdict.not_responded) == verdict.taking_part - verdict.responded
    assert len(verdict.objectors) == verdict.object
    assert verdict.responded == len(set(stances_) & set(participants))
    if verdict.meets_rule:
        assert verdict.quorum_reached and verdict.threshold_met and not verdict.blocked
    assert verdict.blocked == (the_rule.objection_blocks and verdict.object > 0)
    assert (verdict.support_percent is None) == (verdict.counted == 0)
    if verdict.support_percent is not None:
        assert 0 <= verdict.support_percent <= 100
        # The shown percentage agrees with the exact comparison.
        if the_rule.threshold_percent > 0:
            assert verdict.threshold_met == (verdict.support_percent >= the_rule.threshold_percent)
    assert summary(verdict, the_rule).endswith(".")


@given(rules, cases(), st.integers(0, 30))
def test_one_more_supporter_never_hurts(the_rule: Rule, case, organisation):
    """Changing one organisation's position to support never loses quorum or threshold."""
    stances_, participants = case
    before = evaluate(the_rule, stances_, participants)
    after = evaluate(the_rule, {**stances_, organisation: Stance.SUPPORT}, participants)
    assert before.quorum_reached <= after.quorum_reached
    assert before.threshold_met <= after.threshold_met
