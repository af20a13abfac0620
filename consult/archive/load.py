"""Restore a JSON archive (see export.py) into an empty database.

This is a restore, not a replay: the rows are written directly, as the archive recorded
them, not through the services (which would audit and email everything again); and inside
consult.mail.unsent(), so that nothing can be emailed by accident. The whole archive is
checked before anything is written, and written in one transaction that the caller
commits: a bad archive writes nothing.

People come back without a password, inactive, with a placeholder email under the
reserved .invalid domain ("person-1@archive.invalid") that can never receive mail: nobody
can sign in as them or reset their password. Backers likewise get "backer-1@archive.invalid"
and no confirmation token.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from consult import mail
from consult.archive.export import FORMAT, TIME_FORMAT, VERSION
from consult.extensions import db
from consult.models import (
    Agreement,
    Amendment,
    AmendmentBacking,
    AmendmentState,
    Ask,
    AskState,
    Backer,
    BackerState,
    Backing,
    Comment,
    CommentState,
    Consultation,
    Decision,
    Disposition,
    DraftVersion,
    Endorsement,
    Organisation,
    OrganisationKind,
    Outcome,
    Participant,
    Position,
    Role,
    Stance,
    User,
)

E = TypeVar("E", bound=StrEnum)

PLACEHOLDER_DOMAIN = "archive.invalid"

# The keys every record of each part of the archive has: no more, no fewer.
FIELDS: dict[str, frozenset[str]] = {
    "consultation": frozenset(
        "title summary opens_at closes_at rule closed_at signoff_opened_at signoff_closed_at "
        "published_at created_at".split()
    ),
    "rule": frozenset(
        "quorum_percent threshold_percent objection_blocks changes_count_as_support".split()
    ),
    "organisations": frozenset("key name kind website active".split()),
    "people": frozenset("key name organisation role delegate".split()),
    "participants": frozenset("organisation created_at".split()),
    "asks": frozenset("key title theme sort_order state created_at".split()),
    "versions": frozenset("key ask number body change_note author created_at".split()),
    "comments": frozenset(
        "key ask version paragraph_anchor quote parent author organisation body state "
        "created_at edited_at hidden_reason hidden_at hidden_by resolved_at resolved_by "
        "resolution".split()
    ),
    "amendments": frozenset(
        "key ask version paragraph_anchor original wording rationale organisation proposer "
        "state created_at closed_at decided_by decline_reason accepted_version".split()
    ),
    "backings": frozenset("amendment organisation stance set_by set_at".split()),
    "dispositions": frozenset(
        "ask comment amendment organisation outcome reason version decided_by decided_at".split()
    ),
    "positions": frozenset("ask version organisation stance reason set_by set_at".split()),
    "agreements": frozenset(
        "ask version agreed_by agreed_at against_rule reason tally reopened_at reopened_by "
        "reopen_reason".split()
    ),
    "endorsements": frozenset("organisation decision list_publicly reason set_by set_at".split()),
    "backers": frozenset(
        "organisation_name contact_name website state created_at confirmed_at decided_at "
        "decided_by reject_reason".split()
    ),
}
LISTS = tuple(name for name in FIELDS if name not in ("consultation", "rule"))
TOP_LEVEL = frozenset({"format", "version", "consultation", *LISTS})


class ArchiveError(ValueError):
    """The archive cannot be loaded: the message says why (and where)."""


def database_is_empty() -> bool:
    """No organisations, people or consultations yet."""
    return not any(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Organisation, User, Consultation)
    )


class _Record:
    """One record of the archive, read field by field with checks; errors name the place."""

    def __init__(self, where: str, data: Any, fields: frozenset[str]) -> None:
        if not isinstance(data, dict):
            raise ArchiveError(f"{where} is not a JSON object.")
        missing = sorted(fields - data.keys())
        if missing:
            raise ArchiveError(f"{where} lacks {', '.join(missing)}.")
        unknown = sorted(data.keys() - fields)
        if unknown:
            raise ArchiveError(f"{where} has unknown keys: {', '.join(unknown)}.")
        self.where = where
        self.data = data

    def _fail(self, name: str, problem: str) -> ArchiveError:
        return ArchiveError(f"{self.where}.{name} {problem}.")

    def text(self, name: str, *, optional: bool = False) -> Any:
        value = self.data[name]
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self._fail(name, "is not text")
        return value

    def integer(self, name: str) -> int:
        value = self.data[name]
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._fail(name, "is not a whole number")
        return value

    def flag(self, name: str) -> bool:
        value = self.data[name]
        if not isinstance(value, bool):
            raise self._fail(name, "is not true or false")
        return value

    def time(self, name: str, *, optional: bool = False) -> Any:
        value = self.data[name]
        if value is None and optional:
            return None
        try:
            return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)
        except (TypeError, ValueError):
            raise self._fail(name, "is not a time like 2026-01-31T09:00:00.000000Z") from None

    def choice(self, name: str, enum: type[E]) -> E:
        try:
            return enum(self.data[name])
        except ValueError:
            raise self._fail(name, f"is not one of {', '.join(m.value for m in enum)}") from None

    def ref(self, name: str, table: dict[str, Any], *, optional: bool = False) -> Any:
        value = self.data[name]
        if value is None and optional:
            return None
        if not isinstance(value, str) or value not in table:
            raise self._fail(name, f"refers to {value!r}, which is not in the archive")
        return table[value]


def _records(data: dict[str, Any], name: str) -> list[_Record]:
    items = data[name]
    if not isinstance(items, list):
        raise ArchiveError(f"{name} is not a JSON list.")
    return [_Record(f"{name}[{n}]", item, FIELDS[name]) for n, item in enumerate(items)]


def _keyed(records: list[_Record], make: Callable[[_Record], Any]) -> dict[str, Any]:
    """Make an object per record, by its "key"; a key used twice is an error."""
    made: dict[str, Any] = {}
    for record in records:
        key = record.text("key")
        if key in made:
            raise ArchiveError(f"{record.where}.key {key!r} is used twice.")
        made[key] = make(record)
    return made


def _check_header(data: Any) -> None:
    if not isinstance(data, dict):
        raise ArchiveError("This is not a Consult archive: it is not a JSON object.")
    if data.get("format") != FORMAT:
        raise ArchiveError(f'This is not a Consult archive: its "format" is not "{FORMAT}".')
    if data.get("version") != VERSION:
        raise ArchiveError(
            f"This archive is version {data.get('version')!r}; this Consult reads version "
            f"{VERSION} only."
        )
    missing = sorted(TOP_LEVEL - data.keys())
    if missing:
        raise ArchiveError(f"The archive lacks {', '.join(missing)}.")
    unknown = sorted(data.keys() - TOP_LEVEL)
    if unknown:
        raise ArchiveError(f"The archive has unknown keys: {', '.join(unknown)}.")


def _build(data: dict[str, Any]) -> tuple[list[list[Any]], list[tuple[Disposition, Ask]]]:
    """Every row to write, as new objects (not yet in the session), in groups written in
    order; raises ArchiveError for anything wrong, before anything is written."""
    c = _Record("consultation", data["consultation"], FIELDS["consultation"])
    rule = _Record("consultation.rule", c.data["rule"], FIELDS["rule"])
    consultation = Consultation(
        title=c.text("title"),
        summary=c.text("summary"),
        opens_at=c.time("opens_at"),
        closes_at=c.time("closes_at"),
        quorum_percent=rule.integer("quorum_percent"),
        threshold_percent=rule.integer("threshold_percent"),
        objection_blocks=rule.flag("objection_blocks"),
        changes_count_as_support=rule.flag("changes_count_as_support"),
        closed_at=c.time("closed_at", optional=True),
        signoff_opened_at=c.time("signoff_opened_at", optional=True),
        signoff_closed_at=c.time("signoff_closed_at", optional=True),
        published_at=c.time("published_at", optional=True),
        created_at=c.time("created_at"),
    )
    orgs = _keyed(
        _records(data, "organisations"),
        lambda r: Organisation(
            name=r.text("name"),
            kind=r.choice("kind", OrganisationKind),
            website=r.text("website", optional=True),
            active=r.flag("active"),
        ),
    )
    numbered = itertools.count(1)
    people = _keyed(
        _records(data, "people"),
        lambda r: User(
            email=f"person-{next(numbered)}@{PLACEHOLDER_DOMAIN}",
            name=r.text("name"),
            organisation=r.ref("organisation", orgs),
            role=r.choice("role", Role),
            is_delegate=r.flag("delegate"),
            password_hash=None,
            active=False,
        ),
    )
    participants = [
        Participant(
            consultation=consultation,
            organisation=r.ref("organisation", orgs),
            created_at=r.time("created_at"),
        )
        for r in _records(data, "participants")
    ]
    asks = _keyed(
        _records(data, "asks"),
        lambda r: Ask(
            consultation=consultation,
            title=r.text("title"),
            theme=r.text("theme"),
            sort_order=r.integer("sort_order"),
            state=r.choice("state", AskState),
            created_at=r.time("created_at"),
        ),
    )
    versions = _keyed(
        _records(data, "versions"),
        lambda r: DraftVersion(
            ask=r.ref("ask", asks),
            number=r.integer("number"),
            body=r.text("body"),
            change_note=r.text("change_note"),
            author=r.ref("author", people),
            created_at=r.time("created_at"),
        ),
    )
    comments: dict[str, Comment] = {}
    for r in _records(data, "comments"):
        key = r.text("key")
        if key in comments:
            raise ArchiveError(f"{r.where}.key {key!r} is used twice.")
        state = r.choice("state", CommentState)
        comments[key] = Comment(
            ask=r.ref("ask", asks),
            version=r.ref("version", versions),
            paragraph_anchor=r.text("paragraph_anchor", optional=True),
            quote=r.text("quote", optional=True),
            # A reply comes after the comment it answers.
            parent=r.ref("parent", comments, optional=True),
            author=r.ref("author", people),
            organisation=r.ref("organisation", orgs),
            # A withdrawn comment's text is not archived.
            body=r.text("body", optional=state == CommentState.WITHDRAWN) or "",
            state=state,
            created_at=r.time("created_at"),
            edited_at=r.time("edited_at", optional=True),
            hidden_reason=r.text("hidden_reason", optional=True),
            hidden_at=r.time("hidden_at", optional=True),
            hidden_by=r.ref("hidden_by", people, optional=True),
            resolved_at=r.time("resolved_at", optional=True),
            resolved_by=r.ref("resolved_by", people, optional=True),
            resolution=r.text("resolution", optional=True),
        )
    amendments = _keyed(
        _records(data, "amendments"),
        lambda r: Amendment(
            ask=r.ref("ask", asks),
            version=r.ref("version", versions),
            paragraph_anchor=r.text("paragraph_anchor", optional=True),
            original=r.text("original"),
            wording=r.text("wording"),
            rationale=r.text("rationale"),
            organisation=r.ref("organisation", orgs),
            proposer=r.ref("proposer", people),
            state=r.choice("state", AmendmentState),
            created_at=r.time("created_at"),
            closed_at=r.time("closed_at", optional=True),
            decided_by=r.ref("decided_by", people, optional=True),
            decline_reason=r.text("decline_reason", optional=True),
            accepted_version=r.ref("accepted_version", versions, optional=True),
        ),
    )
    backings = [
        AmendmentBacking(
            amendment=r.ref("amendment", amendments),
            organisation=r.ref("organisation", orgs),
            stance=r.choice("stance", Backing),
            set_by=r.ref("set_by", people),
            set_at=r.time("set_at"),
        )
        for r in _records(data, "backings")
    ]
    # A disposition has no relationship to its ask: its ask_id is set once ids are given.
    disposition_asks: list[tuple[Disposition, Ask]] = []
    for r in _records(data, "dispositions"):
        disposition = Disposition(
            comment=r.ref("comment", comments, optional=True),
            amendment=r.ref("amendment", amendments, optional=True),
            organisation=r.ref("organisation", orgs),
            outcome=r.choice("outcome", Outcome),
            reason=r.text("reason"),
            version=r.ref("version", versions),
            decided_by=r.ref("decided_by", people),
            decided_at=r.time("decided_at"),
        )
        disposition_asks.append((disposition, r.ref("ask", asks)))
    dispositions = [disposition for disposition, _ in disposition_asks]
    positions = [
        Position(
            ask=r.ref("ask", asks),
            version=r.ref("version", versions),
            organisation=r.ref("organisation", orgs),
            stance=r.choice("stance", Stance),
            reason=r.text("reason"),
            set_by=r.ref("set_by", people),
            set_at=r.time("set_at"),
        )
        for r in _records(data, "positions")
    ]
    agreements = []
    for r in _records(data, "agreements"):
        if not isinstance(r.data["tally"], dict):
            raise ArchiveError(f"{r.where}.tally is not a JSON object.")
        agreements.append(
            Agreement(
                ask=r.ref("ask", asks),
                version=r.ref("version", versions),
                agreed_by=r.ref("agreed_by", people),
                agreed_at=r.time("agreed_at"),
                against_rule=r.flag("against_rule"),
                reason=r.text("reason", optional=True),
                tally=r.data["tally"],
                reopened_at=r.time("reopened_at", optional=True),
                reopened_by=r.ref("reopened_by", people, optional=True),
                reopen_reason=r.text("reopen_reason", optional=True),
            )
        )
    endorsements = [
        Endorsement(
            consultation=consultation,
            organisation=r.ref("organisation", orgs),
            decision=r.choice("decision", Decision),
            list_publicly=r.flag("list_publicly"),
            reason=r.text("reason"),
            set_by=r.ref("set_by", people),
            set_at=r.time("set_at"),
        )
        for r in _records(data, "endorsements")
    ]
    backers = [
        Backer(
            consultation=consultation,
            organisation_name=r.text("organisation_name"),
            contact_name=r.text("contact_name"),
            email=f"backer-{n}@{PLACEHOLDER_DOMAIN}",
            website=r.text("website"),
            state=r.choice("state", BackerState),
            token_hash=None,
            token_expires_at=None,
            created_at=r.time("created_at"),
            confirmed_at=r.time("confirmed_at", optional=True),
            decided_at=r.time("decided_at", optional=True),
            decided_by=r.ref("decided_by", people, optional=True),
            reject_reason=r.text("reject_reason", optional=True),
        )
        for n, r in enumerate(_records(data, "backers"), 1)
    ]
    groups: list[list[Any]] = [
        [consultation],
        list(orgs.values()),
        list(people.values()),
        participants,
        list(asks.values()),
        list(versions.values()),
        list(comments.values()),
        list(amendments.values()),
        backings,
        dispositions,
        positions,
        agreements,
        endorsements,
        backers,
    ]
    return groups, disposition_asks


def _reset_sequences(tables: list[str]) -> None:
    """PostgreSQL: the next id of each table after the largest written (SQLite needs
    nothing: it takes the largest id plus one)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        db.session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
        )


def import_archive(data: Any) -> Consultation:
    """Load the archive (parsed JSON) into an empty database, in the current transaction
    (the caller commits). Raises ArchiveError, having written nothing, if the database is
    not empty or the archive is not a valid Consult archive of a version this reads."""
    _check_header(data)
    groups, disposition_asks = _build(data)
    if not database_is_empty():
        raise ArchiveError(
            "The database already has organisations, people or consultations: an archive "
            "is loaded into an empty database only."
        )
    # Ids are given in the archive's order (the database is empty, so they are free): the
    # archive made from the restored rows lists everything in the same order.
    tables = []
    for group in groups:
        for n, row in enumerate(group, 1):
            row.id = n
        if group:
            tables.append(type(group[0]).__tablename__)
    for disposition, ask in disposition_asks:
        disposition.ask_id = ask.id
    with mail.unsent():
        try:
            for group in groups:
                db.session.add_all(group)
            db.session.flush()
            _reset_sequences(tables)
        except DBAPIError as error:
            db.session.rollback()
            raise ArchiveError(f"The archive breaks a rule of the database: {error.orig}") from None
    consultation: Consultation = groups[0][0]
    return consultation
