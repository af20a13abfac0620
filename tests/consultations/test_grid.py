"""The participation grid on the consultation page: organisations taking part × asks, each
cell the organisation's position on the current version, "Commented", or no response; per
ask the number of comments and unresolved comments. The secretariat sees every organisation,
a member their own, observers and the public none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from consult.amendments import services as amendment_services
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import (
    Ask,
    CommentState,
    Consultation,
    Organisation,
    Participant,
    Position,
    Role,
    Stance,
    utcnow,
)
from tests import factories
from tests.helpers import V1, V2, comment, login_as, statements_during
from tests.html import select, select_one, text_of


@dataclass
class Setting:
    consultation: Consultation
    first: Ask
    second: Ask
    home: Organisation
    other: Organisation


def position(ask: Ask, organisation: Organisation, stance: Stance, by, version=None) -> None:
    db.session.add(
        Position(
            ask=ask,
            version=version or ask.current_version,
            organisation=organisation,
            stance=stance,
            reason="Because." if stance.needs_reason else "",
            set_by=by,
        )
    )


@pytest.fixture
def setting(people) -> Setting:
    """Two asks; Home set a position on the first ask's v2 (and objected to v1), commented on
    it (one comment unresolved with a reply, one resolved, one withdrawn) and left the second
    alone; Other commented on the second only."""
    consultation = factories.consultation("Spring round")
    first = factories.ask(consultation, title="First ask", versions=(V1, V2))
    second = factories.ask(consultation, title="Second ask", versions=(V1,))
    home, other = people.member.organisation, people.other_member.organisation
    consultation.participants = [Participant(organisation=home), Participant(organisation=other)]
    position(first, home, Stance.OBJECT, people.member, version=first.versions[0])
    position(first, home, Stance.SUPPORT_WITH_CHANGES, people.member)
    top = comment(people.member, first, "Unresolved.")
    comment(people.secretariat, first, "A reply.", parent=top)
    resolved = comment(people.member, first, "Resolved.")
    resolved.resolved_at, resolved.resolved_by, resolved.resolution = (
        utcnow(),
        people.secretariat,
        "Done.",
    )
    withdrawn = comment(people.member, first, "Withdrawn.")
    withdrawn.state = CommentState.WITHDRAWN
    comment(people.other_member, second, "Other's comment.")
    db.session.commit()
    return Setting(consultation, first, second, home, other)


def cell(page, organisation: Organisation, ask: Ask):
    return select_one(page, f"#grid-organisation-{organisation.id} td[data-ask='{ask.id}']")


def test_the_secretariat_sees_every_organisation_taking_part(client, people, setting):
    login_as(client, people.secretariat)
    page = client.get(f"/consultations/{setting.consultation.id}")
    grid = select_one(page, "#participation-grid")
    assert text_of(grid, "caption")
    assert [text_of(th) for th in select(grid, "tbody th[scope=row]")] == [
        "Home Organisation",
        "Other Organisation",
    ]
    assert [text_of(th) for th in select(grid, "thead tr:first-child th[scope=col]")] == [
        "Organisation",
        "First ask",
        "Second ask",
    ]
    s = setting
    assert text_of(cell(page, s.home, s.first), ".app-grid-response") == "Support with changes"
    assert text_of(cell(page, s.other, s.second), ".app-grid-response") == "Commented"
    for organisation, ask in ((s.home, s.second), (s.other, s.first)):
        empty = cell(page, organisation, ask)
        assert text_of(empty, ".app-grid-response") == "–"
        assert select_one(empty, ".app-grid-response")["aria-hidden"] == "true"
        assert text_of(select(empty, ".govuk-visually-hidden")[0]) == "No response"
    assert cell(page, s.home, s.first).a["href"] == f"/asks/{s.first.id}#positions"
    assert cell(page, s.other, s.second).a["href"] == f"/asks/{s.second.id}#positions"
    comments = {td["data-ask"]: text_of(td) for td in select(grid, "#grid-comments td")}
    unresolved = {td["data-ask"]: text_of(td) for td in select(grid, "#grid-unresolved td")}
    assert comments == {str(s.first.id): "3", str(s.second.id): "1"}
    assert unresolved == {str(s.first.id): "1", str(s.second.id): "1"}
    region = select_one(page, "#participation [role=region]")
    assert region["tabindex"] == "0" and region["aria-label"]
    assert select_one(region, "table")["id"] == "participation-grid"


@pytest.mark.parametrize(("who", "counted"), [("secretariat", "4"), ("member", "3")])
def test_the_grid_counts_the_comments_the_reader_may_read(client, people, setting, who, counted):
    """A comment the secretariat hid is counted for the secretariat, who reads it, not for
    a member of another organisation (as on the dashboard)."""
    hidden = comment(people.other_member, setting.first, "Hidden.")
    comment_services.hide_comment(actor=people.secretariat, comment=hidden, reason="Off topic.")
    db.session.commit()
    login_as(client, getattr(people, who))
    page = client.get(f"/consultations/{setting.consultation.id}")
    comments = {td["data-ask"]: text_of(td) for td in select(page, "#grid-comments td")}
    assert comments[str(setting.first.id)] == counted
    unresolved = {td["data-ask"]: text_of(td) for td in select(page, "#grid-unresolved td")}
    assert unresolved[str(setting.first.id)] == "1"


@pytest.mark.parametrize("who", ["member", "other_member"])
def test_a_member_sees_only_their_organisations_row(client, people, setting, who):
    user = getattr(people, who)
    login_as(client, user)
    page = client.get(f"/consultations/{setting.consultation.id}")
    rows = select(page, "#participation-grid tbody tr")
    assert [row["id"] for row in rows] == [f"grid-organisation-{user.organisation_id}"]
    assert select(page, "#grid-comments td")


def test_an_ask_without_a_published_version_is_in_the_secretariats_grid_only(
    client, people, setting
):
    unpublished = factories.ask(setting.consultation, title="Not yet drafted", versions=())
    db.session.commit()
    member_page = login_as(client, people.member).get(f"/consultations/{setting.consultation.id}")
    assert not select(member_page, f"#grid-ask-{unpublished.id}")
    assert "Not yet drafted" not in member_page.get_data(as_text=True)
    assert select(member_page, f"#grid-ask-{setting.first.id}")
    secretariat_page = login_as(client, people.secretariat).get(
        f"/consultations/{setting.consultation.id}"
    )
    assert select(secretariat_page, f"#grid-ask-{unpublished.id}")


def test_a_member_whose_organisation_does_not_take_part_sees_no_grid(client, people, setting):
    outsider = factories.user(Role.MEMBER, factories.organisation("Outside"), name="Out")
    db.session.commit()
    login_as(client, outsider)
    page = client.get(f"/consultations/{setting.consultation.id}")
    assert page.status_code == 200 and not select(page, "#participation")


def test_observers_see_no_grid(client, people, setting):
    login_as(client, people.observer)
    page = client.get(f"/consultations/{setting.consultation.id}")
    assert page.status_code == 200 and not select(page, "#participation")


def test_the_public_sees_no_grid(client, people, setting):
    setting.consultation.closes_at = utcnow() - timedelta(hours=1)
    setting.consultation.published_at = utcnow()
    db.session.commit()
    page = client.get(f"/consultations/{setting.consultation.id}")
    assert page.status_code == 200 and select(page, "h1") and not select(page, "#participation")


def _seed(people, size: int) -> Consultation:
    consultation = factories.consultation()
    asks = [factories.ask(consultation, versions=(V1,)) for _ in range(size)]
    organisations = [factories.organisation() for _ in range(size)]
    consultation.participants = [Participant(organisation=o) for o in organisations]
    for index, organisation in enumerate(organisations):
        author = factories.user(Role.MEMBER, organisation)
        for ask in asks:
            if index % 2:
                position(ask, organisation, Stance.SUPPORT, author)
            else:
                comment(author, ask, "Said something.")
            # Amendments grow with the grid too: one per organisation and ask.
            amendment_services.propose(
                actor=author,
                ask=ask,
                paragraph=amendment_services.WHOLE_TEXT,
                wording=f"New wording {index}.",
                rationale="Better.",
            )
    db.session.commit()
    return consultation


def _statements(client, url: str) -> tuple[int, str]:
    responses = []
    count = statements_during(lambda: responses.append(client.get(url)))
    assert responses[0].status_code == 200
    return count, responses[0].get_data(as_text=True)


def test_the_number_of_queries_does_not_grow_with_the_grid(client, people):
    login_as(client, people.secretariat)
    counts = []
    for size in (2, 6):
        consultation = _seed(people, size)
        statements, html = _statements(client, f"/consultations/{consultation.id}")
        assert len(select(html, "#participation-grid tbody tr")) == size
        assert len(select(html, "#participation-grid tbody td")) == size * size
        assert [
            text_of(td, ".app-grid-response") for td in select(html, "#participation-grid tbody td")
        ][:2] == [
            "Commented",
            "Commented",
        ]
        assert {text_of(td) for td in select(html, "#grid-amendments td")} == {str(size)}
        counts.append(statements)
    assert counts[0] == counts[1]
