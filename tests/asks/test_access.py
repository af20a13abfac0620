"""Access to asks that depends on the consultation's state (who may use each route in an
open consultation is in the route x role matrix, tests/test_access.py), and which controls
each role sees."""

from __future__ import annotations

import pytest

from consult.extensions import db
from tests import factories
from tests.helpers import ROLES, V2, login_as, published_consultation
from tests.helpers import asks_snapshot as snapshot
from tests.html import select, text_of

READ_ROUTES = {
    "show": lambda ask: f"/asks/{ask.id}",
    "versions": lambda ask: f"/asks/{ask.id}/versions",
    "version": lambda ask: f"/asks/{ask.id}/versions/1",
    "compare": lambda ask: f"/asks/{ask.id}/compare?from=1&to=2",
}

# (method, url, form data, status for the secretariat)
WRITE_ROUTES = {
    "create form": ("GET", lambda a: f"/consultations/{a.consultation_id}/asks/new", None, 200),
    "create": (
        "POST",
        lambda a: f"/consultations/{a.consultation_id}/asks/new",
        {"title": "A new ask", "theme": ""},
        303,
    ),
    "edit form": ("GET", lambda a: f"/asks/{a.id}/edit", None, 200),
    "edit": ("POST", lambda a: f"/asks/{a.id}/edit", {"title": "Renamed", "theme": "T"}, 303),
    "move": ("POST", lambda a: f"/asks/{a.id}/move", {"direction": "up"}, 303),
    "new version form": ("GET", lambda a: f"/asks/{a.id}/versions/new", None, 200),
    "preview": (
        "POST",
        lambda a: f"/asks/{a.id}/versions/new",
        {"body": V2 + "\n\nMore.", "change_note": "More", "action": "preview"},
        200,
    ),
    "publish": (
        "POST",
        lambda a: f"/asks/{a.id}/versions/new",
        {"body": V2 + "\n\nMore.", "change_note": "More", "action": "publish"},
        303,
    ),
}


def _is_sign_in_redirect(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


def _ask_in(consultation, people):
    ask = factories.ask(consultation, versions=("One.", V2), author=people.secretariat)
    factories.ask(consultation, versions=("Other.",), author=people.secretariat)
    db.session.commit()
    return ask


@pytest.mark.parametrize("route", READ_ROUTES)
@pytest.mark.parametrize("role", ROLES)
def test_read_upcoming_consultation(client, people, role, route):
    """Before a consultation opens, only the secretariat reads its asks."""
    ask = _ask_in(factories.consultation(opens_in_days=3, closes_in_days=10), people)
    response = login_as(client, people.get(role)).get(READ_ROUTES[route](ask))
    if role == "anonymous":
        assert _is_sign_in_redirect(response)
    elif role == "secretariat":
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert ask.title not in response.get_data(as_text=True)


@pytest.mark.parametrize("route", READ_ROUTES)
@pytest.mark.parametrize("role", ROLES)
def test_read_published_consultation(client, people, role, route):
    """Everyone, signed in or not, reads what the secretariat has published."""
    ask = _ask_in(published_consultation(), people)
    response = login_as(client, people.get(role)).get(READ_ROUTES[route](ask))
    assert response.status_code == 200
    assert ask.title in response.get_data(as_text=True)


@pytest.mark.parametrize("route", WRITE_ROUTES)
@pytest.mark.parametrize("role", ("anonymous", "secretariat"))
def test_write_routes(client, people, role, route):
    """Publishing a consultation lets everyone read it, but only the secretariat creates,
    edits, moves asks and writes versions; a refusal changes nothing."""
    consultation = published_consultation()  # readable by everyone: writing is still refused
    factories.ask(consultation, versions=("First.",), author=people.secretariat)
    ask = _ask_in(consultation, people)
    method, url, data, allowed_status = WRITE_ROUTES[route]
    before = snapshot()
    login_as(client, people.get(role))
    response = client.open(url(ask), method=method, data=data)
    if role == "secretariat":
        assert response.status_code == allowed_status, response.get_data(as_text=True)
        if method == "POST" and route != "preview":
            assert snapshot() != before
        else:
            assert snapshot() == before
        return
    if role == "anonymous":
        assert _is_sign_in_redirect(response)
    else:
        assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("role", ("observer", "member", "secretariat"))
def test_controls_shown_only_to_the_secretariat(client, people, open_ask, role):
    """Members and observers do not see the secretariat's buttons on the ask page."""
    html = login_as(client, people.get(role)).get(f"/asks/{open_ask.id}").get_data(as_text=True)
    for control in ("Write a new version", "Edit ask"):
        assert (control in text_of(html, "main")) == (role == "secretariat")
    new_version = f'a[href="/asks/{open_ask.id}/versions/new"]'
    assert bool(select(html, new_version)) == (role == "secretariat")


@pytest.mark.parametrize(
    "url",
    [
        "/asks/999",
        "/asks/999/versions",
        "/asks/999/versions/1",
        "/asks/999/compare?from=1&to=2",
        "/asks/999/edit",
        "/asks/999/versions/new",
        "/consultations/999/asks/new",
    ],
)
def test_unknown_ask_is_404(client, people, url):
    assert login_as(client, people.secretariat).get(url).status_code == 404


def test_unknown_version_is_404(client, people, open_ask):
    assert login_as(client, people.member).get(f"/asks/{open_ask.id}/versions/3").status_code == 404


@pytest.mark.database
@pytest.mark.parametrize(
    "path",
    [
        "/asks/99999999999999999999",
        "/asks/2147483648/versions",
        "/asks/{id}/versions/99999999999",
        "/consultations/99999999999/asks/new",
    ],
)
def test_out_of_range_ids_are_404(client, people, open_ask, path):
    """Numbers beyond PostgreSQL's integer range are simply not found (never a 500)."""
    response = login_as(client, people.secretariat).get(path.format(id=open_ask.id))
    assert response.status_code == 404
    assert (
        login_as(client, people.secretariat)
        .post("/asks/99999999999999/move", data={"direction": "up"})
        .status_code
        == 404
    )
