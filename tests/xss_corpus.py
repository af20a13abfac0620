"""The stored-XSS corpus (issue 11's suite), shared by the pages parsed on the server
(tests/security/test_xss_corpus.py), the pages in Chromium (tests/e2e/test_xss_in_chromium.py),
the emails (tests/security/test_xss_emails.py) and the exports
(tests/security/test_xss_exports.py).

It holds the payloads; `assert_inert`, which fails if any became an element or an attribute
of an HTML document; and `store_everywhere`, which puts them, through the services, in every
kind of text people type: comments, quotes and replies, reasons for hiding, resolving,
reporting and outcomes, amendments' wording and rationale and the reasons for declining
them, positions' reasons, organisation notes and their replies, drafts, versions' change
notes, agreements' reasons, endorsements' reasons, backers' names and websites, and the names
of people, organisations, consultations and asks.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from bs4 import BeautifulSoup

from consult.agreements import services as agreement_services
from consult.amendments import services as amendment_services
from consult.amendments.services import WHOLE_TEXT
from consult.asks import services as ask_services
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import (
    AskState,
    BackerState,
    Backing,
    Comment,
    Decision,
    Outcome,
    Participant,
    Role,
    Stance,
    hash_token,
)
from consult.notes import services as note_services
from consult.positions import services as position_services
from consult.publication import services as publication_services
from consult.signoff import services as signoff_services
from consult.text import paragraphs
from tests import factories

VECTORS = [
    "<script>alert('X')</script>",
    "<img src=x onerror=alert('X')>",
    "<svg onload=alert('X')>",
    "<svg><script>alert('X')</script></svg>",
    "<iframe src=javascript:alert('X')>",
    "<a href=javascript:alert('X')>X</a>",
    "[X](javascript:alert('X'))",
    "[X](data:text/html,<script>alert('X')</script>)",
    "<div hx-get=/admin/audit hx-trigger=load>X</div>",
    "<p hx-on:click=alert('X')>X</p>",
    "<p hx-on::load=alert('X')>X</p>",
    "<span data-hx-post=/sign-out data-hx-trigger=load>X</span>",
    "<body onload=alert('X')>",
    "<details open ontoggle=alert('X')>",
    "<math><mtext><script>alert('X')</script>",
    '"><script>alert("X")</script>',
    "'><img src=x onerror=alert('X')>",
    "</textarea><script>alert('X')</script>",
    "</title><script>alert('X')</script>",
    "<scr<script>ipt>alert('X')</script>",
    "<object data=javascript:alert('X')>",
    "<embed src=javascript:alert('X')>",
    "<form action=javascript:alert('X')><button>X</button></form>",
    "<input autofocus onfocus=alert('X')>",
    "<base href=javascript:alert('X')//>",
    "{{ 7*7 }}<b>X</b>",
]
WRAPPERS = ["{}", "Before {} after", "**{}**", "> {}", "`{}`x"]
PAYLOADS = [w.format(v) for v, w in itertools.product(VECTORS, WRAPPERS)]
FORBIDDEN_TAGS = {"iframe", "object", "embed", "svg", "math", "base", "frame", "frameset"}

# Websites that try their way into a link (the pages link only http and https addresses).
HOSTILE_WEBSITES = [
    "javascript:alert('X')",
    "https://example.org/\"><script>alert('X')</script>",
    "data:text/html,<script>alert('X')</script>",
]

# The people store_everywhere makes who sign in (password: factories.PASSWORD).
SECRETARIAT_EMAIL = "sam@secretariat.example"
MEMBER_EMAIL = "mina@home.example"  # the home organisation's delegate
COLLEAGUE_EMAIL = "colin@home.example"  # the home organisation's other member
OBSERVER_EMAIL = "olive@home.example"
OTHER_EMAIL = "otto@other.example"  # the other organisation's delegate


def assert_inert(html: str, where: str) -> None:
    """No payload became an element or an attribute of this HTML (a page, a fragment, an
    email, an export): no forbidden element, no inline script or foreign script or image, no
    event handler, no hx-on or data-hx-*, no htmx request a payload asked for, no
    javascript: or data: link, and no template evaluated typed text."""
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(True):
        if element.name == "svg" and any(
            c.startswith(("app-", "govuk-")) for c in element.get("class", [])
        ):
            continue  # the page's own drawings (their children are checked below)
        assert element.name not in FORBIDDEN_TAGS, (where, str(element)[:200])
        if element.name == "script":
            assert element.get("src", "").startswith("/static/"), (where, str(element)[:200])
            assert not element.get_text(strip=True), (where, str(element)[:200])
        if element.name == "img":
            assert element.get("src", "").startswith(("/static/", "data:image/")), (where,)
        for name, value in element.attrs.items():
            name = name.lower()
            text = " ".join(value) if isinstance(value, list) else str(value)
            # (Escaped payload text inside an ordinary attribute, an aria-label, is only text.)
            # Consult's pages use no event attributes, no hx-on and no data-hx-* at all.
            assert not name.startswith(("on", "hx-on", "data-hx-")), (where, str(element)[:200])
            if name.startswith("hx-"):
                assert "alert(" not in text and text != "/admin/audit", (where, name, text)
            if name in ("href", "src", "action", "formaction"):
                assert not text.strip().lower().startswith(("javascript:", "data:text")), where
        if element.name == "form":
            assert not element.get("action", "").lower().startswith("javascript:"), where
    assert "49<b>" not in html  # no template ever evaluated typed text


class _Texts:
    """The payloads, one after another, round and round."""

    def __init__(self, corpus: Sequence[str]) -> None:
        self._cycle = itertools.cycle(corpus)
        self.used: set[str] = set()

    def __call__(self, limit: int | None = None) -> str:
        value = next(self._cycle)
        value = value if limit is None else value[:limit]
        self.used.add(value)
        return value


# An ask's wording with payloads in its paragraphs (the secretariat writes it, but comments
# quote it): the second paragraph is quoted by comments.
WORDING_V1 = "The council should act.\n\nEvery party commits to net zero."
WORDING = "\n\n".join(
    [
        "The council must act now.",
        f"Every party commits to net zero. {VECTORS[1]} and more.",
        VECTORS[0],
        f"- Homes\n- {VECTORS[2]}\n- Transport",
    ]
)
QUOTED = VECTORS[1]
# A comment of the member's that tries to break out of the form that edits it.
BREAKOUT = "</textarea><script>alert('X')</script>\n\n</title><script>alert('X')</script>"
# The agreed text: every payload is a block of its wording.
AGREED_WORDING = "\n\n".join(PAYLOADS)


@dataclass
class Stored:
    """What store_everywhere made: ids to visit and the texts it stored."""

    consultation_id: int  # open: the discussion
    ask_id: int
    anchors: list[str]
    comment_ids: list[int]  # on the current version (v2)
    early_id: int  # a comment on v1
    hidden_id: int  # the member's comment, hidden by the secretariat
    reply_ids: list[int]
    amendment_ids: list[int]
    note_ids: list[int]
    breakout_id: int  # the member's comment that tries to leave its edit form
    agreed_id: int  # agreed, signed off and published
    agreed_ask_id: int
    backer_ids: list[int]
    backer_token: str  # an unconfirmed backer's confirmation link
    organisation_ids: list[int]
    person_ids: list[int]
    texts: set[str] = field(default_factory=set, repr=False)  # every text stored


def store_everywhere(corpus: Sequence[str] = PAYLOADS) -> Stored:
    """Store the corpus in every kind of text, through the services (committing as a
    request would, so that notifications are queued as they are in use): each of its texts
    as a comment, and the others in turn (names must differ: the corpus must be longer than
    the 40-odd texts taken in turn)."""
    text = _Texts(corpus)
    coalition = factories.organisation(text(200))
    secretariat = factories.user(
        Role.SECRETARIAT, coalition, email=SECRETARIAT_EMAIL, name=text(200)
    )
    home = factories.organisation(text(200), website=HOSTILE_WEBSITES[0])
    other = factories.organisation(text(200), website=HOSTILE_WEBSITES[1])
    member = factories.user(Role.MEMBER, home, email=MEMBER_EMAIL, name=text(200), is_delegate=True)
    colleague = factories.user(Role.MEMBER, home, email=COLLEAGUE_EMAIL, name=text(200))
    observer = factories.user(Role.OBSERVER, home, email=OBSERVER_EMAIL, name=text(200))
    other_member = factories.user(
        Role.MEMBER, other, email=OTHER_EMAIL, name=text(200), is_delegate=True
    )

    # The open consultation: its ask at v2, whose change note is a payload.
    consultation = factories.consultation(text(200), summary=text())
    consultation.participants = [Participant(organisation=org) for org in (home, other)]
    ask = factories.ask(
        consultation,
        title=text(200),
        theme=text(100),
        versions=(WORDING_V1,),
        author=secretariat,
    )
    ask.state = AskState.IN_REVIEW
    db.session.commit()
    early, _ = comment_services.add_comment(author=colleague, ask=ask, body=text())
    db.session.commit()
    ask_services.publish_version(
        actor=secretariat, ask=ask, body=WORDING, change_note=text(), based_on=1
    )
    db.session.commit()
    anchors = [p.anchor for p in paragraphs(WORDING)]

    # Every payload as a comment (each third on a paragraph, quoting it when it can); a
    # reply to every tenth.
    authors = (member, colleague, other_member)
    comment_ids, reply_ids = [], []
    for n, body in enumerate(corpus):
        anchor = anchors[n % len(anchors)] if n % 3 else None
        made, _ = comment_services.add_comment(
            author=authors[n % 3],
            ask=ask,
            body=body,
            paragraph_anchor=anchor,
            quote=QUOTED if anchor == anchors[1] else None,
        )
        comment_ids.append(made.id)
        if n % 10 == 0:
            reply, _ = comment_services.add_comment(
                author=authors[(n + 1) % 3], ask=ask, body=text(), parent=made
            )
            reply_ids.append(reply.id)
        db.session.commit()  # one request each: the reply emails go as they would
    breakout, _ = comment_services.add_comment(author=member, ask=ask, body=BREAKOUT)
    comment_ids.append(breakout.id)
    db.session.commit()
    comments = [db.session.get(Comment, i) for i in comment_ids]
    reported, hidden, resolved, answered = comments[1], comments[3], comments[4], comments[6]
    comment_services.report_comment(actor=member, comment=reported, reason=text())
    comment_services.report_comment(actor=other_member, comment=hidden, reason=text())
    comment_services.hide_comment(actor=secretariat, comment=hidden, reason=text())
    comment_services.resolve_comment(actor=secretariat, comment=resolved, response=text())
    amendment_services.record_disposition(
        actor=secretariat, comment=answered, outcome=Outcome.PARTLY_ADOPTED, reason=text()
    )
    db.session.commit()

    # Amendments: to two paragraphs and the whole text; one backed, one declined, one
    # answered.
    amendments = []
    for actor, paragraph in (
        (other_member, anchors[1]),
        (member, anchors[2]),
        (colleague, WHOLE_TEXT),
    ):
        made, _ = amendment_services.propose(
            actor=actor, ask=ask, paragraph=paragraph, wording=text(), rationale=text()
        )
        amendments.append(made)
    amendment_services.set_backing(actor=member, amendment=amendments[0], stance=Backing.BACK)
    amendment_services.decline(actor=secretariat, amendment=amendments[1], reason=text())
    amendment_services.record_disposition(
        actor=secretariat, amendment=amendments[2], outcome=Outcome.NOTED, reason=text()
    )
    db.session.commit()

    # Positions, notes (a thread, one proposed as the position) and a draft of v3.
    position_services.set_position(actor=member, ask=ask, stance=Stance.OBJECT, reason=text())
    position_services.set_position(
        actor=other_member, ask=ask, stance=Stance.SUPPORT_WITH_CHANGES, reason=text()
    )
    note = note_services.add_note(author=colleague, ask=ask, body=text())
    note_reply = note_services.add_note(author=member, ask=ask, body=text(), parent=note)
    note_services.propose(actor=colleague, note=note, stance=Stance.ABSTAIN)
    ask_services.save_draft(
        actor=secretariat, ask=ask, body=f"{WORDING}\n\n{text()}", change_note=text(), based_on=2
    )
    db.session.commit()

    # The agreed consultation: its ask's wording is the whole corpus, with a member's
    # amendment accepted into it; agreed against the rule with a reason; signed off (one
    # organisation endorses and is listed, the other declines with a reason); published;
    # backed (one approved, one rejected with a reason, one waiting, one unconfirmed).
    agreed = factories.consultation(text(200), summary=text(), opens_in_days=-30, closes_in_days=-2)
    agreed.participants = [Participant(organisation=org) for org in (home, other)]
    agreed_ask = factories.ask(
        agreed,
        title=text(200),
        theme=text(100),
        versions=(AGREED_WORDING,),
        author=secretariat,
    )
    agreed_ask.state = AskState.IN_REVIEW
    db.session.commit()
    accepted, _ = amendment_services.propose(
        actor=member,
        ask=agreed_ask,
        paragraph=paragraphs(AGREED_WORDING)[0].anchor,
        wording=text(),
        rationale=text(),
    )
    amendment_services.accept(
        actor=secretariat, ask=agreed_ask, amendments=[accepted], change_note=text()
    )
    db.session.commit()
    agreement_services.declare_agreed(actor=secretariat, ask=agreed_ask, reason=text(), based_on=2)
    signoff_services.open_signoff(actor=secretariat, consultation=agreed)
    db.session.commit()
    signoff_services.set_endorsement(
        actor=member, consultation=agreed, decision=Decision.ENDORSE, list_publicly=True, reason=""
    )
    signoff_services.set_endorsement(
        actor=other_member,
        consultation=agreed,
        decision=Decision.DECLINE,
        list_publicly=False,
        reason=text(),
    )
    signoff_services.close_signoff(actor=secretariat, consultation=agreed)
    publication_services.publish(actor=secretariat, consultation=agreed)
    db.session.commit()
    for n, website in enumerate(["https://friends.example.org", *HOSTILE_WEBSITES]):
        publication_services.offer_backing(
            consultation=agreed,
            offer=publication_services.Offer(
                organisation_name=text(200),
                contact_name=text(200),
                email=f"backer{n}@example.org",
                website=website,
            ),
        )
    db.session.commit()
    backers = list(db.session.scalars(publication_services.backers_query(agreed)))[::-1]
    for backer in backers[:3]:
        publication_services.confirm_backer(backer=backer)
    publication_services.approve_backer(actor=secretariat, backer=backers[0])
    publication_services.approve_backer(actor=secretariat, backer=backers[1])
    publication_services.reject_backer(actor=secretariat, backer=backers[2], reason=text())
    waiting = backers[3]
    assert waiting.state == BackerState.UNCONFIRMED
    token = f"xss-corpus-{waiting.id}"
    waiting.token_hash = hash_token(token)
    db.session.commit()

    stored = Stored(
        consultation_id=consultation.id,
        ask_id=ask.id,
        anchors=anchors,
        comment_ids=comment_ids,
        early_id=early.id,
        hidden_id=hidden.id,
        reply_ids=reply_ids,
        amendment_ids=[a.id for a in amendments],
        note_ids=[note.id, note_reply.id],
        breakout_id=breakout.id,
        agreed_id=agreed.id,
        agreed_ask_id=agreed_ask.id,
        backer_ids=[b.id for b in backers],
        backer_token=token,
        organisation_ids=[coalition.id, home.id, other.id],
        person_ids=[p.id for p in (secretariat, member, colleague, observer, other_member)],
    )
    stored.texts = text.used | set(corpus) | set(HOSTILE_WEBSITES) | {BREAKOUT}
    return stored


def pages(stored: Stored) -> dict[str, list[str]]:
    """Every page that shows the stored texts, by the role that sees it (the people above;
    "anonymous" signs in as nobody)."""
    s = stored
    ask, agreed = s.ask_id, s.agreed_id
    home_org, other_org = s.organisation_ids[1:]
    return {
        "member": [
            f"/asks/{ask}",
            "/",
            f"/consultations/{s.consultation_id}",
            f"/asks/{ask}/comments",
            f"/asks/{ask}/comments/new?paragraph={s.anchors[1]}",
            f"/comments/{s.breakout_id}/edit",
            f"/asks/{ask}/amendments",
            f"/asks/{ask}/amendments/new?paragraph={s.anchors[1]}",
            *(f"/amendments/{amendment}" for amendment in s.amendment_ids),
            f"/asks/{ask}/position",
            f"/asks/{ask}/notes",
            f"/notes/{s.note_ids[1]}/edit",
            f"/notes/{s.note_ids[0]}/reply",
            f"/notes/{s.note_ids[0]}/propose",
            f"/asks/{ask}/you-said-we-did",
            f"/asks/{ask}/versions",
            f"/asks/{ask}/versions/1",  # with the comment made on v1
            f"/asks/{ask}/compare?from=1&to=2",
            "/search?q=alert",
            "/search?q=script",
            f"/search?q={quote(VECTORS[1])}",  # reflected, too
            "/account",
            f"/consultations/{agreed}",
            f"/consultations/{agreed}/manifesto",
            f"/consultations/{agreed}/sign-off",
            f"/asks/{s.agreed_ask_id}",
        ],
        "observer": [f"/asks/{ask}"],
        "secretariat": [
            f"/asks/{ask}",
            f"/consultations/{s.consultation_id}/unresolved-comments",
            "/comments/reports",
            f"/comments/{s.comment_ids[6]}/outcome",
            f"/comments/{s.comment_ids[1]}/hide",
            f"/comments/{s.comment_ids[1]}/resolve",
            f"/amendments/{s.amendment_ids[0]}/decline",
            f"/amendments/{s.amendment_ids[0]}/outcome",
            f"/asks/{ask}/amendments/accept",
            f"/asks/{ask}/you-said-we-did",
            f"/asks/{ask}/edit",
            f"/asks/{ask}/versions/new",
            f"/asks/{ask}/agree",
            "/consultations",
            f"/consultations/{s.consultation_id}/organisations",
            f"/consultations/{s.consultation_id}/edit",
            f"/consultations/{agreed}/backers",
            f"/consultations/{agreed}/sign-off",
            f"/consultations/{agreed}/manifesto",
            "/admin/people",
            f"/admin/people/{s.person_ids[1]}",
            "/admin/organisations",
            f"/admin/organisations/{home_org}",
            f"/admin/organisations/{other_org}",
            "/admin/audit",
            "/admin/mail",
            "/search?q=alert",
        ],
        "anonymous": [
            "/",
            f"/manifestos/{agreed}",
            f"/backers/confirm/{s.backer_token}",
            f"/consultations/{agreed}/agreed.html",  # shown in the browser, under its own CSP
        ],
    }


def fragments(stored: Stored) -> dict[str, list[str]]:
    """The fragments htmx swaps into the ask page (fetched with HX-Request), by role."""
    s = stored
    ask = s.ask_id
    shared = [
        *(f"/asks/{ask}/paragraphs/{anchor}/threads" for anchor in s.anchors),
        f"/asks/{ask}/comments/changes?after=0",
        f"/asks/{ask}/comments?after={s.comment_ids[-1]}",
        f"/asks/{ask}/comments?after={s.comment_ids[40]}",
        f"/asks/{ask}/positions",
        f"/asks/{ask}",
    ]
    return {
        "member": [
            *shared,
            f"/comments/{s.comment_ids[1]}/replies/new",
            f"/comments/{s.breakout_id}/edit",
            f"/comments/{s.breakout_id}/withdraw",
            f"/comments/{s.comment_ids[1]}/report",
        ],
        "observer": shared,
        "secretariat": [
            *shared,
            f"/comments/{s.comment_ids[1]}/hide",
            f"/comments/{s.comment_ids[1]}/resolve",
        ],
    }
