"""The consultation report: its rows (every version, hidden and withdrawn comments
included), the CSV and XLSX files read back, cells that a spreadsheet never reads as a
formula, a fixed number of queries, and the download's headers."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest

from consult import text
from consult.amendments import services as amendments
from consult.amendments.services import WHOLE_TEXT
from consult.asks.services import normalise_wording
from consult.comments import services as comments
from consult.extensions import db
from consult.models import Backing, Outcome, Role, Stance
from consult.positions import services as positions
from consult.reports import csv_report, xlsx_report
from consult.reports.gather import HEADERS, KINDS, gather
from consult.reports.safe import neutralise
from consult.uktime import LONDON, utc_to_london
from tests import factories
from tests.helpers import login_as, statements_for_page
from tests.html import select, text_of, texts

# The queries are written with joins on both engines: also runs with --backend=postgres.
pytestmark = pytest.mark.database


def anchor(ask, number: int) -> str:
    return text.paragraphs(ask.current_version.body)[number - 1].anchor


def uk(moment: datetime) -> datetime:
    return utc_to_london(moment).replace(microsecond=0)


@pytest.fixture
def story(people, delegates, ask):
    """A comment on paragraph 2 (resolved, answered) with a reply, a hidden comment, a
    withdrawn one; an amendment backed by one organisation and opposed by another, one
    accepted into v3; the home organisation's positions on v2 and v3."""
    first, _ = comments.add_comment(
        author=people.member, ask=ask, body="Say which year.", paragraph_anchor=anchor(ask, 2)
    )
    reply, _ = comments.add_comment(
        author=people.other_member, ask=ask, body="We agree.", parent=first
    )
    hidden, _ = comments.add_comment(author=people.other_member, ask=ask, body="Rude words.")
    comments.hide_comment(actor=people.secretariat, comment=hidden, reason="Not civil")
    gone, _ = comments.add_comment(author=delegates.third, ask=ask, body="Never mind.")
    comments.withdraw_comment(actor=delegates.third, comment=gone)
    comments.resolve_comment(actor=people.secretariat, comment=first, response="Done.")
    amendments.record_disposition(
        actor=people.secretariat, comment=first, outcome=Outcome.NOTED, reason="Thanks."
    )
    backed, _ = amendments.propose(
        actor=people.member,
        ask=ask,
        paragraph=anchor(ask, 1),
        wording="The council must act by 2030.",
        rationale="Sooner.",
    )
    amendments.set_backing(actor=delegates.other, amendment=backed, stance=Backing.BACK)
    amendments.set_backing(actor=delegates.third, amendment=backed, stance=Backing.OPPOSE)
    taken, _ = amendments.propose(
        actor=delegates.third,
        ask=ask,
        paragraph=WHOLE_TEXT,
        wording="Everyone commits to net zero by 2040.",
        rationale="Shorter.",
    )
    positions.set_position(actor=delegates.home, ask=ask, stance=Stance.SUPPORT, reason="")
    db.session.commit()
    amendments.accept(actor=people.secretariat, ask=ask, amendments=[taken], change_note="Shorter.")
    db.session.commit()
    positions.set_position(actor=delegates.home, ask=ask, stance=Stance.OBJECT, reason="Vague.")
    db.session.commit()
    return first, reply, hidden, gone, backed, taken


def test_the_rows_cover_every_kind_and_version(people, delegates, ask, story):
    first, reply, hidden, gone, backed, taken = story
    report = gather(ask.consultation)
    title = "Declare a climate emergency"

    assert [s.kind for s in report.sheets] == list(KINDS)
    # Per ask, then organisation (Home, Other, Third), then time.
    assert report.sheet("comments").rows == [
        (title, "v2", 2, first.id, None, "Home Organisation", "Mina Member",
         uk(first.created_at), "Visible", "Yes", "Say which year."),
        (title, "v2", 2, reply.id, first.id, "Other Organisation", "Otto Other",
         uk(reply.created_at), "Visible", "No", "We agree."),
        (title, "v2", "Whole ask", hidden.id, None, "Other Organisation", "Otto Other",
         uk(hidden.created_at), "Hidden", "No", "Rude words."),
        # Withdrawn by its author: kept as a row, without its text.
        (title, "v2", "Whole ask", gone.id, None, "Third Organisation", "Theo Third",
         uk(gone.created_at), "Withdrawn", "No", ""),
    ]  # fmt: skip
    assert report.sheet("amendments").rows == [
        (title, "v2", 1, backed.id, "Home Organisation", "Mina Member", uk(backed.created_at),
         "Open", "The council must act by 2030.", "Sooner.", "Other Organisation",
         "Third Organisation", None, None),
        (title, "v2", "Whole text", taken.id, "Third Organisation", "Theo Third",
         uk(taken.created_at), "Accepted", "Everyone commits to net zero by 2040.", "Shorter.",
         "", "", "v3", None),
    ]  # fmt: skip
    [on_v2, on_v3] = report.sheet("positions").rows
    assert on_v2[:7] == (title, "v2", "No", "Home Organisation", "Support", "", "Dee Delegate")
    assert on_v3[:7] == (
        title,
        "v3",
        "Yes",
        "Home Organisation",
        "Object",
        "Vague.",
        "Dee Delegate",
    )
    assert (
        on_v3[7].tzinfo is not None
        and on_v3[7].utcoffset() == on_v3[7].astimezone(LONDON).utcoffset()
    )
    [noted, adopted] = report.sheet("dispositions").rows
    assert noted[:8] == (
        title, "Comment", first.id, "Home Organisation", "Noted", "Thanks.", "v2",
        "Sam Secretariat",
    )  # fmt: skip
    assert adopted[:8] == (
        title, "Amendment", taken.id, "Third Organisation", "Adopted", "Accepted into v3.",
        "v3", "Sam Secretariat",
    )  # fmt: skip
    assert all(isinstance(row[8], datetime) for row in (noted, adopted))


def test_asks_come_in_the_consultation_order(people, ask):
    earlier = factories.ask(ask.consultation, title="Earlier ask", sort_order=-1)
    comments.add_comment(author=people.member, ask=ask, body="On the second.")
    comments.add_comment(author=people.member, ask=earlier, body="On the first.")
    db.session.commit()
    rows = gather(ask.consultation, ["comments"]).sheet("comments").rows
    assert [row[0] for row in rows] == ["Earlier ask", "Declare a climate emergency"]


def test_the_csv_reads_back(people, delegates, ask, story):
    first = story[0]
    report = gather(ask.consultation)
    data = csv_report.render(report.sheet("comments"))
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(HEADERS["comments"])
    assert rows[1] == [
        "Declare a climate emergency", "v2", "2", str(first.id), "", "Home Organisation",
        "Mina Member", uk(first.created_at).isoformat(), "Visible", "Yes", "Say which year.",
    ]  # fmt: skip
    assert rows[4][-3:] == ["Withdrawn", "No", ""]
    positions_rows = list(
        csv.reader(io.StringIO(csv_report.render(report.sheet("positions")).decode("utf-8-sig")))
    )
    assert positions_rows[0] == list(HEADERS["positions"])
    assert [row[1:3] for row in positions_rows[1:]] == [["v2", "No"], ["v3", "Yes"]]


def test_the_workbook_reads_back(people, delegates, ask, story):
    first = story[0]
    report = gather(ask.consultation)
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report.render(report)))
    assert book.sheetnames == ["Comments", "Amendments", "Positions", "Dispositions"]
    for sheet in report.sheets:
        ws = book[sheet.title]
        header = [cell.value for cell in ws[1]]
        assert header == list(sheet.headers)
        assert all(cell.font.bold for cell in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.max_row == len(sheet.rows) + 1
        for letter, dimension in ws.column_dimensions.items():
            assert 8 <= dimension.width <= 60, letter
    ws = book["Comments"]
    values = [cell.value for cell in ws[2]]
    assert values == [
        "Declare a climate emergency", "v2", 2, first.id, None, "Home Organisation",
        "Mina Member", uk(first.created_at).replace(tzinfo=None), "Visible", "Yes",
        "Say which year.",
    ]  # fmt: skip
    assert isinstance(ws["D2"].value, int) and ws["D2"].data_type == "n"
    assert ws["H2"].is_date
    assert [c.value for c in book["Amendments"]["K"]][1:] == ["Other Organisation", None]


def test_long_text_wraps_in_a_bounded_column(people, ask):
    comments.add_comment(author=people.member, ask=ask, body="word " * 100)
    db.session.commit()
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report.render(gather(ask.consultation))))
    ws = book["Comments"]
    assert ws.column_dimensions["K"].width == 60
    assert ws["K2"].alignment.wrap_text
    assert not ws["A2"].alignment.wrap_text


# Formula injection --------------------------------------------------------------------------

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = [
    f"{lead}{trigger}cmd|' /C calc'!A0"
    for trigger in TRIGGERS
    for lead in ("", "  ", "\n", " \n\t ")
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=repr)
def test_neutralise_prefixes_a_quote(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize(
    "value", ["Plain words", "It costs £5 - or less", "", "5", "2040", "a=b", "'quoted"]
)
def test_neutralise_leaves_ordinary_text(value):
    assert neutralise(value) == value


def test_other_unicode_whitespace_is_seen_through():
    for lead in ("\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff", "\x0b"):
        assert neutralise(f"{lead}=1+1") == f"'{lead}=1+1"


@pytest.fixture
def injected(people, delegates, ask):
    """Each payload as the name of an organisation and of its member, who comments with it
    and proposes it as an amendment's wording and rationale."""
    for n, payload in enumerate(PAYLOADS):
        value = f"{payload} #{n}"
        org = factories.organisation(value)
        author = factories.user(Role.MEMBER, org, name=value)
        comments.add_comment(author=author, ask=ask, body=value)
        amendments.propose(
            actor=author, ask=ask, paragraph=anchor(ask, 1), wording=value, rationale=value
        )
    db.session.commit()
    return ask


def _is_risky(value: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula (or as the start of one)."""
    rest = value.lstrip()
    lead = value[: len(value) - len(rest)]
    return "\t" in lead or "\r" in lead or rest[:1] in ("=", "+", "-", "@")


def test_no_csv_cell_can_start_a_formula(injected):
    report = gather(injected.consultation)
    cells: dict[str, list[list[str]]] = {}
    for sheet in report.sheets:
        data = csv_report.render(sheet).decode("utf-8-sig")
        cells[sheet.kind] = list(csv.reader(io.StringIO(data, newline="")))
        risky = [c for row in cells[sheet.kind] for c in row if _is_risky(c)]
        assert risky == [], sheet.kind
    organisations = {row[5] for row in cells["comments"][1:]}
    authors = {row[6] for row in cells["comments"][1:]}
    wordings = {row[8] for row in cells["amendments"][1:]}
    for n, payload in enumerate(PAYLOADS):
        assert f"'{payload} #{n}" in organisations
        assert f"'{payload} #{n}" in authors
        stored = normalise_wording(f"{payload} #{n}")
        assert (f"'{stored}" if _is_risky(stored) else stored) in wordings


def test_no_xlsx_cell_is_a_formula(injected):
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report.render(gather(injected.consultation))))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not _is_risky(cell.value), (ws.title, cell.coordinate)
    organisations = {c.value for c in book["Comments"]["F"]}
    bodies = {c.value for c in book["Comments"]["K"]}
    rationales = {c.value for c in book["Amendments"]["J"]}
    for n, payload in enumerate(PAYLOADS):
        assert f"'{payload} #{n}" in organisations
        body = f"{payload} #{n}".strip()  # comments are stored stripped
        assert (f"'{body}" if _is_risky(body) else body) in bodies
        stored = normalise_wording(f"{payload} #{n}")
        assert (f"'{stored}" if _is_risky(stored) else stored) in rationales


def test_control_characters_xml_cannot_carry_are_dropped_from_the_workbook(people, ask):
    comments.add_comment(author=people.member, ask=ask, body="Bell\x07 and\x1b escape")
    db.session.commit()
    book = openpyxl.load_workbook(io.BytesIO(xlsx_report.render(gather(ask.consultation))))
    assert book["Comments"]["K2"].value == "Bell and escape"


# Queries ------------------------------------------------------------------------------------


def _statements(client, url: str) -> int:
    return statements_for_page(client, url)


def _comments(people, delegates, ask, n: int) -> None:
    authors = (people.member, people.other_member, delegates.third)
    for i in range(n):
        comment, _ = comments.add_comment(
            author=authors[i % 3], ask=ask, body=f"Comment {i}", paragraph_anchor=anchor(ask, 2)
        )
        if i % 4 == 0:
            amendment, _ = amendments.propose(
                actor=authors[i % 3],
                ask=ask,
                paragraph=anchor(ask, 1),
                wording=f"Wording {i}",
                rationale="Because.",
            )
            amendments.record_disposition(
                actor=people.secretariat, comment=comment, outcome=Outcome.NOTED, reason="Ok."
            )
    db.session.commit()


@pytest.mark.parametrize("url", ["report.xlsx", "report.csv?kind=comments"])
def test_the_query_count_does_not_grow_with_the_consultation(client, people, delegates, ask, url):
    login_as(client, people.secretariat)
    path = f"/consultations/{ask.consultation_id}/{url}"
    _comments(people, delegates, ask, 2)
    few = _statements(client, path)
    _comments(people, delegates, ask, 18)
    many = _statements(client, path)
    assert few == many


# Downloads ----------------------------------------------------------------------------------


def test_the_workbook_downloads_with_its_headers(client, people, ask, story):
    ask.consultation.title = "Net zero: Café & “quotes”"
    db.session.commit()
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{ask.consultation_id}/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype == xlsx_report.MIMETYPE
    day = utc_to_london(datetime.now(LONDON)).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="net-zero-cafe-quotes-report-{day}.xlsx"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book["Comments"].max_row == 5


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_downloads_as_csv(client, people, ask, story, kind):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{ask.consultation_id}/report.csv?kind={kind}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="net-zero-by-2040-report-')
    assert disposition.endswith('.csv"') and f"-{kind}-" in disposition
    header = next(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert header == list(HEADERS[kind])


@pytest.mark.parametrize("query", ["", "?kind=", "?kind=everything", "?kind=Comments"])
def test_a_missing_or_unknown_kind_is_a_clear_400(client, people, ask, query):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{ask.consultation_id}/report.csv{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "comments, amendments, positions or dispositions" in text_of(response, "main")


def test_the_consultation_page_links_the_report_for_the_secretariat_only(client, people, ask):
    url = f"/consultations/{ask.consultation_id}"
    login_as(client, people.secretariat)
    page = client.get(url)
    links = [a["href"] for a in select(page, "#report-links a")]
    assert links == [f"{url}/report.xlsx"] + [f"{url}/report.csv?kind={k}" for k in KINDS]
    assert texts(page, "#report-links a")[0] == "Consultation report (XLSX spreadsheet)"
    assert texts(page, "#report-links a")[1] == "Comments (CSV file)"
    for person in (people.member, people.observer):
        login_as(client, person)
        assert select(client.get(url), "#report") == []
