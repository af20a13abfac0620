"""Paragraph-by-paragraph, word-level comparison (consult.text.paragraph_diff, diff_counts)."""

from __future__ import annotations

from consult.text import diff_counts, paragraph_diff, word_diff

HIDDEN = '<span class="govuk-visually-hidden">'


def test_unchanged_paragraphs_are_not_marked():
    blocks = paragraph_diff("One.\n\nTwo three.\n\nFour.", "One.\n\nTwo 3.\n\nFour.")
    assert [b.changed for b in blocks] == [False, True, False]
    assert str(blocks[0].html) == "One." and str(blocks[2].html) == "Four."
    assert str(blocks[1].html) == (
        f"Two <del>{HIDDEN}[removed: </span>three{HIDDEN}]</span></del>"
        f"<ins>{HIDDEN}[added: </span>3{HIDDEN}]</span></ins>."
    )
    assert (blocks[1].removed, blocks[1].added) == (1, 1)


def test_whole_paragraphs_added_and_removed():
    blocks = paragraph_diff("Keep.\n\nDrop this one.", "New first.\n\nKeep.")
    assert [(b.changed, b.removed, b.added) for b in blocks] == [
        (True, 0, 2),
        (False, 0, 0),
        (True, 3, 0),
    ]
    assert str(blocks[0].html).startswith("<ins>") and str(blocks[2].html).startswith("<del>")


def test_a_change_does_not_spill_into_neighbours():
    old = "Alpha beta gamma.\n\nDelta epsilon."
    new = "Alpha beta gamma.\n\nDelta zeta."
    blocks = paragraph_diff(old, new)
    assert "<ins>" not in blocks[0].html and "<del>" not in blocks[0].html


def test_line_breaks_and_escaping():
    blocks = paragraph_diff("- a\n- x", "- a\n- <b>c</b>")
    html = str(blocks[0].html)
    assert "- a<br>\n- " in html
    assert "<b>" not in html and "&lt;b&gt;c&lt;/b&gt;" in html


def test_counts_are_words_not_punctuation():
    assert diff_counts("We will act.", "We will act!") == (0, 0)
    assert diff_counts("We will act.", "We won't act, now.") == (1, 2)
    assert diff_counts("", "") == (0, 0)


def test_word_diff_unchanged_format():
    assert str(word_diff("a b", "a c")) == "a <del>b</del><ins>c</ins>"
