"""Every list paginated by number: 404 for a page that cannot exist, links that keep the
filters, page 2. (The audit log goes on from an event instead, however long it grows: its
pages are tested in tests/admin/test_audit_log.py.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from consult.extensions import db
from consult.models import Role, User, utcnow
from tests import factories
from tests.helpers import login_as
from tests.html import select

# Depends on the database engine (or Redis): also runs with --backend=postgres.
pytestmark = pytest.mark.database


@dataclass
class Listing:
    """A paginated page: who reads it, how many rows a page holds, and how to fill it."""

    role: Role | None  # None: anonymous
    per_page: int
    dom_id: str  # rows carry id="<dom_id>-<n>"
    fill: Callable[[int, User | None], tuple[str, set[str]]]  # n rows -> (url, their DOM ids)


def published_consultations(n: int, reader: User | None) -> tuple[str, set[str]]:
    items = [
        factories.consultation(
            title=f"Published {i}", opens_in_days=-30, closes_in_days=-10, published_at=utcnow()
        )
        for i in range(n)
    ]
    return "/", {f"consultation-{c.id}" for c in items}


def all_consultations(n: int, reader: User | None) -> tuple[str, set[str]]:
    now = utcnow()
    items = [
        factories.consultation(title=f"Round {i}", created_at=now - timedelta(hours=i))
        for i in range(n)
    ]
    return "/consultations", {f"consultation-{c.id}" for c in items}


def ask_versions(n: int, reader: User | None) -> tuple[str, set[str]]:
    ask = factories.ask(factories.consultation(), versions=tuple(f"Wording {i}." for i in range(n)))
    return f"/asks/{ask.id}/versions", {f"version-{number}" for number in range(1, n + 1)}


def organisations(n: int, reader: User | None) -> tuple[str, set[str]]:
    items = [factories.organisation(f"Bulk organisation {i:02d}") for i in range(n)]
    return "/admin/organisations", {f"organisation-{org.id}" for org in items}


def people(n: int, reader: User | None) -> tuple[str, set[str]]:
    org = factories.organisation("Bulk people")
    items = [factories.user(Role.OBSERVER, org, password=None) for _ in range(n)]
    return "/admin/people", {f"person-{person.id}" for person in items}


LISTINGS = {
    "consultations.index": Listing(None, 20, "consultation", published_consultations),
    "consultations.manage": Listing(Role.SECRETARIAT, 20, "consultation", all_consultations),
    "asks.versions": Listing(Role.MEMBER, 50, "version", ask_versions),
    "admin.organisations": Listing(Role.SECRETARIAT, 25, "organisation", organisations),
    "admin.people": Listing(Role.SECRETARIAT, 25, "person", people),
}


def open_listing(client, endpoint: str, rows: int) -> tuple[str, set[str]]:
    """Fill the listing with rows, sign in as its reader, and return its URL and row ids."""
    listing = LISTINGS[endpoint]
    reader = factories.user(listing.role) if listing.role is not None else None
    url, ids = listing.fill(rows, reader)
    db.session.commit()
    if reader is not None:
        login_as(client, reader)
    return url, ids


def row_ids(html: str, dom_id: str) -> set[str]:
    """The DOM ids of the listed rows (table rows or list items) on a page."""
    return {
        element["id"]
        for element in select(html, "tr[id], li[id]")
        if re.fullmatch(rf"{re.escape(dom_id)}-\d+", element["id"])
    }


def with_page(url: str, number: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}page={number}"


@pytest.mark.parametrize("endpoint", LISTINGS)
def test_page_two_shows_the_next_rows(client, endpoint):
    listing = LISTINGS[endpoint]
    url, ids = open_listing(client, endpoint, listing.per_page + 3)
    first = client.get(url)
    assert first.status_code == 200
    first_html = first.get_data(as_text=True)
    on_first = row_ids(first_html, listing.dom_id)
    assert len(on_first) == listing.per_page
    assert select(first_html, "nav.govuk-pagination")
    assert select(first_html, f'a[href="{with_page(url, 2)}"]')

    second = client.get(with_page(url, 2))
    assert second.status_code == 200
    second_html = second.get_data(as_text=True)
    on_second = row_ids(second_html, listing.dom_id)
    assert on_second and not on_first & on_second
    assert ids <= on_first | on_second
    assert select(second_html, f'a[href="{with_page(url, 1)}"]')  # previous
    assert client.get(with_page(url, 3)).status_code == 404  # past the last page


@pytest.mark.parametrize("endpoint", LISTINGS)
def test_one_page_has_no_pagination(client, endpoint):
    url, ids = open_listing(client, endpoint, 2)
    html = client.get(url).get_data(as_text=True)
    assert ids <= row_ids(html, LISTINGS[endpoint].dom_id)
    assert not select(html, "nav.govuk-pagination")


@pytest.mark.parametrize("page", ["abc", "0", "-1", str(10**12), "1.5", "%C2%B2", ""])
@pytest.mark.parametrize("endpoint", LISTINGS)
def test_a_page_that_cannot_exist_is_404(client, endpoint, page):
    url, _ = open_listing(client, endpoint, 1)
    assert client.get(url).status_code == 200
    assert client.get(f"{url}?page={page}").status_code == 404


def test_page_links_keep_the_filters(client):
    url, _ = open_listing(client, "admin.people", 0)
    kept = factories.organisation("Kept organisation")
    other = factories.organisation("Other organisation")
    for i in range(27):
        factories.user(Role.MEMBER, kept, name=f"Kept person {i:02d}", password=None)
    factories.user(Role.MEMBER, other, name="Filtered out", password=None)
    factories.user(Role.OBSERVER, kept, name="Wrong role", password=None)
    db.session.commit()
    filtered = f"{url}?organisation_id={kept.id}&role=member&status="
    first = client.get(filtered).get_data(as_text=True)
    # Blank filters are left out of the links; the others are kept.
    second_href = f"{url}?organisation_id={kept.id}&role=member&page=2"
    assert select(first, f'a[href="{second_href}"]')
    assert "Filtered out" not in first and "Wrong role" not in first
    second = client.get(second_href).get_data(as_text=True)
    assert len(row_ids(second, "person")) == 2
    assert "Kept person" in second
    assert "Filtered out" not in second and "Wrong role" not in second
    assert select(second, f'a[href="{url}?organisation_id={kept.id}&role=member&page=1"]')
