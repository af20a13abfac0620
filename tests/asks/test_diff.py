"""Paragraph-by-paragraph, word-level comparison (consult.text.paragraph_diff, diff_counts)."""

from __future__ import annotations

from consult.text import diff_counts, paragraph_diff, word_diff
from tests.html import select, text_of, texts, top_level


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
