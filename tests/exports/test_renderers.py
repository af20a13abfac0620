"""The renderers, on a fixed document: each holds exactly the agreed wording and the annex."""

from __future__ import annotations

import dataclasses
import io
import re

import docx
import pytest
from pypdf import PdfReader

from consult.exports import docx as docx_export
from consult.exports import html as html_export
from consult.exports import markdown as markdown_export
from consult.exports import pdf as pdf_export
from consult.exports.document import NO_ENDORSERS, wording_sha256
from consult.text import render_markdown
from tests.exports.sample import (
    CLIMATE_WORDING,
    HOMES_WORDING,
    HOSTILE_NOTE,
    HOSTILE_TITLE,
    sample_document,
)
from tests.html import assert_no_active_html, select, select_one, start_tags, text_of, texts

HOMES_SHA = wording_sha256(HOMES_WORDING)
CLIMATE_SHA = wording_sha256(CLIMATE_WORDING)

# Each ask's wording as a reader sees it, block by block (the Markdown marks gone).
HOMES_BLOCKS = [
    "Everyone deserves a safe, warm home – and the “right to a home” should be law.",
    "We call on the government to:",
    "build 150,000 social homes a year",
    "end no-fault evictions",
    "cap rents at £1,000 a month in high-cost areas",
    "How to pay for it",
    "A levy on empty homes",
    "Reform of council tax bands",
]
CLIMATE_BLOCKS = [
    "The UK must reach net zero by 2040, not 2050.",
    "Public money should go to insulation first: it cuts bills by £300 a year.",
]
CREDITS = [
    "Amendment 41 from Shelter Cymru changed paragraph 2 (accepted into version 3)",
    "Amendment 7 from Tenants’ Union changed the whole text (accepted into version 2)",
]
HISTORY = [
    "Version 1, published 2 March 2026 at 9:00am: First draft",
    f"Version 2, published 10 April 2026 at 12:15pm: {HOSTILE_NOTE}",
    "Version 3, published 20 May 2026 at 5:45pm: Accepted the rent cap amendment",
]
HOMES_TALLY = [
    ("Support", "5"),
    ("Support with changes", "2"),
    ("Object", "1"),
    ("Abstain", "1"),
    ("Responded", "9 of 10"),
    ("Support (of responses that are not abstentions)", "87%"),
    ("Quorum reached", "Yes"),
    ("Threshold met", "Yes"),
    ("Blocked by an objection", "Yes"),
]
REASON = "The objection was withdrawn in writing after the deadline."


def squash(text: str) -> str:
    return " ".join(text.split())


# Markdown -----------------------------------------------------------------------------------


def test_markdown_holds_the_wording_exactly_and_in_order():
    text = markdown_export.render_text(sample_document())
    assert text.startswith("# Our manifesto for 2027 – “Fair shares”\n\nAgreed text. Generated ")
    homes = text.index(HOMES_WORDING.strip("\n"))
    climate = text.index(CLIMATE_WORDING.strip("\n"))
    annex = text.index("\n## Provenance\n")
    assert homes < climate < annex
    assert text.count(HOMES_WORDING.strip("\n")) == 1
    assert "## 1. Homes \\<script\\>alert(1)\\</script\\> for all\n\nTheme: Housing \\& " in text
    assert "\n## 2. Net zero by 2040\n\nThe UK must" in text  # no theme: no theme line
    assert markdown_export.render(sample_document()) == text.encode("utf-8")


def test_markdown_annex():
    text = markdown_export.render_text(sample_document())
    annex = text[text.index("## Provenance") :]
    expected_climate = f"""\
### 2. Net zero by 2040

- Agreed version: 1
- Agreed: 15 January 2026 at 10:00am (2026-01-15T10:00:00Z)
- Agreed by: Alex Admin
- SHA-256 of the wording (UTF-8): `{CLIMATE_SHA}`
- Consensus when agreed: Quorum reached: 10 of 10 organisations. 100% support, above the 75% \
threshold. This meets the consultation's rule.

Tally when agreed:

| Count | Value |
| --- | --- |
| Support | 8 |
| Support with changes | 0 |
| Object | 0 |
| Abstain | 2 |
| Responded | 10 of 10 |
| Support (of responses that are not abstentions) | 100% |
| Quorum reached | Yes |
| Threshold met | Yes |
| Blocked by an objection | No |

Changes:

- Version 1, published 5 January 2026 at 12:00pm: No note.

Accepted amendments:

- None.

### Endorsing organisations

3 organisations endorsed the agreed text; 1 asked not to be named.

- Age UK London
- Tenants’ Union
"""
    assert annex.endswith(expected_climate)
    assert "- Consultation: Our manifesto for 2027 – “Fair shares”\n" in annex
    assert "- Reference: Consultation 12\n- Status: Agreed text\n" in annex
    assert "- Generated: 29 November 2026 at 2:05pm (2026-11-29T14:05:09Z)\n" in annex
    homes = annex[: annex.index("### 2.")]
    assert "- Agreed version: 3\n" in homes
    assert "- Agreed: 4 June 2026 at 4:30pm (2026-06-04T15:30:00Z)\n" in homes
    assert f"- SHA-256 of the wording (UTF-8): `{HOMES_SHA}`\n" in homes
    assert f"- Agreed although the consensus rule was not met, because: {REASON}\n" in homes
    assert "| Blocked by an objection | Yes |" in homes
    for credit in CREDITS:
        assert f"- {credit}\n" in homes
    # Plain fields are escaped: a Markdown reader shows them as text, never as markup.
    for line in HISTORY:
        assert f"- {line}\n" in homes
    rendered = str(render_markdown(text))
    assert "<script>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert HOSTILE_TITLE.replace("<", "&lt;").replace(">", "&gt;") in rendered


def test_markdown_is_stable():
    assert markdown_export.render(sample_document()) == markdown_export.render(sample_document())


# HTML ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> str:
    return html_export.render_text(sample_document())


def test_html_is_a_standalone_page(page):
    assert page.startswith("<!DOCTYPE html>")
    assert select_one(page, "html")["lang"] == "en-GB"
    assert text_of(page, "title") == "Our manifesto for 2027 – “Fair shares”: agreed text"
    assert text_of(page, "h1") == "Our manifesto for 2027 – “Fair shares”"
    assert len(select(page, "h1")) == 1
    assert select(page, "meta[charset=utf-8]")
    assert html_export.render(sample_document()) == page.encode("utf-8")


def test_html_loads_nothing_and_runs_nothing(page):
    assert_no_active_html(page)
    assert not select(page, "script, link, img, iframe, object, embed, base")
    for tag, attrs in start_tags(page):
        for name in ("src", "srcset", "href", "action", "poster"):
            assert name not in attrs, (tag, attrs)
    style = text_of(page, "style")
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    # The hostile strings are text: the title in both headings, the note in the history.
    assert texts(page, "h2")[0] == f"1. {HOSTILE_TITLE}"
    assert HOSTILE_NOTE in texts(page, "#provenance-ask-1 .history li")[1]


def test_html_print_stylesheet(page):
    style = squash(text_of(page, "style"))
    assert "@page { size: A4;" in style
    assert 'content: "Page " counter(page) " of " counter(pages); font-family: Arial' in style
    assert "font-family: Arial, Helvetica, sans-serif;" in style
    assert ".annex { break-before: page;" in style
    assert "h1, h2, h3, h4, h5, caption { break-after: avoid;" in style
    assert "annex" in select_one(page, "#provenance")["class"]


def test_html_holds_each_asks_wording_in_order(page):
    wording = [
        text_of(block)
        for block in select(page, "#ask-1 .wording > p, #ask-1 .wording li, #ask-1 .wording h3")
    ]
    assert wording == HOMES_BLOCKS
    assert texts(page, "#ask-2 .wording > p") == CLIMATE_BLOCKS
    assert text_of(page, "#ask-1 .wording strong") == "no-fault"
    assert text_of(page, "#ask-1 .wording em") == "£1,000"
    # The wording's own headings sit below its ask's heading.
    assert not select(page, ".wording h2")
    assert text_of(page, "#ask-1 .theme") == "Theme: Housing & communities"
    assert not select(page, "#ask-2 .theme")
    assert texts(page, ".ask h2") == [f"1. {HOSTILE_TITLE}", "2. Net zero by 2040"]


def test_html_annex(page):
    homes = select_one(page, "#provenance-ask-1")
    assert text_of(homes, ".version") == "3"
    assert select_one(homes, ".agreed-at time")["datetime"] == "2026-06-04T15:30:00Z"
    assert text_of(homes, ".agreed-at") == "4 June 2026 at 4:30pm (2026-06-04T15:30:00Z)"
    assert text_of(homes, ".agreed-by") == "Sam Secretariat"
    assert text_of(homes, ".sha256") == HOMES_SHA
    assert text_of(homes, ".consensus").startswith("Quorum reached: 9 of 10 organisations.")
    assert text_of(homes, ".against-rule") == REASON
    rows = [(text_of(row, "th"), text_of(row, "td")) for row in select(homes, "tbody tr")]
    assert rows == HOMES_TALLY
    assert texts(homes, ".history li") == HISTORY
    assert texts(homes, ".credits li") == CREDITS
    climate = select_one(page, "#provenance-ask-2")
    assert text_of(climate, ".sha256") == CLIMATE_SHA
    assert text_of(climate, ".version") == "1"
    assert not select(climate, ".against-rule, .credits")
    assert text_of(page, "#provenance .endorsement") == (
        "3 organisations endorsed the agreed text; 1 asked not to be named."
    )
    assert texts(page, ".endorsers li") == ["Age UK London", "Tenants’ Union"]
    facts = select_one(page, "#provenance-consultation")
    assert dict(zip(texts(facts, "dt"), texts(facts, "dd"), strict=True)) == {
        "Consultation": "Our manifesto for 2027 – “Fair shares”",
        "Reference": "Consultation 12",
        "Status": "Agreed text",
        "Generated": "29 November 2026 at 2:05pm (2026-11-29T14:05:09Z)",
        "Asks": "2",
    }


# PDF ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return pdf_export.render(sample_document())


@pytest.fixture(scope="module")
def pdf_pages(pdf_bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(pdf_bytes)).pages]


def test_pdf_holds_the_wording_and_the_annex(pdf_bytes, pdf_pages):
    assert pdf_bytes.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf_bytes))
    assert reader.metadata is not None
    assert reader.metadata.title == "Our manifesto for 2027 – “Fair shares”: agreed text"
    text = " ".join(pdf_pages)
    # The wording, in order, before the annex; the annex starts a page of its own.
    positions = [text.index(block) for block in HOMES_BLOCKS + CLIMATE_BLOCKS]
    assert positions == sorted(positions)
    annex_page = next(i for i, page in enumerate(pdf_pages) if "Provenance Consultation" in page)
    assert annex_page >= 1
    before = " ".join(pdf_pages[:annex_page])
    for block in HOMES_BLOCKS + CLIMATE_BLOCKS:
        assert block in before
    annex = " ".join(pdf_pages[annex_page:])
    unbroken = re.sub(r"\s", "", annex)
    assert HOMES_SHA in unbroken and CLIMATE_SHA in unbroken
    for line in CREDITS + [REASON, "Tenants’ Union", "Age UK London"]:
        assert line in annex
    assert "Page 1 of" in pdf_pages[0]


def test_pdf_fetches_nothing():
    with pytest.raises(pdf_export.FetchRefused):
        pdf_export.refuse_fetch("http://127.0.0.1:9/logo.png")


# DOCX ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def word():
    return docx.Document(io.BytesIO(docx_export.render(sample_document())))


def _section(word, heading: str) -> list:
    """The paragraphs after the Heading 1 with this text, up to the next Heading 1."""
    paragraphs = list(word.paragraphs)
    start = next(i for i, p in enumerate(paragraphs) if p.text == heading) + 1
    end = next(
        (i for i in range(start, len(paragraphs)) if paragraphs[i].style.name == "Heading 1"),
        len(paragraphs),
    )
    return paragraphs[start:end]


def test_docx_headings_have_word_styles(word):
    headings = [(p.style.name, p.text) for p in word.paragraphs if p.style.name != "Normal"]
    assert headings[0] == ("Title", "Our manifesto for 2027 – “Fair shares”")
    ones = [text for style, text in headings if style == "Heading 1"]
    assert ones == [f"1. {HOSTILE_TITLE}", "2. Net zero by 2040", "Provenance"]
    twos = [text for style, text in headings if style == "Heading 2"]
    assert twos == [
        "How to pay for it",
        "Consultation",
        f"1. {HOSTILE_TITLE}",
        "2. Net zero by 2040",
        "Endorsing organisations",
    ]
    annex = next(p for p in word.paragraphs if p.text == "Provenance")
    assert annex.paragraph_format.page_break_before is True
    assert word.core_properties.title == "Our manifesto for 2027 – “Fair shares”"
    assert word.core_properties.subject == "Agreed text"


def test_docx_wording_paragraphs_in_order(word):
    homes = _section(word, f"1. {HOSTILE_TITLE}")
    assert homes[0].text == "Theme: Housing & communities"
    assert [(p.style.name, p.text) for p in homes[1:]] == list(
        zip(
            ["Normal", "Normal", "List Bullet", "List Bullet", "List Bullet", "Heading 2"]
            + ["List Number", "List Number"],
            HOMES_BLOCKS,
            strict=True,
        )
    )
    bold = [run.text for p in homes for run in p.runs if run.bold]
    italic = [run.text for p in homes for run in p.runs if run.italic]
    assert bold == ["no-fault"] and italic == ["£1,000"]
    climate = _section(word, "2. Net zero by 2040")
    assert [p.text for p in climate] == CLIMATE_BLOCKS


def test_docx_numbered_lists_restart():
    source = "1. one\n2. two\n\nBetween.\n\n3. three\n4. four\n"
    document = sample_document()
    ask = dataclasses.replace(document.asks[1], wording=source, sha256="")
    word = docx.Document(io.BytesIO(docx_export.render(dataclasses.replace(document, asks=[ask]))))
    numbered = [p for p in word.paragraphs if p.style.name == "List Number"]
    assert [p.text for p in numbered] == ["one", "two", "three", "four"]
    ids = [p._p.pPr.numPr.numId.val for p in numbered]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    starts = {
        num.numId: num.xpath("./w:lvlOverride/w:startOverride/@w:val")
        for num in word.part.numbering_part.element.num_lst
    }
    assert starts[ids[0]] == ["1"] and starts[ids[2]] == ["3"]


def test_docx_annex(word):
    annex = _section(word, "Provenance")
    text = [p.text for p in annex]
    assert "Agreed version: 3" in text and "Agreed version: 1" in text
    assert f"SHA-256 of the wording (UTF-8): {HOMES_SHA}" in text
    assert f"SHA-256 of the wording (UTF-8): {CLIMATE_SHA}" in text
    assert "Agreed: 4 June 2026 at 4:30pm (2026-06-04T15:30:00Z)" in text
    assert f"Agreed although the consensus rule was not met, because: {REASON}" in text
    history = [p.text for p in annex if p.text.startswith("Version ")]
    assert history[:3] == HISTORY
    credits = [p for p in annex if p.text.startswith("Amendment ")]
    assert [p.text for p in credits] == CREDITS
    assert {p.style.name for p in credits} == {"List Bullet"}
    assert text[-3:] == [
        "3 organisations endorsed the agreed text; 1 asked not to be named.",
        "Age UK London",
        "Tenants’ Union",
    ]
    homes_table, climate_table = word.tables
    rows = [tuple(cell.text for cell in row.cells) for row in homes_table.rows]
    assert rows == [("Count", "Value"), *HOMES_TALLY]
    assert [cell.text for cell in climate_table.rows[1].cells] == ["Support", "8"]
    assert homes_table.style.name == "Table Grid"


# Every format -------------------------------------------------------------------------------


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


@pytest.mark.parametrize(
    "as_text",
    [
        lambda d: markdown_export.render_text(d),
        lambda d: text_of(html_export.render_text(d)),
        lambda d: _docx_text(docx_export.render(d)),
    ],
    ids=["markdown", "html", "docx"],
)
def test_no_endorsers_yet(as_text):
    document = dataclasses.replace(sample_document(), endorsers=())
    text = as_text(document)
    assert NO_ENDORSERS in text
    assert "Age UK London" not in text
