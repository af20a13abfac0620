"""The agreed text as a Word document (python-docx), with real Word styles.

The consultation's title is a Title, each ask a Heading 1, the annex a Heading 1 on a new page
with a Heading 2 per section. The wording's Markdown is read as markdown-it tokens (never
regexes) and written as Word paragraphs: headings, paragraphs, bullet and numbered lists ("List
Bullet" and "List Number" styles, numbering restarting with each list), quotes, and bold,
italic and code runs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import docx
from docx.document import Document as WordDocument
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from consult.exports.document import (
    AgreedAsk,
    Document,
    display_datetime,
    endorsement_words,
    iso_utc,
)

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "Arial"
MONOSPACE = "Courier New"

# The same parser settings as consult.text: CommonMark, raw HTML off (shown as text).
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def _heading_style(markdown_level: int) -> str:
    """The wording's headings sit under its ask's Heading 1: # and ## become Heading 2."""
    return f"Heading {min(max(markdown_level, 2), 4)}"


@dataclass
class _List:
    ordered: bool
    start: int = 1
    num_id: int | None = None  # the Word numbering instance of an ordered list


@dataclass
class _Writer:
    """Writes one ask's wording into the Word document, block by block."""

    word: WordDocument
    lists: list[_List] = field(default_factory=list)
    quote: int = 0
    item_started: bool = False  # the current list item already has its first paragraph

    def paragraph_style(self) -> str:
        if self.lists:
            current = self.lists[-1]
            depth = min(len(self.lists), 3)
            suffix = "" if depth == 1 else f" {depth}"
            if self.item_started:
                return f"List Continue{suffix}"
            return ("List Number" if current.ordered else "List Bullet") + suffix
        if self.quote:
            return "Quote"
        return "Normal"

    def new_paragraph(self, style: str) -> Paragraph:
        paragraph = self.word.add_paragraph(style=style)
        if self.lists and not self.item_started:
            self.item_started = True
            current = self.lists[-1]
            if current.ordered:
                self._number(paragraph, current, len(self.lists) - 1)
        return paragraph

    def _number(self, paragraph: Paragraph, current: _List, level: int) -> None:
        """Give an ordered list its own numbering, so each list starts from its own start."""
        numbering = self.word.part.numbering_part.element
        if current.num_id is None:
            style = self.word.styles[paragraph.style.name if paragraph.style else "List Number"]
            style_pPr = style.element.pPr
            if style_pPr is None or style_pPr.numPr is None:
                return
            style_num = numbering.num_having_numId(style_pPr.numPr.numId.val)
            num = numbering.add_num(style_num.abstractNumId.val)
            override = num.add_lvlOverride(ilvl=0)
            override.add_startOverride(current.start)
            current.num_id = num.numId
        numPr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numPr.get_or_add_ilvl().val = 0
        numPr.get_or_add_numId().val = current.num_id

    def write(self, tokens: list[Token]) -> None:
        index = 0
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind == "heading_open":
                paragraph = self.word.add_paragraph(style=_heading_style(int(token.tag[1:])))
                _inline(paragraph, tokens[index + 1])
                index += 2
            elif kind == "paragraph_open":
                paragraph = self.new_paragraph(self.paragraph_style())
                _inline(paragraph, tokens[index + 1])
                index += 2
            elif kind in ("bullet_list_open", "ordered_list_open"):
                start = int(token.attrGet("start") or 1)
                self.lists.append(_List(ordered=kind == "ordered_list_open", start=start))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                self.item_started = bool(self.lists)
            elif kind == "list_item_open":
                self.item_started = False
            elif kind == "blockquote_open":
                self.quote += 1
            elif kind == "blockquote_close":
                self.quote -= 1
            elif kind in ("fence", "code_block"):
                paragraph = self.new_paragraph(self.paragraph_style())
                lines = token.content.rstrip("\n").split("\n")
                for number, line in enumerate(lines):
                    run = paragraph.add_run(line)
                    run.font.name = MONOSPACE
                    if number < len(lines) - 1:
                        run.add_break()
            elif kind == "hr":
                self.word.add_paragraph("* * *", style="Normal")
            elif kind == "inline":  # a tight list item's text, say, outside a paragraph
                _inline(self.new_paragraph(self.paragraph_style()), token)
            index += 1


def _inline(paragraph: Paragraph, token: Token) -> None:
    """The runs of one inline token: text with bold, italic, code and links as text."""
    bold = italic = 0
    links: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind == "text" or kind == "html_inline":
            run = paragraph.add_run(child.content)
            run.bold = bold > 0 or None
            run.italic = italic > 0 or None
        elif kind == "code_inline":
            run = paragraph.add_run(child.content)
            run.font.name = MONOSPACE
        elif kind == "softbreak":
            paragraph.add_run(" ")
        elif kind == "hardbreak":
            paragraph.add_run().add_break()
        elif kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic -= 1
        elif kind == "link_open":
            links.append(str(child.attrGet("href") or ""))
        elif kind == "link_close":
            href = links.pop() if links else ""
            if href:
                paragraph.add_run(f" ({href})")
        elif kind == "image":
            paragraph.add_run(child.content)


def wording_to_word(word: WordDocument, source: str) -> None:
    """Append an ask's Markdown wording to the document as styled Word paragraphs."""
    _Writer(word).write(_md.parse(source))


def _fact(word: WordDocument, label: str, value: str, *, monospace: bool = False) -> None:
    paragraph = word.add_paragraph(style="Normal")
    paragraph.add_run(f"{label}: ").bold = True
    run = paragraph.add_run(value)
    if monospace:
        run.font.name = MONOSPACE


def _annex_ask(word: WordDocument, ask: AgreedAsk) -> None:
    word.add_heading(f"{ask.number}. {ask.title}", level=2)
    _fact(word, "Agreed version", str(ask.version_number))
    _fact(word, "Agreed", f"{display_datetime(ask.agreed_at)} ({iso_utc(ask.agreed_at)})")
    _fact(word, "Agreed by", ask.agreed_by)
    _fact(word, "SHA-256 of the wording (UTF-8)", ask.sha256, monospace=True)
    _fact(word, "Consensus when agreed", ask.consensus_summary)
    if ask.against_rule_reason:
        _fact(
            word,
            "Agreed although the consensus rule was not met, because",
            ask.against_rule_reason,
        )
    word.add_heading("Tally when agreed", level=3)
    rows = ask.tally.rows()
    table = word.add_table(rows=len(rows) + 1, cols=2)
    table.style = word.styles["Table Grid"]
    header = table.rows[0].cells
    header[0].text, header[1].text = "Count", "Value"
    for cell in header:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row, (label, value) in zip(table.rows[1:], rows, strict=True):
        row.cells[0].text, row.cells[1].text = label, value
    word.add_heading("Changes", level=3)
    if ask.history:
        for entry in ask.history:
            note = entry.change_note if entry.change_note.strip() else "No note."
            word.add_paragraph(
                f"Version {entry.version_number}, published "
                f"{display_datetime(entry.published_at)}: {note}",
                style="List Bullet",
            )
    else:
        word.add_paragraph("No published versions recorded.")
    word.add_heading("Accepted amendments", level=3)
    if ask.amendments:
        for credit in ask.amendments:
            word.add_paragraph(
                f"Amendment {credit.amendment_id} from {credit.organisation} changed "
                f"{credit.paragraph} (accepted into version {credit.accepted_into_version})",
                style="List Bullet",
            )
    else:
        word.add_paragraph("None.")


def build(document: Document) -> WordDocument:
    """The document as a python-docx Document (render() saves it)."""
    word = docx.Document()
    normal: Any = word.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    properties = word.core_properties
    properties.title = document.title
    properties.subject = document.status
    properties.author = "Consult"
    properties.created = document.generated_at
    properties.modified = document.generated_at
    properties.revision = 1

    word.add_heading(document.title, level=0)
    word.add_paragraph(f"{document.status}. Generated {display_datetime(document.generated_at)}.")
    if document.summary.strip():
        word.add_paragraph(document.summary)
    for ask in document.asks:
        word.add_heading(f"{ask.number}. {ask.title}", level=1)
        if ask.theme.strip():
            word.add_paragraph(f"Theme: {ask.theme}")
        wording_to_word(word, ask.wording)

    annex = word.add_heading("Provenance", level=1)
    annex.paragraph_format.page_break_before = True
    word.add_heading("Consultation", level=2)
    _fact(word, "Consultation", document.title)
    if document.consultation_reference:
        _fact(word, "Reference", document.consultation_reference)
    _fact(word, "Status", document.status)
    _fact(
        word,
        "Generated",
        f"{display_datetime(document.generated_at)} ({iso_utc(document.generated_at)})",
    )
    _fact(word, "Asks", str(len(document.asks)))
    for ask in document.asks:
        _annex_ask(word, ask)
    word.add_heading("Endorsing organisations", level=2)
    word.add_paragraph(endorsement_words(document))
    for endorser in document.public_endorsers:
        word.add_paragraph(endorser.name, style="List Bullet")
    return word


def render(document: Document) -> bytes:
    """The document as DOCX bytes."""
    buffer = io.BytesIO()
    build(document).save(buffer)
    return buffer.getvalue()
