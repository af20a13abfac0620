"""Reading an ask: the page and its fragment, paragraphs and anchors, history, comparisons."""

from __future__ import annotations

import pytest

from consult import text
from consult.extensions import db
from tests import factories
from tests.helpers import V2, XSS_WORDING, login_as
from tests.html import (
    assert_no_active_html,
    dom_ids,
    select,
    select_one,
    text_of,
    texts,
    top_level,
)


def _anchors(html: str) -> list[str]:
    return dom_ids(html, "div.app-paragraph[id]")


def test_show_page(client, people, open_ask):
    """The ask page shows the breadcrumbs, title, theme, state, version details and wording."""
    response = login_as(client, people.member).get(f"/asks/{open_ask.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert text_of(html, "title") == "Declare a climate emergency – Consult"
    assert len(select(html, "h1")) == 1
    assert text_of(html, "h1.govuk-heading-l") == "Declare a climate emergency"
    assert "Manifesto asks" in html
    assert "Drafting" in html  # state tag
    crumbs = select(html, ".govuk-breadcrumbs li")
    assert [text_of(crumb) for crumb in crumbs] == [
        "Dashboard",
        "Net zero by 2040",
        "Declare a climate emergency",
    ]
    assert [a["href"] for a in select(html, ".govuk-breadcrumbs a")] == [
        "/",
        f"/consultations/{open_ask.consultation_id}",
    ]
    assert "v2 (current)" in html
    assert "Sam Secretariat" in html and "Version 2" in html  # author and change note
    assert select(html, f'a[href="/asks/{open_ask.id}/versions"]')
    assert select(html, f'a[href="/asks/{open_ask.id}/compare?from=1&to=2"]')
    assert "Compare with previous version" in html
    assert "The council must act now." in html
    assert "should" not in html  # only the current wording


def test_paragraph_anchors(client, people, open_ask):
    """Each paragraph is a linkable block; unchanged paragraphs keep their anchor across versions."""
    login_as(client, people.member)
    current = client.get(f"/asks/{open_ask.id}").get_data(as_text=True)
    first = client.get(f"/asks/{open_ask.id}/versions/1").get_data(as_text=True)
    v1_anchors, v2_anchors = _anchors(first), _anchors(current)
    assert v2_anchors == [p.anchor for p in text.paragraphs(V2)]
    assert len(v2_anchors) == 3
    # The first paragraph changed; the second and the list did not.
    assert v1_anchors[0] != v2_anchors[0]
    assert v1_anchors[1:] == v2_anchors[1:]
    for number, anchor in enumerate(v2_anchors, start=1):
        link = select_one(current, f'#{anchor} a[href="#{anchor}"]')
        assert text_of(link) == f"Link to this paragraph (paragraph {number})"
        assert text_of(link, ".govuk-visually-hidden") == f"(paragraph {number})"


def test_fragment_for_htmx(client, people, open_ask):
    """An htmx request gets only the wording region; a normal one the whole page."""
    login_as(client, people.member)
    full = client.get(f"/asks/{open_ask.id}")
    fragment = client.get(f"/asks/{open_ask.id}", headers={"HX-Request": "true"})
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    full_html, part = full.get_data(as_text=True), fragment.get_data(as_text=True)
    assert select(full_html, "html") and select(full_html, "main div#wording")
    [region] = top_level(part)  # the response is the region it replaces
    assert region.name == "div" and region["id"] == "wording"
    assert not select(part, "html, h1, .govuk-breadcrumbs")
    assert _anchors(part) == _anchors(full_html)
    assert "The council must act now." in part
    # A history-restore request is a full page again.
    restore = client.get(
        f"/asks/{open_ask.id}", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert select(restore, "html")


def test_no_version_yet(client, people):
    """An ask the secretariat has not published yet: the secretariat reads that it has no
    version; members and observers are refused it (it is not listed to them either)."""
    ask = factories.ask(factories.consultation(), title="Empty ask", versions=())
    db.session.commit()
    response = login_as(client, people.secretariat).get(f"/asks/{ask.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The secretariat has not published a draft of this ask yet." in html
    assert "Compare with previous version" not in html
    versions = client.get(f"/asks/{ask.id}/versions").get_data(as_text=True)
    assert "The secretariat has not published a draft of this ask yet." in versions
    for person in (people.member, people.observer):
        assert login_as(client, person).get(f"/asks/{ask.id}").status_code == 403
        assert client.get(f"/asks/{ask.id}/versions").status_code == 403


def test_one_version_has_no_compare_link(client, people):
    ask = factories.ask(factories.consultation(), versions=("Only one.",))
    db.session.commit()
    html = login_as(client, people.member).get(f"/asks/{ask.id}").get_data(as_text=True)
    assert "Only one." in html and "v1 (current)" in html
    assert "Compare with previous version" not in html


def test_markdown_payloads_are_not_rendered(client, people):
    """Script, event handlers, javascript: links and htmx attributes in the wording stay text."""
    ask = factories.ask(
        factories.consultation(),
        title="<script>alert('title')</script>",
        theme="<b>theme</b>",
        versions=(XSS_WORDING, XSS_WORDING + "\n\nMore."),
        author=people.secretariat,
    )
    db.session.commit()
    login_as(client, people.member)
    for url in (
        f"/asks/{ask.id}",
        f"/asks/{ask.id}/versions/1",
        f"/asks/{ask.id}/versions",
        f"/asks/{ask.id}/compare?from=1&to=2",
    ):
        html = client.get(url).get_data(as_text=True)
        assert_no_active_html(html)
        assert "<script>alert('title')</script>" in text_of(html), url  # shown as text
    html = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert not select(html, "main b")
    assert "<b>theme</b>" in text_of(html)
    assert "<script>alert('wording')</script>" in text_of(html, "#wording")  # shown as text
    fragment = client.get(f"/asks/{ask.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert_no_active_html(fragment)


def test_versions_list(client, people):
    ask = factories.ask(
        factories.consultation(), versions=("One.", "Two.", "Three."), author=people.secretariat
    )
    db.session.commit()
    response = login_as(client, people.observer).get(f"/asks/{ask.id}/versions")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = dom_ids(html, "tr.govuk-table__row[id^=version-]")
    assert rows == ["version-3", "version-2", "version-1"]  # newest first
    for number in (1, 2, 3):
        assert select(html, f'a[href="/asks/{ask.id}/versions/{number}"]')
        assert f"Version {number}" in html  # change note
    assert html.count("Sam Secretariat") == 3
    # The compare form defaults to previous -> current and submits to asks.compare.
    form = select_one(html, 'form:has(select[name="from"])')
    assert form["action"] == f"/asks/{ask.id}/compare" and form["method"] == "get"
    assert select_one(form, 'select[name="from"] option[selected]')["value"] == "2"
    assert select_one(form, 'select[name="to"] option[selected]')["value"] == "3"


@pytest.mark.database
def test_versions_list_is_paginated(client, people):
    ask = factories.ask(
        factories.consultation(),
        versions=tuple(f"Wording {n}." for n in range(1, 56)),
        author=people.secretariat,
    )
    db.session.commit()
    login_as(client, people.member)
    first = client.get(f"/asks/{ask.id}/versions").get_data(as_text=True)
    second = client.get(f"/asks/{ask.id}/versions?page=2").get_data(as_text=True)
    assert len(select(first, "tr[id^=version-]")) == 50
    assert select(first, "#version-55") and not select(first, "#version-5")
    assert dom_ids(second, "tr[id^=version-]") == [f"version-{n}" for n in (5, 4, 3, 2, 1)]
    assert select(first, "nav.govuk-pagination")


def test_version_page(client, people, open_ask):
    login_as(client, people.member)
    old = client.get(f"/asks/{open_ask.id}/versions/1")
    assert old.status_code == 200
    html = old.get_data(as_text=True)
    assert "This is not the latest version." in html
    current_link = [
        a for a in select(html, "main a") if text_of(a) == "Read the current version (v2)"
    ]
    assert [a["href"] for a in current_link] == [f"/asks/{open_ask.id}"]
    assert "The council should act." in html and "must act now" not in html
    assert text_of(html, "title") == "v1 – Declare a climate emergency – Consult"
    current = client.get(f"/asks/{open_ask.id}/versions/2").get_data(as_text=True)
    assert "This is not the latest version." not in current
    assert "The council must act now." in current


def test_compare(client, people, open_ask):
    """The comparison marks removed and added words and counts them."""
    response = login_as(client, people.member).get(f"/asks/{open_ask.id}/compare?from=1&to=2")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Changes from v1 to v2" in html
    assert "1 word removed, 2 words added" in html
    diff = select_one(html, "div.app-diff#diff")
    # Screen readers hear what changed: the markers are visually hidden text.
    assert texts(diff, "del") == ["[removed: should]"]
    assert texts(diff, "ins") == ["[added: must]", "[added: now]"]
    assert texts(diff, "del .govuk-visually-hidden, ins .govuk-visually-hidden") == [
        "[removed:",
        "]",
        "[added:",
        "]",
        "[added:",
        "]",
    ]
    # Unchanged paragraphs appear once, unmarked; the list keeps its line break.
    unchanged = [p for p in select(diff, "p.govuk-body") if not select(p, "del, ins")]
    assert [text_of(p) for p in unchanged].count("Every party commits to net zero.") == 1
    homes = [p for p in unchanged if "Homes" in text_of(p)]
    assert len(homes) == 1 and select(homes[0], "br")
    assert "- Homes\n- Transport" in homes[0].get_text()
    assert "Key:" in html


def test_compare_backwards(client, people, open_ask):
    html = (
        login_as(client, people.member)
        .get(f"/asks/{open_ask.id}/compare?from=2&to=1")
        .get_data(as_text=True)
    )
    assert "Changes from v2 to v1" in html
    assert "2 words removed, 1 word added" in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Choose the two versions to compare."),
        ("?from=1", "Choose the two versions to compare."),
        ("?from=abc&to=2", "Choose the two versions to compare."),
        ("?from=-1&to=2", "Choose the two versions to compare."),
        ("?from=1.5&to=2", "Choose the two versions to compare."),
        ("?from=%C2%B2&to=2", "Choose the two versions to compare."),  # a superscript two
        ("?from=99999999999999999999&to=2", "Choose the two versions to compare."),
        ("?from=2&to=2", "Choose two different versions to compare."),
    ],
)
def test_compare_bad_parameters(client, people, open_ask, query, message):
    """Bad version numbers get a clear 400 page with the compare form, never a 500."""
    response = login_as(client, people.member).get(f"/asks/{open_ask.id}/compare{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert select(html, ".govuk-error-summary") and select(html, 'select[name="from"]')
    assert text_of(html, "title").startswith("Error: Compare versions")


@pytest.mark.parametrize("query", ["?from=1&to=3", "?from=0&to=2", "?from=7&to=8"])
def test_compare_unknown_version(client, people, open_ask, query):
    assert (
        login_as(client, people.member).get(f"/asks/{open_ask.id}/compare{query}").status_code
        == 404
    )


def test_compare_with_one_version(client, people):
    ask = factories.ask(factories.consultation(), versions=("Only.",))
    db.session.commit()
    response = login_as(client, people.member).get(f"/asks/{ask.id}/compare?from=1&to=2")
    assert response.status_code == 400
    assert "fewer than two versions" in response.get_data(as_text=True)
