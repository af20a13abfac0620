"""With CSRF protection on (as in production), every asks form carries a token and needs it."""

from __future__ import annotations

import pytest

from tests.helpers import asks_snapshot as snapshot
from tests.helpers import login_as
from tests.html import select


@pytest.fixture(autouse=True)
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def _token(html: str) -> str:
    return select(html, 'input[name="csrf_token"]')[0]["value"]  # one per form, the same


@pytest.mark.parametrize(
    "path, data",
    [
        ("/asks/{id}/edit", {"title": "Renamed"}),
        ("/asks/{id}/move", {"direction": "down"}),
        ("/asks/{id}/versions/new", {"body": "New.", "change_note": "x", "action": "publish"}),
        ("/consultations/{consultation_id}/asks/new", {"title": "New ask"}),
    ],
)
def test_posts_without_a_token_are_refused(client, people, open_ask, path, data):
    before = snapshot()
    response = login_as(client, people.secretariat).post(
        path.format(id=open_ask.id, consultation_id=open_ask.consultation_id), data=data
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_publish_with_the_form_token(client, people, open_ask):
    login_as(client, people.secretariat)
    html = client.get(f"/asks/{open_ask.id}/versions/new").get_data(as_text=True)
    response = client.post(
        f"/asks/{open_ask.id}/versions/new",
        data={
            "csrf_token": _token(html),
            "body": "New.",
            "change_note": "x",
            "based_on": "2",
            "action": "publish",
        },
    )
    assert response.status_code == 303
    assert len(snapshot()["versions"]) == 3
