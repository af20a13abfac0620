"""The footer's pages (issue 11): privacy notice, accessibility statement and terms of
participation, public and linked from every page's footer."""

from __future__ import annotations

import pytest

from tests.helpers import login_as
from tests.html import select, text_of, texts

pytestmark = pytest.mark.database

PAGES = {
    "/privacy": "Privacy notice",
    "/accessibility": "Accessibility statement for Consult",
    "/terms": "Terms of participation",
}
FOOTER = {
    "Privacy": "/privacy",
    "Accessibility statement": "/accessibility",
    "Terms of participation": "/terms",
}


@pytest.mark.parametrize("path, heading", PAGES.items())
def test_each_page_is_public_with_its_own_title(client, path, heading):
    response = client.get(path)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert text_of(body, "h1") == heading
    assert text_of(body, "title").startswith(heading.removesuffix(" for Consult"))


def footer_links(body: str) -> dict[str, str]:
    return {a.get_text(strip=True): a["href"] for a in select(body, "footer a")}


@pytest.mark.parametrize("path", ["/", "/sign-in", "/privacy", "/no-such-page"])
def test_every_page_links_to_them_from_its_footer(client, path):
    body = client.get(path).get_data(as_text=True)
    assert footer_links(body).items() >= FOOTER.items()


def test_signed_in_pages_link_to_them_too(client, people):
    login_as(client, people.member)
    body = client.get("/account").get_data(as_text=True)
    assert footer_links(body).items() >= FOOTER.items()


def test_the_accessibility_statement_follows_the_govuk_sample(client):
    body = client.get("/accessibility").get_data(as_text=True)
    headings = texts(body, "h2, h3")
    for heading in (
        "How accessible this website is",
        "Feedback and contact information",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ):
        assert heading in headings
    text = text_of(body)
    assert "partially compliant" in text
    # Says how it was tested, and what was not.
    assert "axe-core" in text and "Playwright" in text and "320 pixels" in text
    assert "We have not yet tested with screen readers" in text
    assert "Equality Advisory and Support Service" in text


def test_the_pages_name_the_coalition_and_where_to_write(app, client):
    app.config["CONTACT_EMAIL"] = "privacy@coalition.example"
    for path in PAGES:
        body = client.get(path).get_data(as_text=True)
        assert app.config["COALITION_NAME"] in text_of(body, "main")
        assert select(body, 'main a[href="mailto:privacy@coalition.example"]'), path


def test_without_a_contact_address_the_pages_send_people_to_the_secretariat(app, client):
    app.config["CONTACT_EMAIL"] = None
    body = client.get("/privacy").get_data(as_text=True)
    assert "secretariat, who run Consult" in text_of(body, "main")
    assert not select(body, 'a[href^="mailto:"]')


def test_the_privacy_notice_says_what_erasure_keeps(client):
    text = text_of(client.get("/privacy").get_data(as_text=True), "main")
    assert "for your name and email address to be erased" in text
    assert "“a member of” your organisation" in text
    assert "Information Commissioner’s Office" in text
