"""The security suite's world and its forms (imported by tests; never import a conftest).

`build_world()` makes one of everything a state-changing route can act on, owned by two
organisations taking part in one consultation: the home organisation (its delegate, the
member, wrote the comment, the amendment, the note and the position) and the other
organisation (its own member and delegate). It is deterministic: built twice on an empty
database, with ids restarted and the clock stopped, it makes the same rows (but for
password hashes and random tokens), so that what one request stores can be compared with
what the same request with extra fields stores (tests/test_mass_assignment.py).

`FORMS` is a valid form for every state-changing route, sent by someone allowed to use it,
with what must be true of the world first. The mass-assignment sweep posts each with extra
fields; tests/security/test_other_organisations.py posts the secretariat's to members.

`extra_fields()` is what the extra fields are: names no form has, pointing at another
organisation than the sender's, another person, another consultation and its objects, or a
privileged value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from consult.agreements import services as agreement_services
from consult.amendments import services as amendment_services
from consult.asks import services as ask_services
from consult.auth import services as accounts
from consult.comments import services as comment_services
from consult.extensions import db
from consult.models import (
    Ask,
    AskState,
    Backer,
    BackerState,
    Consultation,
    EmailState,
    NotificationKind,
    OutgoingEmail,
    Participant,
    Role,
    TokenPurpose,
    hash_token,
    utcnow,
)
from consult.notes import services as note_services
from consult.notifications.services import unsubscribe_token
from consult.positions import services as position_services
from consult.publication import services as publication_services
from consult.signoff import services as signoff_services
from consult.text import paragraphs
from tests import factories
from tests.factories import PASSWORD
from tests.helpers import V1, V2, consultation_form

BACKER_TOKEN = "backer-confirmation-token-known-to-the-tests"
NEW_PASSWORD = "a brand new passphrase for testing"


@dataclass
class World:
    """People and objects, by name; `ids` names every id a URL or a form needs."""

    people: dict[str, object]
    ids: dict[str, object] = field(default_factory=dict)

    def person(self, name: str):
        return None if name == "anonymous" else self.people[name]


def build_world() -> World:
    """One of everything, owned by the home and the other organisation (flushed)."""
    secretariat_org = factories.organisation(name="Secretariat")
    home = factories.organisation(name="Home organisation")
    other = factories.organisation(name="Other organisation")
    spare = factories.organisation(name="Spare organisation")
    inactive_org = factories.organisation(name="Inactive organisation", active=False)
    people = {
        "secretariat": factories.user(Role.SECRETARIAT, secretariat_org, name="Sam Secretariat"),
        "observer": factories.user(Role.OBSERVER, home, name="Olive Observer"),
        # The home organisation's delegate, who wrote most of what the world holds.
        "member": factories.user(Role.MEMBER, home, name="Mina Member", is_delegate=True),
        "colleague": factories.user(Role.MEMBER, home, name="Cal Colleague"),
        "other_member": factories.user(Role.MEMBER, other, name="Otto Other"),
        "other_delegate": factories.user(Role.MEMBER, other, name="Oda Other", is_delegate=True),
        "spare_person": factories.user(Role.MEMBER, spare, name="Spike Spare"),
        "inactive_person": factories.user(Role.MEMBER, spare, name="Ina Inactive", active=False),
    }
    secretariat, member = people["secretariat"], people["member"]
    other_member = people["other_member"]

    consultation = factories.consultation("Net zero by 2040")
    consultation.participants = [Participant(organisation=home), Participant(organisation=other)]
    ask = factories.ask(consultation, title="Act now", versions=(V1, V2), author=secretariat)
    second_ask = factories.ask(
        consultation, title="Insulate homes", versions=("One.\n\nTwo.",), author=secretariat
    )
    # Another consultation and ask: what extra fields point at.
    elsewhere = factories.consultation("Clean air")
    elsewhere.participants = [Participant(organisation=home), Participant(organisation=other)]
    elsewhere_ask = factories.ask(elsewhere, title="Low emission zones", author=secretariat)
    # Not open yet: nobody but the secretariat reads it. And an ask with no version yet.
    upcoming = factories.consultation("Next year", opens_in_days=30, closes_in_days=60)
    upcoming.participants = [Participant(organisation=home), Participant(organisation=other)]
    upcoming_ask = factories.ask(upcoming, title="Not yet open", author=secretariat)
    unpublished_ask = factories.ask(consultation, title="Still drafting", versions=())
    for item in (ask, second_ask, elsewhere_ask, upcoming_ask):
        item.state = AskState.IN_REVIEW  # as publishing its first version would have set it
    db.session.flush()

    first, second = (p.anchor for p in paragraphs(ask.current_version.body)[:2])
    comment, _ = comment_services.add_comment(
        author=member, ask=ask, body="Our comment.", paragraph_anchor=first
    )
    reported, _ = comment_services.add_comment(author=member, ask=ask, body="Reported.")
    report = comment_services.report_comment(
        actor=other_member, comment=reported, reason="Off topic"
    )
    hidden, _ = comment_services.add_comment(author=member, ask=ask, body="Hidden words.")
    comment_services.hide_comment(actor=secretariat, comment=hidden, reason="Personal")
    other_comment, _ = comment_services.add_comment(
        author=other_member, ask=elsewhere_ask, body="Elsewhere."
    )
    amendment, _ = amendment_services.propose(
        actor=member, ask=ask, paragraph=second, wording="Every party.", rationale="Shorter."
    )
    note = note_services.add_note(author=member, ask=ask, body="Our private line.")
    other_note = note_services.add_note(author=other_member, ask=ask, body="Their line.")
    position = position_services.set_position(
        actor=member, ask=ask, stance="support", reason="We agree."
    )

    invitee = accounts.invite(
        actor=secretariat,
        email="invitee@example.org",
        name="Ivy Invitee",
        organisation=spare,
        role=Role.MEMBER,
    )
    invitation = accounts._issue_token(
        invitee, TokenPurpose.INVITATION, timedelta(days=1), secretariat
    )
    reset = accounts._issue_token(
        people["spare_person"], TokenPurpose.PASSWORD_RESET, timedelta(hours=1), None
    )
    backer = Backer(
        consultation_id=consultation.id,
        organisation_name="Backing Group",
        contact_name="Bea Backer",
        email="bea@example.org",
        state=BackerState.CONFIRMED,
        confirmed_at=utcnow(),
    )
    failed_email = OutgoingEmail(
        recipient="lost@example.org",
        subject="Lost",
        text_body="Never arrived.",
        headers={},
        state=EmailState.FAILED,
        attempts=5,
        last_error="ConnectionRefusedError",
    )
    db.session.add_all([backer, failed_email])
    db.session.flush()
    ids = {
        "home_org": home.id,
        "other_org": other.id,
        "spare_org": spare.id,
        "inactive_org": inactive_org.id,
        "consultation": consultation.id,
        "ask": ask.id,
        "second_ask": second_ask.id,
        "unpublished_ask": unpublished_ask.id,
        "elsewhere": elsewhere.id,
        "elsewhere_ask": elsewhere_ask.id,
        "elsewhere_version": elsewhere_ask.current_version.id,
        "upcoming": upcoming.id,
        "upcoming_ask": upcoming_ask.id,
        "upcoming_anchor": paragraphs(upcoming_ask.current_version.body)[0].anchor,
        "first": first,
        "second": second,
        "comment": comment.id,
        "reported": reported.id,
        "report": report.id,
        "hidden": hidden.id,
        "other_comment": other_comment.id,
        "amendment": amendment.id,
        "note": note.id,
        "other_note": other_note.id,
        "position": position.id,
        "invitee": invitee.id,
        "invitation": invitation,
        "reset": reset,
        "backer": backer.id,
        "failed_email": failed_email.id,
        "unsubscribe": unsubscribe_token(people["spare_person"], NotificationKind.REPLY),
    }
    for name, person in people.items():
        ids[name] = person.id
    return World(people=people, ids=ids)


# What must be true first -------------------------------------------------------------------


def _consultation(world: World) -> Consultation:
    found = db.session.get(Consultation, world.ids["consultation"])
    assert found is not None
    return found


def agree_every_ask(world: World) -> None:
    """Every published ask of the consultation agreed (the one still drafting is dropped)."""
    db.session.delete(db.session.get(Ask, world.ids["unpublished_ask"]))
    db.session.flush()
    consultation = _consultation(world)
    db.session.refresh(consultation)
    for ask in consultation.asks:
        agreement_services.declare_agreed(
            actor=world.person("secretariat"),
            ask=ask,
            reason="Agreed at the meeting.",
            based_on=ask.current_version.number,
        )
    db.session.flush()


def open_signoff(world: World) -> None:
    agree_every_ask(world)
    signoff_services.open_signoff(
        actor=world.person("secretariat"), consultation=_consultation(world)
    )


def close_signoff(world: World) -> None:
    open_signoff(world)
    signoff_services.close_signoff(
        actor=world.person("secretariat"), consultation=_consultation(world)
    )


def publish(world: World) -> None:
    close_signoff(world)
    publication_services.publish(
        actor=world.person("secretariat"), consultation=_consultation(world)
    )


def unconfirmed_backer(world: World) -> None:
    """The manifesto published, and an offer of support waiting for its emailed link."""
    publish(world)
    backer = Backer(
        consultation_id=world.ids["consultation"],
        organisation_name="Waiting Group",
        contact_name="Wes Waiting",
        email="wes@example.org",
        token_hash=hash_token(BACKER_TOKEN),
        token_expires_at=utcnow() + timedelta(days=7),
    )
    db.session.add(backer)
    db.session.flush()


def saved_draft(world: World) -> None:
    ask = db.session.get(Ask, world.ids["ask"])
    ask_services.save_draft(
        actor=world.person("secretariat"),
        ask=ask,
        body=V2 + "\n\nA draft paragraph.",
        change_note="Drafting",
        based_on=2,
    )


# The forms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    """A valid form of a state-changing route: who sends it, where, what, and what must be
    true first. `name` tells several forms of one route apart."""

    endpoint: str
    actor: str
    url: str  # formatted with the world's ids
    data: Callable[[World], dict] = lambda world: {}
    prepare: Callable[[World], None] | None = None
    name: str = ""

    @property
    def id(self) -> str:
        return f"{self.endpoint}[{self.name}]" if self.name else self.endpoint

    def path(self, world: World) -> str:
        return self.url.format(**world.ids)


KEY = "0123456789abcdef0123456789abcdef"  # a submission key, as a form would carry
REASON = {"reason": "Because the coalition said so."}


def _preferences(world: World) -> dict:
    return {kind.value: "never" for kind in NotificationKind}


def _new_password(world: World) -> dict:
    return {"password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}


FORMS: list[Form] = [
    # auth
    Form(
        "auth.sign_in",
        "anonymous",
        "/sign-in",
        lambda w: {"email": w.person("spare_person").email, "password": PASSWORD},
    ),
    Form("auth.sign_out", "member", "/sign-out"),
    Form("auth.notification_preferences", "member", "/account/notifications", _preferences),
    Form(
        "auth.change_password",
        "member",
        "/account/password",
        lambda w: {"current_password": PASSWORD, **_new_password(w)},
    ),
    Form(
        "auth.accept_invitation",
        "anonymous",
        "/invitations/{invitation}",
        lambda w: {"name": "Ivy Invitee", **_new_password(w)},
    ),
    Form(
        "auth.request_password_reset",
        "anonymous",
        "/password-reset",
        lambda w: {"email": w.person("spare_person").email},
    ),
    Form("auth.reset_password", "anonymous", "/password-reset/{reset}", _new_password),
    # consultations and asks
    Form(
        "consultations.create", "secretariat", "/consultations/new", lambda w: consultation_form()
    ),
    Form(
        "consultations.edit",
        "secretariat",
        "/consultations/{consultation}/edit",
        lambda w: consultation_form(title="Net zero by 2035"),
    ),
    Form(
        "consultations.participants",
        "secretariat",
        "/consultations/{consultation}/organisations",
        lambda w: {"organisations": [str(w.ids["home_org"]), str(w.ids["spare_org"])]},
    ),
    Form(
        "asks.create",
        "secretariat",
        "/consultations/{consultation}/asks/new",
        lambda w: {"title": "A new ask", "theme": "Energy"},
    ),
    Form(
        "asks.edit",
        "secretariat",
        "/asks/{ask}/edit",
        lambda w: {"title": "Act now, together", "theme": "Climate"},
    ),
    Form("asks.move", "secretariat", "/asks/{ask}/move", lambda w: {"direction": "down"}),
    Form(
        "asks.new_version",
        "secretariat",
        "/asks/{ask}/versions/new",
        lambda w: {
            "body": V1,
            "change_note": "Back to the first words",
            "based_on": "2",
            "action": "publish",
        },
        name="publish",
    ),
    Form(
        "asks.new_version",
        "secretariat",
        "/asks/{ask}/versions/new",
        lambda w: {"body": V1, "change_note": "Saved", "based_on": "2", "action": "save"},
        name="save",
    ),
    Form("asks.discard_draft", "secretariat", "/asks/{ask}/draft/discard", prepare=saved_draft),
    # comments
    Form(
        "comments.create",
        "other_member",
        "/asks/{ask}/comments",
        lambda w: {
            "body": "Ours.",
            "paragraph": w.ids["first"],
            "quote": "council",
            "submission_key": KEY,
        },
    ),
    Form(
        "comments.create_reply",
        "other_member",
        "/comments/{comment}/replies",
        lambda w: {"body": "A reply.", "submission_key": KEY},
    ),
    Form("comments.edit", "member", "/comments/{comment}/edit", lambda w: {"body": "Changed."}),
    Form("comments.withdraw", "member", "/comments/{comment}/withdraw"),
    Form("comments.hide", "secretariat", "/comments/{comment}/hide", lambda w: REASON),
    Form(
        "comments.resolve",
        "secretariat",
        "/comments/{comment}/resolve",
        lambda w: {"response": "Taken on board."},
    ),
    Form("comments.report", "other_member", "/comments/{comment}/report", lambda w: REASON),
    Form("comments.handle_report", "secretariat", "/comments/reports/{report}/handled"),
    # positions: the other organisation's delegate sets theirs
    Form(
        "positions.edit",
        "other_delegate",
        "/asks/{ask}/position",
        lambda w: {"stance": "object", "reason": "We object."},
    ),
    # notes: the member's organisation's own
    Form("notes.create", "colleague", "/asks/{ask}/notes", lambda w: {"body": "Agreed line."}),
    Form("notes.reply", "colleague", "/notes/{note}/reply", lambda w: {"body": "Yes."}),
    Form("notes.edit", "member", "/notes/{note}/edit", lambda w: {"body": "Our new line."}),
    Form("notes.delete", "member", "/notes/{note}/delete"),
    Form("notes.propose", "colleague", "/notes/{note}/propose", lambda w: {"stance": "object"}),
    # dispositions
    Form(
        "dispositions.comment",
        "secretariat",
        "/comments/{comment}/outcome",
        lambda w: {"outcome": "noted", **REASON},
    ),
    Form(
        "dispositions.amendment",
        "secretariat",
        "/amendments/{amendment}/outcome",
        lambda w: {"outcome": "partly_adopted", **REASON},
    ),
    # amendments
    Form(
        "amendments.new",
        "other_member",
        "/asks/{ask}/amendments/new",
        lambda w: {
            "paragraph": w.ids["first"],
            "wording": "Entirely new words.",
            "rationale": "Clearer.",
            "submission_key": KEY,
        },
    ),
    Form(
        "amendments.back",
        "other_delegate",
        "/amendments/{amendment}/backing",
        lambda w: {"stance": "oppose", "back_to": "ask"},
    ),
    Form("amendments.withdraw", "member", "/amendments/{amendment}/withdraw"),
    Form("amendments.decline", "secretariat", "/amendments/{amendment}/decline", lambda w: REASON),
    Form(
        "amendments.accept",
        "secretariat",
        "/asks/{ask}/amendments/accept",
        lambda w: {
            "amendment": str(w.ids["amendment"]),
            "change_note": "Accepted",
            "based_on": "2",
            "action": "publish",
        },
    ),
    # agreements, sign-off and publication
    Form(
        "agreements.agree",
        "secretariat",
        "/asks/{ask}/agree",
        lambda w: {"based_on": "2", **REASON},
    ),
    Form(
        "agreements.reopen", "secretariat", "/asks/{ask}/reopen", lambda w: REASON, agree_every_ask
    ),
    Form(
        "signoff.show",
        "other_delegate",
        "/consultations/{consultation}/sign-off",
        lambda w: {"decision": "endorse", "list_publicly": "y"},
        open_signoff,
    ),
    Form(
        "signoff.open",
        "secretariat",
        "/consultations/{consultation}/sign-off/open",
        prepare=agree_every_ask,
    ),
    Form(
        "signoff.close",
        "secretariat",
        "/consultations/{consultation}/sign-off/close",
        prepare=open_signoff,
    ),
    Form(
        "publication.publish",
        "secretariat",
        "/consultations/{consultation}/publish",
        prepare=close_signoff,
    ),
    Form(
        "publication.back",
        "anonymous",
        "/manifestos/{consultation}/back",
        lambda w: {
            "organisation_name": "Friends of the Park",
            "contact_name": "Fran Friend",
            "email": "fran@example.org",
            "website": "https://friends.example.org",
        },
        publish,
    ),
    Form(
        "publication.confirm_backer",
        "anonymous",
        f"/backers/confirm/{BACKER_TOKEN}",
        prepare=unconfirmed_backer,
    ),
    Form("publication.approve_backer", "secretariat", "/backers/{backer}/approve"),
    Form("publication.reject_backer", "secretariat", "/backers/{backer}/reject", lambda w: REASON),
    # admin
    Form(
        "admin.create_organisation",
        "secretariat",
        "/admin/organisations/new",
        lambda w: {"name": "New Council", "kind": "local_authority", "website": ""},
    ),
    Form(
        "admin.edit_organisation",
        "secretariat",
        "/admin/organisations/{spare_org}/edit",
        lambda w: {"name": "Spare Council", "kind": "local_authority", "website": ""},
    ),
    Form(
        "admin.deactivate_organisation",
        "secretariat",
        "/admin/organisations/{spare_org}/deactivate",
    ),
    Form(
        "admin.reactivate_organisation",
        "secretariat",
        "/admin/organisations/{inactive_org}/reactivate",
    ),
    Form(
        "admin.invite_person",
        "secretariat",
        "/admin/people/invite",
        lambda w: {
            "email": "new.person@example.org",
            "name": "New Person",
            "organisation_id": str(w.ids["spare_org"]),
            "role": "observer",
        },
    ),
    Form("admin.resend_invitation", "secretariat", "/admin/people/{invitee}/resend-invitation"),
    Form(
        "admin.change_role",
        "secretariat",
        "/admin/people/{spare_person}/role",
        lambda w: {"role": "observer"},
    ),
    Form(
        "admin.set_delegate",
        "secretariat",
        "/admin/people/{spare_person}/delegate",
        lambda w: {"delegate": "1"},
    ),
    Form("admin.deactivate_person", "secretariat", "/admin/people/{spare_person}/deactivate"),
    Form("admin.reactivate_person", "secretariat", "/admin/people/{inactive_person}/reactivate"),
    Form("admin.export_person", "secretariat", "/admin/people/{spare_person}/data.json"),
    Form("admin.erase_person", "secretariat", "/admin/people/{spare_person}/erase"),
    Form("admin.retry_email", "secretariat", "/admin/mail/{failed_email}/retry"),
    # notifications: the signed link is the authority
    Form("notifications.confirm_unsubscribe", "anonymous", "/unsubscribe/{unsubscribe}"),
]


# Extra fields ------------------------------------------------------------------------------

# Fields no form of the app has under these names that point somewhere else. Names some
# view reads from the raw request for itself (`action`, `direction`, `delegate`,
# `amendment`, `next`) are not extra: each is part of its own route's form.
LATER = "2001-02-03T04:05:06"
PRIVILEGED = {
    "role": "secretariat",
    "state": ["hidden", "agreed", "approved", "accepted", "published", "withdrawn"],
    "is_delegate": "y",
    "active": "0",
    "erased_at": LATER,
    "created_at": LATER,
    "updated_at": LATER,
    "edited_at": LATER,
    "resolved_at": LATER,
    "decided_at": LATER,
    "confirmed_at": LATER,
    "agreed_at": LATER,
    "published_at": LATER,
    "opens_at": LATER,
    "closes_at": LATER,
    "closed_at": LATER,
    "signoff_opened_at": LATER,
    "signoff_closed_at": LATER,
    "sent_at": LATER,
    "hidden_reason": "Mass assigned",
    "resolution": "Mass assigned",
    "reject_reason": "Mass assigned",
    "against_rule": "y",
    "list_publicly": "y",
    "proposed_stance": "object",
    "stance": "object",
    "decision": "decline",
    "outcome": "adopted",
    "kind": "local_authority",
    "quorum_percent": "1",
    "threshold_percent": "1",
    "objection_blocks": "y",
    "sort_order": "0",
    "based_on": "1",
    "attempts": "0",
    "email": "mallory@example.org",
    "name": "Mallory",
    "recipient": "mallory@example.org",
    "password_hash": "mass-assigned",
    "session_token": "mass-assigned",
    "token_hash": "mass-assigned",
    "paragraph_anchor": "p-0000000000",
    "object_type": "user_account",
    "ip_address": "203.0.113.9",
    "theme": "Mass assigned",
    "website": "https://mallory.example.org",
}


def extra_fields(world: World, actor: str, form: dict[str, Any]) -> dict[str, Any]:
    """Fields the form does not have, naming another organisation than the actor's,
    another person, another consultation, its ask and its objects, and privileged values."""
    me = world.person(actor)
    at_home = me is not None and me.organisation_id == world.ids["home_org"]
    someone = str(world.ids["other_delegate"] if at_home else world.ids["member"])
    ids = world.ids
    fields: dict[str, Any] = {
        **PRIVILEGED,
        "organisation_id": str(ids["other_org"] if at_home else ids["home_org"]),
        "id": someone,
        "object_id": someone,
        **{
            name: someone
            for name in (
                "user_id",
                "author_id",
                "proposer_id",
                "set_by_id",
                "reporter_id",
                "decided_by_id",
                "actor_id",
                "created_by_id",
                "proposed_by_id",
            )
        },
        "consultation_id": str(ids["elsewhere"]),
        "ask_id": str(ids["elsewhere_ask"]),
        "version_id": str(ids["elsewhere_version"]),
        "proposed_version_id": str(ids["elsewhere_version"]),
        "comment_id": str(ids["other_comment"]),
        "parent_id": str(ids["other_comment"]),
        "note_id": str(ids["other_note"]),
        "amendment_id": str(ids["amendment"]),
    }
    return {name: value for name, value in fields.items() if name not in form}
