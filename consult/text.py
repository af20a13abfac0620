"""Markdown to safe HTML, paragraphs with stable anchors, and word-level diffs."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# CommonMark with raw HTML off; the sanitiser below is the second line of defence.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre",
    "h2", "h3", "h4", "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_GOVUK_CLASSES = {
    "<p>": '<p class="govuk-body">',
    "<ul>": '<ul class="govuk-list govuk-list--bullet">',
    "<ol>": '<ol class="govuk-list govuk-list--number">',
    "<h2>": '<h2 class="govuk-heading-m">',
    "<h3>": '<h3 class="govuk-heading-s">',
    "<h4>": '<h4 class="govuk-heading-s">',
    "<a ": '<a class="govuk-link" ',
    "<blockquote>": '<blockquote class="govuk-inset-text">',
}


def _style(html: str) -> str:
    for plain, styled in _GOVUK_CLASSES.items():
        html = html.replace(plain, styled)
    return html


def sanitise(html: str) -> str:
    """Keep only the allow-listed tags, attributes and link schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(source: str) -> Markup:
    """Markdown source to sanitised HTML with GOV.UK classes: safe to mark as Markup."""
    return Markup(_style(sanitise(_md.render(source))))


@dataclass(frozen=True)
class Paragraph:
    anchor: str
    source: str
    html: Markup


def _anchor(source: str) -> str:
    normalised = " ".join(source.split()).casefold()
    return "p-" + hashlib.sha256(normalised.encode()).hexdigest()[:10]


def paragraphs(source: str) -> list[Paragraph]:
    """Split Markdown into top-level blocks, each rendered safely with a stable anchor.

    The anchor depends only on the block's text, so an unchanged paragraph keeps its
    anchor in every later version; a repeated block gets a numbered suffix.
    """
    lines = source.splitlines()
    result: list[Paragraph] = []
    seen: dict[str, int] = {}
    for token in _md.parse(source):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        start, end = token.map
        block = "\n".join(lines[start:end]).strip()
        if not block:
            continue
        anchor = _anchor(block)
        seen[anchor] = seen.get(anchor, 0) + 1
        if seen[anchor] > 1:
            anchor = f"{anchor}-{seen[anchor]}"
        result.append(Paragraph(anchor=anchor, source=block, html=render_markdown(block)))
    return result


_WORDS = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]")


def word_diff(old: str, new: str) -> Markup:
    """Compare two texts word by word; deletions in <del>, insertions in <ins>, all escaped."""
    a = _WORDS.findall(old)
    b = _WORDS.findall(new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal":
            parts.append(str(escape("".join(a[a0:a1]))))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(a[a0:a1]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(b[b0:b1]))}</ins>")
    return Markup("".join(parts))


def diff_counts(old: str, new: str) -> tuple[int, int]:
    """How many words were removed and added between two texts."""
    a = [w for w in _WORDS.findall(old) if not w.isspace()]
    b = [w for w in _WORDS.findall(new) if not w.isspace()]
    removed = added = 0
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += a1 - a0
        if op in ("insert", "replace"):
            added += b1 - b0
    return removed, added
