"""Reading an ask: the page and its fragment, paragraphs and anchors, history, comparisons."""

from __future__ import annotations

import re

import pytest

from consult import text
from consult.extensions import db
from tests import factories
from tests.asks.conftest import V2
from tests.conftest import login_as
from tests.html import assert_no_active_html

XSS_WORDING = (
    "Safe opening paragraph.\n\n"
    "<script>alert('wording')</script>\n\n"
    "An image <img src=x onerror=alert(1)> in a paragraph.\n\n"
    'A [link](javascript:alert(1)) and <a href="javascript:alert(2)">raw</a>.\n\n'
    '<div hx-get="/evil" hx-trigger="load">htmx payload</div>'
)


def _anchors(html: str) -> list[str]:
    return re.findall(r'<div class="app-paragraph" id="(p-[0-9a-f]+(?:-\d+)?)">', html)


def test_show_page(client, people, open_ask):
    """The ask page shows the breadcrumbs, title, theme, state, version details and wording."""
    response = login_as(client, people.member).get(f"/asks/{open_ask.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<title>Declare a climate emergency – Consult</title>" in html
    assert html.count('<h1 class="govuk-heading-l">') == 1
    assert re.search(r'<h1 class="govuk-heading-l">Declare a climate emergency</h1>', html)
    assert "Manifesto asks" in html
    assert "Drafting" in html  # state tag
    crumbs = html[
        html.index("govuk-breadcrumbs") : html.index("</nav>", html.index("govuk-breadcrumbs"))
    ]
    assert 'href="/"' in crumbs and "Dashboard" in crumbs
    assert f'href="/consultations/{open_ask.consultation_id}"' in crumbs
    assert "Net zero by 2040" in crumbs and "Declare a climate emergency" in crumbs
    assert "v2 (current)" in html
    assert "Sam Secretariat" in html and "Version 2" in html  # author and change note
    assert f'href="/asks/{open_ask.id}/versions"' in html
    assert f'href="/asks/{open_ask.id}/compare?from=1&amp;to=2"' in html
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
        link = (
            f'<a class="govuk-link govuk-link--no-visited-state" href="#{anchor}">Link to this '
            f'paragraph<span class="govuk-visually-hidden"> (paragraph {number})</span></a>'
        )
        assert link in current


def test_fragment_for_htmx(client, people, open_ask):
    """An htmx request gets only the wording region; a normal one the whole page."""
    login_as(client, people.member)
    full = client.get(f"/asks/{open_ask.id}")
    fragment = client.get(f"/asks/{open_ask.id}", headers={"HX-Request": "true"})
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]
    full_html, part = full.get_data(as_text=True), fragment.get_data(as_text=True)
    assert "<html" in full_html and '<div id="wording">' in full_html
    assert part.strip().startswith('<div id="wording">')
    assert "<html" not in part and "<h1" not in part and "govuk-breadcrumbs" not in part
    assert _anchors(part) == _anchors(full_html)
    assert "The council must act now." in part and "v2 (current)" in part
    # A history-restore request is a full page again.
    restore = client.get(
        f"/asks/{open_ask.id}", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)


def test_no_version_yet(client, people):
    ask = factories.ask(factories.consultation(), title="Empty ask", versions=())
    db.session.commit()
    response = login_as(client, people.member).get(f"/asks/{ask.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The secretariat has not published a draft of this ask yet." in html
    assert "Compare with previous version" not in html
    versions = client.get(f"/asks/{ask.id}/versions").get_data(as_text=True)
    assert "The secretariat has not published a draft of this ask yet." in versions


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
        assert "<script>alert('title')" not in html
        assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    html = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert "<b>theme</b>" not in html and "&lt;b&gt;theme&lt;/b&gt;" in html
    assert "&lt;script&gt;alert('wording')&lt;/script&gt;" in html  # shown as text
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
    rows = re.findall(r'<tr class="govuk-table__row" id="version-(\d+)">', html)
    assert rows == ["3", "2", "1"]  # newest first
    for number in (1, 2, 3):
        assert f'href="/asks/{ask.id}/versions/{number}"' in html
        assert f"Version {number}" in html  # change note
    assert html.count("Sam Secretariat") == 3
    # The compare form defaults to previous -> current and submits to asks.compare.
    assert f'action="/asks/{ask.id}/compare"' in html and 'method="get"' in html
    from_select = html[
        html.index('name="from"') : html.index("</select>", html.index('name="from"'))
    ]
    to_select = html[html.index('name="to"') : html.index("</select>", html.index('name="to"'))]
    assert '<option value="2" selected>' in from_select
    assert '<option value="3" selected>' in to_select


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
    assert len(re.findall(r'id="version-\d+"', first)) == 50
    assert 'id="version-55"' in first and 'id="version-5"' not in first
    assert re.findall(r'id="version-(\d+)"', second) == ["5", "4", "3", "2", "1"]
    assert "govuk-pagination" in first


def test_version_page(client, people, open_ask):
    login_as(client, people.member)
    old = client.get(f"/asks/{open_ask.id}/versions/1")
    assert old.status_code == 200
    html = old.get_data(as_text=True)
    assert "This is not the latest version." in html
    assert (
        f'<a class="govuk-link" href="/asks/{open_ask.id}">Read the current version (v2)</a>'
        in html
    )
    assert "The council should act." in html and "must act now" not in html
    assert "<title>v1 – Declare a climate emergency – Consult</title>" in html
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
    diff = html[html.index('<div class="app-diff" id="diff">') :]
    diff = diff[: diff.index("</div>")]
    hidden = '<span class="govuk-visually-hidden">'
    assert f"<del>{hidden}[removed: </span>should{hidden}]</span></del>" in diff
    assert f"<ins>{hidden}[added: </span>must{hidden}]</span></ins>" in diff
    assert f"<ins>{hidden}[added: </span> now{hidden}]</span></ins>" in diff
    # Unchanged paragraphs appear once, unmarked; the list keeps its line break.
    assert '<p class="govuk-body">Every party commits to net zero.</p>' in diff
    assert "- Homes<br>\n- Transport" in diff
    assert diff.count("<del>") == 1 and diff.count("<ins>") == 2
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
    assert "govuk-error-summary" in html and 'name="from"' in html
    assert "<title>Error: Compare versions" in html


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
