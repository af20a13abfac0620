"""The route x role matrix: every URL rule of the app, for every kind of visitor.

This is the one place that checks who may use which route. Feature tests check only access
that depends on state (a closed or upcoming consultation, a published one, the author of a
comment), and what each role sees on a page.

Each entry gives the status that anonymous, observer, member, member of another organisation
and secretariat get. A POST is sent with an empty form: the roles that may not act are refused
(302 to sign in, 401, or 403) before any validation, and nothing changes (no row of any table,
no email); the roles that may act get the form back with its errors (422) or the action's
redirect (303). (A view that validated before checking permission would answer 422, not 403,
so an empty form is enough to show the check comes first.)
A new URL rule without an entry here fails test_every_rule_is_in_the_matrix.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from consult.amendments import services as amendment_services
from consult.auth import services as accounts
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import (
    Backer,
    BackerState,
    EmailState,
    NotificationKind,
    OutgoingEmail,
    Participant,
    Role,
    TokenPurpose,
    User,
    utcnow,
)
from consult.notes import services as note_services
from consult.notifications.services import unsubscribe_token
from consult.text import paragraphs
from tests import factories
from tests.helpers import SECURITY_HEADERS, built_once, database_rows, login_as
from tests.html import select, text_of

ROLES = ("anonymous", "observer", "member", "other_member", "secretariat")

ANON = 302  # sent to sign in
SIGNED_IN_ONLY = (ANON, 200, 200, 200, 200)
SECRETARIAT_PAGE = (ANON, 403, 403, 403, 200)
SECRETARIAT_FORM = (ANON, 403, 403, 403, 422)
SECRETARIAT_ACTION = (ANON, 403, 403, 403, 303)
EVERYONE = (200, 200, 200, 200, 200)

# (method, endpoint, url template, expected statuses by ROLES)
MATRIX: list[tuple[str, str, str, tuple[int, ...]]] = [
    ("GET", "static", "/static/css/consult.css", EVERYONE),
    # auth
    # Someone already signed in is sent on to the dashboard.
    ("GET", "auth.sign_in", "/sign-in", (200, 303, 303, 303, 303)),
    ("POST", "auth.sign_in", "/sign-in", (422, 303, 303, 303, 303)),
    ("POST", "auth.sign_out", "/sign-out", (ANON, 303, 303, 303, 303)),
    ("GET", "auth.csrf_token_for_page", "/csrf-token", EVERYONE),
    ("GET", "auth.account", "/account", SIGNED_IN_ONLY),
    ("GET", "auth.change_password", "/account/password", SIGNED_IN_ONLY),
    # An empty form chooses nothing for any kind: the form again with its errors.
    ("POST", "auth.notification_preferences", "/account/notifications", (ANON, 422, 422, 422, 422)),
    ("POST", "auth.change_password", "/account/password", (ANON, 422, 422, 422, 422)),
    ("GET", "auth.accept_invitation", "/invitations/{invitation}", EVERYONE),
    ("POST", "auth.accept_invitation", "/invitations/{invitation}", (422, 422, 422, 422, 422)),
    ("GET", "auth.request_password_reset", "/password-reset", EVERYONE),
    ("POST", "auth.request_password_reset", "/password-reset", (422, 422, 422, 422, 422)),
    ("GET", "auth.password_reset_sent", "/password-reset/sent", EVERYONE),
    ("GET", "auth.reset_password", "/password-reset/{reset}", EVERYONE),
    ("POST", "auth.reset_password", "/password-reset/{reset}", (422, 422, 422, 422, 422)),
    # consultations
    ("GET", "consultations.index", "/", EVERYONE),
    ("GET", "consultations.manage", "/consultations", SECRETARIAT_PAGE),
    ("GET", "consultations.create", "/consultations/new", SECRETARIAT_PAGE),
    ("POST", "consultations.create", "/consultations/new", SECRETARIAT_FORM),
    ("GET", "consultations.show", "/consultations/{consultation}", SIGNED_IN_ONLY),
    ("GET", "consultations.edit", "/consultations/{consultation}/edit", SECRETARIAT_PAGE),
    ("POST", "consultations.edit", "/consultations/{consultation}/edit", SECRETARIAT_FORM),
    # An empty form chooses no organisation at all: refused (422) for the secretariat.
    (
        "GET",
        "consultations.participants",
        "/consultations/{consultation}/organisations",
        SECRETARIAT_PAGE,
    ),
    (
        "POST",
        "consultations.participants",
        "/consultations/{consultation}/organisations",
        SECRETARIAT_FORM,
    ),
    # asks
    ("GET", "asks.create", "/consultations/{consultation}/asks/new", SECRETARIAT_PAGE),
    ("POST", "asks.create", "/consultations/{consultation}/asks/new", SECRETARIAT_FORM),
    ("GET", "asks.show", "/asks/{ask}", SIGNED_IN_ONLY),
    ("GET", "asks.edit", "/asks/{ask}/edit", SECRETARIAT_PAGE),
    # An edit form missing its fields keeps the ask's values: "nothing was changed".
    ("POST", "asks.edit", "/asks/{ask}/edit", SECRETARIAT_ACTION),
    ("POST", "asks.move", "/asks/{ask}/move", (ANON, 403, 403, 403, 400)),
    ("GET", "asks.versions", "/asks/{ask}/versions", SIGNED_IN_ONLY),
    ("GET", "asks.version", "/asks/{ask}/versions/1", SIGNED_IN_ONLY),
    ("GET", "asks.compare", "/asks/{ask}/compare?from=1&to=2", SIGNED_IN_ONLY),
    ("GET", "asks.new_version", "/asks/{ask}/versions/new", SECRETARIAT_PAGE),
    ("POST", "asks.new_version", "/asks/{ask}/versions/new", SECRETARIAT_FORM),
    # No draft is saved in the world: the secretariat is sent back to the ask.
    ("GET", "asks.discard_draft", "/asks/{ask}/draft/discard", (ANON, 403, 403, 403, 303)),
    ("POST", "asks.discard_draft", "/asks/{ask}/draft/discard", SECRETARIAT_ACTION),
    # comments: {comment} is the member's own comment, reported by the other member
    ("GET", "comments.index", "/asks/{ask}/comments", SIGNED_IN_ONLY),
    # A paragraph's threads are an htmx fragment: a plain request goes to the discussion.
    (
        "GET",
        "comments.paragraph_threads",
        "/asks/{ask}/paragraphs/{anchor}/threads",
        (ANON, 303, 303, 303, 303),
    ),
    # The live changes are an htmx fragment: a plain request is sent to the ask page.
    ("GET", "comments.changes", "/asks/{ask}/comments/changes?after=0", (ANON, 303, 303, 303, 303)),
    ("GET", "comments.new", "/asks/{ask}/comments/new", (ANON, 403, 200, 200, 200)),
    ("POST", "comments.create", "/asks/{ask}/comments", (ANON, 403, 422, 422, 422)),
    ("GET", "comments.show", "/comments/{comment}", (ANON, 303, 303, 303, 303)),
    ("GET", "comments.new_reply", "/comments/{comment}/replies/new", (ANON, 403, 200, 200, 200)),
    ("POST", "comments.create_reply", "/comments/{comment}/replies", (ANON, 403, 422, 422, 422)),
    ("GET", "comments.edit", "/comments/{comment}/edit", (ANON, 403, 200, 403, 403)),
    ("POST", "comments.edit", "/comments/{comment}/edit", (ANON, 403, 422, 403, 403)),
    ("GET", "comments.withdraw", "/comments/{comment}/withdraw", (ANON, 403, 200, 403, 403)),
    ("POST", "comments.withdraw", "/comments/{comment}/withdraw", (ANON, 403, 303, 403, 403)),
    ("GET", "comments.hide", "/comments/{comment}/hide", SECRETARIAT_PAGE),
    ("POST", "comments.hide", "/comments/{comment}/hide", SECRETARIAT_FORM),
    ("GET", "comments.resolve", "/comments/{comment}/resolve", SECRETARIAT_PAGE),
    (
        "GET",
        "comments.unresolved",
        "/consultations/{consultation}/unresolved-comments",
        SECRETARIAT_PAGE,
    ),
    ("POST", "comments.resolve", "/comments/{comment}/resolve", SECRETARIAT_FORM),
    ("GET", "comments.report", "/comments/{comment}/report", (ANON, 403, 403, 200, 403)),
    ("POST", "comments.report", "/comments/{comment}/report", (ANON, 403, 403, 422, 403)),
    ("GET", "comments.reports", "/comments/reports", SECRETARIAT_PAGE),
    # The live stream: EventSource stops on a 401, so anonymous gets that, not a redirect.
    ("GET", "live.stream", "/asks/{ask}/events", (401, 200, 200, 200, 200)),
    # search: people signed in; each finds only what they may read (tests/search)
    ("GET", "search.index", "/search?q=council", SIGNED_IN_ONLY),
    ("POST", "comments.handle_report", "/comments/reports/{report}/handled", SECRETARIAT_ACTION),
    # positions: the member is their organisation's delegate; the other member is not
    ("GET", "positions.edit", "/asks/{ask}/position", (ANON, 403, 200, 403, 403)),
    ("POST", "positions.edit", "/asks/{ask}/position", (ANON, 403, 422, 403, 403)),
    ("GET", "positions.panel", "/asks/{ask}/positions", SIGNED_IN_ONLY),
    # organisation notes: each organisation taking part has its own (the other member's page
    # lists only theirs: tests/notes); observers and the secretariat have none. {note} is the
    # member's note: nobody outside its organisation may open it.
    ("GET", "notes.index", "/asks/{ask}/notes", (ANON, 403, 200, 200, 403)),
    ("POST", "notes.create", "/asks/{ask}/notes", (ANON, 403, 422, 422, 403)),
    ("GET", "notes.reply", "/notes/{note}/reply", (ANON, 403, 200, 403, 403)),
    ("POST", "notes.reply", "/notes/{note}/reply", (ANON, 403, 422, 403, 403)),
    ("GET", "notes.edit", "/notes/{note}/edit", (ANON, 403, 200, 403, 403)),
    ("POST", "notes.edit", "/notes/{note}/edit", (ANON, 403, 422, 403, 403)),
    ("GET", "notes.delete", "/notes/{note}/delete", (ANON, 403, 200, 403, 403)),
    ("POST", "notes.delete", "/notes/{note}/delete", (ANON, 403, 303, 403, 403)),
    ("GET", "notes.propose", "/notes/{note}/propose", (ANON, 403, 200, 403, 403)),
    ("POST", "notes.propose", "/notes/{note}/propose", (ANON, 403, 422, 403, 403)),
    # dispositions: {comment} is the member's top-level comment, {amendment} their open one
    ("GET", "dispositions.comment", "/comments/{comment}/outcome", SECRETARIAT_PAGE),
    ("POST", "dispositions.comment", "/comments/{comment}/outcome", SECRETARIAT_FORM),
    ("GET", "dispositions.amendment", "/amendments/{amendment}/outcome", SECRETARIAT_PAGE),
    ("POST", "dispositions.amendment", "/amendments/{amendment}/outcome", SECRETARIAT_FORM),
    ("GET", "dispositions.index", "/asks/{ask}/you-said-we-did", SIGNED_IN_ONLY),
    # amendments: {amendment} is the member's (a delegate's) open amendment on paragraph 2; the
    # other member is not a delegate, so may propose but not back; only the proposer withdraws.
    (
        "GET",
        "amendments.new",
        "/asks/{ask}/amendments/new?paragraph=nonsense",
        (ANON, 403, 200, 200, 403),
    ),
    ("POST", "amendments.new", "/asks/{ask}/amendments/new", (ANON, 403, 422, 422, 403)),
    ("GET", "amendments.show", "/amendments/{amendment}", SIGNED_IN_ONLY),
    ("GET", "amendments.index", "/asks/{ask}/amendments?state=nonsense", SIGNED_IN_ONLY),
    ("POST", "amendments.back", "/amendments/{amendment}/backing", (ANON, 403, 403, 403, 403)),
    ("GET", "amendments.withdraw", "/amendments/{amendment}/withdraw", (ANON, 403, 200, 403, 403)),
    (
        "POST",
        "amendments.withdraw",
        "/amendments/{amendment}/withdraw",
        (ANON, 403, 303, 403, 403),
    ),
    ("GET", "amendments.decline", "/amendments/{amendment}/decline", SECRETARIAT_PAGE),
    ("POST", "amendments.decline", "/amendments/{amendment}/decline", SECRETARIAT_FORM),
    (
        "GET",
        "amendments.accept",
        "/asks/{ask}/amendments/accept?amendment=abc",
        SECRETARIAT_PAGE,
    ),
    ("POST", "amendments.accept", "/asks/{ask}/amendments/accept", SECRETARIAT_FORM),
    # agreements: an empty form lacks the version the page showed (422). The world's ask is
    # not agreed, so nobody may reopen it.
    ("GET", "agreements.agree", "/asks/{ask}/agree", SECRETARIAT_PAGE),
    ("POST", "agreements.agree", "/asks/{ask}/agree", SECRETARIAT_FORM),
    ("GET", "agreements.reopen", "/asks/{ask}/reopen", (ANON, 403, 403, 403, 403)),
    ("POST", "agreements.reopen", "/asks/{ask}/reopen", (ANON, 403, 403, 403, 403)),
    ("GET", "agreements.manifesto", "/consultations/{consultation}/manifesto", SIGNED_IN_ONLY),
    # sign-off: the world's ask is in review, so sign-off has not opened: nobody may endorse
    # (the member is a delegate, but only while it is open) or close it, and opening it is
    # refused for the secretariat with what is missing (422).
    ("GET", "signoff.show", "/consultations/{consultation}/sign-off", SIGNED_IN_ONLY),
    (
        "POST",
        "signoff.show",
        "/consultations/{consultation}/sign-off",
        (ANON, 403, 403, 403, 403),
    ),
    ("GET", "signoff.open", "/consultations/{consultation}/sign-off/open", SECRETARIAT_PAGE),
    ("POST", "signoff.open", "/consultations/{consultation}/sign-off/open", SECRETARIAT_FORM),
    (
        "GET",
        "signoff.close",
        "/consultations/{consultation}/sign-off/close",
        (ANON, 403, 403, 403, 403),
    ),
    (
        "POST",
        "signoff.close",
        "/consultations/{consultation}/sign-off/close",
        (ANON, 403, 403, 403, 403),
    ),
    # reports: made at each request, for the secretariat only (a bad kind is tests/reports')
    ("GET", "reports.xlsx", "/consultations/{consultation}/report.xlsx", SECRETARIAT_PAGE),
    (
        "GET",
        "reports.csv",
        "/consultations/{consultation}/report.csv?kind=comments",
        SECRETARIAT_PAGE,
    ),
    # exports: the world's consultation is not agreed yet, so the secretariat is told why (409)
    (
        "GET",
        "exports.download",
        "/consultations/{consultation}/agreed.pdf",
        (ANON, 403, 403, 403, 409),
    ),
    # archive: made at each request, for the secretariat only, published or not
    ("GET", "archive.download", "/consultations/{consultation}/archive.json", SECRETARIAT_PAGE),
    # publication: the world's consultation is not published (nor ready to be: the
    # secretariat is told why, 409), so its public page and form are not found for anyone;
    # {backer} is a confirmed backer, waiting for approval; a made-up link has expired (410).
    (
        "GET",
        "publication.publish",
        "/consultations/{consultation}/publish",
        (ANON, 403, 403, 403, 409),
    ),
    (
        "POST",
        "publication.publish",
        "/consultations/{consultation}/publish",
        (ANON, 403, 403, 403, 409),
    ),
    ("GET", "publication.public", "/manifestos/{consultation}", (404, 404, 404, 404, 404)),
    ("POST", "publication.back", "/manifestos/{consultation}/back", (404, 404, 404, 404, 404)),
    (
        "GET",
        "publication.check_email",
        "/manifestos/{consultation}/check-your-email",
        (404, 404, 404, 404, 404),
    ),
    ("GET", "publication.confirm_backer", "/backers/confirm/made-up", (410, 410, 410, 410, 410)),
    ("POST", "publication.confirm_backer", "/backers/confirm/made-up", (410, 410, 410, 410, 410)),
    ("GET", "publication.backers", "/consultations/{consultation}/backers", SECRETARIAT_PAGE),
    (
        "GET",
        "publication.backers_csv",
        "/consultations/{consultation}/backers.csv",
        SECRETARIAT_PAGE,
    ),
    ("POST", "publication.approve_backer", "/backers/{backer}/approve", SECRETARIAT_ACTION),
    ("GET", "publication.reject_backer", "/backers/{backer}/reject", SECRETARIAT_PAGE),
    ("POST", "publication.reject_backer", "/backers/{backer}/reject", SECRETARIAT_FORM),
    # admin
    ("GET", "admin.organisations", "/admin/organisations", SECRETARIAT_PAGE),
    ("GET", "admin.create_organisation", "/admin/organisations/new", SECRETARIAT_PAGE),
    ("POST", "admin.create_organisation", "/admin/organisations/new", SECRETARIAT_FORM),
    ("GET", "admin.organisation", "/admin/organisations/{other_org}", SECRETARIAT_PAGE),
    ("GET", "admin.edit_organisation", "/admin/organisations/{other_org}/edit", SECRETARIAT_PAGE),
    ("POST", "admin.edit_organisation", "/admin/organisations/{other_org}/edit", SECRETARIAT_FORM),
    (
        "GET",
        "admin.deactivate_organisation",
        "/admin/organisations/{spare_org}/deactivate",
        SECRETARIAT_PAGE,
    ),
    (
        "POST",
        "admin.deactivate_organisation",
        "/admin/organisations/{spare_org}/deactivate",
        SECRETARIAT_ACTION,
    ),
    (
        "POST",
        "admin.reactivate_organisation",
        "/admin/organisations/{inactive_org}/reactivate",
        SECRETARIAT_ACTION,
    ),
    ("GET", "admin.people", "/admin/people", SECRETARIAT_PAGE),
    ("GET", "admin.invite_person", "/admin/people/invite", SECRETARIAT_PAGE),
    ("POST", "admin.invite_person", "/admin/people/invite", SECRETARIAT_FORM),
    ("GET", "admin.person", "/admin/people/{invitee}", SECRETARIAT_PAGE),
    (
        "POST",
        "admin.resend_invitation",
        "/admin/people/{invitee}/resend-invitation",
        SECRETARIAT_ACTION,
    ),
    ("GET", "admin.change_role", "/admin/people/{spare_person}/role", SECRETARIAT_PAGE),
    ("POST", "admin.change_role", "/admin/people/{spare_person}/role", SECRETARIAT_FORM),
    # An empty form says neither "name" nor "stop": refused (400) for the secretariat.
    (
        "POST",
        "admin.set_delegate",
        "/admin/people/{spare_person}/delegate",
        (ANON, 403, 403, 403, 400),
    ),
    ("GET", "admin.deactivate_person", "/admin/people/{spare_person}/deactivate", SECRETARIAT_PAGE),
    (
        "POST",
        "admin.deactivate_person",
        "/admin/people/{spare_person}/deactivate",
        SECRETARIAT_ACTION,
    ),
    (
        "POST",
        "admin.reactivate_person",
        "/admin/people/{inactive_person}/reactivate",
        SECRETARIAT_ACTION,
    ),
    # people's data (UK GDPR): the download is a POST (it is recorded in the audit log)
    (
        "POST",
        "admin.export_person",
        "/admin/people/{spare_person}/data.json",
        (ANON, 403, 403, 403, 200),
    ),
    ("GET", "admin.erase_person", "/admin/people/{spare_person}/erase", SECRETARIAT_PAGE),
    ("POST", "admin.erase_person", "/admin/people/{spare_person}/erase", SECRETARIAT_ACTION),
    ("GET", "admin.audit_log", "/admin/audit", SECRETARIAT_PAGE),
    ("GET", "admin.mail", "/admin/mail", SECRETARIAT_PAGE),
    ("POST", "admin.retry_email", "/admin/mail/{failed_email}/retry", SECRETARIAT_ACTION),
    # the footer's pages: public
    ("GET", "pages.privacy", "/privacy", EVERYONE),
    ("GET", "pages.accessibility", "/accessibility", EVERYONE),
    ("GET", "pages.terms", "/terms", EVERYONE),
    # notifications: the signed link is the authority, signed in or not.
    ("GET", "notifications.unsubscribe", "/unsubscribe/{unsubscribe}", EVERYONE),
    ("POST", "notifications.confirm_unsubscribe", "/unsubscribe/{unsubscribe}", EVERYONE),
]


@pytest.fixture
def app_config(app_config):
    """Event streams end at once here (they last minutes in use)."""
    return {**app_config, "LIVE_STREAM_SECONDS": 0.2}


@pytest.fixture
def world(app):
    """One of everything a URL can name, and a person of each role: built for the first test,
    then put back for each of the others (tests/helpers.built_once)."""
    people, ids = built_once("access world", _build_world)
    return {role: db.session.get(User, id_) if id_ else None for role, id_ in people.items()}, ids


def _build_world() -> tuple[dict[str, int | None], dict[str, Any]]:
    secretariat_org = factories.organisation(name="Secretariat")
    org = factories.organisation(name="Member organisation")
    other_org = factories.organisation(name="Other organisation")
    spare_org = factories.organisation(name="Spare organisation")
    inactive_org = factories.organisation(name="Inactive organisation", active=False)
    people = {
        "anonymous": None,
        "observer": factories.user(Role.OBSERVER, factories.organisation(name="Funder")),
        "member": factories.user(Role.MEMBER, org, is_delegate=True),
        "other_member": factories.user(Role.MEMBER, other_org),
        "secretariat": factories.user(Role.SECRETARIAT, secretariat_org),
    }
    spare_person = factories.user(Role.MEMBER, spare_org)
    inactive_person = factories.user(Role.MEMBER, spare_org, active=False)
    consultation = factories.consultation()
    consultation.participants = [Participant(organisation=org), Participant(organisation=other_org)]
    ask = factories.ask(consultation, versions=("One.\n\nTwo.", "One.\n\nTwo and a half."))
    invitee = accounts.invite(
        actor=people["secretariat"],
        email="invitee@example.org",
        name="Invitee",
        organisation=spare_org,
        role=Role.MEMBER,
    )
    invitation = accounts._issue_token(
        invitee, TokenPurpose.INVITATION, __import__("datetime").timedelta(days=1), None
    )
    reset = accounts._issue_token(
        spare_person, TokenPurpose.PASSWORD_RESET, __import__("datetime").timedelta(hours=1), None
    )
    comment, _ = comment_services.add_comment(author=people["member"], ask=ask, body="A comment.")
    report = comment_services.report_comment(
        actor=people["other_member"], comment=comment, reason="Off topic"
    )
    amendment, _ = amendment_services.propose(
        actor=people["member"],
        ask=ask,
        paragraph=paragraphs(ask.current_version.body)[1].anchor,
        wording="Two and three quarters.",
        rationale="More precise.",
    )
    note = note_services.add_note(author=people["member"], ask=ask, body="Our private line.")
    backer = Backer(
        consultation_id=consultation.id,
        organisation_name="Backing Group",
        contact_name="Bea Backer",
        email="bea@example.org",
        state=BackerState.CONFIRMED,
        confirmed_at=utcnow(),
    )
    db.session.add(backer)
    failed_email = OutgoingEmail(
        recipient="lost@example.org",
        subject="Lost",
        text_body="Never arrived.",
        headers={},
        state=EmailState.FAILED,
        attempts=5,
        last_error="ConnectionRefusedError",
    )
    db.session.add(failed_email)
    db.session.commit()
    ids = {
        "failed_email": failed_email.id,
        "unsubscribe": unsubscribe_token(spare_person, NotificationKind.REPLY),
        "backer": backer.id,
        "comment": comment.id,
        "note": note.id,
        "report": report.id,
        "amendment": amendment.id,
        "consultation": consultation.id,
        "ask": ask.id,
        "anchor": paragraphs(ask.current_version.body)[1].anchor,
        "other_org": other_org.id,
        "spare_org": spare_org.id,
        "inactive_org": inactive_org.id,
        "invitee": invitee.id,
        "spare_person": spare_person.id,
        "inactive_person": inactive_person.id,
        "invitation": invitation,
        "reset": reset,
    }
    return {role: person.id if person else None for role, person in people.items()}, ids


@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
@pytest.mark.parametrize(
    "method, endpoint, url, expected", MATRIX, ids=[f"{m} {e}" for m, e, _, _ in MATRIX]
)
def test_route_role_matrix(
    client, world, outbox, method, endpoint, url, expected, role_index, role
):
    people, ids = world
    login_as(client, people[role])
    refused = expected[role_index] in (ANON, 401, 403)
    before = database_rows() if refused else None
    emails = len(outbox())  # the world's invitation
    path = url.format(**ids)
    response = client.open(path, method=method, data={})
    body = response.get_data().decode("utf-8", "replace")  # downloads are not all text
    response.close()
    assert response.status_code == expected[role_index], body[:2000]
    # Every answer, refusals and redirects included, carries the security headers.
    for header in SECURITY_HEADERS:
        assert header in response.headers, (header, path)
    if response.mimetype == "text/html" and response.status_code in (200, 422):
        # Every page has its own title and exactly one main heading.
        title = text_of(body, "title")
        assert title.endswith("– Consult") and title != "Consult – Consult", title
        assert len(select(body, "h1")) == 1
    if response.status_code == 403 and response.mimetype == "text/html":
        assert text_of(body, "h1") == "You cannot do that"
    if response.status_code == ANON and role == "anonymous":
        location = urlsplit(response.headers["Location"])
        assert location.path == "/sign-in"
        if method == "GET":  # and back here once signed in
            assert parse_qs(location.query)["next"] == [path]
    if refused:
        # Refused: nothing was changed or recorded, and no email was sent.
        assert database_rows() == before
        assert len(outbox()) == emails


def test_every_rule_is_in_the_matrix(app):
    covered = {(method, endpoint) for method, endpoint, _, _ in MATRIX}
    rules = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert rules - covered == set(), "add these routes to MATRIX in tests/test_access.py"
    assert covered - rules == set(), "these MATRIX entries name no route"
