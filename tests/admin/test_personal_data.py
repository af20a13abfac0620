"""People's data (UK GDPR, issue 11): the secretariat downloads everything Consult holds about
a person, and erases a person's name and email address everywhere, keeping what their
organisation contributed through them (consult/admin/personal_data.py)."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import or_, select

from consult import audit
from consult.amendments import services as amendments
from consult.auth import services as accounts
from consult.comments import services as comments
from consult.extensions import db
from consult.models import (
    AccountToken,
    Amendment,
    AmendmentBacking,
    Ask,
    AskVisit,
    Comment,
    Delivery,
    DigestItem,
    NotificationKind,
    NotificationPreference,
    OrganisationNote,
    OutgoingEmail,
    Position,
    TokenPurpose,
    User,
)
from consult.notes import services as notes
from consult.notifications import services as notifications
from consult.positions import services as positions
from consult.reports.gather import KINDS
from consult.text import paragraphs
from tests.helpers import audit_events, login_as
from tests.html import text_of

pytestmark = pytest.mark.database

DEE_IP = "203.0.113.9"  # where Dee signed in from
SECRETARIAT_IP = "198.51.100.7"  # where the secretariat worked from
NOTE = "Our private line: hold out for 2030."
ERASED = "A member of Home Organisation"


@dataclass
class History:
    dee: User  # the home organisation's delegate, to be erased
    name: str
    email: str
    comment: Comment
    reply: Comment
    amendment: Amendment
    backed: Amendment
    note: OrganisationNote


@pytest.fixture
def history(app, people, delegates, ask: Ask) -> History:
    """Dee Delegate has done one of everything: commented and replied, set a position,
    proposed an amendment and backed another, written a note, chosen how to be told, signed
    in from an address; she was invited by the secretariat (from another address), and
    emails naming her were sent to her and to others."""
    dee, oda, otto = delegates.home, delegates.other, people.other_member
    anchor = paragraphs(ask.current_version.body)[0].anchor
    with app.test_request_context(environ_base={"REMOTE_ADDR": SECRETARIAT_IP}):
        audit.record(
            people.secretariat, "user.invite", dee, after=audit.snapshot(dee, *accounts.USER_FIELDS)
        )
    with app.test_request_context(environ_base={"REMOTE_ADDR": DEE_IP}):
        accounts.record_sign_in(dee)
    notifications.set_preferences(
        person=dee, choices={NotificationKind.NEW_VERSION: Delivery.NEVER}
    )
    comment, _ = comments.add_comment(author=dee, ask=ask, body="We want a date in this.")
    otto_comment, _ = comments.add_comment(author=otto, ask=ask, body="Keep it general.")
    # Otto's reply emails Dee; Dee's reply emails Otto, naming her.
    comments.add_comment(author=otto, ask=ask, body="Which date?", parent=comment)
    reply, _ = comments.add_comment(
        author=dee, ask=ask, body="Not too general.", parent=otto_comment
    )
    positions.set_position(actor=dee, ask=ask, stance="support_with_changes", reason="A date.")
    amendment, _ = amendments.propose(
        actor=dee,
        ask=ask,
        paragraph=anchor,
        wording="The council must act by 2030.",
        rationale="A date.",
    )
    backed, _ = amendments.propose(
        actor=oda,
        ask=ask,
        paragraph=amendments.WHOLE_TEXT,
        wording="Act now.",
        rationale="Shorter.",
    )
    amendments.set_backing(actor=dee, amendment=backed, stance="back")
    note = notes.add_note(author=dee, ask=ask, body=NOTE)
    db.session.add(AskVisit(user_id=dee.id, ask_id=ask.id))
    accounts._issue_token(dee, TokenPurpose.PASSWORD_RESET, timedelta(hours=1), None)
    db.session.commit()
    return History(dee, dee.name, dee.email, comment, reply, amendment, backed, note)


def download(client, person: User) -> dict:
    response = client.post(f"/admin/people/{person.id}/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="person-{person.id}-data.json"'
    )
    return json.loads(response.data)


# Export ---------------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person(client, people, history):
    dee = history.dee
    data = download(login_as(client, people.secretariat), dee)
    assert data["person"]["name"] == "Dee Delegate" and data["person"]["email"] == history.email
    assert data["person"]["organisation"]["name"] == "Home Organisation"
    assert data["person"]["role"] == "member" and data["person"]["delegate"] is True
    assert [c["body"] for c in data["comments"]] == ["We want a date in this."]
    assert data["comments"][0]["ask"]["title"] == "Declare a climate emergency"
    assert data["comments"][0]["version"] == 2 and data["comments"][0]["state"] == "visible"
    assert [(r["body"], r["in_reply_to"]) for r in data["replies"]] == [
        ("Not too general.", history.reply.parent_id)
    ]
    assert [(p["stance"], p["reason"]) for p in data["positions_set"]] == [
        ("support_with_changes", "A date.")
    ]
    assert [a["wording"] for a in data["amendments_proposed"]] == ["The council must act by 2030."]
    assert [(b["amendment"], b["stance"]) for b in data["backings_set"]] == [
        (history.backed.id, "back")
    ]
    assert data["endorsements_set"] == []
    assert data["notification_preferences"] == [{"kind": "new_version", "delivery": "never"}]
    # The reply Otto wrote to her comment was emailed to her: its subject, not its text.
    [email] = data["emails_to_them"]
    assert "Otto Other" in email["subject"] or "repl" in email["subject"].lower()
    assert set(email) == {"subject", "state", "created_at", "sent_at"}
    actions = {e["action"] for e in data["audit_events"]}
    assert {"user.invite", "user.sign_in", "comment.create", "position.set"} <= actions


def test_the_export_counts_notes_but_never_quotes_them(client, people, history):
    data = download(login_as(client, people.secretariat), history.dee)
    assert data["organisation_notes"]["notes"] == 1 and data["organisation_notes"]["replies"] == 0
    assert (
        "only members of Home Organisation may read them" in data["organisation_notes"]["left_out"]
    )
    assert NOTE not in json.dumps(data)


def test_the_export_has_no_secret_and_no_one_elses_address(client, people, history):
    dee = history.dee
    tokens = db.session.scalars(
        select(AccountToken.token_hash).where(AccountToken.user_id == dee.id)
    )
    login_as(client, people.secretariat)
    raw = client.post(f"/admin/people/{dee.id}/data.json").get_data(as_text=True)
    for secret in (dee.password_hash, dee.session_token, *tokens):
        assert secret and secret not in raw
    events = {e["action"]: e for e in json.loads(raw)["audit_events"]}
    assert events["user.sign_in"]["ip_address"] == DEE_IP  # her own
    assert events["user.invite"]["ip_address"] is None  # the secretariat's is not hers
    assert SECRETARIAT_IP not in raw


def test_downloading_is_recorded_in_the_audit_log(client, people, history):
    login_as(client, people.secretariat)
    download(client, history.dee)
    [event] = audit_events("user.export_data")
    assert event.actor_id == people.secretariat.id and event.object_id == history.dee.id
    page = client.get(f"/admin/people/{history.dee.id}").get_data(as_text=True)
    assert "Sam Secretariat downloaded everything Consult holds about Dee Delegate" in page


# Erasure --------------------------------------------------------------------------------------


def erase(client, people, person: User):
    login_as(client, people.secretariat)
    response = client.post(f"/admin/people/{person.id}/erase")
    assert response.status_code == 303
    db.session.expire_all()
    return response


def test_the_erase_page_asks_for_confirmation_and_changes_nothing(client, people, history):
    page = login_as(client, people.secretariat).get(f"/admin/people/{history.dee.id}/erase")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert text_of(body, "h1") == "Are you sure you want to erase this person?"
    assert "You cannot undo this." in body and "A member of Home Organisation" in body
    db.session.expire_all()
    assert history.dee.name == "Dee Delegate" and history.dee.erased_at is None


def test_erasure_removes_the_name_and_email_from_the_account(client, people, history):
    dee = history.dee
    token = dee.session_token
    erase(client, people, dee)
    assert dee.name == ERASED
    assert dee.email == f"erased-{dee.id}@invalid"
    assert dee.password_hash is None and not dee.active and not dee.is_delegate
    assert dee.erased_at is not None and dee.session_token != token
    for model in (AccountToken, NotificationPreference, DigestItem, AskVisit):
        assert db.session.scalars(select(model).where(model.user_id == dee.id)).all() == []
    [event] = audit_events("user.erase")
    assert event.actor_id == people.secretariat.id and event.object_id == dee.id
    assert "Dee" not in json.dumps([event.before, event.after])


def test_erasure_signs_the_person_out_for_good(client, app, people, history):
    dee = history.dee
    theirs = app.test_client()
    login_as(theirs, dee)
    assert theirs.get("/account").status_code == 200
    erase(client, people, dee)
    assert theirs.get("/account").status_code == 302  # to sign in
    response = client.post(f"/admin/people/{dee.id}/reactivate")
    assert response.status_code == 303
    db.session.expire_all()
    assert not dee.active
    page = client.get(f"/admin/people/{dee.id}").get_data(as_text=True)
    assert "cannot be reactivated" in page


def test_contributions_stay_and_read_as_a_member_of_the_organisation(client, people, history, ask):
    dee = history.dee
    erase(client, people, dee)
    assert (
        db.session.scalar(select(Comment).where(Comment.id == history.comment.id)).author_id
        == dee.id
    )
    assert db.session.scalars(select(Position).where(Position.set_by_id == dee.id)).all()
    assert db.session.get(Amendment, history.amendment.id).proposer_id == dee.id
    assert db.session.scalars(
        select(AmendmentBacking).where(AmendmentBacking.set_by_id == dee.id)
    ).all()
    assert db.session.get(OrganisationNote, history.note.id).body == NOTE
    page = client.get(f"/asks/{ask.id}/comments").get_data(as_text=True)
    assert "We want a date in this." in page and ERASED in page


def pages_seen(client, people, history: History, ask: Ask) -> dict[str, str]:
    """Every page, download, report, archive, export and search a name could be on, as
    the secretariat (and the notes, as a member of Dee's organisation)."""
    consultation = ask.consultation_id
    login_as(client, people.secretariat)
    urls = [
        f"/asks/{ask.id}",
        f"/asks/{ask.id}/comments",
        f"/asks/{ask.id}/amendments",
        f"/amendments/{history.amendment.id}",
        f"/amendments/{history.backed.id}",
        f"/asks/{ask.id}/positions",
        f"/asks/{ask.id}/you-said-we-did",
        f"/consultations/{consultation}",
        f"/consultations/{consultation}/unresolved-comments",
        f"/consultations/{consultation}/archive.json",
        "/admin/people",
        f"/admin/people/{history.dee.id}",
        f"/admin/organisations/{history.dee.organisation_id}",
        "/admin/audit",
        "/admin/mail",
        "/comments/reports",
        "/search?q=date",
        "/search?q=Dee",
        *(f"/consultations/{consultation}/report.csv?kind={kind}" for kind in KINDS),
    ]
    seen = {url: client.get(url).get_data(as_text=True) for url in urls}
    book = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/consultations/{consultation}/report.xlsx").data)
    )
    seen["report.xlsx"] = "\n".join(
        str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row
    )
    seen["data.json"] = client.post(f"/admin/people/{history.dee.id}/data.json").get_data(
        as_text=True
    )
    login_as(client, people.member)  # a member of Dee's organisation reads its notes
    seen["notes"] = client.get(f"/asks/{ask.id}/notes").get_data(as_text=True)
    return seen


def test_after_erasure_the_name_and_email_are_on_no_page(client, people, history, ask):
    before = pages_seen(client, people, history, ask)
    assert "Dee Delegate" in before[f"/asks/{ask.id}/comments"]  # the check can see her
    assert history.email in before["/admin/people"]
    erase(client, people, history.dee)
    after = pages_seen(client, people, history, ask)
    for where, body in after.items():
        assert history.name not in body, where
        assert history.email not in body, where
    assert ERASED in after[f"/asks/{ask.id}/comments"]
    assert ERASED in after["notes"] and NOTE in after["notes"]
    assert ERASED in after[f"/consultations/{ask.consultation_id}/archive.json"]


def test_after_erasure_the_audit_log_shows_no_old_name_email_or_address(client, people, history):
    before = login_as(client, people.secretariat).get("/admin/audit").get_data(as_text=True)
    assert DEE_IP in before and history.email in before
    erase(client, people, history.dee)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert history.name not in page and history.email not in page
    assert DEE_IP not in page  # where she signed in from
    assert SECRETARIAT_IP in page  # where the secretariat worked from stays
    assert "(erased)" in page
    assert f"Sam Secretariat invited {ERASED}" in page
    assert f"{ERASED} signed in" in page


def test_after_erasure_no_stored_email_names_them(client, people, history):
    sent = db.session.scalars(select(OutgoingEmail)).all()
    assert any(e.recipient == history.email for e in sent)
    assert any(history.name in e.text_body and e.recipient != history.email for e in sent)
    erase(client, people, history.dee)
    for email in db.session.scalars(select(OutgoingEmail)):
        assert email.recipient != history.email
        for text in (email.subject, email.text_body, email.html_body or ""):
            assert history.name not in text and history.email not in text
    to_otto = db.session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.recipient == people.other_member.email)
    ).all()
    assert any(ERASED in e.text_body for e in to_otto)


def test_emails_after_erasure_name_a_member_of_the_organisation(client, people, history):
    erase(client, people, history.dee)
    otto = people.other_member
    comment = db.session.get(Comment, history.comment.id)
    comments.report_comment(actor=otto, comment=comment, reason="Off topic")
    comments.hide_comment(actor=people.secretariat, comment=comment, reason="Off topic")
    db.session.commit()
    latest = db.session.scalars(
        select(OutgoingEmail)
        .where(OutgoingEmail.recipient == otto.email)
        .order_by(OutgoingEmail.id.desc())
    ).first()
    assert latest is not None and f"a comment by {ERASED}" in latest.text_body
    assert not db.session.scalars(
        select(OutgoingEmail).where(
            or_(
                OutgoingEmail.recipient == history.email,
                OutgoingEmail.recipient == history.dee.email,
            )
        )
    ).all()


def test_nobody_erases_themselves(client, people):
    me = people.secretariat
    login_as(client, me)
    page = client.get(f"/admin/people/{me.id}/erase").get_data(as_text=True)
    assert "You cannot erase your own account." in page
    response = client.post(f"/admin/people/{me.id}/erase")
    assert response.status_code == 303
    db.session.expire_all()
    assert me.erased_at is None and me.name == "Sam Secretariat"
    assert "You cannot erase your own account." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_a_person_is_erased_once(client, people, history):
    erase(client, people, history.dee)
    login_as(client, people.secretariat)
    client.post(f"/admin/people/{history.dee.id}/erase")
    assert len(audit_events("user.erase")) == 1
    page = client.get(f"/admin/people/{history.dee.id}").get_data(as_text=True)
    assert "Erase person" not in page and "Erased" in page


def test_the_audit_sentences_of_an_erased_person_keep_no_old_name(client, people):
    """Accepting an invitation under another name reads "changing their name from ..."; once
    the person is erased, neither name is said."""
    invited = accounts.invite(
        actor=people.secretariat,
        email="ivy@home.example",
        name="Ivy Invited",
        organisation=people.member.organisation,
        role=people.member.role,
    )
    token = db.session.scalar(select(AccountToken).where(AccountToken.user_id == invited.id))
    accounts.accept_invitation(token=token, name="Ivy Renamed", password="a long password")
    db.session.commit()
    page = login_as(client, people.secretariat).get("/admin/audit").get_data(as_text=True)
    assert "changing their name from “Ivy Invited”" in page
    erase(client, people, invited)
    page = client.get("/admin/audit").get_data(as_text=True)
    for gone in ("Ivy Invited", "Ivy Renamed", "ivy@home.example"):
        assert gone not in page
    assert f"{ERASED} accepted their invitation" in page
