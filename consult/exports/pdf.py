"""The agreed text as PDF: WeasyPrint, from the same HTML as the HTML export.

Nothing is fetched while rendering: the HTML is self-contained, there is no base URL, and the
URL fetcher refuses every request, so a URL that slipped into the text can never be loaded.
"""

from __future__ import annotations

from typing import Any, NoReturn

from weasyprint import HTML

from consult.exports import html
from consult.exports.document import Document

MEDIA_TYPE = "application/pdf"


class FetchRefused(Exception):
    """WeasyPrint asked for a resource; exports load none."""


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    """The URL fetcher: refuses everything (WeasyPrint logs the refusal and carries on)."""
    raise FetchRefused(f"exports load no resources: {url[:200]}")


def render(document: Document) -> bytes:
    """The document as PDF bytes, titled and dated from the document."""
    page = HTML(string=html.render_text(document), base_url=None, url_fetcher=refuse_fetch)
    pdf = page.write_pdf()
    assert pdf is not None  # write_pdf returns the bytes when given no target
    return pdf
