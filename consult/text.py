"""Markdown to safe HTML, paragraphs with stable anchors, and word-level diffs."""

from __future__ import annotations

import difflib
import functools
import hashlib
import html as html_module
import re
import unicodedata
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# CommonMark with raw HTML off; the sanitiser below is the second line of defence.
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "hr",
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


# Comments take a smaller subset: emphasis, lists, links, quotes and inline code.
_comment_md = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
).disable(
    [
        "heading",
        "lheading",
        "code",
        "fence",
        "hr",
        "image",
        "html_block",
        "html_inline",
        "reference",
    ]
)
COMMENT_TAGS = {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code"}


def sanitise(html: str, tags: set[str] = ALLOWED_TAGS) -> str:
    """Keep only the allow-listed tags, attributes and link schemes."""
    return nh3.clean(
        html,
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def render_markdown(source: str) -> Markup:
    """Markdown source to sanitised HTML with GOV.UK classes: safe to mark as Markup."""
    return Markup(_style(sanitise(_md.render(source))))


# The version of render_comment's rules (the Markdown subset, the allow-list, the classes).
# Comments keep the HTML it made when they were written (Comment.body_html): when a change
# here changes its output, add one, and `flask consult render-comments` renders again every
# comment stored by an earlier version.
COMMENT_RENDERER_VERSION = 1


def render_comment(source: str) -> Markup:
    """A comment's Markdown (the small subset) to sanitised HTML: safe to mark as Markup.

    For a stored comment, show its stored HTML (Comment.body_markup) instead: this is for
    writing it, and for text not stored yet."""
    return Markup(_style(sanitise(_comment_md.render(source), COMMENT_TAGS)))


@dataclass(frozen=True)
class Paragraph:
    anchor: str
    source: str
    html: Markup


def _anchor(source: str) -> str:
    normalised = " ".join(source.split()).casefold()
    return "p-" + hashlib.sha256(normalised.encode()).hexdigest()[:10]


def _blocks(source: str) -> list[tuple[str, str, int, int]]:
    """The top-level blocks of Markdown: (anchor, source, first line, line after)."""
    lines = source.splitlines()
    result: list[tuple[str, str, int, int]] = []
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
        result.append((anchor, block, start, end))
    return result


def paragraphs(source: str) -> list[Paragraph]:
    """Split Markdown into top-level blocks, each rendered safely with a stable anchor.

    The anchor depends only on the block's text, so an unchanged paragraph keeps its
    anchor in every later version; a repeated block gets a numbered suffix.
    """
    return list(_paragraphs(source))


@functools.lru_cache(maxsize=64)
def _paragraphs(source: str) -> tuple[Paragraph, ...]:
    # A version's wording never changes once published, and every ask page (and comment
    # posted to it) splits and renders it: the recent ones are kept, per process.
    return tuple(
        Paragraph(anchor=anchor, source=block, html=render_markdown(block))
        for anchor, block, _, _ in _blocks(source)
    )


def replace_paragraphs(source: str, replacements: dict[str, str]) -> str:
    """The Markdown with the blocks named by anchor replaced by new wording, every other
    line exactly as it was. An anchor the source does not have is a KeyError."""
    lines = source.splitlines()
    spans = {anchor: (start, end) for anchor, _, start, end in _blocks(source)}
    missing = set(replacements) - set(spans)
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    # From the last block up, so earlier line numbers stay right.
    for anchor in sorted(replacements, key=lambda a: spans[a][0], reverse=True):
        start, end = spans[anchor]
        # A block's span may end on the blank line after it: keep that line.
        while end > start and not lines[end - 1].strip():
            end -= 1
        lines[start:end] = replacements[anchor].strip("\n").splitlines()
    return "\n".join(lines)


_WORDS = re.compile(r"\s+|\w+(?:['’]\w+)*|[^\w\s]")
_IS_WORD = re.compile(r"\w")


# Words a screen reader announces around a change, since <ins>/<del> are not read out.
_SPOKEN = {"del": "removed", "ins": "added"}


def _marked(tag: str, text: str, labelled: bool) -> str:
    if not labelled:
        return f"<{tag}>{escape(text)}</{tag}>"
    return (
        f'<{tag}><span class="govuk-visually-hidden">[{_SPOKEN[tag]}: </span>'
        f'{escape(text)}<span class="govuk-visually-hidden">]</span></{tag}>'
    )


# The most comparison work one diff may do, as the product of the two sequences' lengths
# (words and the spaces between them). SequenceMatcher's time grows with that product: a
# 20,000-character paragraph rewritten throughout took seconds. Past the bound, what differs
# between the common start and end is shown removed and added whole (about 50 ms of work at
# the bound, a fully rewritten paragraph of about 3,500 characters).
MAX_DIFF_WORK = 1_000_000

Opcode = tuple[str, int, int, int, int]


def _opcodes(a: list[str], b: list[str]) -> list[Opcode]:
    """SequenceMatcher's opcodes for a and b with its work bounded: the common start and end
    are matched first (cheap, and most edits touch one place), then the middle is compared
    only if its size is within MAX_DIFF_WORK, or else replaced whole."""
    start = 0
    limit = min(len(a), len(b))
    while start < limit and a[start] == b[start]:
        start += 1
    end = 0
    while end < limit - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
        end += 1
    middle_a, middle_b = a[start : len(a) - end], b[start : len(b) - end]
    ops: list[Opcode] = []
    if start:
        ops.append(("equal", 0, start, 0, start))
    if len(middle_a) * len(middle_b) <= MAX_DIFF_WORK:
        matcher = difflib.SequenceMatcher(a=middle_a, b=middle_b, autojunk=False)
        ops.extend(
            (op, a0 + start, a1 + start, b0 + start, b1 + start)
            for op, a0, a1, b0, b1 in matcher.get_opcodes()
        )
    else:
        ops.append(("replace", start, len(a) - end, start, len(b) - end))
    if end:
        ops.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return ops


def _word_diff(old: str, new: str, labelled: bool) -> str:
    a = _WORDS.findall(old)
    b = _WORDS.findall(new)
    parts: list[str] = []
    for op, a0, a1, b0, b1 in _opcodes(a, b):
        if op == "equal":
            parts.append(str(escape("".join(a[a0:a1]))))
            continue
        if op in ("delete", "replace"):
            parts.append(_marked("del", "".join(a[a0:a1]), labelled))
        if op in ("insert", "replace"):
            parts.append(_marked("ins", "".join(b[b0:b1]), labelled))
    return "".join(parts)


def word_diff(old: str, new: str) -> Markup:
    """Compare two texts word by word; deletions in <del>, insertions in <ins>, all escaped."""
    return Markup(_word_diff(old, new, labelled=False))


def diff_counts(old: str, new: str) -> tuple[int, int]:
    """How many words were removed and added between two texts."""
    a = [w for w in _WORDS.findall(old) if not w.isspace()]
    b = [w for w in _WORDS.findall(new) if not w.isspace()]
    removed = added = 0
    for op, a0, a1, b0, b1 in _opcodes(a, b):
        # Punctuation is compared, but only words are counted.
        if op in ("delete", "replace"):
            removed += sum(1 for w in a[a0:a1] if _IS_WORD.match(w))
        if op in ("insert", "replace"):
            added += sum(1 for w in b[b0:b1] if _IS_WORD.match(w))
    return removed, added


@dataclass(frozen=True)
class DiffBlock:
    """One stretch of a paragraph-by-paragraph comparison."""

    html: Markup  # escaped source text, changes in <ins>/<del>, line breaks as <br>
    changed: bool
    removed: int
    added: int


def _with_breaks(html: str) -> Markup:
    # Only our own tags are unescaped in html, so a newline is always source text.
    return Markup(html.replace("\n", "<br>\n"))


def paragraph_diff(old: str, new: str) -> list[DiffBlock]:
    """Compare two Markdown texts paragraph by paragraph, then word by word within changes.

    Unchanged top-level blocks are matched whole, so an edit in one paragraph never
    spills into its neighbours. Changes are wrapped in <ins>/<del> with visually hidden
    "[added: …]" / "[removed: …]" words for screen readers; all text is escaped.
    """
    a = [p.source for p in paragraphs(old)]
    b = [p.source for p in paragraphs(new)]
    blocks: list[DiffBlock] = []
    for op, a0, a1, b0, b1 in _opcodes(a, b):
        if op == "equal":
            blocks.extend(
                DiffBlock(_with_breaks(str(escape(text))), False, 0, 0) for text in a[a0:a1]
            )
        elif op == "delete":
            for text in a[a0:a1]:
                removed, _ = diff_counts(text, "")
                blocks.append(DiffBlock(_with_breaks(_marked("del", text, True)), True, removed, 0))
        elif op == "insert":
            for text in b[b0:b1]:
                _, added = diff_counts("", text)
                blocks.append(DiffBlock(_with_breaks(_marked("ins", text, True)), True, 0, added))
        else:
            before, after = "\n\n".join(a[a0:a1]), "\n\n".join(b[b0:b1])
            removed, added = diff_counts(before, after)
            blocks.append(
                DiffBlock(
                    _with_breaks(_word_diff(before, after, labelled=True)), True, removed, added
                )
            )
    return blocks


# Quotes ------------------------------------------------------------------------------------------
# A quoted phrase is compared with its paragraph after both are normalised, so that what a
# browser or a Mac's smart punctuation typed matches the wording: "UK’s" and "UK's" are the
# same phrase. static/js/consult.js (normaliseQuote) does the same to find a quote to highlight.

_QUOTE_CHARACTERS = str.maketrans(
    {
        "\u2018": "'",  # ‘ left single quotation mark
        "\u2019": "'",  # ’ right single quotation mark (and apostrophe)
        "\u201a": "'",  # ‚ single low-9 quotation mark
        "\u201b": "'",  # ‛ single high-reversed-9 quotation mark
        "\u2032": "'",  # ′ prime
        "\u201c": '"',  # “ left double quotation mark
        "\u201d": '"',  # ” right double quotation mark
        "\u201e": '"',  # „ double low-9 quotation mark
        "\u201f": '"',  # ‟ double high-reversed-9 quotation mark
        "\u2033": '"',  # ″ double prime
        "\u00ab": '"',  # « left-pointing double angle quotation mark
        "\u00bb": '"',  # » right-pointing double angle quotation mark
        "\u2010": "-",  # ‐ hyphen
        "\u2011": "-",  # ‑ non-breaking hyphen
        "\u2012": "-",  # ‒ figure dash
        "\u2013": "-",  # – en dash
        "\u2014": "-",  # — em dash
        "\u2015": "-",  # ― horizontal bar
        "\u2212": "-",  # − minus sign
        "\u00ad": None,  # soft hyphen: invisible
        "\u200b": None,  # zero-width space
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "\u2060": None,  # word joiner
        "\ufeff": None,  # zero-width no-break space
    }
)


def normalise_quote(text: str) -> str:
    """A phrase as quotes are compared: NFKC (which also makes non-breaking and other
    Unicode spaces plain spaces), curly quotes straight, dashes and minus signs hyphens,
    invisible characters gone, runs of whitespace one space, case folded."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_CHARACTERS)
    return " ".join(text.split()).casefold()


_BLOCK_TAG = re.compile(r"</?(?:p|br|li|ul|ol|blockquote|h[1-6]|pre|hr)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^>]*>")


def plain_text(html: str) -> str:
    """What a reader sees of (sanitised) HTML: its text, with blocks apart."""
    return html_module.unescape(_ANY_TAG.sub("", _BLOCK_TAG.sub(" ", html)))


def quote_in(quote: str, paragraph: Paragraph) -> bool:
    """Whether a phrase is words of the paragraph, as written in its Markdown or as shown
    on the page (a selection of "the UK’s role" where the source says "the **UK’s** role")."""
    wanted = normalise_quote(quote)
    if not wanted:
        return False
    return wanted in normalise_quote(paragraph.source) or wanted in normalise_quote(
        plain_text(paragraph.html)
    )


def slug(title: str) -> str:
    """The title in lower-case ASCII letters, digits and hyphens, for a file name."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:60].rstrip("-") or "consultation"


def says_nothing(value: str | None) -> bool:
    """True when a text has nothing a reader could see: empty, or only spaces and invisible
    characters (zero-width spaces and joiners, byte-order marks, other format characters)."""
    return all(
        character.isspace() or unicodedata.category(character) in ("Cf", "Zs", "Zl", "Zp")
        for character in value or ""
    )


# Control characters (C0 and DEL). A one-line text (a person's or an organisation's name) holds
# none: names go into emails' subjects, where a line break would try to start a header.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def control_character_problem(what: str, value: str) -> str | None:
    """What is wrong with a one-line text that holds control characters (None if it is fine)."""
    if CONTROL_CHARACTERS.search(value):
        return f"{what} must not include control characters"
    return None


def one_line(value: str) -> str:
    """The text on one line: each run of white space, line breaks included, one space."""
    return " ".join(value.split())
