"""The agreed text gathered from the database and downloaded: what the document holds, who
may download it before and after publication, and a fixed number of queries."""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass

import pypdf
import pytest

from consult import text
from consult.agreements.services import declare_agreed
from consult.amendments import services as amendments
from consult.exports.document import wording_sha256
from consult.exports.gather import NotAgreed, gather
from consult.extensions import db
from consult.models import (
    Ask,
    Consultation,
    Decision,
    Endorsement,
    Participant,
    Role,
    Stance,
    utcnow,
)
from consult.positions.services import set_position
from tests import factories
from tests.helpers import People, login_as, statements_during
from tests.html import select

pytestmark = pytest.mark.database

FIRST = "The council must act now.\n\nEvery party commits to net zero."
SECOND = "Fund local action.\n\n- Homes\n- Transport"


@dataclass
class Agreed:
    consultation: Consultation
    first: Ask
    second: Ask
    amendment_id: int


def _agreed_consultation(people: People, asks: int = 2) -> Agreed:
    """A consultation whose asks are all agreed: the first at v2 made by accepting the
    member's amendment, with positions; the others at v1, agreed against the rule."""
    home, other = people.member.organisation, people.other_member.organisation
    delegate = factories.user(Role.MEMBER, home, name="Dee Delegate", is_delegate=True)
    factories.user(Role.MEMBER, other, name="Oda Other", is_delegate=True)
    consultation = factories.consultation("Net zero by 2040: the agreed text")
    consultation.participants = [Participant(organisation=home), Participant(organisation=other)]
    first = factories.ask(
        consultation, title="Act now", versions=(FIRST,), author=people.secretariat
    )
    others = [
        factories.ask(
            consultation, title=f"Fund it {n}", versions=(SECOND,), author=people.secretariat
        )
        for n in range(1, asks)
    ]
    db.session.commit()
    anchor = text.paragraphs(FIRST)[1].anchor
    amendment, _ = amendments.propose(
        actor=people.member,
        ask=first,
        paragraph=anchor,
        wording="Every party commits to net zero by 2040.",
        rationale="Sooner.",
    )
    amendments.accept(actor=people.secretariat, ask=first, amendments=[amendment], change_note="")
    db.session.commit()
    set_position(actor=delegate, ask=first, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    declare_agreed(actor=people.secretariat, ask=first, reason="", based_on=2)
    for ask in others:
        declare_agreed(
            actor=people.secretariat, ask=ask, reason="Agreed at the meeting.", based_on=1
        )
    db.session.add_all(
        [
            Endorsement(
                consultation=consultation,
                organisation=home,
                decision=Decision.ENDORSE,
                list_publicly=True,
                set_by=delegate,
            ),
            Endorsement(
                consultation=consultation,
                organisation=other,
                decision=Decision.DECLINE,
                reason="Not for us.",
                set_by=people.other_member,
            ),
        ]
    )
    db.session.commit()
    return Agreed(consultation, first, others[0] if others else first, amendment.id)


@pytest.fixture
def agreed(people) -> Agreed:
    return _agreed_consultation(people)


def test_the_document_holds_each_agreed_version_and_its_provenance(people, agreed):
    document = gather(agreed.consultation)

    first, second = document.asks
    assert (first.number, first.title, first.version_number) == (1, "Act now", 2)
    assert first.wording == "The council must act now.\n\nEvery party commits to net zero by 2040."
    assert first.sha256 == wording_sha256(first.wording)
    assert [h.version_number for h in first.history] == [1, 2]
    assert first.history[1].change_note.endswith(
        f"Accepted amendment {agreed.amendment_id} from Home Organisation (paragraph 2)."
    )
    [credit] = first.amendments
    assert (credit.organisation, credit.paragraph, credit.accepted_into_version) == (
        "Home Organisation",
        "paragraph 2",
        2,
    )
    assert (first.tally.support, first.tally.responded, first.tally.taking_part) == (1, 1, 2)
    assert first.against_rule_reason is None
    assert first.agreed_by == people.secretariat.name
    assert "1 of 2" in first.consensus_summary
    assert second.against_rule_reason == "Agreed at the meeting."
    assert [(e.name, e.listed_publicly) for e in document.endorsers] == [
        ("Home Organisation", True)
    ]


def test_nothing_to_export_until_every_ask_is_agreed(people):
    consultation = factories.consultation()
    factories.ask(consultation, versions=("Wording.",))
    db.session.commit()
    with pytest.raises(NotAgreed, match="0 of 1 asks are agreed"):
        gather(consultation)


@pytest.mark.parametrize(
    "fmt, mimetype, disposition",
    [
        ("md", "text/markdown", "attachment"),
        ("html", "text/html", "inline"),
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "attachment",
        ),
        ("pdf", "application/pdf", "attachment"),
    ],
)
def test_the_secretariat_downloads_each_format(client, people, agreed, fmt, mimetype, disposition):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{agreed.consultation.id}/agreed.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Content-Disposition"] == (
        f'{disposition}; filename="net-zero-by-2040-the-agreed-text-agreed-text.{fmt}"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    if fmt == "pdf":
        words = " ".join(
            page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.data)).pages
        )
        assert "net zero by 2040" in " ".join(words.split())
    elif fmt in ("md", "html"):
        assert "Every party commits to net zero by 2040." in response.get_data(as_text=True)
    if fmt == "html":
        # Shown in the browser, its own stylesheet applies (by its hash): nothing else inline.
        [style] = select(response.get_data(as_text=True), "style")
        digest = base64.b64encode(hashlib.sha256(style.string.encode()).digest()).decode()
        policy = response.headers["Content-Security-Policy"]
        assert f"style-src 'self' 'sha256-{digest}';" in policy
        assert "unsafe-inline" not in policy and "script-src 'self';" in policy


def test_before_publication_only_the_secretariat_may_download(client, people, agreed):
    url = f"/consultations/{agreed.consultation.id}/agreed.md"
    assert client.get(url).status_code == 302  # sign in first
    for person in (people.member, people.observer):
        login_as(client, person)
        assert client.get(url).status_code == 403


def test_once_published_anyone_may_download_without_signing_in(client, agreed):
    agreed.consultation.published_at = utcnow()
    db.session.commit()
    response = client.get(f"/consultations/{agreed.consultation.id}/agreed.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def test_a_consultation_not_yet_agreed_is_refused_with_why(client, people):
    consultation = factories.consultation()
    factories.ask(consultation, versions=("Wording.",))
    db.session.commit()
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{consultation.id}/agreed.pdf")
    assert response.status_code == 409
    assert "0 of 1 asks are agreed" in response.get_data(as_text=True)


def test_an_unknown_format_is_not_found(client, people, agreed):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{agreed.consultation.id}/agreed.exe")
    assert response.status_code == 404
    assert "Word" in response.get_data(as_text=True)


def test_gathering_takes_the_same_queries_whatever_the_number_of_asks(people):
    few = _agreed_consultation(people, asks=2).consultation.id
    many = _agreed_consultation(people, asks=6).consultation.id
    counts = []
    for consultation_id in (few, many):
        db.session.expire_all()
        consultation = db.session.get(Consultation, consultation_id)
        counts.append(statements_during(lambda c=consultation: gather(c)))
    assert counts[0] == counts[1]


def test_the_manifesto_offers_the_downloads_to_whoever_may_download(client, people, agreed):
    url = f"/consultations/{agreed.consultation.id}/manifesto"
    login_as(client, people.secretariat)
    page = client.get(url).get_data(as_text=True)
    links = [a["href"] for a in select(page, "#downloads a")]
    assert links == [
        f"/consultations/{agreed.consultation.id}/agreed.{fmt}"
        for fmt in ("pdf", "docx", "html", "md")
    ]
    login_as(client, people.member)
    assert not select(client.get(url).get_data(as_text=True), "#downloads")
    agreed.consultation.published_at = utcnow()
    db.session.commit()
    assert select(client.get(url).get_data(as_text=True), "#downloads a")
