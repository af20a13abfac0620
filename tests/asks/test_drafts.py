"""The secretariat's unpublished drafts of an ask's next version: saved, edited again,
previewed beside the current version, published or discarded; never seen by members."""

from __future__ import annotations

import pytest

from consult.asks import services
from consult.extensions import db
from consult.models import VersionDraft
from tests import factories
from tests.helpers import audit_events, count, login_as
from tests.html import select, text_of

pytestmark = pytest.mark.database

V1 = "The council should act.\n\nEvery party commits to net zero."
DRAFT = "The council must act now.\n\nEvery party commits to net zero."


@pytest.fixture
def ask(people):
    item = factories.ask(
        factories.consultation(), title="Act now", versions=(V1,), author=people.secretariat
    )
    db.session.commit()
    return item


def save(client, ask, body=DRAFT, note="Stronger first line.", based_on="1"):
    return client.post(
        f"/asks/{ask.id}/versions/new",
        data={"body": body, "change_note": note, "based_on": based_on, "action": "save"},
    )


def test_saving_a_draft_keeps_it_unpublished_and_it_opens_again(client, people, ask):
    login_as(client, people.secretariat)
    response = save(client, ask)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/asks/{ask.id}/versions/new#preview")
    assert services.latest_number(ask) == 1  # nothing published
    [draft] = db.session.scalars(db.select(VersionDraft)).all()
    assert (draft.body, draft.change_note, draft.based_on) == (DRAFT, "Stronger first line.", 1)

    page = client.get(f"/asks/{ask.id}/versions/new").get_data(as_text=True)
    assert select(page, "#body")[0].text.strip() == DRAFT
    assert "This is your saved draft." in text_of(page, "#draft-status")
    # Previewed beside the current version, with the changes.
    assert "The council must act now." in text_of(page, "#preview-wording")
    assert "The council should act." in text_of(page, "#preview-current")
    assert select(page, "#diff ins")

    # Saved again: still one draft, the change audited with what it replaced.
    save(client, ask, body=DRAFT + "\n\nA third paragraph.")
    assert count(VersionDraft) == 1
    events = audit_events("draft.save")
    assert events[1].before["body"] == DRAFT


def test_the_ask_page_tells_the_secretariat_and_never_members(client, people, ask):
    login_as(client, people.secretariat)
    save(client, ask)
    page = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert "A draft of the next version is saved" in text_of(page, "#saved-draft")
    assert "The council must act now." not in page  # the draft's words are not on the page
    for person in (people.member, people.observer):
        login_as(client, person)
        page = client.get(f"/asks/{ask.id}").get_data(as_text=True)
        assert not select(page, "#saved-draft")
        assert "The council must act now." not in page
        assert client.get(f"/asks/{ask.id}/versions/new").status_code == 403


def test_publishing_the_draft_removes_it(client, people, ask):
    login_as(client, people.secretariat)
    save(client, ask)
    response = client.post(
        f"/asks/{ask.id}/versions/new",
        data={"body": DRAFT, "change_note": "Stronger.", "based_on": "1", "action": "publish"},
    )
    assert response.status_code == 303
    assert services.latest_number(ask) == 2
    assert count(VersionDraft) == 0
    assert not audit_events("draft.discard")  # published, not discarded


def test_a_draft_written_before_a_newer_version_says_so_and_cannot_overwrite_it(
    client, people, ask
):
    login_as(client, people.secretariat)
    save(client, ask)
    services.publish_version(
        actor=people.secretariat, ask=ask, body="Someone else's v2.", change_note="Other."
    )
    db.session.commit()
    page = client.get(f"/asks/{ask.id}/versions/new").get_data(as_text=True)
    assert "It was written against v1, and v2 has been published since." in text_of(
        page, "#draft-status"
    )
    response = client.post(
        f"/asks/{ask.id}/versions/new",
        data={"body": DRAFT, "change_note": "Mine.", "based_on": "1", "action": "publish"},
    )
    assert response.status_code == 409
    assert services.latest_number(ask) == 2


def test_discarding_asks_first_then_deletes_the_draft(client, people, ask):
    login_as(client, people.secretariat)
    save(client, ask)
    page = client.get(f"/asks/{ask.id}/draft/discard")
    assert page.status_code == 200
    assert text_of(page.get_data(as_text=True), "h1") == (
        "Are you sure you want to discard the draft?"
    )
    assert count(VersionDraft) == 1
    response = client.post(f"/asks/{ask.id}/draft/discard")
    assert response.status_code == 303
    assert count(VersionDraft) == 0
    assert audit_events("draft.discard")[0].before["body"] == DRAFT


def test_an_empty_draft_is_refused(client, people, ask):
    login_as(client, people.secretariat)
    response = save(client, ask, body="   ")
    assert response.status_code == 422
    assert "Enter the wording" in response.get_data(as_text=True)
    assert count(VersionDraft) == 0
