"""The export document model: fingerprints, aware dates, order, tallies from snapshots."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

import pytest

from consult.exports.document import (
    NO_ENDORSERS,
    Document,
    Endorser,
    Tally,
    endorsement_words,
    wording_sha256,
)
from consult.models import Stance
from consult.positions.consensus import Rule, evaluate
from tests.exports.sample import HOMES_WORDING, sample_document


def test_wording_sha256_is_the_hex_digest_of_the_utf8_bytes():
    text = "Rents capped at £1,000 – “fair”"
    assert wording_sha256(text) == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert wording_sha256(text) != wording_sha256(text + "\n")


def test_an_ask_computes_its_fingerprint_and_checks_a_given_one():
    homes = sample_document().asks[0]
    assert homes.sha256 == wording_sha256(HOMES_WORDING)
    # A recorded fingerprint that matches is kept (as lower-case hex) ...
    again = dataclasses.replace(homes, sha256=homes.sha256.upper())
    assert again.sha256 == homes.sha256
    # ... and one of any other text is refused.
    with pytest.raises(ValueError, match="does not match"):
        dataclasses.replace(homes, sha256=wording_sha256("other wording"))
    with pytest.raises(ValueError, match="does not match"):
        dataclasses.replace(homes, wording=homes.wording + " ", sha256=homes.sha256)


def test_dates_must_be_aware():
    homes = sample_document().asks[0]
    with pytest.raises(ValueError, match="agreed_at"):
        dataclasses.replace(homes, agreed_at=datetime(2026, 1, 1, 12, 0))
    with pytest.raises(ValueError, match="generated_at"):
        dataclasses.replace(sample_document(), generated_at=datetime(2026, 1, 1))


def test_asks_are_in_their_order_and_numbers_do_not_repeat():
    document = sample_document()
    assert [ask.number for ask in document.asks] == [1, 2]
    assert isinstance(document.asks, tuple) and isinstance(document.asks[0].history, tuple)
    with pytest.raises(ValueError, match="repeat"):
        dataclasses.replace(document, asks=[document.asks[0], document.asks[0]])


def test_a_tally_from_a_verdict_snapshot():
    rule = Rule(
        quorum_percent=50, threshold_percent=75, objection_blocks=True,
        changes_count_as_support=True,
    )  # fmt: skip
    verdict = evaluate(
        rule,
        {1: Stance.SUPPORT, 2: Stance.SUPPORT_WITH_CHANGES, 3: Stance.OBJECT, 4: Stance.ABSTAIN},
        {1: "A", 2: "B", 3: "C", 4: "D", 5: "E"},
    )
    tally = Tally.from_mapping(dataclasses.asdict(verdict))
    assert tally == Tally(
        support=1,
        support_with_changes=1,
        object=1,
        abstain=1,
        responded=4,
        taking_part=5,
        support_percent=66,
        quorum_reached=True,
        threshold_met=False,
        blocked=True,
    )
    assert not tally.meets_rule
    assert dict(tally.rows())["Responded"] == "4 of 5"
    everyone_abstained = dataclasses.replace(tally, support_percent=None)
    assert dict(everyone_abstained.rows())["Support (of responses that are not abstentions)"] == (
        "none counted"
    )


def test_endorsement_words():
    document = sample_document()
    assert endorsement_words(document) == (
        "3 organisations endorsed the agreed text; 1 asked not to be named."
    )
    assert [e.name for e in document.public_endorsers] == ["Age UK London", "Tenants’ Union"]
    assert endorsement_words(dataclasses.replace(document, endorsers=())) == NO_ENDORSERS
    one = dataclasses.replace(document, endorsers=[Endorser(name="Solo")])
    assert endorsement_words(one) == "1 organisation endorsed the agreed text."
    assert isinstance(one, Document) and one.generated_at.tzinfo is UTC
