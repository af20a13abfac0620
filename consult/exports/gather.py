"""The agreed text of a consultation, gathered once from the database into the document
model that every export format renders. A fixed number of queries whatever the size."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from consult import text
from consult.exports.document import (
    WHOLE_TEXT,
    AgreedAsk,
    AmendmentCredit,
    Document,
    Endorser,
    HistoryEntry,
    Tally,
)
from consult.extensions import db
from consult.models import (
    Agreement,
    Amendment,
    AmendmentState,
    Ask,
    AskState,
    Consultation,
    Decision,
    DraftVersion,
    Endorsement,
    utcnow,
)

AGREED_STATES = (AskState.AGREED, AskState.PUBLISHED)


class NotAgreed(ValueError):
    """The consultation's text is not agreed yet: there is nothing to export."""


def _paragraph_label(amendment: Amendment, version: DraftVersion) -> str:
    if amendment.paragraph_anchor is None:
        return WHOLE_TEXT
    for number, paragraph in enumerate(text.paragraphs(version.body), start=1):
        if paragraph.anchor == amendment.paragraph_anchor:
            return f"paragraph {number}"
    return "a paragraph"  # anchors come from the text they were proposed on: not reached


def gather(consultation: Consultation) -> Document:
    """The consultation's agreed text and provenance. NotAgreed unless it has asks and
    every ask's wording is agreed (or published)."""
    asks = list(
        db.session.scalars(
            select(Ask)
            .where(Ask.consultation_id == consultation.id)
            .order_by(Ask.sort_order, Ask.id)
        )
    )
    if not asks:
        raise NotAgreed("This consultation has no asks, so there is no agreed text.")
    waiting = [ask for ask in asks if ask.state not in AGREED_STATES]
    if waiting:
        raise NotAgreed(
            f"{len(asks) - len(waiting)} of {len(asks)} asks are agreed. The agreed text can "
            "be downloaded once every ask is agreed."
        )
    ask_ids = [ask.id for ask in asks]
    agreements = {
        agreement.ask_id: agreement
        for agreement in db.session.scalars(
            select(Agreement)
            .options(joinedload(Agreement.agreed_by))
            .where(Agreement.ask_id.in_(ask_ids), Agreement.reopened_at.is_(None))
        )
    }
    versions: dict[int, list[DraftVersion]] = defaultdict(list)
    by_id: dict[int, DraftVersion] = {}
    for version in db.session.scalars(
        select(DraftVersion)
        .where(DraftVersion.ask_id.in_(ask_ids))
        .order_by(DraftVersion.ask_id, DraftVersion.number)
    ):
        versions[version.ask_id].append(version)
        by_id[version.id] = version
    credits: dict[int, list[Amendment]] = defaultdict(list)
    for amendment in db.session.scalars(
        select(Amendment)
        .options(joinedload(Amendment.organisation))
        .where(Amendment.ask_id.in_(ask_ids), Amendment.state == AmendmentState.ACCEPTED)
        .order_by(Amendment.id)
    ):
        credits[amendment.ask_id].append(amendment)
    endorsers = [
        Endorser(name=endorsement.organisation.name, listed_publicly=endorsement.list_publicly)
        for endorsement in db.session.scalars(
            select(Endorsement)
            .options(joinedload(Endorsement.organisation))
            .where(
                Endorsement.consultation_id == consultation.id,
                Endorsement.decision == Decision.ENDORSE,
            )
        )
    ]

    agreed: list[AgreedAsk] = []
    for number, ask in enumerate(asks, start=1):
        agreement = agreements.get(ask.id)
        if agreement is None:  # an agreed ask always has a current agreement
            raise NotAgreed(f"“{ask.title}” has no record of its agreement.")
        version = by_id[agreement.version_id]
        history = [v for v in versions[ask.id] if v.number <= version.number]
        agreed.append(
            AgreedAsk(
                number=number,
                title=ask.title,
                theme=ask.theme,
                version_number=version.number,
                wording=version.body,
                agreed_at=agreement.agreed_at,
                agreed_by=agreement.agreed_by.name,
                tally=Tally.from_mapping(agreement.tally),
                consensus_summary=str(agreement.tally.get("summary", "")),
                against_rule_reason=agreement.reason if agreement.against_rule else None,
                history=[
                    HistoryEntry(
                        version_number=v.number,
                        published_at=v.created_at,
                        change_note=v.change_note,
                    )
                    for v in history
                ],
                amendments=[
                    AmendmentCredit(
                        amendment_id=a.id,
                        organisation=a.organisation.name,
                        paragraph=_paragraph_label(a, by_id[a.version_id]),
                        accepted_into_version=by_id[a.accepted_version_id].number,
                    )
                    for a in credits[ask.id]
                    if a.accepted_version_id in by_id
                    and by_id[a.accepted_version_id].number <= version.number
                ],
            )
        )
    return Document(
        title=consultation.title,
        summary=consultation.summary,
        generated_at=utcnow(),
        asks=agreed,
        endorsers=endorsers,
    )
