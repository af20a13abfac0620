"""Reading HTML in tests as a browser would, and checking payloads stayed text.

Tests find elements with CSS selectors over a real HTML parser (Beautiful Soup with
soupsieve) and check their text and attributes, never exact strings of markup:

    heading = select_one(response, "h1")
    assert text_of(heading) == "Edit your comment"
    assert select_one(response, "#comment-3 a.govuk-link")["href"] == "/comments/3"
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bs4 import BeautifulSoup, Tag

Element = Tag
# A response (anything with get_data), a page's HTML, or an element already found.
Html = object


def parse(source: Html) -> BeautifulSoup | Tag:
    """The parsed document of a response or a string of HTML (an element is returned as is)."""
    if isinstance(source, Tag):
        return source
    if hasattr(source, "get_data"):
        source = source.get_data(as_text=True)
    if isinstance(source, bytes):
        source = source.decode()
    assert isinstance(source, str), f"not HTML: {source!r}"
    return BeautifulSoup(source, "html.parser")


def select(source: Html, css: str) -> list[Element]:
    """Every element matching the CSS selector, in document order."""
    return list(parse(source).select(css))


def select_one(source: Html, css: str) -> Element:
    """The one element matching the CSS selector; fails, showing the HTML, if there is none
    or more than one."""
    document = parse(source)
    found = document.select(css)
    assert len(found) == 1, (
        f"{len(found)} elements match {css!r} (expected exactly one) in:\n{str(document)[:3000]}"
    )
    return found[0]


def text_of(source: Html, css: str | None = None) -> str:
    """The text a reader sees in the element (or the one element matching css), with runs of
    white space made one space."""
    element = parse(source) if css is None else select_one(source, css)
    return " ".join(element.get_text().split())


def top_level(source: Html) -> list[Element]:
    """The elements at the top of a fragment (an htmx response is one element: the swapped
    region)."""
    return [node for node in parse(source).children if isinstance(node, Tag)]


def texts(source: Html, css: str) -> list[str]:
    """The text of every element matching the CSS selector, in document order."""
    return [text_of(element) for element in select(source, css)]


def ids(source: Html, css: str, prefix: str) -> list[int]:
    """The numbers of the matching elements' ids that start with prefix (`comment-42` -> 42)."""
    found = [str(element.get("id", "")) for element in select(source, css)]
    return [
        int(dom_id.removeprefix(prefix))
        for dom_id in found
        if re.fullmatch(rf"{re.escape(prefix)}\d+", dom_id)
    ]


def comment_ids(source: Html) -> list[int]:
    """The ids of the comments in the HTML, in document order."""
    return ids(source, "li.app-comment[id]", "comment-")


def row(source: Html, dom_id: str) -> str:
    """The text of the one element with this id (a table row, list item, section)."""
    return text_of(source, f"#{dom_id}")


def dom_ids(source: Html, css: str) -> list[str]:
    """The ids of the elements matching the CSS selector, in document order."""
    return [str(element["id"]) for element in select(source, css)]


def start_tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every element's tag and attributes, as a browser would parse them."""
    found: list[tuple[str, dict[str, str | None]]] = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.append((tag, dict(attrs)))
    parser.feed(html)
    return found


# The page's own htmx attributes, and where they may appear.
PAGE_HX = {
    "hx-get",
    "hx-post",
    "hx-target",
    "hx-swap",
    "hx-trigger",
    "hx-include",
    "hx-sync",
    "hx-swap-oob",
    "hx-ext",
    "hx-headers",
}


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset"}


def assert_no_active_html(html: str, payload_words: tuple[str, ...] = ("evil", "alert")) -> None:
    """No element or attribute came from a payload: no <img>, no inline script, no event
    handler, no javascript: link, and every htmx attribute is the page's own."""
    for tag, attrs in start_tags(html):
        assert tag not in ("img", "iframe", "object"), (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            if name in URL_ATTRIBUTES:  # (a form field may hold such text as its value)
                assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (
                    tag,
                    attrs,
                )
            if name.startswith("hx-") or name.startswith("sse-"):
                assert name in PAGE_HX or name == "sse-connect", (tag, attrs)
                assert not any(word in (value or "") for word in payload_words), (tag, attrs)
    assert "<script>alert" not in html
