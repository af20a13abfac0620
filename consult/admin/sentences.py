"""The audit log in plain English: a sentence for each event, such as "Sam Okafor published
v3 of Recognise the need for a place-based approach".

`describe(events)` loads the names the sentences need in a bounded number of grouped queries
(one per kind of object on the page, however many events there are) and returns each event's
sentence as plain text: Jinja escapes it, since names are user input. Names are as they are
now (an ask renamed since reads by its new title); the values at the time are in the event's
before and after, shown under "Technical details".

Every action recorded anywhere in consult/ has a sentence here (a test finds them in the
source). An action or object Consult does not know (an old row), an object that no longer
exists, or values missing from an old row give a plainer sentence that is still true, never
an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import aliased

from consult.extensions import db
from consult.models import (
    Amendment,
    Ask,
    AuditEvent,
    Backer,
    Backing,
    Comment,
    CommentReport,
    Consultation,
    Decision,
    DraftVersion,
    Endorsement,
    Organisation,
    OrganisationKind,
    Outcome,
    Position,
    Role,
    Stance,
    User,
)

SOMEONE_UNKNOWN = "Someone (no longer known)"

# The names loaded for a page of events ----------------------------------------------------


class _Person(NamedTuple):
    name: str
    organisation: str
    erased: bool = False


class _OnVersion(NamedTuple):
    """Something about one version of an ask: the version itself, a comment, an amendment or
    a position (`who` is its author, or its organisation)."""

    who: str
    number: int
    ask: str


class _Report(NamedTuple):
    reporter: str
    author: str
    number: int
    ask: str


class _OnConsultation(NamedTuple):
    """An organisation's endorsement of a consultation's manifesto, or a backer of it."""

    organisation: str
    consultation: str


Names = dict[str, dict[int, Any]]


def _rows(stmt: Select[*tuple[Any, ...]], ids: set[int]) -> list[tuple[Any, ...]]:
    """The rows of stmt whose first column (an id) is one of ids."""
    column = stmt.selected_columns[0]
    return [tuple(row) for row in db.session.execute(stmt.where(column.in_(sorted(ids))))]


def _organisations(ids: set[int]) -> dict[int, Any]:
    return {row[0]: row[1] for row in _rows(select(Organisation.id, Organisation.name), ids)}


def _people(ids: set[int]) -> dict[int, Any]:
    stmt = select(User.id, User.name, Organisation.name, User.erased_at.is_not(None)).join(
        User.organisation
    )
    return {row[0]: _Person(*row[1:]) for row in _rows(stmt, ids)}


def _consultations(ids: set[int]) -> dict[int, Any]:
    return {row[0]: row[1] for row in _rows(select(Consultation.id, Consultation.title), ids)}


def _asks(ids: set[int]) -> dict[int, Any]:
    return {row[0]: row[1] for row in _rows(select(Ask.id, Ask.title), ids)}


def _versions(ids: set[int]) -> dict[int, Any]:
    author = aliased(User)
    stmt = (
        select(DraftVersion.id, author.name, DraftVersion.number, Ask.title)
        .join(author, DraftVersion.author)
        .join(DraftVersion.ask)
    )
    return {row[0]: _OnVersion(*row[1:]) for row in _rows(stmt, ids)}


def _comments(ids: set[int]) -> dict[int, Any]:
    stmt = (
        select(Comment.id, User.name, DraftVersion.number, Ask.title)
        .join(Comment.author)
        .join(Comment.version)
        .join(Comment.ask)
    )
    return {row[0]: _OnVersion(*row[1:]) for row in _rows(stmt, ids)}


def _reports(ids: set[int]) -> dict[int, Any]:
    reporter, author = aliased(User), aliased(User)
    stmt = (
        select(CommentReport.id, reporter.name, author.name, DraftVersion.number, Ask.title)
        .join(reporter, CommentReport.reporter)
        .join(CommentReport.comment)
        .join(author, Comment.author)
        .join(Comment.version)
        .join(Comment.ask)
    )
    return {row[0]: _Report(*row[1:]) for row in _rows(stmt, ids)}


def _on_version(model: Any) -> Callable[[set[int]], dict[int, Any]]:
    """The loader of an organisation's object on a version of an ask (amendment, position):
    the organisation's name, the version's number and the ask's title."""

    def load(ids: set[int]) -> dict[int, Any]:
        stmt = (
            select(model.id, Organisation.name, DraftVersion.number, Ask.title)
            .join(model.organisation)
            .join(model.version)
            .join(model.ask)
        )
        return {row[0]: _OnVersion(*row[1:]) for row in _rows(stmt, ids)}

    return load


_amendments = _on_version(Amendment)
_positions = _on_version(Position)


def _endorsements(ids: set[int]) -> dict[int, Any]:
    stmt = (
        select(Endorsement.id, Organisation.name, Consultation.title)
        .join(Endorsement.organisation)
        .join(Endorsement.consultation)
    )
    return {row[0]: _OnConsultation(*row[1:]) for row in _rows(stmt, ids)}


def _backers(ids: set[int]) -> dict[int, Any]:
    stmt = select(Backer.id, Backer.organisation_name, Consultation.title).join(Backer.consultation)
    return {row[0]: _OnConsultation(*row[1:]) for row in _rows(stmt, ids)}


# One grouped query per kind of object, by table name (the audit event's object_type).
_LOADERS: dict[str, Callable[[set[int]], dict[int, Any]]] = {
    Organisation.__tablename__: _organisations,
    User.__tablename__: _people,
    Consultation.__tablename__: _consultations,
    Ask.__tablename__: _asks,
    DraftVersion.__tablename__: _versions,
    Comment.__tablename__: _comments,
    CommentReport.__tablename__: _reports,
    Amendment.__tablename__: _amendments,
    Position.__tablename__: _positions,
    Endorsement.__tablename__: _endorsements,
    Backer.__tablename__: _backers,
}

# Values in before/after that name other objects: which table their ids are in.
_REFERENCES = {
    "organisation_id": Organisation.__tablename__,
    "participants": Organisation.__tablename__,
    "neighbour_id": Ask.__tablename__,
    "parent_id": Comment.__tablename__,
    "ask_id": Ask.__tablename__,
}


def _ids(value: Any) -> list[int]:
    """The ids in a value: an id, or a list of them (anything else names nothing)."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def load_names(events: Sequence[AuditEvent]) -> Names:
    """The names of every object the events are about or mention, by table and id: one
    query per kind of object present."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for event in events:
        if event.object_id is not None:
            wanted[event.object_type].add(event.object_id)
        for values in (event.before, event.after):
            if isinstance(values, dict):
                for key, table in _REFERENCES.items():
                    wanted[table].update(_ids(values.get(key)))
    return {
        table: _LOADERS[table](ids) for table, ids in wanted.items() if ids and table in _LOADERS
    }


# Words ------------------------------------------------------------------------------------


def _join(items: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _count(number: int, one: str, many: str) -> str:
    return f"1 {one}" if number == 1 else f"{number} {many}"


def _label(kind: Callable[[str], Any], value: Any) -> str | None:
    """The label of one of an enum's values (or the value itself, if it is not one)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return str(kind(value).label)
    except ValueError:
        return value


def _with_article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _shown(value: Any) -> str:
    """A before or after value, quoted, in a sentence."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"“{value}”"


def _possessive(name: str) -> str:
    return f"{name}’s"


# An event and the names loaded for its page -----------------------------------------------


@dataclass
class _Said:
    event: AuditEvent
    names: Names

    @property
    def who(self) -> str:
        """Who did it: their name; someone whose account is gone; or, with no one signed in,
        someone at the command line (no address) or on the web."""
        event = self.event
        if event.actor is not None:
            return event.actor.name
        if event.actor_id is not None:
            return SOMEONE_UNKNOWN
        return "Someone at the command line" if event.ip_address is None else "Someone"

    @property
    def actor_organisation(self) -> str | None:
        actor = self.event.actor
        return actor.organisation.name if actor is not None else None

    def before(self, key: str) -> Any:
        values = self.event.before
        return values.get(key) if isinstance(values, dict) else None

    def after(self, key: str) -> Any:
        values = self.event.after
        return values.get(key) if isinstance(values, dict) else None

    def changed_keys(self) -> list[str]:
        """The fields named in before or after, in order of first mention."""
        keys: dict[str, None] = {}
        for values in (self.event.before, self.event.after):
            if isinstance(values, dict):
                keys.update(dict.fromkeys(str(key) for key in values))
        return list(keys)

    def found(self, table: str, object_id: Any) -> Any | None:
        """The names of one object, if it still exists (None for anything but an id)."""
        if not isinstance(object_id, int) or isinstance(object_id, bool):
            return None
        return self.names.get(table, {}).get(object_id)

    @property
    def row(self) -> Any | None:
        """The names of the event's object, if it still exists."""
        return self.found(self.event.object_type, self.event.object_id)

    # Objects, as they are named in a sentence (or as gone). With `kind`, a name that is
    # found reads "the organisation Green Councils Network".

    def organisation(self, object_id: Any = None, *, kind: bool = False) -> str:
        name = self.found(Organisation.__tablename__, self._id(object_id))
        if name is None:
            return "an organisation that no longer exists"
        return f"the organisation {name}" if kind else name

    def person(self, object_id: Any = None) -> str:
        person = self.found(User.__tablename__, self._id(object_id))
        return person.name if person is not None else "a person whose account no longer exists"

    def consultation(self, object_id: Any = None, *, kind: bool = False) -> str:
        title = self.found(Consultation.__tablename__, self._id(object_id))
        if title is None:
            return "a consultation that no longer exists"
        return f"the consultation {title}" if kind else title

    def ask(self, object_id: Any = None, *, kind: bool = False) -> str:
        title = self.found(Ask.__tablename__, self._id(object_id))
        if title is None:
            return "an ask that no longer exists"
        return f"the ask {title}" if kind else title

    def comment(self, object_id: Any = None, *, own: bool = False) -> str:
        comment = self.found(Comment.__tablename__, self._id(object_id))
        if comment is None:
            return "a comment that no longer exists"
        by = "their comment" if own else f"a comment by {comment.who}"
        return f"{by} on v{comment.number} of {comment.ask}"

    def amendment(self) -> str:
        amendment = self.found(Amendment.__tablename__, self.event.object_id)
        if amendment is None:
            return "an amendment that no longer exists"
        return f"{_possessive(amendment.who)} amendment to v{amendment.number} of {amendment.ask}"

    def _id(self, object_id: Any) -> Any:
        return self.event.object_id if object_id is None else object_id


_Sentence = Callable[[_Said], str]
_SENTENCES: dict[str, tuple[tuple[str, ...], _Sentence]] = {}


def _says(*actions: str, on: str | tuple[str, ...]) -> Callable[[_Sentence], _Sentence]:
    """Register the sentence for these actions, on objects of this table (or these)."""
    tables = (on,) if isinstance(on, str) else on

    def register(sentence: _Sentence) -> _Sentence:
        for action in actions:
            _SENTENCES[action] = (tables, sentence)
        return sentence

    return register


def described_actions() -> dict[str, tuple[str, ...]]:
    """Every action that has a sentence of its own, with the tables of the objects it is
    recorded on (on any other object, an event gets the generic sentence)."""
    return {action: tables for action, (tables, _) in _SENTENCES.items()}


# Organisations ----------------------------------------------------------------------------

_ORGANISATION_FIELDS = {"name": "name", "kind": "kind", "website": "website"}


@_says("organisation.create", on="organisation")
def _organisation_create(s: _Said) -> str:
    return f"{s.who} added {s.organisation(kind=True)}"


@_says("organisation.update", on="organisation")
def _organisation_update(s: _Said) -> str:
    changes = []
    for key in s.changed_keys():
        if key in _ORGANISATION_FIELDS:
            old, new = s.before(key), s.after(key)
            if key == "kind":
                old, new = _label(OrganisationKind, old), _label(OrganisationKind, new)
            changes.append(f"{_ORGANISATION_FIELDS[key]} from {_shown(old)} to {_shown(new)}")
    details = f": {_join(changes)}" if changes else ""
    return f"{s.who} changed the details of {s.organisation()}{details}"


@_says("organisation.deactivate", "organisation.reactivate", on="organisation")
def _organisation_active(s: _Said) -> str:
    done = "deactivated" if s.event.action == "organisation.deactivate" else "reactivated"
    return f"{s.who} {done} {s.organisation()}"


# People -----------------------------------------------------------------------------------


@_says("user.sign_in", on="user_account")
def _sign_in(s: _Said) -> str:
    return f"{s.who} signed in"


@_says("user.sign_out", on="user_account")
def _sign_out(s: _Said) -> str:
    return f"{s.who} signed out"


@_says("user.change_password", on="user_account")
def _change_password(s: _Said) -> str:
    return f"{s.who} changed their password"


_AS_ROLE = {"member": "as a member", "observer": "as an observer", "secretariat": "as secretariat"}


def _as_role(s: _Said) -> str:
    role = s.after("role")
    if not isinstance(role, str) or not role:
        return ""
    return " " + _AS_ROLE.get(role, f"with the role {_shown(role)}")


def _in_organisation(s: _Said) -> str:
    person = s.found(User.__tablename__, s.event.object_id)
    return f" ({person.organisation})" if person is not None else ""


@_says("user.invite", on="user_account")
def _invite(s: _Said) -> str:
    return f"{s.who} invited {s.person()}{_in_organisation(s)}{_as_role(s)}"


@_says("user.create", on="user_account")
def _create_user(s: _Said) -> str:
    return f"{s.who} created an account for {s.person()}{_in_organisation(s)}{_as_role(s)}"


@_says("user.resend_invitation", on="user_account")
def _resend_invitation(s: _Said) -> str:
    return f"{s.who} sent {s.person()} a new invitation link"


@_says("user.accept_invitation", on="user_account")
def _accept_invitation(s: _Said) -> str:
    old, new = s.before("name"), s.after("name")
    person = s.found(User.__tablename__, s.event.object_id)
    erased = person is not None and person.erased  # an erased person's old names go unshown
    renamed = (
        f", changing their name from {_shown(old)}"
        if old and new and old != new and not erased
        else ""
    )
    return f"{s.who} accepted their invitation{renamed}"


@_says("user.request_password_reset", on="user_account")
def _request_password_reset(s: _Said) -> str:
    # Asked for by whoever typed the email address: no one is signed in.
    who = s.who if s.event.actor_id is not None else "Someone"
    if s.event.object_id is None:
        return f"{who} asked for a password reset link for an email address with no account"
    return f"{who} asked for a password reset link for {s.person()}"


@_says("user.warn_of_failed_sign_ins", on="user_account")
def _warn_of_failed_sign_ins(s: _Said) -> str:
    return f"Consult emailed {s.person()} about many wrong passwords for their account"


@_says("user.reset_password", on="user_account")
def _reset_password(s: _Said) -> str:
    return f"{s.who} chose a new password using an emailed reset link"


@_says("user.change_role", on="user_account")
def _change_role(s: _Said) -> str:
    old, new = _label(Role, s.before("role")), _label(Role, s.after("role"))
    change = f" from {old} to {new}" if old and new else ""
    person = s.found(User.__tablename__, s.event.object_id)
    whose = f"{_possessive(person.name)} role" if person else f"the role of {s.person()}"
    no_longer = (
        ", so they are no longer a delegate"
        if s.before("is_delegate") is True and s.after("is_delegate") is False
        else ""
    )
    return f"{s.who} changed {whose}{change}{no_longer}"


@_says("user.delegate", "user.undelegate", on="user_account")
def _delegate(s: _Said) -> str:
    person = s.found(User.__tablename__, s.event.object_id)
    of = f" of {person.organisation}" if person is not None else ""
    if s.event.action == "user.delegate":
        return f"{s.who} named {s.person()} as a delegate{of}"
    return f"{s.who} stopped {s.person()} being a delegate{of}"


@_says("user.deactivate", "user.reactivate", on="user_account")
def _user_active(s: _Said) -> str:
    done = "deactivated" if s.event.action == "user.deactivate" else "reactivated"
    person = s.found(User.__tablename__, s.event.object_id)
    account = f"{_possessive(person.name)} account" if person else f"the account of {s.person()}"
    return f"{s.who} {done} {account}"


@_says("user.export_data", on="user_account")
def _export_data(s: _Said) -> str:
    return f"{s.who} downloaded everything Consult holds about {s.person()}"


@_says("user.erase", on="user_account")
def _erase(s: _Said) -> str:
    return f"{s.who} erased the name and email address of the person now shown as {s.person()}"


# Consultations, sign-off and backers ------------------------------------------------------

_CONSULTATION_FIELDS = {
    "title": "title",
    "summary": "summary",
    "opens_at": "opening time",
    "closes_at": "closing time",
    "quorum_percent": "quorum",
    "threshold_percent": "support threshold",
    "objection_blocks": "whether an objection blocks agreement",
    "changes_count_as_support": "whether “support with changes” counts as support",
}


@_says("consultation.create", on="consultation")
def _consultation_create(s: _Said) -> str:
    return f"{s.who} created {s.consultation(kind=True)}"


@_says("consultation.update", on="consultation")
def _consultation_update(s: _Said) -> str:
    fields = [_CONSULTATION_FIELDS[key] for key in s.changed_keys() if key in _CONSULTATION_FIELDS]
    return f"{s.who} changed the {_join(fields) or 'details'} of {s.consultation()}"


@_says("consultation.participants", on="consultation")
def _participants(s: _Said) -> str:
    before, after = set(_ids(s.before("participants"))), set(_ids(s.after("participants")))
    changes = []
    for verb, ids in (("added", after - before), ("removed", before - after)):
        if ids:
            changes.append(f"{verb} {_join(sorted(s.organisation(i) for i in ids))}")
    details = f": {', '.join(changes)}" if changes else ""
    return f"{s.who} changed who takes part in {s.consultation()}{details}"


@_says("consultation.publish", on="consultation")
def _publish(s: _Said) -> str:
    asks = s.after("asks")
    counted = (
        f" ({_count(len(asks), 'agreed ask', 'agreed asks')})" if isinstance(asks, list) else ""
    )
    return f"{s.who} published the manifesto of {s.consultation()}{counted}"


@_says("signoff.open", "signoff.close", on="consultation")
def _signoff(s: _Said) -> str:
    done = "opened" if s.event.action == "signoff.open" else "closed"
    return f"{s.who} {done} sign-off of the manifesto of {s.consultation()}"


def _answer(decision: Any, listed: Any) -> str | None:
    label = _label(Decision, decision)
    if label is None:
        return None
    if decision == Decision.ENDORSE.value and isinstance(listed, bool):
        return f"{label} ({'listed' if listed else 'not listed'} publicly)"
    return label


def _setting(old: str | None, new: str | None, thing: str, target: str) -> str:
    """How a value was set on something: the new value (and the old one, if it changed)
    comes before the target, whose name may be long (and have commas of its own)."""
    if new is None:
        return f"set {thing} {target}"
    if old is None:
        return f"set {thing} to {new} {target}"
    if old == new:
        return f"gave a new reason for {thing} {target}"
    return f"changed {thing} from {old} to {new} {target}"


@_says("endorsement.set", on="endorsement")
def _endorsement(s: _Said) -> str:
    row = s.row
    if row is None:
        whose, target = "an answer", "on a manifesto that no longer exists"
    else:
        whose = f"{_possessive(row.organisation)} answer"
        target = f"on the manifesto of {row.consultation}"
    new = _answer(s.after("decision"), s.after("list_publicly"))
    old = _answer(s.before("decision"), s.before("list_publicly"))
    return f"{s.who} {_setting(old, new, whose, target)}"


def _backer(s: _Said) -> str:
    row = s.row
    if row is None:
        return "a backer of a manifesto that no longer exists"
    return f"{row.organisation} as a backer of the manifesto of {row.consultation}"


@_says("backer.confirm", on="backer")
def _backer_confirm(s: _Said) -> str:
    # The backer's contact follows the emailed link: no one is signed in.
    row = s.row
    if row is None:
        return "A backer of a manifesto that no longer exists confirmed their offer by email"
    return (
        f"The contact for {row.organisation} confirmed by email their offer to back the "
        f"manifesto of {row.consultation}"
    )


@_says("backer.approve", on="backer")
def _backer_approve(s: _Said) -> str:
    return f"{s.who} approved {_backer(s)}"


@_says("backer.reject", on="backer")
def _backer_reject(s: _Said) -> str:
    return f"{s.who} rejected {_backer(s)}"


# Asks, versions and drafts ----------------------------------------------------------------


@_says("ask.create", on="ask")
def _ask_create(s: _Said) -> str:
    return f"{s.who} added {s.ask(kind=True)}"


@_says("ask.update", on="ask")
def _ask_update(s: _Said) -> str:
    changes = [
        f"{key} from {_shown(s.before(key))} to {_shown(s.after(key))}"
        for key in ("title", "theme")
        if key in s.changed_keys() and s.before(key) != s.after(key)
    ]
    details = f": {_join(changes)}" if changes else ""
    return f"{s.who} changed {s.ask(kind=True)}{details}"


@_says("ask.move", on="ask")
def _ask_move(s: _Said) -> str:
    direction = s.after("direction")
    neighbour = s.found(Ask.__tablename__, s.after("neighbour_id"))
    if direction not in ("up", "down"):
        return f"{s.who} moved {s.ask(kind=True)}"
    if s.row is None or neighbour is None:
        return f"{s.who} moved {s.ask(kind=True)} {direction} one place"
    where = "before" if direction == "up" else "after"
    return f"{s.who} moved an ask {direction} one place: {s.ask()} now comes {where} {neighbour}"


@_says("version.publish", on="draft_version")
def _version_publish(s: _Said) -> str:
    version = s.row
    if version is not None:
        return f"{s.who} published v{version.number} of {version.ask}"
    number = s.after("number")
    what = f"v{number}" if isinstance(number, int) else "a version"
    return f"{s.who} published {what} of {s.ask(s.after('ask_id'))}"


@_says("draft.save", on="ask")
def _draft_save(s: _Said) -> str:
    return f"{s.who} saved a draft of the next version of {s.ask()}"


@_says("email.retry", on="outgoing_email")
def _email_retry(s: _Said) -> str:
    subject, recipient = s.after("subject"), s.after("recipient")
    if subject and recipient:
        return f"{s.who} asked for the email “{subject}” to {recipient} to be tried again"
    return f"{s.who} asked for an email to be tried again"


@_says("draft.discard", on="ask")
def _draft_discard(s: _Said) -> str:
    return f"{s.who} discarded the draft of the next version of {s.ask()}"


@_says("ask.agree", on="ask")
def _ask_agree(s: _Said) -> str:
    number = s.after("version")
    what = f"v{number} of {s.ask()}" if isinstance(number, int) else s.ask()
    against = " against the rule" if s.after("against_rule") is True else ""
    return f"{s.who} declared the wording agreed{against} for {what}"


@_says("ask.reopen", on="ask")
def _ask_reopen(s: _Said) -> str:
    return f"{s.who} reopened the agreed wording of {s.ask()}"


# Comments ---------------------------------------------------------------------------------


@_says("comment.create", on="comment")
def _comment_create(s: _Said) -> str:
    comment = s.row
    if comment is None:
        return f"{s.who} added {s.comment()}"
    return f"{s.who} commented on v{comment.number} of {comment.ask}"


@_says("comment.reply", on="comment")
def _comment_reply(s: _Said) -> str:
    comment, parent = s.row, s.found(Comment.__tablename__, s.after("parent_id"))
    if comment is None:
        return f"{s.who} replied with {s.comment()}"
    to = f"{_possessive(parent.who)} comment" if parent is not None else "a comment"
    return f"{s.who} replied to {to} on v{comment.number} of {comment.ask}"


@_says("comment.edit", on="comment")
def _comment_edit(s: _Said) -> str:
    return f"{s.who} edited {s.comment(own=True)}"


@_says("comment.withdraw", on="comment")
def _comment_withdraw(s: _Said) -> str:
    return f"{s.who} withdrew {s.comment(own=True)}"


@_says("comment.hide", on="comment")
def _comment_hide(s: _Said) -> str:
    return f"{s.who} hid {s.comment()}"


@_says("comment.resolve", on="comment")
def _comment_resolve(s: _Said) -> str:
    return f"{s.who} resolved {s.comment()}"


@_says("comment.report", on="comment")
def _comment_report(s: _Said) -> str:
    return f"{s.who} reported {s.comment()}"


@_says("comment.report_handle", on="comment_report")
def _report_handle(s: _Said) -> str:
    report = s.row
    if report is None:
        return f"{s.who} dealt with a report of a comment that no longer exists"
    return (
        f"{s.who} dealt with {_possessive(report.reporter)} report of a comment by "
        f"{report.author} on v{report.number} of {report.ask}"
    )


# Amendments and outcomes ------------------------------------------------------------------


@_says("amendment.propose", on="amendment")
def _amendment_propose(s: _Said) -> str:
    amendment = s.row
    if amendment is None:
        return f"{s.who} proposed {s.amendment()}"
    return (
        f"{s.who}, for {amendment.who}, proposed an amendment to v{amendment.number} of "
        f"{amendment.ask}"
    )


@_says("amendment.back", on="amendment")
def _amendment_back(s: _Said) -> str:
    organisation_id = s.after("organisation_id")
    if isinstance(organisation_id, int):
        org = s.organisation(organisation_id)
    else:
        org = s.actor_organisation or "their organisation"
    verbs = {
        Backing.BACK.value: ("backed", "backing"),
        Backing.OPPOSE.value: ("opposed", "opposing"),
    }
    old, new = (
        verbs.get(value) if isinstance(value, str) else None
        for value in (s.before("stance"), s.after("stance"))
    )
    if new is None:
        done = "set a stance on"
    elif old is None or old == new:
        done = new[0]
    else:
        done = f"changed from {old[1]} to {new[1]}"
    return f"{s.who}, for {org}, {done} {s.amendment()}"


@_says("amendment.withdraw", on="amendment")
def _amendment_withdraw(s: _Said) -> str:
    return f"{s.who} withdrew {s.amendment()}"


@_says("amendment.decline", on="amendment")
def _amendment_decline(s: _Said) -> str:
    return f"{s.who} declined {s.amendment()}"


@_says("amendment.accept", on="amendment")
def _amendment_accept(s: _Said) -> str:
    number = s.after("version")
    into = f" into v{number}" if isinstance(number, int) else ""
    return f"{s.who} accepted{into} {s.amendment()}"


@_says("disposition.record", on=("comment", "amendment"))
def _disposition(s: _Said) -> str:
    subject = s.comment() if s.event.object_type == "comment" else s.amendment()
    old, new = _label(Outcome, s.before("outcome")), _label(Outcome, s.after("outcome"))
    if new is None:
        return f"{s.who} recorded the outcome for {subject}"
    if old is None:
        return f"{s.who} recorded the outcome {new} for {subject}"
    if old == new:
        return f"{s.who} gave a new reason for the outcome of {subject}"
    return f"{s.who} changed the outcome from {old} to {new} for {subject}"


# Positions and reminders ------------------------------------------------------------------


@_says("position.set", on="position")
def _position(s: _Said) -> str:
    position = s.row
    if position is None:
        org = s.actor_organisation
        whose = f"{_possessive(org)} position" if org else "a position"
        target = "on an ask that no longer exists"
    else:
        whose = f"{_possessive(position.who)} position"
        target = f"on v{position.number} of {position.ask}"
    old, new = _label(Stance, s.before("stance")), _label(Stance, s.after("stance"))
    return f"{s.who} {_setting(old, new, whose, target)}"


@_says("reminders.send", on="reminder")
def _reminders(s: _Said) -> str:
    # Sent by a scheduled command, not by a person.
    who = s.who if s.event.actor_id is not None else "Consult"
    emails = s.after("emails")
    sent = (
        f"emailed {_count(emails, 'reminder', 'reminders')}"
        if isinstance(emails, int)
        else "emailed reminders"
    )
    missing = s.after("organisations_without_delegate")
    without = ""
    if isinstance(missing, list) and missing:
        without = (
            f"; {_count(len(missing), 'organisation has', 'organisations have')} no delegate "
            "to remind"
        )
    return f"{who} {sent} to delegates whose organisations had not given a position{without}"


@_says("demo.load", on="consultation")
def _demo_load(s: _Said) -> str:
    parts = [
        _count(number, one, many)
        for key, one, many in (
            ("organisations", "organisation", "organisations"),
            ("people", "person", "people"),
            ("asks", "ask", "asks"),
        )
        if isinstance(number := s.after(key), int)
    ]
    details = f": {_join(parts)}" if parts else ""
    return f"{s.who} loaded the demonstration data{details}"


# Anything else ----------------------------------------------------------------------------


def _object(s: _Said) -> str:
    """The event's object, named as well as Consult can."""
    table, object_id, row = s.event.object_type, s.event.object_id, s.row
    if table == "organisation":
        return s.organisation(kind=True)
    if table == "user_account":
        return s.person()
    if table == "consultation":
        return s.consultation(kind=True)
    if table == "ask":
        return s.ask(kind=True)
    if table == "draft_version":
        return f"v{row.number} of {row.ask}" if row else "a version that no longer exists"
    if table == "comment":
        return s.comment()
    if table == "comment_report":
        return f"a report by {row.reporter}" if row else "a report that no longer exists"
    if table == "amendment":
        return s.amendment()
    if table == "position":
        return (
            f"{_possessive(row.who)} position on v{row.number} of {row.ask}"
            if row
            else "a position that no longer exists"
        )
    if table in ("endorsement", "backer"):
        return (
            f"{row.organisation} on the manifesto of {row.consultation}"
            if row
            else f"{_with_article(table)} that no longer exists"
        )
    return f"{table} {object_id}" if object_id is not None else table


def _generic(s: _Said) -> str:
    return f"{s.who} did something recorded as “{s.event.action}” to {_object(s)}"


def sentence(event: AuditEvent, names: Names) -> str:
    """The event as a sentence, using names loaded by load_names for its page."""
    said = _Said(event, names)
    known = _SENTENCES.get(event.action)
    if known is None or event.object_type not in known[0]:
        return _generic(said)
    return known[1](said)


def describe(events: Sequence[AuditEvent]) -> dict[int, str]:
    """Each event's sentence, by event id, loading the names in grouped queries."""
    names = load_names(events)
    return {event.id: sentence(event, names) for event in events}
