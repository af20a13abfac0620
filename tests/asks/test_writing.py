"""The secretariat writes asks and versions: forms, bad input, publishing, races, ordering."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from consult.extensions import db
from consult.models import Ask, AskState, DraftVersion
from tests import factories
from tests.helpers import V2, XSS_WORDING, audit_events, login_as
from tests.helpers import asks_snapshot as snapshot
from tests.html import assert_no_active_html, select_one, text_of, texts, top_level
from tests.html import select as css_select


def _flashes(client) -> list[str]:
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


# Creating and editing asks -----------------------------------------------------------------


def test_create_ask(client, people, open_ask):
    login_as(client, people.secretariat)
    page = client.get(f"/consultations/{open_ask.consultation_id}/asks/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert text_of(html, "h1") == "Add an ask"
    assert css_select(html, 'input[name="title"]') and css_select(html, 'input[name="theme"]')
    assert "Commitments asked of every party" in html  # the theme hint
    response = client.post(
        f"/consultations/{open_ask.consultation_id}/asks/new",
        data={"title": "  Retrofit every home  ", "theme": "Manifesto asks"},
    )
    assert response.status_code == 303
    ask = db.session.scalar(select(Ask).where(Ask.title == "Retrofit every home"))
    assert ask is not None and ask.theme == "Manifesto asks"
    assert ask.sort_order == open_ask.sort_order + 1  # last
    assert ask.state == AskState.DRAFTING
    assert response.headers["Location"].endswith(f"/asks/{ask.id}")
    [event_] = audit_events("ask.create")
    assert event_.object_id == ask.id and event_.actor_id == people.secretariat.id
    assert event_.after["title"] == "Retrofit every home"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "", "theme": ""}, "Enter a title for the ask"),
        ({"title": "   ", "theme": ""}, "Enter a title for the ask"),
        ({}, "Enter a title for the ask"),
        ({"title": "x" * 201, "theme": ""}, "Title must be 200 characters or fewer"),
        ({"title": "Fine", "theme": "y" * 101}, "Theme must be 100 characters or fewer"),
    ],
)
def test_create_ask_bad_input(client, people, open_ask, data, message):
    before = snapshot()
    response = login_as(client, people.secretariat).post(
        f"/consultations/{open_ask.consultation_id}/asks/new", data=data
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "govuk-error-summary" in html
    assert text_of(html, "title").startswith("Error: Add an ask")
    assert snapshot() == before


def test_html_in_title_is_stored_as_text_and_escaped(client, people, open_ask):
    login_as(client, people.secretariat)
    payload = '<img src=x onerror=alert(1)><script>alert("t")</script>'
    response = client.post(
        f"/consultations/{open_ask.consultation_id}/asks/new",
        data={"title": payload, "theme": '<a href="javascript:x">t</a>'},
    )
    assert response.status_code == 303
    ask = db.session.scalar(select(Ask).where(Ask.title == payload))
    assert ask is not None  # stored as typed
    for url in (f"/asks/{ask.id}", f"/asks/{ask.id}/edit", f"/asks/{ask.id}/versions"):
        html = client.get(url).get_data(as_text=True)
        assert_no_active_html(html)
        shown = text_of(html) + " ".join(i.get("value", "") for i in css_select(html, "input"))
        assert "<img src=x onerror=alert(1)>" in shown, url  # as text (or a field's value)


def test_edit_ask(client, people, open_ask):
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{open_ask.id}/edit").get_data(as_text=True)
    assert select_one(page, "input#title")["value"] == "Declare a climate emergency"
    assert select_one(page, "input#theme")["value"] == "Manifesto asks"
    response = client.post(
        f"/asks/{open_ask.id}/edit", data={"title": "Declare a nature emergency", "theme": ""}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/asks/{open_ask.id}")
    db.session.expire_all()
    assert (open_ask.title, open_ask.theme) == ("Declare a nature emergency", "")
    [event_] = audit_events("ask.update")
    assert event_.before == {"title": "Declare a climate emergency", "theme": "Manifesto asks"}
    assert event_.after == {"title": "Declare a nature emergency", "theme": ""}


def test_edit_without_change_records_nothing(client, people, open_ask):
    response = login_as(client, people.secretariat).post(
        f"/asks/{open_ask.id}/edit", data={"title": open_ask.title, "theme": open_ask.theme}
    )
    assert response.status_code == 303
    assert audit_events("ask.update") == []
    assert _flashes(client) == ["Nothing was changed"]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"title": "", "theme": "x"}, "Enter a title for the ask"),
        ({"title": "x" * 201, "theme": ""}, "Title must be 200 characters or fewer"),
        ({"title": "ok", "theme": "x" * 101}, "Theme must be 100 characters or fewer"),
    ],
)
def test_edit_ask_bad_input(client, people, open_ask, data, message):
    before = snapshot()
    response = login_as(client, people.secretariat).post(f"/asks/{open_ask.id}/edit", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot() == before


# Moving asks --------------------------------------------------------------------------------


@pytest.fixture
def three_asks(people):
    consultation = factories.consultation()
    asks = [
        factories.ask(consultation, title=f"Ask {n}", sort_order=n * 10, versions=())
        for n in (1, 2, 3)
    ]
    db.session.commit()
    return asks


def _order(consultation_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Ask.title)
            .where(Ask.consultation_id == consultation_id)
            .order_by(Ask.sort_order, Ask.id)
        )
    )


def test_move_up_and_down(client, people, three_asks):
    first, second, third = three_asks
    login_as(client, people.secretariat)
    response = client.post(f"/asks/{third.id}/move", data={"direction": "up"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/consultations/{third.consultation_id}")
    assert _order(third.consultation_id) == ["Ask 1", "Ask 3", "Ask 2"]
    [event_] = audit_events("ask.move")
    assert event_.object_id == third.id
    assert event_.before["sort_order"] == 30 and event_.after["sort_order"] == 2
    assert event_.after["neighbour_id"] == second.id and event_.after["direction"] == "up"
    assert client.post(f"/asks/{first.id}/move", data={"direction": "down"}).status_code == 303
    assert _order(third.consultation_id) == ["Ask 3", "Ask 1", "Ask 2"]
    assert len(audit_events("ask.move")) == 2


@pytest.mark.parametrize(
    "which, direction, message",
    [
        (0, "up", "“Ask 1” is already first"),
        (2, "down", "“Ask 3” is already last"),
    ],
)
def test_move_at_the_edge_does_nothing(client, people, three_asks, which, direction, message):
    before = snapshot()
    response = login_as(client, people.secretariat).post(
        f"/asks/{three_asks[which].id}/move", data={"direction": direction}
    )
    assert response.status_code == 303
    assert snapshot() == before
    assert _flashes(client) == [message]


def test_move_with_shared_sort_orders(client, people):
    """Asks that share a place in the order still move exactly one place."""
    consultation = factories.consultation()
    asks = [
        factories.ask(consultation, title=f"Ask {n}", sort_order=0, versions=()) for n in (1, 2, 3)
    ]
    db.session.commit()
    login_as(client, people.secretariat).post(
        f"/asks/{asks[0].id}/move", data={"direction": "down"}
    )
    assert _order(consultation.id) == ["Ask 2", "Ask 1", "Ask 3"]


@pytest.mark.parametrize(
    "data", [{"direction": "sideways"}, {}, {"direction": ""}, {"direction": "UP"}]
)
def test_move_bad_direction(client, people, three_asks, data):
    before = snapshot()
    response = login_as(client, people.secretariat).post(
        f"/asks/{three_asks[1].id}/move", data=data
    )
    assert response.status_code == 400
    assert "Choose whether to move the ask up or down." in response.get_data(as_text=True)
    assert snapshot() == before


def test_move_is_post_only(client, people, three_asks):
    assert (
        login_as(client, people.secretariat).get(f"/asks/{three_asks[0].id}/move").status_code
        == 405
    )


# New versions -------------------------------------------------------------------------------

NEW_WORDING = (
    "The council must act now.\n\nEvery party commits to net zero by 2040.\n\n- Homes\n- Transport"
)


def _post(client, ask, action="publish", **data):
    form = {"body": NEW_WORDING, "change_note": "Added a date", "action": action}
    form.update(data)
    return client.post(
        f"/asks/{ask.id}/versions/new", data={k: v for k, v in form.items() if v is not None}
    )


def test_new_version_form_is_prefilled(client, people, open_ask):
    html = (
        login_as(client, people.secretariat)
        .get(f"/asks/{open_ask.id}/versions/new")
        .get_data(as_text=True)
    )
    assert "Write a new version" in html
    assert (
        select_one(html, "textarea#body")
        .get_text()
        .strip()
        .startswith("The council must act now.\n\nEvery party commits to net zero.")
    )
    assert select_one(html, 'input[type="hidden"][name="based_on"]')["value"] == "2"
    assert "Publish version 3" in texts(html, "button")
    assert css_select(html, 'button[name="action"][value="preview"]')
    assert "What changed" in html and "What changed (optional)" not in html  # required from v2


def test_preview_stores_nothing(client, people, open_ask):
    before = snapshot()
    response = _post(login_as(client, people.secretariat), open_ask, action="preview")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Preview" in html and "Every party commits to net zero by 2040." in html
    assert "Changes from v2" in html and "0 words removed, 2 words added" in html
    assert texts(html, "#preview .app-diff ins") == ["[added: by 2040]"]
    assert "Publish version 3" in texts(html, "button")
    assert select_one(html, "textarea#body").get_text().strip() == NEW_WORDING.strip()  # kept
    assert snapshot() == before


def test_preview_fragment_for_htmx(client, people, open_ask):
    login_as(client, people.secretariat)
    response = client.post(
        f"/asks/{open_ask.id}/versions/new",
        headers={"HX-Request": "true"},
        data={"body": NEW_WORDING, "change_note": "", "action": "preview"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    [region] = top_level(html)  # the response is the region it replaces
    assert region.name == "div" and region["id"] == "preview"
    assert not css_select(html, "html, textarea")
    assert "0 words removed, 2 words added" in html
    invalid = client.post(
        f"/asks/{open_ask.id}/versions/new",
        headers={"HX-Request": "true"},
        data={"body": "", "action": "preview"},
    )
    assert invalid.status_code == 422
    assert [element["id"] for element in top_level(invalid)] == ["preview"]
    assert "Enter the wording" in invalid.get_data(as_text=True)


def test_preview_escapes_payloads(client, people, open_ask):
    response = _post(
        login_as(client, people.secretariat), open_ask, action="preview", body=XSS_WORDING
    )
    assert response.status_code == 200
    assert_no_active_html(response.get_data(as_text=True))


def test_publish_version(client, people, open_ask):
    login_as(client, people.secretariat)
    response = _post(client, open_ask, based_on="2")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/asks/{open_ask.id}")
    db.session.expire_all()
    versions = db.session.scalars(
        select(DraftVersion).where(DraftVersion.ask_id == open_ask.id).order_by(DraftVersion.number)
    ).all()
    assert [v.number for v in versions] == [1, 2, 3]
    assert versions[2].body == NEW_WORDING and versions[2].change_note == "Added a date"
    assert versions[2].author_id == people.secretariat.id
    [event_] = audit_events("version.publish")
    assert event_.object_type == "draft_version" and event_.object_id == versions[2].id
    assert event_.after["number"] == 3 and event_.after["change_note"] == "Added a date"
    assert _flashes(client) == ["v3 published"]
    html = client.get(f"/asks/{open_ask.id}").get_data(as_text=True)
    assert "v3 (current)" in html and "net zero by 2040" in html


def test_first_version_starts_the_review(client, people):
    ask = factories.ask(factories.consultation(), versions=())
    db.session.commit()
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{ask.id}/versions/new").get_data(as_text=True)
    assert "Publish version 1" in page and "What changed (optional)" in page
    response = _post(
        client, ask, change_note="", based_on="0", body="First wording.\r\n\r\nSecond.  "
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert ask.state == AskState.IN_REVIEW
    assert ask.current_version.number == 1
    assert ask.current_version.body == "First wording.\n\nSecond."  # line ends normalised
    [event_] = audit_events("version.publish")
    assert event_.before["state"] == "drafting" and event_.after["state"] == "in_review"


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"body": ""}, 422, "Enter the wording"),
        ({"body": "   \r\n  "}, 422, "Enter the wording"),
        ({"body": None}, 422, "Enter the wording"),
        ({"body": "x" * 20_001}, 422, "Wording must be 20,000 characters or fewer"),
        ({"change_note": ""}, 422, "Say what changed in this version"),
        ({"change_note": "  "}, 422, "Say what changed in this version"),
        ({"change_note": "n" * 501}, 422, "What changed must be 500 characters or fewer"),
        ({"based_on": "abc"}, 422, "Reload the page and try again"),
        ({"based_on": "9" * 5000}, 422, "Reload the page and try again"),
        ({"body": V2}, 422, "This wording is the same as v2"),
        ({"body": V2.replace("\n", "\r\n") + "\r\n"}, 422, "This wording is the same as v2"),
    ],
)
def test_publish_bad_input(client, people, open_ask, data, status, message):
    before = snapshot()
    response = _post(login_as(client, people.secretariat), open_ask, **data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html and "govuk-error-summary" in html
    assert snapshot() == before


def test_preview_bad_input_stores_nothing(client, people, open_ask):
    before = snapshot()
    response = _post(login_as(client, people.secretariat), open_ask, action="preview", body="")
    assert response.status_code == 422
    assert "Enter the wording" in response.get_data(as_text=True)
    assert snapshot() == before


@pytest.mark.parametrize("state", [AskState.AGREED, AskState.PUBLISHED])
def test_publish_refused_once_agreed(client, people, open_ask, state):
    open_ask.state = state
    db.session.commit()
    before = snapshot()
    login_as(client, people.secretariat)
    page = client.get(f"/asks/{open_ask.id}/versions/new").get_data(as_text=True)
    assert "You cannot publish a new version" in page and "Publish version" not in page
    shown = client.get(f"/asks/{open_ask.id}").get_data(as_text=True)
    assert "Write a new version" not in shown
    response = _post(client, open_ask)
    assert response.status_code == 422
    assert f"The wording of this ask has been {state.label.lower()}" in response.get_data(
        as_text=True
    )
    assert snapshot() == before


def test_publish_on_top_of_an_unseen_version(client, people, open_ask):
    """A writer who opened the form at v2 cannot silently overwrite a v3 published since."""
    login_as(client, people.secretariat)
    assert _post(client, open_ask, based_on="2", body="Someone else's v3.").status_code == 303
    before = snapshot()
    response = _post(client, open_ask, based_on="2")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else published a version at the same time." in html
    assert "Check the latest version and try again." in html
    based_on = select_one(html, 'input[type="hidden"][name="based_on"]')
    assert based_on["value"] == "3"  # now compared with v3
    assert "Changes from v3" in html
    assert snapshot() == before


@pytest.mark.database
def test_publish_race_on_the_version_number(client, people, open_ask, monkeypatch):
    """Two publishes computing the same number: the unique constraint refuses the second.

    Publishing takes the ask's lock, which serialises publishers (and, on SQLite, would keep
    the competitor below from writing at all): the competitor stands for a writer that does
    not take it, so the lock is left out here to show the constraint still holds."""
    monkeypatch.setattr("consult.asks.services.lock_ask", lambda ask_id: None)
    table = DraftVersion.__table__

    def competitor(mapper, connection, target):
        # Another request commits the same number just before this one inserts.
        with db.engine.connect() as other:
            other.execute(
                table.insert().values(
                    ask_id=target.ask_id,
                    number=target.number,
                    body="Competing wording.",
                    change_note="Race",
                    author_id=people.secretariat.id,
                )
            )
            other.commit()

    login_as(client, people.secretariat)
    event.listen(DraftVersion, "before_insert", competitor, once=True)
    try:
        response = _post(client, open_ask, based_on="2")
    finally:
        if event.contains(DraftVersion, "before_insert", competitor):
            event.remove(DraftVersion, "before_insert", competitor)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else published a version at the same time." in html
    assert "Publish version 4" in html  # the form now builds on the winner's v3
    state = snapshot()
    assert [(v.number, v.body) for v in state["versions"] if v.ask_id == open_ask.id][-1] == (
        3,
        "Competing wording.",
    )
    assert audit_events("version.publish") == []
