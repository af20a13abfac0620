"""Admin access beyond the route x role matrix (tests/test_access.py, which checks that
every admin route is for the secretariat only and that a refusal changes nothing): the
navigation, unknown ids and pages, and database changes refused for unknown ids."""

from __future__ import annotations

import pytest

from tests.helpers import database_rows, login_as
from tests.html import select


def test_admin_links_are_shown_only_to_the_secretariat(client, cast):
    """The navigation offers the admin pages to the secretariat only."""
    page = login_as(client, cast.secretariat).get("/admin/people")
    for url in ("/admin/organisations", "/admin/people", "/admin/audit"):
        assert select(page, f'a[href="{url}"]'), url
    response = login_as(client, cast.member).get("/admin/people")
    assert response.status_code == 403
    assert select(response, 'a[href^="/admin/"]') == []


@pytest.mark.database
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
        "/admin/audit?before=0",
        "/admin/audit?before=abc",
        "/admin/audit?after=%C2%B2",
        "/admin/audit?before=99999999999999999999",
        "/admin/audit?after=2147483648",
        "/admin/people?page=99999999999999999999",
        "/admin/organisations?page=-1",
    ],
)
def test_unknown_ids_and_pages_get_404(client, cast, url):
    assert login_as(client, cast.secretariat).get(url).status_code == 404


@pytest.mark.database
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
    before = database_rows()
    assert login_as(client, cast.secretariat).post(url, data={"role": "member"}).status_code == 404
    assert database_rows() == before


def test_non_numeric_ids_are_not_routes(client, cast):
    login_as(client, cast.secretariat)
    assert client.get("/admin/organisations/abc").status_code == 404
    assert client.get("/admin/people/1.5").status_code == 404
