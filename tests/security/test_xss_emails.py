"""Stored XSS in emails (issue 11's suite): with the corpus stored everywhere
(tests/xss_corpus.py), every email Consult sends is caused through the services that send it
(replies, hidden and reported comments, resolutions, outcomes, new versions and reconfirming,
reminders, the daily digest, sign-off, backers' confirmations, invitations, password resets,
failed sign-ins), with a payload as the coalition's name too, so that every template has
one. Each email, read back from the outbox as its recipient's mail program would:

- its HTML part parses with no payload as an element or an attribute, and links only to
  Consult (no payload made a link);
- its plain-text part holds the same texts literally: each stored text the HTML part shows
  (as text) is in the plain text exactly as typed, and nothing in it is HTML-escaped.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from bs4 import BeautifulSoup

from consult import ROOT, mail
from consult.asks import services as ask_services
from consult.auth import services as auth_services
from consult.extensions import db
from consult.models import (
    Ask,
    Backer,
    Consultation,
    Delivery,
    NotificationKind,
    Organisation,
    Role,
    User,
    utcnow,
)
from consult.notifications import services as notifications
from consult.positions.reminders import send_reminders
from consult.publication import services as publication_services
from tests.helpers import comment
from tests.xss_corpus import (
    MEMBER_EMAIL,
    VECTORS,
    assert_inert,
    store_everywhere,
)

pytestmark = pytest.mark.database

TEMPLATES = sorted(
    path.stem
    for path in (ROOT / "templates" / "emails").glob("*.txt")
    if not path.name.startswith("_")
)
COALITION = f"Coalition {VECTORS[0]}"
ESCAPES = ("&lt;", "&gt;", "&#39;", "&#34;", "&quot;", "&amp;")


@pytest.fixture
def rendered(monkeypatch) -> list[str]:
    """The names of the email templates rendered, in order."""
    names: list[str] = []
    render = mail.render_email

    def spy(template: str, **context):
        names.append(template)
        return render(template, **context)

    monkeypatch.setattr(mail, "render_email", spy)
    return names


def _every_email() -> set[str]:
    """Store the corpus, then cause the emails the story does not: an invitation, a password
    reset, a warning of failed sign-ins, a third version (delegates reconfirm, a follower
    hears of it; reminders), the daily digest, and a second offer from a backer already
    confirmed. Returns every text stored."""
    stored = store_everywhere()
    secretariat = db.session.get(User, stored.person_ids[0])
    home = db.session.get(Organisation, stored.organisation_ids[1])
    auth_services.invite(
        actor=secretariat, email="ivy@home.example", name="Ivy", organisation=home, role=Role.MEMBER
    )
    auth_services.request_password_reset(MEMBER_EMAIL)
    auth_services.warn_of_failed_sign_ins(MEMBER_EMAIL, failures=10, window="5 minutes")
    db.session.commit()
    # The member's colleague follows the ask and hears of the next version at once (its
    # earlier one waits for the digest).
    notifications.set_preferences(
        person=db.session.get(User, stored.person_ids[2]),
        choices={NotificationKind.NEW_VERSION: Delivery.IMMEDIATELY},
    )
    ask = db.session.get(Ask, stored.ask_id)
    draft = ask_services.draft_of(ask)
    assert draft is not None
    ask_services.publish_version(
        actor=secretariat, ask=ask, body=draft.body, change_note=draft.change_note, based_on=2
    )
    db.session.commit()
    assert send_reminders(now=utcnow(), days_before=30).sent
    assert notifications.send_digests(now=utcnow() + timedelta(days=1)).emails
    db.session.commit()
    approved = db.session.get(Backer, stored.backer_ids[0])
    publication_services.offer_backing(
        consultation=db.session.get(Consultation, stored.agreed_id),
        offer=publication_services.Offer(
            organisation_name=approved.organisation_name,
            contact_name=approved.contact_name,
            email=approved.email,
            website=approved.website,
        ),
    )
    db.session.commit()
    return stored.texts | {COALITION}


def _parts(message: EmailMessage) -> tuple[str, str]:
    assert message.get_content_type() == "multipart/alternative", message["Subject"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None, message["Subject"]
    return text.get_content(), html.get_content()


def test_no_user_text_becomes_markup_in_any_email(app, outbox, rendered):
    app.config["COALITION_NAME"] = COALITION
    texts = _every_email()
    messages = outbox()
    assert set(TEMPLATES) - set(rendered) == set()
    assert len(messages) == len(rendered)
    public = app.config["PUBLIC_URL"] + "/"
    for message, template in zip(messages, rendered, strict=True):
        where = f"{template}: {message['Subject']}"
        text, html = _parts(message)
        assert_inert(html, where)
        soup = BeautifulSoup(html, "html.parser")
        for link in soup.find_all(["a", "link", "img", "form"]):
            target = link.get("href") or link.get("src") or link.get("action") or ""
            assert target.startswith(public), (where, str(link)[:200])
        shown = soup.get_text()
        in_html = {t for t in texts if t in shown}
        assert in_html, where  # every email carries at least one payload
        assert {t for t in texts if t in text} == in_html, where
        assert not any(escape in text for escape in ESCAPES), where
    print(f"\n{len(messages)} emails from {len(TEMPLATES)} templates, {len(texts)} texts")
    assert len(messages) >= 30


def test_a_reply_s_text_is_in_both_parts_exactly(app, outbox, people, ask):
    """A control for the comparison above: the plain text carries a payload as typed; the
    HTML shows the same characters, escaped, as text."""
    first = comment(people.member, ask, "A first comment.")
    db.session.commit()
    comment(people.other_member, ask, VECTORS[1], parent=first)
    db.session.commit()
    [message] = outbox()
    text, html = _parts(message)
    assert VECTORS[1] in text
    assert "&lt;img src=x onerror=alert(&#39;X&#39;)&gt;" in html
    soup = BeautifulSoup(html, "html.parser")
    assert VECTORS[1] in soup.get_text() and soup.find("img") is None
