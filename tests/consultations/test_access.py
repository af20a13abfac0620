"""Access to consultations that depends on their state (who may use each route is in the
route x role matrix, tests/test_access.py), what each role sees, and CSRF."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from consult.models import Consultation, utcnow
from tests import factories
from tests.helpers import ROLES, audit_events, consultation_count, login_as
from tests.helpers import consultation_form as form_data
from tests.html import text_of

SIGNED_IN = ("observer", "member", "other_member", "secretariat")


def _assert_sent_to_sign_in(response, path: str | None = None) -> None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/sign-in"
    if path is not None:
        assert parse_qs(location.query)["next"] == [path]


@pytest.mark.parametrize("role", ROLES)
def test_everyone_may_see_the_front_page(client, people, role):
    login_as(client, people.get(role))
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if role == "anonymous":
        assert "Published manifestos" in html
        assert "Open consultations" not in html
    else:
        assert text_of(html, "h1") == "Open consultations"


def _consultation(state: str) -> Consultation:
    if state == "upcoming":
        return factories.consultation(title="Upcoming round", opens_in_days=3, closes_in_days=20)
    if state == "open":
        return factories.consultation(title="Open round")
    if state == "closed":
        return factories.consultation(title="Closed round", opens_in_days=-20, closes_in_days=-1)
    return factories.consultation(
        title="Published round", opens_in_days=-20, closes_in_days=-5, published_at=utcnow()
    )


# Who may read a consultation in each state: True = 200, False = refused.
# (An open consultation is the route x role matrix's.)
READERS = {
    "upcoming": {"secretariat"},
    "closed": set(SIGNED_IN),
    "published": set(ROLES),
}


@pytest.mark.parametrize("state", list(READERS))
@pytest.mark.parametrize("role", ROLES)
def test_reading_a_consultation_depends_on_its_state_and_the_role(client, people, role, state):
    consultation = _consultation(state)
    login_as(client, people.get(role))
    path = f"/consultations/{consultation.id}"
    response = client.get(path)
    if role in READERS[state]:
        assert response.status_code == 200
        assert consultation.title in response.get_data(as_text=True)
    elif role == "anonymous":
        _assert_sent_to_sign_in(response, path)
    else:
        assert response.status_code == 403
        assert consultation.title not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_a_missing_consultation_is_not_found(client, people, role):
    login_as(client, people.get(role))
    assert client.get("/consultations/999").status_code == 404


@pytest.mark.database
@pytest.mark.parametrize(
    "path",
    [
        "/consultations/2147483647",
        "/consultations/2147483648",
        "/consultations/99999999999999999999/edit",
    ],
)
def test_ids_beyond_the_database_integer_are_not_found(client, people, path):
    """The largest id is looked up; a larger one is a 404 by routing, never a database error."""
    assert login_as(client, people.secretariat).get(path).status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_secretariat_controls_are_shown_only_to_the_secretariat(client, people, role):
    consultation = factories.consultation(title="Published round", published_at=utcnow())
    factories.ask(consultation, title="First ask")
    factories.ask(consultation, title="Second ask")
    login_as(client, people.get(role))
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    controls = [
        "Edit consultation",
        "Add an ask",
        "Move up",
        "Move down",
        "/move",
        f"/consultations/{consultation.id}/edit",
    ]
    for control in controls:
        assert (control in html) == (role == "secretariat"), control
    assert "First ask" in html and "Second ask" in html


@pytest.mark.parametrize("role", ROLES)
def test_the_manage_link_is_shown_only_to_the_secretariat(client, people, role):
    login_as(client, people.get(role))
    html = client.get("/").get_data(as_text=True)
    assert ("Manage consultations" in html) == (role == "secretariat")


def test_a_post_without_a_csrf_token_is_refused_and_stores_nothing(app_config, request):
    """With CSRF protection on, as in production, even the secretariat needs the token."""
    app_config["WTF_CSRF_ENABLED"] = True
    client = request.getfixturevalue("client")
    people = request.getfixturevalue("people")
    login_as(client, people.secretariat)
    response = client.post("/consultations/new", data=form_data())
    assert response.status_code == 400
    assert consultation_count() == 0
    assert audit_events() == []
