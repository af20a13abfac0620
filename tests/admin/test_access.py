"""Route x role matrix: every admin route is for the secretariat only.

Anonymous visitors are sent to sign in, members and observers (of any organisation) get
403, and in neither case does anything in the database or the outbox change.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from consult.extensions import db
from consult.models import AccountToken, AuditEvent, Organisation, OrganisationKind, Role, User
from tests import factories
from tests.admin.conftest import is_sign_in_redirect
from tests.conftest import login_as


@pytest.fixture
def targets(cast):
    """Objects for the routes to act on."""
    dormant = factories.organisation("Dormant Trust", kind=OrganisationKind.NGO, active=False)
    targets = SimpleNamespace(
        org=cast.member_org,
        dormant=dormant,
        person=cast.other_member,
        invited=factories.user(
            Role.MEMBER,
            cast.member_org,
            name="Ivy Invited",
            email="ivy@councils.example",
            password=None,
        ),
        deactivated=factories.user(
            Role.MEMBER,
            cast.other_org,
            name="Dee Deactivated",
            email="dee@research.example",
            active=False,
        ),
    )
    db.session.commit()
    return targets


# name: (method, url for the targets, form data (or a function of the targets),
#        status the secretariat gets)
ROUTES = {
    "admin.organisations": ("GET", lambda t: "/admin/organisations", None, 200),
    "admin.create_organisation:GET": ("GET", lambda t: "/admin/organisations/new", None, 200),
    "admin.create_organisation:POST": (
        "POST",
        lambda t: "/admin/organisations/new",
        {"name": "New Organisation", "kind": "ngo", "website": "https://new.example"},
        303,
    ),
    "admin.organisation": ("GET", lambda t: f"/admin/organisations/{t.org.id}", None, 200),
    "admin.edit_organisation:GET": (
        "GET",
        lambda t: f"/admin/organisations/{t.org.id}/edit",
        None,
        200,
    ),
    "admin.edit_organisation:POST": (
        "POST",
        lambda t: f"/admin/organisations/{t.org.id}/edit",
        {"name": "Renamed Network", "kind": "research", "website": ""},
        303,
    ),
    "admin.deactivate_organisation:GET": (
        "GET",
        lambda t: f"/admin/organisations/{t.org.id}/deactivate",
        None,
        200,
    ),
    "admin.deactivate_organisation:POST": (
        "POST",
        lambda t: f"/admin/organisations/{t.org.id}/deactivate",
        {},
        303,
    ),
    "admin.reactivate_organisation": (
        "POST",
        lambda t: f"/admin/organisations/{t.dormant.id}/reactivate",
        {},
        303,
    ),
    "admin.people": ("GET", lambda t: "/admin/people", None, 200),
    "admin.invite_person:GET": ("GET", lambda t: "/admin/people/invite", None, 200),
    "admin.invite_person:POST": (
        "POST",
        lambda t: "/admin/people/invite",
        lambda t: {
            "email": "new.person@councils.example",
            "name": "New Person",
            "organisation_id": str(t.org.id),
            "role": "member",
        },
        303,
    ),
    "admin.person": ("GET", lambda t: f"/admin/people/{t.person.id}", None, 200),
    "admin.resend_invitation": (
        "POST",
        lambda t: f"/admin/people/{t.invited.id}/resend-invitation",
        {},
        303,
    ),
    "admin.change_role:GET": ("GET", lambda t: f"/admin/people/{t.person.id}/role", None, 200),
    "admin.change_role:POST": (
        "POST",
        lambda t: f"/admin/people/{t.person.id}/role",
        {"role": "observer"},
        303,
    ),
    "admin.deactivate_person:GET": (
        "GET",
        lambda t: f"/admin/people/{t.person.id}/deactivate",
        None,
        200,
    ),
    "admin.deactivate_person:POST": (
        "POST",
        lambda t: f"/admin/people/{t.person.id}/deactivate",
        {},
        303,
    ),
    "admin.reactivate_person": (
        "POST",
        lambda t: f"/admin/people/{t.deactivated.id}/reactivate",
        {},
        303,
    ),
    "admin.audit_log": ("GET", lambda t: "/admin/audit", None, 200),
}


def database_state() -> dict:
    """Everything an admin route could change, as plain values."""

    def rows(model, *columns):
        return sorted(
            tuple(getattr(row, c) for c in columns) for row in db.session.scalars(select(model))
        )

    db.session.expire_all()
    return {
        "organisations": rows(Organisation, "id", "name", "kind", "website", "active"),
        "people": rows(
            User,
            "id",
            "email",
            "name",
            "role",
            "active",
            "session_token",
            "organisation_id",
            "password_hash",
        ),
        "tokens": rows(AccountToken, "id", "token_hash", "used_at"),
        "audit": rows(AuditEvent, "id", "action"),
    }


def request(client, name, targets):
    method, url, data, _ = ROUTES[name]
    if method == "GET":
        return client.get(url(targets))
    return client.post(url(targets), data=data(targets) if callable(data) else data)


def test_the_matrix_covers_every_admin_route(app):
    """A new admin route must be added to ROUTES (and so to these tests)."""
    registered = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("admin."):
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            if len(methods) == 1:
                registered.add(rule.endpoint)
            else:
                registered.update(f"{rule.endpoint}:{m}" for m in methods)
    assert registered == set(ROUTES)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_sign_in(client, targets, outbox, name):
    before = database_state()
    response = request(login_as(client, None), name, targets)
    assert is_sign_in_redirect(response)
    assert database_state() == before
    assert outbox() == []


@pytest.mark.parametrize("role", ["member", "observer", "other_member"])
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_members_and_observers_are_refused(client, cast, targets, outbox, name, role):
    before = database_state()
    response = request(login_as(client, cast.by_role(role)), name, targets)
    assert response.status_code == 403
    assert "You cannot do that" in response.get_data(as_text=True)
    assert database_state() == before
    assert outbox() == []


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_the_secretariat_may_use_every_route(client, cast, targets, name):
    before = database_state()
    response = request(login_as(client, cast.secretariat), name, targets)
    method, _, _, expected = ROUTES[name]
    assert response.status_code == expected
    if method == "POST":
        assert response.headers["Location"].startswith("/admin/")
        after = database_state()
        assert after != before
        assert len(after["audit"]) > len(before["audit"]), "every change is audited"
    else:
        assert '<h1 class="govuk-heading-l">' in response.get_data(as_text=True)


def test_admin_links_are_shown_only_to_the_secretariat(client, cast):
    """The navigation offers the admin pages to the secretariat only."""
    page = login_as(client, cast.secretariat).get("/admin/people").get_data(as_text=True)
    for url in ("/admin/organisations", "/admin/people", "/admin/audit"):
        assert f'href="{url}"' in page
    response = login_as(client, cast.member).get("/admin/people")
    assert response.status_code == 403
    assert 'href="/admin/audit"' not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/organisations/999999",
        "/admin/organisations/999999/edit",
        "/admin/organisations/999999/deactivate",
        "/admin/people/999999",
        "/admin/people/999999/role",
        "/admin/people/999999/deactivate",
        "/admin/organisations/0",
        # Too large for the database's integer: still a 404, not a database error.
        "/admin/people/99999999999999999999",
        "/admin/organisations/2147483648/edit",
        # Pages that cannot exist.
        "/admin/audit?page=0",
        "/admin/audit?page=abc",
        "/admin/audit?page=%C2%B2",
        "/admin/people?page=99999999999999999999",
        "/admin/organisations?page=-1",
    ],
)
def test_unknown_ids_and_pages_get_404(client, cast, url):
    assert login_as(client, cast.secretariat).get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/admin/organisations/999999/edit",
        "/admin/organisations/999999/deactivate",
        "/admin/organisations/999999/reactivate",
        "/admin/people/999999/resend-invitation",
        "/admin/people/999999/role",
        "/admin/people/999999/deactivate",
        "/admin/people/999999/reactivate",
    ],
)
def test_unknown_ids_get_404_on_post_and_nothing_changes(client, cast, url):
    before = database_state()
    assert login_as(client, cast.secretariat).post(url, data={"role": "member"}).status_code == 404
    assert database_state() == before


def test_non_numeric_ids_are_not_routes(client, cast):
    login_as(client, cast.secretariat)
    assert client.get("/admin/organisations/abc").status_code == 404
    assert client.get("/admin/people/1.5").status_code == 404
