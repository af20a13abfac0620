"""The tally macro: a bar hidden from assistive technology, and the numbers as text."""

from __future__ import annotations

from consult.models import Stance
from consult.positions.consensus import Rule, evaluate
from tests.html import select, select_one, text_of

RULE = Rule(
    quorum_percent=50, threshold_percent=75, objection_blocks=False, changes_count_as_support=True
)
NINE = {n: f"Organisation {n}" for n in range(1, 10)}


def tally(app, verdict) -> str:
    return str(app.jinja_env.get_template("positions/_tally.html").module.tally(verdict))


def counts(html: str) -> dict[str, str]:
    return {
        text_of(row, "dt"): text_of(row, "dd")
        for row in select(html, "dl.app-tally__counts .govuk-summary-list__row")
    }


def test_the_tally_draws_each_stance_and_writes_the_numbers(app):
    stances = {1: Stance.SUPPORT, 2: Stance.SUPPORT, 3: Stance.SUPPORT}
    stances.update({4: Stance.SUPPORT_WITH_CHANGES, 5: Stance.OBJECT, 6: Stance.ABSTAIN})
    html = tally(app, evaluate(RULE, stances, NINE))

    svg = select_one(html, "svg.app-tally__bar")
    assert svg["aria-hidden"] == "true"
    assert svg["viewbox"] == "0 0 9 1"  # one unit per organisation taking part
    segments = [(rect["class"][-1], rect["x"], rect["width"]) for rect in select(svg, "rect")]
    assert segments == [
        ("app-tally__segment--support", "0", "3"),
        ("app-tally__segment--support-with-changes", "3", "1"),
        ("app-tally__segment--object", "4", "1"),
        ("app-tally__segment--abstain", "5", "1"),
        ("app-tally__segment--not-responded", "6", "3"),
    ]
    assert counts(html) == {
        "Support": "3",
        "Support with changes": "1",
        "Object": "1",
        "Abstain": "1",
        "Not responded yet": "3",
    }
    # Every picture is hidden; no style attributes (the CSP forbids them).
    assert all(s["aria-hidden"] == "true" for s in select(html, "svg"))
    assert select(html, "[style]") == []


def test_empty_parts_draw_nothing_but_are_still_counted(app):
    html = tally(app, evaluate(RULE, {}, NINE))
    [segment] = select(html, "svg.app-tally__bar rect")
    assert "app-tally__segment--not-responded" in segment["class"]
    assert (segment["x"], segment["width"]) == ("0", "9")
    assert counts(html)["Support"] == "0"
    assert counts(html)["Not responded yet"] == "9"


def test_no_organisations_taking_part(app):
    html = tally(app, evaluate(RULE, {}, {}))
    assert select(html, "svg.app-tally__bar rect") == []
    assert set(counts(html).values()) == {"0"}
