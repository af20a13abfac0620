"""Quoted phrases match their paragraph after curly quotes, dashes and spaces are normalised."""

from __future__ import annotations

import pytest

from consult.text import normalise_quote, paragraphs, plain_text, quote_in


@pytest.mark.parametrize(
    "typed, written",
    [
        ("UK’s", "UK's"),
        ("UK's", "UK’s"),
        ("“net zero”", '"net zero"'),
        ('"net zero"', "“net zero”"),
        ("‘fair’", "'fair'"),
        ("2030–2040", "2030-2040"),
        ("2030—2040", "2030-2040"),
        ("minus −5", "minus -5"),
        ("net\u00a0zero", "net zero"),
        ("net\u202fzero", "net zero"),
        ("net\n  zero", "net zero"),
        ("net\r\n\tzero", "net zero"),
        ("NET Zero", "net zero"),
        ("co\u00adoperate", "cooperate"),
        ("ﬁnance", "finance"),  # NFKC: the ligature is two letters
    ],
)
def test_normalised_phrases_are_equal(typed, written):
    assert normalise_quote(typed) == normalise_quote(written)


def test_normalise_quote_trims_and_collapses():
    assert normalise_quote("  The  UK’s\u00a0role –\nnow ") == "the uk's role - now"


def test_different_words_stay_different():
    assert normalise_quote("net zero") != normalise_quote("net-zero")
    assert normalise_quote("UKs") != normalise_quote("UK’s")


def test_plain_text_keeps_blocks_apart_and_unescapes():
    assert plain_text("<ul><li>Homes</li><li>Transport</li></ul>").split() == [
        "Homes",
        "Transport",
    ]
    assert plain_text("<p>the <strong>UK</strong>&#x27;s &amp; EU</p>").strip() == "the UK's & EU"


def test_a_quote_is_found_in_the_source_or_in_what_the_page_shows():
    (paragraph,) = paragraphs("The **UK’s** role in [Europe](https://example.org) – now.")
    assert quote_in("UK's role", paragraph)  # as shown: no asterisks
    assert quote_in("**UK’s** role", paragraph)  # as written
    assert quote_in("role in Europe - now", paragraph)
    assert quote_in("  the uk’s\nrole ", paragraph)
    assert not quote_in("UK role", paragraph)
    assert not quote_in("   ", paragraph)


def test_a_selection_across_list_items_is_found():
    (paragraph,) = paragraphs("- Homes\n- Transport")
    assert quote_in("Homes\nTransport", paragraph)
    assert quote_in("Homes Transport", paragraph)
