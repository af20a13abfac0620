"""The agreed text as a standalone, print-ready HTML document (and the source of the PDF).

Self-contained: the print stylesheet is embedded, the fonts are the reader's own (Arial,
Helvetica, sans-serif) and nothing is loaded from anywhere, so the file prints the same offline.
The wording goes through consult.text.render_markdown (Markdown with raw HTML off, then the
sanitiser); every other field is escaped by Jinja.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from consult import ROOT
from consult.exports.document import Document, display_datetime, endorsement_words, iso_utc
from consult.text import render_markdown

MEDIA_TYPE = "text/html; charset=utf-8"
TEMPLATE = "exports/agreed.html"

# The wording sits under its ask's <h2>, so its own headings move one level down.
_HEADING_SHIFT = (("h4", "h5"), ("h3", "h4"), ("h2", "h3"))


def wording_html(source: str) -> Markup:
    """An ask's wording as sanitised HTML, its headings one level below the ask's."""
    html = str(render_markdown(source))
    # The sanitiser has escaped every "<" of the text, so these are only its own tags.
    for old, new in _HEADING_SHIFT:
        html = html.replace(f"<{old}", f"<{new}").replace(f"</{old}>", f"</{new}>")
    return Markup(html)


@cache
def _environment() -> Environment:
    # Not the app's environment: a renderer needs no application or request.
    environment = Environment(
        loader=FileSystemLoader(str(ROOT / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["display_datetime"] = display_datetime
    environment.filters["iso_utc"] = iso_utc
    environment.globals["wording_html"] = wording_html
    environment.globals["endorsement_words"] = endorsement_words
    return environment


def render_text(document: Document) -> str:
    """The document as a complete HTML page."""
    return _environment().get_template(TEMPLATE).render(document=document)


def render(document: Document) -> bytes:
    """The document as HTML, UTF-8."""
    return render_text(document).encode("utf-8")
