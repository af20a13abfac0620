"""Names are user-supplied: every admin page shows them escaped, never as markup."""

from __future__ import annotations

import pytest

from consult import audit
from consult.extensions import db
from consult.models import Role
from tests import factories
from tests.helpers import login_as
from tests.html import assert_no_active_html, select, text_of

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def villain(cast):
    """A person and an organisation whose names are HTML (e.g. set before validation existed,
    or by the person themselves when accepting an invitation)."""
    org = factories.organisation(f'Org {SCRIPT}<img src=x onerror="alert(2)">')
    person = factories.user(Role.MEMBER, org, name=SCRIPT, email="villain@example.org")
    audit.record(
        person,
        "user.accept_invitation",
        person,
        before={"name": "Nice name"},
        after={"name": person.name},
    )
    audit.record(cast.secretariat, "organisation.create", org, after={"name": org.name})
    db.session.commit()
    return person


def assert_escaped(html: str) -> None:
    """No element came from a name, and the name is shown as text (or as a field's value)."""
    assert_no_active_html(html)
    shown = text_of(html) + " ".join(field.get("value", "") for field in select(html, "input"))
    assert SCRIPT in shown


@pytest.mark.parametrize(
    "url",
    [
        "/admin/audit",
        "/admin/people",
        "/admin/organisations",
        "/admin/people/{person}",
        "/admin/people/{person}/role",
        "/admin/people/{person}/deactivate",
        "/admin/organisations/{org}",
        "/admin/organisations/{org}/edit",
        "/admin/organisations/{org}/deactivate",
        "/admin/people/invite?organisation_id={org}",
    ],
)
def test_names_are_escaped_on_every_page(client, cast, villain, url):
    response = login_as(client, cast.secretariat).get(
        url.format(person=villain.id, org=villain.organisation_id)
    )
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True))


def test_flash_messages_escape_names(client, cast, villain):
    login_as(client, cast.secretariat)
    response = client.post(f"/admin/people/{villain.id}/deactivate")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{SCRIPT} deactivated and signed out" in text_of(page, "main")
    assert_no_active_html(page)
    response = client.post(f"/admin/organisations/{villain.organisation_id}/deactivate")
    assert_escaped(client.get(response.headers["Location"]).get_data(as_text=True))


def test_the_csp_forbids_inline_scripts_on_admin_pages(client, cast):
    response = login_as(client, cast.secretariat).get("/admin/people")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not select(response, "script:not([src]), [style], style")
