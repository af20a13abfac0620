"""Taking part: which organisations a consultation consults (the service, then the pages)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup

from consult.consultations import services
from consult.consultations.services import ParticipantError
from consult.extensions import db
from consult.models import Participant, Role, utcnow
from tests import factories
from tests.helpers import audit_events, login_as

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


def _names(consultation) -> list[str]:
    return [org.name for org in services.participating_organisations(consultation)]


@pytest.fixture
def orgs(people):
    """Besides the people fixture's two member organisations (Home, Other): a third member
    organisation, a funder with only an observer, and a deactivated member organisation."""
    third = factories.organisation("Third Organisation")
    factories.user(Role.MEMBER, third)
    funder = factories.organisation("Funder")
    factories.user(Role.OBSERVER, funder)
    closed = factories.organisation("Closed Organisation", active=False)
    factories.user(Role.MEMBER, closed)
    db.session.commit()
    return {
        "home": people.member.organisation,
        "other": people.other_member.organisation,
        "third": third,
        "secretariat": people.secretariat.organisation,
        "funder": funder,
        "closed": closed,
    }


def _soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


# The service ---------------------------------------------------------------------------


def test_set_participants_replaces_the_list_and_records_one_event(people, orgs):
    consultation = factories.consultation()
    consultation.participants = [Participant(organisation=orgs["home"])]
    db.session.flush()
    changed = services.set_participants(
        actor=people.secretariat,
        consultation=consultation,
        organisations=[orgs["third"], orgs["other"]],
    )
    assert changed
    assert _names(consultation) == ["Other Organisation", "Third Organisation"]
    [event] = audit_events("consultation.participants")
    assert event.actor_id == people.secretariat.id and event.object_id == consultation.id
    assert event.before == {"participants": [orgs["home"].id]}
    assert event.after == {"participants": sorted([orgs["other"].id, orgs["third"].id])}


def test_the_same_list_changes_nothing(people, orgs):
    consultation = factories.consultation()
    consultation.participants = [Participant(organisation=orgs["home"])]
    db.session.flush()
    assert not services.set_participants(
        actor=people.secretariat, consultation=consultation, organisations=[orgs["home"]]
    )
    assert audit_events("consultation.participants") == []


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("secretariat", "Coalition Secretariat is the secretariat's own organisation"),
        ("funder", "Funder is an observer's organisation"),
        ("closed", "Closed Organisation has been deactivated"),
    ],
)
def test_organisations_that_cannot_take_part_are_refused(people, orgs, key, message):
    consultation = factories.consultation()
    consultation.participants = [Participant(organisation=orgs["home"])]
    db.session.flush()
    with pytest.raises(ParticipantError, match=message):
        services.set_participants(
            actor=people.secretariat,
            consultation=consultation,
            organisations=[orgs["home"], orgs[key]],
        )
    assert _names(consultation) == ["Home Organisation"]
    assert audit_events("consultation.participants") == []


def test_an_organisation_without_people_is_refused(people, orgs):
    empty = factories.organisation("Empty Organisation")
    consultation = factories.consultation()
    with pytest.raises(ParticipantError, match="Empty Organisation has no members yet"):
        services.set_participants(
            actor=people.secretariat, consultation=consultation, organisations=[empty]
        )


def test_no_organisation_at_all_is_refused(people, orgs):
    consultation = factories.consultation()
    with pytest.raises(ParticipantError, match="Select at least one organisation"):
        services.set_participants(
            actor=people.secretariat, consultation=consultation, organisations=[]
        )


def test_organisations_with_ids_refuses_an_unknown_id(orgs):
    assert services.organisations_with_ids([orgs["home"].id]) == [orgs["home"]]
    with pytest.raises(ParticipantError, match="Select organisations from the list"):
        services.organisations_with_ids([orgs["home"].id, 999_999])


# The consultation page -----------------------------------------------------------------


@pytest.fixture
def consultation(orgs):
    item = factories.consultation(title="Net zero")
    item.participants = [
        Participant(organisation=orgs["other"]),
        Participant(organisation=orgs["home"]),
    ]
    db.session.commit()
    return item


@pytest.mark.parametrize("role", ["member", "secretariat"])
def test_members_and_the_secretariat_see_who_takes_part(client, people, consultation, role):
    login_as(client, people.get(role))
    soup = _soup(client.get(f"/consultations/{consultation.id}"))
    section = soup.select_one("section#participants")
    assert section.select_one("h2").get_text(strip=True) == "Organisations taking part"
    assert (
        section.select_one("#participants-count")
        .get_text(" ", strip=True)
        .startswith("2 organisations take part")
    )
    assert [li.get_text(strip=True) for li in section.select("#participants-list li")] == [
        "Home Organisation",
        "Other Organisation",
    ]
    change = section.select_one(f'a[href="/consultations/{consultation.id}/organisations"]')
    assert (change is not None) == (role == "secretariat")


def test_observers_and_the_public_are_not_shown_who_takes_part(client, people, consultation):
    login_as(client, people.observer)
    assert _soup(client.get(f"/consultations/{consultation.id}")).select("#participants") == []
    login_as(client, None)
    consultation.published_at = utcnow()
    db.session.commit()
    response = client.get(f"/consultations/{consultation.id}")
    assert response.status_code == 200
    assert _soup(response).select("#participants") == []


def test_a_consultation_without_participants_says_so(client, people, orgs):
    item = factories.consultation()
    db.session.commit()
    login_as(client, people.member)
    soup = _soup(client.get(f"/consultations/{item.id}"))
    assert soup.select_one("#participants-count").get_text(strip=True) == (
        "No organisations take part yet."
    )


# The page of its own -------------------------------------------------------------------


def test_the_form_offers_the_active_member_organisations(client, people, consultation, orgs):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{consultation.id}/organisations")
    assert response.status_code == 200
    soup = _soup(response)
    assert soup.select_one("h1").get_text(strip=True) == "Organisations taking part"
    boxes = soup.select('form input[type="checkbox"][name="organisations"]')
    offered = {
        soup.select_one(f'label[for="{box["id"]}"]').get_text(strip=True): box for box in boxes
    }
    assert list(offered) == ["Home Organisation", "Other Organisation", "Third Organisation"]
    assert [name for name, box in offered.items() if box.has_attr("checked")] == [
        "Home Organisation",
        "Other Organisation",
    ]
    assert soup.select("#no-longer-eligible") == []


def test_saving_changes_who_takes_part(client, people, consultation, orgs):
    login_as(client, people.secretariat)
    response = client.post(
        f"/consultations/{consultation.id}/organisations",
        data={"organisations": [str(orgs["third"].id), str(orgs["home"].id)]},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/consultations/{consultation.id}")
    db.session.expire_all()
    assert _names(consultation) == ["Home Organisation", "Third Organisation"]
    [event] = audit_events("consultation.participants")
    assert event.after == {"participants": sorted([orgs["home"].id, orgs["third"].id])}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Organisations taking part saved" in page


def test_saving_the_same_list_changes_nothing(client, people, consultation, orgs):
    login_as(client, people.secretariat)
    response = client.post(
        f"/consultations/{consultation.id}/organisations",
        data={"organisations": [str(orgs["home"].id), str(orgs["other"].id)]},
    )
    assert response.status_code == 303
    assert "Nothing was changed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert audit_events("consultation.participants") == []


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ([], "Select at least one organisation to take part"),
        (["abc"], "Select organisations from the list"),
        (["1" * 20], "Select organisations from the list"),
        (["999999"], "Select organisations from the list"),
        (["{secretariat}"], "Coalition Secretariat is the secretariat's own organisation"),
        (["{home}", "{funder}"], "Funder is an observer's organisation"),
        (["{closed}"], "Closed Organisation has been deactivated"),
    ],
)
def test_bad_choices_are_refused_with_a_clear_error(
    client, people, consultation, orgs, chosen, message
):
    login_as(client, people.secretariat)
    ids = {key: org.id for key, org in orgs.items()}
    response = client.post(
        f"/consultations/{consultation.id}/organisations",
        data={"organisations": [value.format(**ids) for value in chosen]},
    )
    assert response.status_code == 422
    soup = _soup(response)
    assert message in soup.select_one(".govuk-error-summary").get_text(" ", strip=True)
    assert message in soup.select_one(".govuk-error-message").get_text(" ", strip=True)
    assert soup.select_one("title").get_text().startswith("Error: ")
    db.session.expire_all()
    assert _names(consultation) == ["Home Organisation", "Other Organisation"]
    assert audit_events("consultation.participants") == []


def test_organisations_no_longer_eligible_are_pointed_out(client, people, consultation, orgs):
    orgs["other"].active = False
    db.session.commit()
    login_as(client, people.secretariat)
    soup = _soup(client.get(f"/consultations/{consultation.id}/organisations"))
    notice = soup.select_one("#no-longer-eligible")
    assert [li.get_text(strip=True) for li in notice.select("li")] == ["Other Organisation"]


def test_the_list_cannot_change_once_the_outcome_is_published(client, people, consultation):
    consultation.closes_at = utcnow() - timedelta(hours=1)
    consultation.published_at = utcnow()
    db.session.commit()
    login_as(client, people.secretariat)
    page = _soup(client.get(f"/consultations/{consultation.id}"))
    assert page.select_one("#participants-list") is not None
    assert page.select(f'a[href="/consultations/{consultation.id}/organisations"]') == []
    assert client.get(f"/consultations/{consultation.id}/organisations").status_code == 403
    response = client.post(
        f"/consultations/{consultation.id}/organisations", data={"organisations": []}
    )
    assert response.status_code == 403
