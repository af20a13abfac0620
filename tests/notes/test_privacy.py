"""No one outside an organisation reads its notes: not another organisation's member, not
an observer (even of the same organisation), not the secretariat. For each of them: every
note's own pages are refused, the notes page is refused or lists only their own
organisation's notes, and the ask page, the dashboard, the positions panel, the live
changes and event stream, the report, the archive, the agreed-text exports and the audit
log carry none of the text. Writing notes announces no live event and records no audit
event at all."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from consult.agreements.services import declare_agreed
from consult.extensions import db
from consult.models import AuditEvent, LiveEvent, OrganisationNote, Stance
from consult.notes import services
from tests.helpers import HTMX, count, login_as
from tests.html import select, text_of

pytestmark = pytest.mark.database

SECRETS = ("Quietly-object-7f3a", "Fallback-line-91bc", "Changed-wording-c2d4")
OUTSIDERS = ("other_member", "observer", "secretariat")


@pytest.fixture
def app_config(app_config):
    """Event streams end at once here (they last minutes in use)."""
    return {**app_config, "LIVE_STREAM_SECONDS": 0.2}


@pytest.fixture
def written(people, delegates, ask) -> list[OrganisationNote]:
    """The home organisation's notes, with a reply, a changed note and a proposal; checks
    that none of it made a live event or an audit event."""
    live, audit = count(LiveEvent), count(AuditEvent)
    first = services.add_note(author=people.member, ask=ask, body=f"We {SECRETS[0]}.")
    reply = services.add_note(
        author=delegates.home, ask=ask, body=f"Or {SECRETS[1]}.", parent=first
    )
    services.edit_note(actor=delegates.home, note=reply, body=f"Or {SECRETS[2]}.")
    services.propose(actor=people.member, note=first, stance=Stance.OBJECT)
    gone = services.add_note(author=people.member, ask=ask, body="Draft, then deleted")
    services.delete_note(actor=people.member, note=gone)
    db.session.commit()
    assert count(LiveEvent) == live, "notes must never be announced live"
    assert count(AuditEvent) == audit, "notes are not recorded in the audit log"
    return [first, reply]


def _clean(body: bytes | str) -> None:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_open_none_of_the_notes(client, people, ask, written, role):
    login_as(client, people.get(role))
    for note in written:
        for action in ("reply", "edit", "delete", "propose"):
            response = client.get(f"/notes/{note.id}/{action}")
            assert response.status_code == 403, (action, response.status_code)
            _clean(response.get_data())
    notes_page = client.get(f"/asks/{ask.id}/notes")
    # Another organisation's member has notes of their own; the others have none.
    assert notes_page.status_code == (200 if role == "other_member" else 403)
    _clean(notes_page.get_data())


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_pages_and_live_updates_carry_no_note(client, people, ask, written, role):
    login_as(client, people.get(role))
    for url in (
        f"/asks/{ask.id}",
        f"/asks/{ask.id}/positions",
        f"/asks/{ask.id}/comments",
        "/",
        f"/consultations/{ask.consultation_id}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        _clean(response.get_data())
    page = client.get(f"/asks/{ask.id}").get_data(as_text=True)
    assert ("notes-link" in page) is (role == "other_member")
    changes = client.get(f"/asks/{ask.id}/comments/changes?after=0", headers=HTMX)
    assert changes.status_code == 200
    _clean(changes.get_data())
    stream = client.get(f"/asks/{ask.id}/events?last_event_id=0")
    assert stream.status_code == 200
    _clean(stream.get_data())  # (reads the whole stream: it ends after 0.2 s here)


@pytest.mark.parametrize("kind", ["comments", "amendments", "positions", "dispositions"])
def test_the_report_carries_no_note(client, people, ask, written, kind):
    login_as(client, people.secretariat)
    response = client.get(f"/consultations/{ask.consultation_id}/report.csv?kind={kind}")
    assert response.status_code == 200
    _clean(response.get_data())


def test_the_workbook_archive_and_audit_log_carry_no_note(client, people, ask, written):
    login_as(client, people.secretariat)
    workbook = client.get(f"/consultations/{ask.consultation_id}/report.xlsx")
    assert workbook.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(workbook.get_data()))
    cells = [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    _clean("\n".join(cells))
    assert book.sheetnames  # (it was read)
    archive = client.get(f"/consultations/{ask.consultation_id}/archive.json")
    assert archive.status_code == 200
    _clean(archive.get_data())
    assert "note" not in archive.get_json()  # no section for notes
    audit = client.get("/admin/audit")
    assert audit.status_code == 200
    _clean(audit.get_data())


def test_the_agreed_text_carries_no_note(client, people, ask, written):
    declare_agreed(actor=people.secretariat, ask=ask, reason="Agreed at the meeting.", based_on=2)
    db.session.commit()
    login_as(client, people.secretariat)
    for fmt in ("md", "html"):
        response = client.get(f"/consultations/{ask.consultation_id}/agreed.{fmt}")
        assert response.status_code == 200, fmt
        _clean(response.get_data())
    docx = client.get(f"/consultations/{ask.consultation_id}/agreed.docx")
    assert docx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(docx.get_data())) as package:
        _clean(b"".join(package.read(name) for name in package.namelist()))
    # Once agreed, the home organisation still reads its notes; nobody writes any more.
    login_as(client, people.member)
    page = client.get(f"/asks/{ask.id}/notes")
    assert page.status_code == 200 and SECRETS[0] in page.get_data(as_text=True)
    assert client.post(f"/asks/{ask.id}/notes", data={"body": "Late"}).status_code == 403


@pytest.mark.parametrize("role", (*OUTSIDERS, "member"))
def test_search_finds_no_note_for_anyone(client, people, ask, written, role):
    """Notes are not in the search index: no search reveals them, even to their own
    organisation (they are read on the notes page), while the ask itself is found."""
    login_as(client, getattr(people, role))
    for secret in SECRETS:
        page = client.get(f"/search?q={secret}")
        assert page.status_code == 200
        assert not select(page, "#search-results")
        assert text_of(page, "#search-summary") == f"Nothing you may read matches ‘{secret}’."
    found = client.get("/search?q=" + ask.title.split()[-1])
    assert found.status_code == 200
    assert ask.title in text_of(found, "#search-results")
