"""Reading HTML in tests as a browser would, and checking payloads stayed text."""

from __future__ import annotations

from html.parser import HTMLParser


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


def assert_no_active_html(html: str, payload_words: tuple[str, ...] = ("evil", "alert")) -> None:
    """No element or attribute came from a payload: no <img>, no inline script, no event
    handler, no javascript: link, and every htmx attribute is the page's own."""
    for tag, attrs in start_tags(html):
        assert tag not in ("img", "iframe", "object"), (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), attrs
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (
                tag,
                attrs,
            )
            if name.startswith("hx-") or name.startswith("sse-"):
                assert name in PAGE_HX or name == "sse-connect", (tag, attrs)
                assert not any(word in (value or "") for word in payload_words), (tag, attrs)
    assert "<script>alert" not in html
