"""text.says_nothing: the one test of "is there anything a reader could see" that comments,
notes and amendments share (issue 11: a comment of only invisible characters was accepted)."""

from __future__ import annotations

import pytest

from consult.text import says_nothing


@pytest.mark.parametrize(
    "value", [None, "", " \n\t", "\u200b", "\u200c\u200d", "\ufeff", "\u2060\u00a0", "\u3000"]
)
def test_nothing_a_reader_could_see(value):
    assert says_nothing(value)


@pytest.mark.parametrize("value", ["a", "\u200bа", "—", "1", "😀", "\u200b.\u200b"])
def test_something_a_reader_can_see(value):
    assert not says_nothing(value)
