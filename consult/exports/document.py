"""The agreed text of a consultation and its provenance: one model for every export format.

The model is gathered once from the database and handed to pure renderers (one module per
format: markdown, html, pdf, docx), so no renderer queries anything and every format says the
same thing. Every field is plain data (strings, numbers, aware UTC datetimes), so a renderer can
be tested on a fixed document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consult.filters import format_date, format_datetime, machine_datetime

AGREED = "Agreed text"
WHOLE_TEXT = "the whole text"


def wording_sha256(text: str) -> str:
    """The sha256 (hex) of the wording's UTF-8 bytes, exactly as stored."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (UTC), not {value!r}")


@dataclass(frozen=True, kw_only=True)
class Tally:
    """Where the agreed version stood when it was agreed (see consult.positions.consensus)."""

    support: int
    support_with_changes: int
    object: int
    abstain: int
    responded: int
    taking_part: int
    support_percent: int | None  # rounded down; None when every response was an abstention
    quorum_reached: bool
    threshold_met: bool
    blocked: bool

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Tally:
        """A tally from a snapshot (a Verdict's fields, e.g. stored as JSON); other keys are
        ignored, a missing one is a KeyError."""
        percent = values["support_percent"]
        return cls(
            support=int(values["support"]),
            support_with_changes=int(values["support_with_changes"]),
            object=int(values["object"]),
            abstain=int(values["abstain"]),
            responded=int(values["responded"]),
            taking_part=int(values["taking_part"]),
            support_percent=None if percent is None else int(percent),
            quorum_reached=bool(values["quorum_reached"]),
            threshold_met=bool(values["threshold_met"]),
            blocked=bool(values["blocked"]),
        )

    @property
    def meets_rule(self) -> bool:
        """The quorum was reached, the threshold met and no objection blocked."""
        return self.quorum_reached and self.threshold_met and not self.blocked

    @property
    def support_words(self) -> str:
        """The support percentage as text: "75%", or "none counted" when all abstained."""
        return "none counted" if self.support_percent is None else f"{self.support_percent}%"

    def rows(self) -> list[tuple[str, str]]:
        """The tally as (label, value) rows, in the order every format shows them."""

        def yes_no(value: bool) -> str:
            return "Yes" if value else "No"

        return [
            ("Support", str(self.support)),
            ("Support with changes", str(self.support_with_changes)),
            ("Object", str(self.object)),
            ("Abstain", str(self.abstain)),
            ("Responded", f"{self.responded} of {self.taking_part}"),
            ("Support (of responses that are not abstentions)", self.support_words),
            ("Quorum reached", yes_no(self.quorum_reached)),
            ("Threshold met", yes_no(self.threshold_met)),
            ("Blocked by an objection", yes_no(self.blocked)),
        ]


@dataclass(frozen=True, kw_only=True)
class HistoryEntry:
    """One published version of an ask, with the secretariat's note on what changed."""

    version_number: int
    published_at: datetime
    change_note: str = ""

    def __post_init__(self) -> None:
        _require_aware("published_at", self.published_at)


@dataclass(frozen=True, kw_only=True)
class AmendmentCredit:
    """An accepted amendment: which organisation changed which paragraph, in which version."""

    amendment_id: int
    organisation: str
    paragraph: str  # "paragraph 2", or WHOLE_TEXT
    accepted_into_version: int


@dataclass(frozen=True, kw_only=True)
class AgreedAsk:
    """One ask's agreed version and where it came from.

    sha256 is computed from the wording when left empty, and checked against it when given,
    so a document never carries a fingerprint of some other text.
    """

    number: int  # the ask's place in the consultation, from 1
    title: str
    theme: str
    version_number: int
    wording: str  # Markdown source, exactly as agreed
    agreed_at: datetime
    agreed_by: str
    tally: Tally
    consensus_summary: str
    against_rule_reason: str | None = None
    history: Sequence[HistoryEntry] = ()
    amendments: Sequence[AmendmentCredit] = ()
    sha256: str = ""

    def __post_init__(self) -> None:
        _require_aware("agreed_at", self.agreed_at)
        # Lists are accepted for convenience and kept as tuples, so the model stays frozen.
        object.__setattr__(self, "history", tuple(self.history))
        object.__setattr__(self, "amendments", tuple(self.amendments))
        computed = wording_sha256(self.wording)
        if self.sha256 and self.sha256.lower() != computed:
            raise ValueError(
                f"ask {self.number}: sha256 {self.sha256} does not match its wording ({computed})"
            )
        object.__setattr__(self, "sha256", computed)


@dataclass(frozen=True, kw_only=True)
class Endorser:
    """An organisation that endorsed the agreed text."""

    name: str
    listed_publicly: bool = True


@dataclass(frozen=True, kw_only=True)
class Document:
    """The agreed text of one consultation, in the order of its asks, with its provenance."""

    title: str  # the consultation's title
    summary: str = ""
    generated_at: datetime
    asks: Sequence[AgreedAsk]
    endorsers: Sequence[Endorser] = ()
    status: str = AGREED  # e.g. "Agreed text", or "Draft: not yet agreed"
    consultation_reference: str = ""  # e.g. the consultation's public address or number

    def __post_init__(self) -> None:
        _require_aware("generated_at", self.generated_at)
        asks = tuple(sorted(self.asks, key=lambda ask: ask.number))
        numbers = [ask.number for ask in asks]
        if len(set(numbers)) != len(numbers):
            raise ValueError(f"ask numbers repeat: {numbers}")
        object.__setattr__(self, "asks", asks)
        object.__setattr__(self, "endorsers", tuple(self.endorsers))

    @property
    def public_endorsers(self) -> tuple[Endorser, ...]:
        """The endorsers that agreed to be listed, by name."""
        return tuple(
            sorted(
                (e for e in self.endorsers if e.listed_publicly),
                key=lambda e: (e.name.casefold(), e.name),
            )
        )

    @property
    def unlisted_endorsers(self) -> int:
        """How many endorsers asked not to be named."""
        return sum(1 for e in self.endorsers if not e.listed_publicly)


NO_ENDORSERS = "No organisation has endorsed the agreed text yet."


def endorsement_words(document: Document) -> str:
    """One sentence on who endorsed, for every format; the names themselves are listed apart."""
    listed = len(document.public_endorsers)
    unlisted = document.unlisted_endorsers
    if not listed and not unlisted:
        return NO_ENDORSERS
    total = listed + unlisted
    words = f"{total} organisation{'s' if total != 1 else ''} endorsed the agreed text"
    if unlisted:
        words += f"; {unlisted} asked not to be named"
    return words + "."


def display_datetime(value: datetime) -> str:
    """29 November 2026 at 2:05pm (UK time): how every format shows a moment."""
    return format_datetime(value)


def display_date(value: datetime) -> str:
    """29 November 2026 (UK time)."""
    return format_date(value)


def iso_utc(value: datetime) -> str:
    """2026-11-29T14:05:09Z: the exact moment, for the annex's machine-readable record."""
    return machine_datetime(value)


__all__ = [
    "AGREED",
    "NO_ENDORSERS",
    "WHOLE_TEXT",
    "AgreedAsk",
    "AmendmentCredit",
    "Document",
    "Endorser",
    "HistoryEntry",
    "Tally",
    "display_date",
    "display_datetime",
    "endorsement_words",
    "iso_utc",
    "wording_sha256",
]
