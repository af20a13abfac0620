"""Stored XSS and formula injection in the exports (issue 11's suite): with the corpus stored
everywhere (tests/xss_corpus.py), no user text becomes markup in any file Consult makes.

- The agreed text (tests/exports has the renderers' own tests): every payload is a block of
  the agreed wording, an accepted amendment carries a member's payload into it, and the
  title, summary, theme, change notes, the agreer's name, the reason for agreeing against
  the rule and the endorsers' and amenders' organisation names are payloads.
  HTML: it parses with no payload as an element or attribute, and shows each payload as
  text. PDF: the HTML WeasyPrint is given is that same inert HTML, WeasyPrint fetches
  nothing, the PDF has no link, action or script, and its text holds each payload literally.
  Word: each payload is literal run text, and document.xml has no hyperlink, field, object
  or picture (nor any external relationship). Markdown: the wording is kept exactly as
  agreed (its SHA-256 is in the annex), and every other field is escaped so that even a
  reader that renders raw HTML shows it as text.
- The consultation report (tests/reports has its formula-injection tests on names,
  comments and amendments) and the backers' CSV: with the corpus prefixed by every trigger of
  a formula stored in every field, no cell is a formula or a link, and each reads back as
  the text stored, a single quote before it when a spreadsheet could read it as one.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from dataclasses import replace

import docx
import openpyxl
import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt
from pypdf import PdfReader
from sqlalchemy import select

from consult.exports import docx as docx_export
from consult.exports import html as html_export
from consult.exports import markdown as markdown_export
from consult.exports import pdf as pdf_export
from consult.exports.document import Document
from consult.exports.gather import gather as gather_agreed
from consult.extensions import db
from consult.models import Consultation
from consult.publication.services import backers_csv
from consult.reports import csv_report, xlsx_report
from consult.reports.gather import gather as gather_report
from consult.text import plain_text, render_markdown
from tests.xss_corpus import PAYLOADS, VECTORS, assert_inert, store_everywhere

pytestmark = pytest.mark.database


def squash(text: str) -> str:
    return " ".join(text.split())


def shown(payload: str) -> str:
    """A payload's Markdown as a reader sees it (its Markdown marks gone)."""
    return squash(plain_text(render_markdown(payload)))


_documents: list[Document] = []


@pytest.fixture
def document(app) -> Document:
    """The agreed text with the corpus in it, gathered from the database. (The document is
    plain, frozen data that renders without the database: it is gathered once, for every
    test of the module.)"""
    if not _documents:
        stored = store_everywhere()
        consultation = db.session.get(Consultation, stored.agreed_id)
        assert consultation is not None
        _documents.append(gather_agreed(consultation))
    return _documents[0]


def _plain_fields(document: Document) -> list[str]:
    """The document's texts other than the wording, each a payload."""
    [ask] = document.asks
    fields = [
        document.title,
        document.summary,
        ask.title,
        ask.theme,
        ask.agreed_by,
        ask.against_rule_reason or "",
        *(entry.change_note for entry in ask.history if entry.version_number > 1),
        *(credit.organisation for credit in ask.amendments),
        *(endorser.name for endorser in document.public_endorsers),
    ]
    for value in fields:
        assert any(vector in value for vector in VECTORS), value
    return fields


def test_the_agreed_text_holds_the_corpus(document):
    [ask] = document.asks
    blocks = ask.wording.split("\n\n")
    assert len(blocks) == len(PAYLOADS)
    assert blocks[1:] == PAYLOADS[1:]  # the first is the member's accepted amendment
    assert blocks[0] in PAYLOADS and blocks[0] != PAYLOADS[0]
    assert len(_plain_fields(document)) >= 9


def test_html_shows_every_payload_as_text(document):
    page = html_export.render_text(document)
    assert_inert(page, "agreed.html")
    text = squash(BeautifulSoup(page, "html.parser").get_text())
    for payload in ask_blocks(document):
        assert shown(payload) in text, payload
    for value in _plain_fields(document):
        assert squash(value) in text, value


def ask_blocks(document: Document) -> list[str]:
    return document.asks[0].wording.split("\n\n")


def test_pdf_is_made_from_inert_html_and_holds_every_payload_as_text(document, monkeypatch):
    given, fetched = [], []
    real_html = pdf_export.HTML

    def html(*args, **kwargs):
        given.append(kwargs["string"])
        return real_html(*args, **kwargs)

    def fetch(url, *args, **kwargs):
        fetched.append(url)
        return pdf_export.refuse_fetch(url)

    monkeypatch.setattr(pdf_export, "HTML", html)
    monkeypatch.setattr(pdf_export, "refuse_fetch", fetch)
    data = pdf_export.render(document)
    assert given == [html_export.render_text(document)]
    assert_inert(given[0], "the PDF's HTML")
    assert fetched == []

    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert "/OpenAction" not in root and "/AA" not in root
    assert "/JavaScript" not in root.get("/Names", {})
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            action = annotation.get_object().get("/A", {})
            assert action.get("/S") not in ("/JavaScript", "/Launch", "/URI"), action
    text = squash(" ".join(page.extract_text() for page in reader.pages))
    unbroken = re.sub(r"\s", "", text)
    for payload in ask_blocks(document):
        assert re.sub(r"\s", "", shown(payload)) in unbroken, payload
    for value in _plain_fields(document):
        assert re.sub(r"\s", "", value) in unbroken, value


WORD_MARKUP = (
    "w:hyperlink",
    "w:fldSimple",
    "w:fldChar",
    "w:instrText",
    "w:object",
    "w:pict",
    "w:drawing",
    "w:altChunk",
    "w:embed",
)


def test_docx_holds_every_payload_as_run_text_and_nothing_else(document):
    data = docx_export.render(document)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        xml = archive.read("word/document.xml").decode("utf-8")
        relationships = archive.read("word/_rels/document.xml.rels").decode("utf-8")
    assert not [n for n in names if n.startswith(("word/embeddings", "word/media"))], names
    assert not [n for n in names if n.endswith((".html", ".htm", ".mht", ".bin"))], names
    for element in WORD_MARKUP:
        assert f"<{element}" not in xml, element
    assert 'TargetMode="External"' not in relationships
    assert "<script" not in xml  # every "<" of the text is escaped in the XML

    word = docx.Document(io.BytesIO(data))
    paragraphs = [squash(p.text) for p in word.paragraphs]
    everything = " ".join(paragraphs)
    for payload in ask_blocks(document):
        assert shown(payload) in paragraphs, payload
    for value in _plain_fields(document):
        assert squash(value) in everything, value
    assert word.core_properties.title == document.title


def test_markdown_keeps_the_wording_and_escapes_every_other_field(document):
    text = markdown_export.render_text(document)
    [ask] = document.asks
    assert ask.wording in text  # exactly as agreed: its SHA-256 is in the annex
    assert ask.sha256 in text
    # Read by Consult's own Markdown (raw HTML off), nothing is markup.
    assert_inert(str(render_markdown(text)), "agreed.md")
    # Every other field stays text even where raw HTML is rendered (many Markdown viewers).
    without_wording = markdown_export.render_text(
        replace(document, asks=[replace(ask, wording="The wording.", sha256="")])
    )
    rendered = MarkdownIt("commonmark", {"html": True}).render(without_wording)
    assert_inert(rendered, "agreed.md without its wording, raw HTML on")
    assert not BeautifulSoup(rendered, "html.parser").find(
        ["script", "img", "iframe", "svg", "a", "object", "embed", "form", "input", "details"]
    )
    shown_text = squash(BeautifulSoup(rendered, "html.parser").get_text())
    for value in _plain_fields(document):
        assert squash(value) in shown_text, value


# Spreadsheets -------------------------------------------------------------------------------

# What makes a spreadsheet read a cell as a formula, at the start of a text (after space).
TRIGGERS = ("=", "+", "-", "@", "\t=", " =", "\n+", "＝", "=HYPERLINK(\"javascript:alert('X')\",")
FORMULAS = [f"{trigger}{vector}" for trigger, vector in zip(itertools.cycle(TRIGGERS), VECTORS * 2)]


def _risky(value: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula (or as the start of one)."""
    rest = value.lstrip()
    lead = value[: len(value) - len(rest)]
    return "\t" in lead or "\r" in lead or rest[:1] in ("=", "+", "-", "@", "＝", "＋", "－", "＠")


@pytest.fixture
def injected(app) -> tuple[Consultation, set[str]]:
    """The corpus with a formula's trigger before each payload, stored everywhere."""
    stored = store_everywhere(FORMULAS)
    consultation = db.session.get(Consultation, stored.consultation_id)
    assert consultation is not None
    return consultation, stored.texts


def _stored_in(value: str, texts: set[str]) -> bool:
    return any(t.strip() and t.strip() in value for t in texts)


def test_no_report_cell_is_a_formula_or_a_link_and_each_reads_back_as_stored(injected):
    consultation, texts = injected
    report = gather_report(consultation)
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report.render(report)))
    columns_with_payloads = set()
    for sheet in report.sheets:
        ws = book[sheet.title]
        rows = list(ws.iter_rows(min_row=2))
        assert len(rows) == len(sheet.rows)
        data = csv_report.render(sheet).decode("utf-8-sig")
        csv_rows = list(csv.reader(io.StringIO(data, newline="")))[1:]
        for cells, written, raw in zip(rows, csv_rows, sheet.rows, strict=True):
            for cell, text, value in zip(cells, written, raw, strict=True):
                assert cell.data_type != "f" and cell.hyperlink is None, cell.coordinate
                if not isinstance(value, str):
                    continue
                assert not _risky(text) and not _risky(cell.value or ""), (sheet.kind, text)
                # The text as stored, a quote before it when it could start a formula.
                expected = f"'{value}" if _risky(value) else value
                assert text == expected, (sheet.kind, text, value)
                assert (cell.value or "") == expected, (sheet.kind, cell.coordinate)
                if _stored_in(value, texts):
                    columns_with_payloads.add((sheet.kind, sheet.headers[cell.column - 1]))
    print(f"\n{len(columns_with_payloads)} report columns hold stored payloads")
    assert {
        ("comments", "Ask"),
        ("comments", "Organisation"),
        ("comments", "Author"),
        ("comments", "Comment"),
        ("amendments", "Wording"),
        ("amendments", "Rationale"),
        ("amendments", "Decline reason"),
        ("amendments", "Backed by"),
        ("positions", "Reason"),
        ("positions", "Set by"),
        ("dispositions", "Reason"),
        ("dispositions", "Decided by"),
    } <= columns_with_payloads


def test_no_backers_csv_cell_can_start_a_formula(injected):
    _, texts = injected
    agreed = db.session.scalars(
        select(Consultation).where(Consultation.published_at.is_not(None))
    ).one()
    rows = list(csv.reader(io.StringIO(backers_csv(agreed).decode("utf-8-sig"), newline="")))
    assert len(rows) == 5
    for row in rows[1:]:
        assert not [cell for cell in row if _risky(cell)], row
        organisation, contact, _, website = row[:4]
        for value in (organisation, contact):
            assert _stored_in(value.removeprefix("'"), texts), value
        assert website.removeprefix("'").startswith(("https://", "javascript:", "data:")), row
