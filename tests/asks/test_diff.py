"""Paragraph-by-paragraph, word-level comparison (consult.text.paragraph_diff, diff_counts)."""

from __future__ import annotations

import random

import pytest

from consult import text
from consult.text import diff_counts, paragraph_diff, word_diff
from tests.html import parse, select, text_of, texts, top_level


def test_unchanged_paragraphs_are_not_marked():
    blocks = paragraph_diff("One.\n\nTwo three.\n\nFour.", "One.\n\nTwo 3.\n\nFour.")
    assert [b.changed for b in blocks] == [False, True, False]
    assert str(blocks[0].html) == "One." and str(blocks[2].html) == "Four."
    changed = str(blocks[1].html)
    assert [element.name for element in top_level(changed)] == ["del", "ins"]
    assert texts(changed, "del") == ["[removed: three]"] and texts(changed, "ins") == ["[added: 3]"]
    # The markers are for screen readers only.
    assert texts(changed, ".govuk-visually-hidden") == ["[removed:", "]", "[added:", "]"]
    assert text_of(changed) == "Two [removed: three][added: 3]."
    assert (blocks[1].removed, blocks[1].added) == (1, 1)


def test_whole_paragraphs_added_and_removed():
    blocks = paragraph_diff("Keep.\n\nDrop this one.", "New first.\n\nKeep.")
    assert [(b.changed, b.removed, b.added) for b in blocks] == [
        (True, 0, 2),
        (False, 0, 0),
        (True, 3, 0),
    ]
    assert [element.name for element in top_level(str(blocks[0].html))] == ["ins"]
    assert [element.name for element in top_level(str(blocks[2].html))] == ["del"]


def test_a_change_does_not_spill_into_neighbours():
    old = "Alpha beta gamma.\n\nDelta epsilon."
    new = "Alpha beta gamma.\n\nDelta zeta."
    blocks = paragraph_diff(old, new)
    assert select(str(blocks[0].html), "ins, del") == []


def test_line_breaks_and_escaping():
    blocks = paragraph_diff("- a\n- x", "- a\n- <b>c</b>")
    html = str(blocks[0].html)
    assert len(select(html, "br")) == 1
    assert select(html, "b") == []
    assert text_of(html) == "- a - [removed: x][added: <b>c</b>]"


def test_counts_are_words_not_punctuation():
    assert diff_counts("We will act.", "We will act!") == (0, 0)
    assert diff_counts("We will act.", "We won't act, now.") == (1, 2)
    assert diff_counts("", "") == (0, 0)


def test_word_diff_unchanged_format():
    html = str(word_diff("a b", "a c"))
    assert texts(html, "del") == ["b"] and texts(html, "ins") == ["c"]
    assert text_of(html) == "a bc"


# Bounded work (issue 11): a long paragraph rewritten throughout took seconds to compare.

_VOCABULARY = (
    "councils climate funding net zero housing transport local plan energy heat retrofit "
    "budget people act, now; we support the ask's aim. “Quoted” words <b>and</b> & more"
).split(" ")


def _paragraph(seed: int, characters: int) -> str:
    generator = random.Random(seed)
    words: list[str] = []
    while sum(len(word) + 1 for word in words) < characters:
        words.append(generator.choice(_VOCABULARY))
    return " ".join(words) + "."


def _both_sides(html: str) -> tuple[str, str]:
    """The old and the new text that an unlabelled word diff shows: everything but the
    insertions, and everything but the deletions (entities decoded)."""
    old, new = [], []
    for node in parse(html).children:
        name = getattr(node, "name", None)
        if name != "ins":
            old.append(node.get_text())
        if name != "del":
            new.append(node.get_text())
    return "".join(old), "".join(new)


def test_a_long_rewritten_paragraph_is_replaced_whole_within_the_bound():
    old, new = _paragraph(1, 20_000), _paragraph(2, 20_000)
    blocks = paragraph_diff(old, new)
    assert len(blocks) == 1 and blocks[0].changed
    html = str(blocks[0].html)
    # Past the bound the whole paragraph is removed and added, not compared word by word.
    assert [element.name for element in top_level(html)] == ["del", "ins"]
    # Nearly every word is counted removed and added (but for any common start or end).
    all_old, all_new = diff_counts(old, "")[0], diff_counts("", new)[1]
    assert all_old - 5 <= blocks[0].removed <= all_old
    assert all_new - 5 <= blocks[0].added <= all_new
    assert _both_sides(str(word_diff(old, new))) == (old, new)


def test_one_word_changed_in_a_long_paragraph_is_still_shown_word_by_word():
    old = _paragraph(3, 20_000)
    words = old.split(" ")
    middle = len(words) // 2
    new = " ".join([*words[:middle], "REWORDED", *words[middle + 1 :]])
    html = str(word_diff(old, new))
    assert texts(html, "del") == [words[middle]] and texts(html, "ins") == ["REWORDED"]
    assert _both_sides(html) == (old, new)
    assert diff_counts(old, new) == (1, 1)


@pytest.mark.parametrize("bound", [0, 10, 1_000_000])
@pytest.mark.parametrize("seed", range(20))
def test_a_word_diff_reconstructs_both_texts_whatever_the_bound(monkeypatch, bound, seed):
    monkeypatch.setattr(text, "MAX_DIFF_WORK", bound)
    generator = random.Random(seed)
    old = _paragraph(seed, generator.randint(0, 400))
    # Edit a few stretches of the old text, so that parts are common and parts differ.
    pieces = old.split(" ")
    for _ in range(generator.randint(0, 4)):
        at = generator.randint(0, len(pieces))
        pieces[at : at + generator.randint(0, 3)] = _paragraph(seed + 100, 20).split(" ")
    new = " ".join(pieces)
    assert _both_sides(str(word_diff(old, new))) == (old, new)
    blocks = paragraph_diff(f"Intro.\n\n{old}\n\nEnd.", f"Intro.\n\n{new}\n\nEnd.")
    assert [block.changed for block in blocks] == [False, old != new, False]
