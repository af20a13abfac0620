"""A fixed document for the renderer tests: two asks, Unicode, and hostile strings."""

from __future__ import annotations

from datetime import UTC, datetime

from consult.exports.document import (
    WHOLE_TEXT,
    AgreedAsk,
    AmendmentCredit,
    Document,
    Endorser,
    HistoryEntry,
    Tally,
)

HOSTILE_TITLE = "Homes <script>alert(1)</script> for all"
HOSTILE_NOTE = '=HYPERLINK("http://evil.example/x","Click") and “smart quotes”'

HOMES_WORDING = """\
Everyone deserves a safe, warm home – and the “right to a home” should be law.

We call on the government to:

- build 150,000 social homes a year
- end **no-fault** evictions
- cap rents at *£1,000* a month in high-cost areas

## How to pay for it

1. A levy on empty homes
2. Reform of council tax bands
"""

CLIMATE_WORDING = """\
The UK must reach net zero by 2040, not 2050.

Public money should go to insulation first: it cuts bills by £300 a year.
"""


def sample_document() -> Document:
    """The fixed document every renderer test reads."""
    homes = AgreedAsk(
        number=1,
        title=HOSTILE_TITLE,
        theme="Housing & communities",
        version_number=3,
        wording=HOMES_WORDING,
        agreed_at=datetime(2026, 6, 4, 15, 30, tzinfo=UTC),
        agreed_by="Sam Secretariat",
        tally=Tally(
            support=5,
            support_with_changes=2,
            object=1,
            abstain=1,
            responded=9,
            taking_part=10,
            support_percent=87,
            quorum_reached=True,
            threshold_met=True,
            blocked=True,
        ),
        consensus_summary=(
            "Quorum reached: 9 of 10 organisations. 87% support, above the 75% threshold. "
            "1 objection: Landlords’ Forum. An objection blocks agreement under this "
            "consultation's rule."
        ),
        against_rule_reason="The objection was withdrawn in writing after the deadline.",
        history=[
            HistoryEntry(
                version_number=1,
                published_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                change_note="First draft",
            ),
            HistoryEntry(
                version_number=2,
                published_at=datetime(2026, 4, 10, 11, 15, tzinfo=UTC),
                change_note=HOSTILE_NOTE,
            ),
            HistoryEntry(
                version_number=3,
                published_at=datetime(2026, 5, 20, 16, 45, tzinfo=UTC),
                change_note="Accepted the rent cap amendment",
            ),
        ],
        amendments=[
            AmendmentCredit(
                amendment_id=41,
                organisation="Shelter Cymru",
                paragraph="paragraph 2",
                accepted_into_version=3,
            ),
            AmendmentCredit(
                amendment_id=7,
                organisation="Tenants’ Union",
                paragraph=WHOLE_TEXT,
                accepted_into_version=2,
            ),
        ],
    )
    climate = AgreedAsk(
        number=2,
        title="Net zero by 2040",
        theme="",
        version_number=1,
        wording=CLIMATE_WORDING,
        agreed_at=datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
        agreed_by="Alex Admin",
        tally=Tally(
            support=8,
            support_with_changes=0,
            object=0,
            abstain=2,
            responded=10,
            taking_part=10,
            support_percent=100,
            quorum_reached=True,
            threshold_met=True,
            blocked=False,
        ),
        consensus_summary=(
            "Quorum reached: 10 of 10 organisations. 100% support, above the 75% threshold. "
            "This meets the consultation's rule."
        ),
        history=[
            HistoryEntry(
                version_number=1,
                published_at=datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
                change_note="",
            )
        ],
    )
    return Document(
        title="Our manifesto for 2027 – “Fair shares”",
        summary="What the coalition asks of the next government.",
        generated_at=datetime(2026, 11, 29, 14, 5, 9, tzinfo=UTC),
        asks=[climate, homes],  # out of order on purpose: the document orders them
        endorsers=[
            Endorser(name="Tenants’ Union", listed_publicly=True),
            Endorser(name="Age UK London", listed_publicly=True),
            Endorser(name="A quiet charity", listed_publicly=False),
        ],
        consultation_reference="Consultation 12",
    )
