"""Organisations: create, edit, deactivate and reactivate; the queries behind the admin pages.

Services change state, flush and record the audit event; they never commit. People are
managed through consult.auth.services (invite, resend_invitation, change_role,
set_user_active).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, false, func, select, true, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from consult import audit
from consult.extensions import db
from consult.models import (
    AccountToken,
    AuditEvent,
    EmailState,
    Organisation,
    OrganisationKind,
    OutgoingEmail,
    Role,
    TokenPurpose,
    User,
)
from consult.text import CONTROL_CHARACTERS, control_character_problem
from consult.uktime import london_midnight

ORGANISATION_FIELDS = ("name", "kind", "website", "active")
DUPLICATE_NAME = "An organisation with this name already exists"
NAME_MAX_LENGTH = 200  # Organisation.name
WEBSITE_MAX_LENGTH = 500  # Organisation.website


class AdminError(ValueError):
    """An administrative change that cannot be carried out; the message is for the user.

    `field` names the form field it belongs to, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PersonStatus(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"
    DEACTIVATED = "deactivated"
    ERASED = "erased"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class OrganisationStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# Organisations ----------------------------------------------------------------------------


def plain_text_problem(what: str, value: str) -> str | None:
    """What is wrong with a one-line text (control characters, HTML's angle brackets)."""
    problem = control_character_problem(what, value)
    if problem:
        return problem
    if "<" in value or ">" in value:
        return f"{what} must not include the characters < or >"
    return None


def website_problem(value: str) -> str | None:
    """What is wrong with a website: it must be an absolute http or https address, without
    spaces, quotes or angle brackets."""
    if not value:
        return None
    parts = urlsplit(value)
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or re.search(r"[\s<>\"'`\\]", value)
        or CONTROL_CHARACTERS.search(value)
    ):
        return (
            "Enter a website address starting with https:// or http://, "
            "like https://www.example.org"
        )
    return None


def _checked_details(
    name: str, kind: OrganisationKind | str, website: str | None, *, exclude: Organisation | None
) -> tuple[str, OrganisationKind, str | None]:
    """An organisation's details, tidied, or AdminError naming the field at fault."""
    name = name.strip()
    website = (website or "").strip() or None
    if not name:
        raise AdminError("Enter the organisation's name", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise AdminError(f"Name must be {NAME_MAX_LENGTH} characters or fewer", field="name")
    problem = plain_text_problem("Name", name)
    if problem:
        raise AdminError(problem, field="name")
    try:
        kind = OrganisationKind(kind)
    except ValueError:
        raise AdminError("Select the kind of organisation", field="kind") from None
    problem = website_problem(website or "")
    if website and len(website) > WEBSITE_MAX_LENGTH:
        problem = f"Website must be {WEBSITE_MAX_LENGTH} characters or fewer"
    if problem:
        raise AdminError(problem, field="website")
    if organisation_name_taken(name, exclude=exclude):
        raise AdminError(DUPLICATE_NAME, field="name")
    return name, kind, website


def _save(organisation: Organisation) -> None:
    """Flush an organisation's new details. The unique index on the lower-cased name refuses
    a name taken at the same moment, after organisation_name_taken said it was free (a race):
    that is the same refusal, and the caller rolls back as for any AdminError."""
    db.session.add(organisation)
    try:
        db.session.flush()
    except IntegrityError:
        raise AdminError(DUPLICATE_NAME, field="name") from None


def organisation_name_taken(name: str, *, exclude: Organisation | None = None) -> bool:
    """True if another organisation already has this name, ignoring case and spaces."""
    stmt = select(Organisation.id).where(func.lower(Organisation.name) == name.strip().lower())
    if exclude is not None and exclude.id is not None:
        stmt = stmt.where(Organisation.id != exclude.id)
    return db.session.scalar(stmt.limit(1)) is not None


def create_organisation(
    *, actor: User | None, name: str, kind: OrganisationKind | str, website: str | None = None
) -> Organisation:
    """Add an organisation, refusing a name already taken (ignoring case) and bad details."""
    name, kind, website = _checked_details(name, kind, website, exclude=None)
    organisation = Organisation(name=name, kind=kind, website=website, active=True)
    _save(organisation)
    audit.record(
        actor,
        "organisation.create",
        organisation,
        after=audit.snapshot(organisation, *ORGANISATION_FIELDS),
    )
    return organisation


def update_organisation(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    kind: OrganisationKind | str,
    website: str | None,
) -> bool:
    """Change an organisation's details; returns False (and records nothing) if none changed."""
    name, kind, website = _checked_details(name, kind, website, exclude=organisation)
    wanted: dict[str, str | None] = {"name": name, "kind": kind.value, "website": website}
    current = audit.snapshot(organisation, *wanted)
    changed = [field for field, value in wanted.items() if current[field] != value]
    if not changed:
        return False
    before = {field: current[field] for field in changed}
    organisation.name = name
    organisation.kind = kind
    organisation.website = website
    _save(organisation)
    audit.record(
        actor,
        "organisation.update",
        organisation,
        before=before,
        after=audit.snapshot(organisation, *changed),
    )
    return True


def set_organisation_active(*, actor: User, organisation: Organisation, active: bool) -> int:
    """Deactivate (signing all its people out everywhere) or reactivate an organisation.

    Returns how many people were signed out.
    """
    if not active and actor.organisation_id == organisation.id:
        raise AdminError("You cannot deactivate your own organisation.")
    if organisation.active == active:
        raise AdminError(
            "This organisation is already " + ("active." if active else "deactivated.")
        )
    before = audit.snapshot(organisation, "active")
    organisation.active = active
    signed_out = 0
    if not active:
        people = db.session.scalars(select(User).where(User.organisation_id == organisation.id))
        for person in people:
            person.rotate_session()
            signed_out += 1
    db.session.flush()
    audit.record(
        actor,
        "organisation.reactivate" if active else "organisation.deactivate",
        organisation,
        before=before,
        after=audit.snapshot(organisation, "active"),
    )
    return signed_out


def organisations_statement(status: str | None = None) -> Select:
    """Organisations by name, optionally only the active or the deactivated ones."""
    stmt = select(Organisation).order_by(func.lower(Organisation.name), Organisation.id)
    if status == OrganisationStatus.ACTIVE:
        stmt = stmt.where(Organisation.active == true())
    elif status == OrganisationStatus.DEACTIVATED:
        stmt = stmt.where(Organisation.active == false())
    return stmt


def people_counts(organisation_ids: list[int]) -> dict[int, int]:
    """How many people belong to each of these organisations."""
    if not organisation_ids:
        return {}
    rows = db.session.execute(
        select(User.organisation_id, func.count(User.id))
        .where(User.organisation_id.in_(organisation_ids))
        .group_by(User.organisation_id)
    )
    return {organisation_id: count for organisation_id, count in rows}


def active_people_count(organisation: Organisation) -> int:
    """How many of the organisation's people have an active account (would be signed out)."""
    return (
        db.session.scalar(
            select(func.count(User.id)).where(
                User.organisation_id == organisation.id, User.active == true()
            )
        )
        or 0
    )


def organisation_by_name(name: str) -> Organisation | None:
    """The organisation with this name, ignoring case and surrounding spaces."""
    return db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.strip().lower())
    )


def active_organisations() -> list[Organisation]:
    """Active organisations by name: the ones people may be invited to."""
    return list(db.session.scalars(organisations_statement(OrganisationStatus.ACTIVE)))


def all_organisations() -> list[Organisation]:
    """Every organisation by name."""
    return list(db.session.scalars(organisations_statement()))


# People -----------------------------------------------------------------------------------


def person_status(user: User) -> PersonStatus:
    """Erased, deactivated, invited (has not yet set a password) or active."""
    if user.erased_at is not None:
        return PersonStatus.ERASED
    if not user.active:
        return PersonStatus.DEACTIVATED
    if not user.has_accepted_invitation:
        return PersonStatus.INVITED
    return PersonStatus.ACTIVE


def people_statement(
    *,
    organisation_id: int | None = None,
    role: Role | str | None = None,
    status: PersonStatus | str | None = None,
) -> Select:
    """People by name, filtered by organisation, role and status."""
    stmt = select(User).order_by(func.lower(User.name), User.id)
    if organisation_id is not None:
        stmt = stmt.where(User.organisation_id == organisation_id)
    if role:
        stmt = stmt.where(User.role == Role(role).value)
    if status == PersonStatus.ERASED:
        stmt = stmt.where(User.erased_at.is_not(None))
    elif status == PersonStatus.DEACTIVATED:
        stmt = stmt.where(User.active == false(), User.erased_at.is_(None))
    elif status == PersonStatus.INVITED:
        stmt = stmt.where(User.active == true(), User.password_hash.is_(None))
    elif status == PersonStatus.ACTIVE:
        stmt = stmt.where(User.active == true(), User.password_hash.is_not(None))
    return stmt


def organisation_people(organisation: Organisation) -> list[User]:
    """The organisation's people, by name."""
    return list(db.session.scalars(people_statement(organisation_id=organisation.id)))


def latest_invitation(user: User) -> AccountToken | None:
    """The most recent invitation link issued to this person, used or not."""
    return db.session.scalar(
        select(AccountToken)
        .where(AccountToken.user_id == user.id, AccountToken.purpose == TokenPurpose.INVITATION)
        .order_by(AccountToken.created_at.desc(), AccountToken.id.desc())
        .limit(1)
    )


def invitation_accepted_at(user: User) -> datetime | None:
    """When the person accepted their invitation, from the audit log."""
    return db.session.scalar(
        select(AuditEvent.created_at)
        .where(
            AuditEvent.object_type == User.__tablename__,
            AuditEvent.object_id == user.id,
            AuditEvent.action == "user.accept_invitation",
        )
        .order_by(AuditEvent.created_at.desc())
        .limit(1)
    )


# Audit log --------------------------------------------------------------------------------


def distinct_actions() -> list[str]:
    """Every action that appears in the audit log, sorted."""
    return _distinct(AuditEvent.action)


def distinct_object_types() -> list[str]:
    """Every object type that appears in the audit log, sorted."""
    return _distinct(AuditEvent.object_type)


def _distinct(column: Any) -> list[str]:
    """The values of an indexed, non-null column of the audit log, sorted: found by skipping
    along its index (one lookup per value, each the least value after the one before), not
    by reading the whole log as SELECT DISTINCT does."""
    found = select(func.min(column).label("value")).cte("found", recursive=True)
    following = select(func.min(column)).where(column > found.c.value).scalar_subquery()
    found = found.union_all(select(following).where(found.c.value.is_not(None)))
    return list(
        db.session.scalars(
            select(found.c.value).where(found.c.value.is_not(None)).order_by(found.c.value)
        )
    )


# The comings and goings that the audit log can leave out.
SIGN_IN_ACTIONS = ("user.sign_in", "user.sign_out")


def audit_statement(
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    actor_email: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    hide_sign_ins: bool = False,
) -> Select:
    """Audit events, newest first, filtered; dates are whole UK days, both inclusive;
    without sign-ins and sign-outs if asked."""
    stmt = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    )
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if actor_email:
        # The people first (a small table), so that one person's events are read in order
        # from their index rather than all of them sorted.
        actor_ids = list(
            db.session.scalars(
                select(User.id).where(
                    User.email.contains(actor_email.strip().lower(), autoescape=True)
                )
            )
        )
        stmt = stmt.where(
            AuditEvent.actor_id == actor_ids[0]
            if len(actor_ids) == 1
            else AuditEvent.actor_id.in_(actor_ids)
        )
    if date_from is not None:
        stmt = stmt.where(AuditEvent.created_at >= london_midnight(date_from))
    if date_to is not None:
        stmt = stmt.where(AuditEvent.created_at < london_midnight(date_to + timedelta(days=1)))
    if hide_sign_ins:
        stmt = stmt.where(AuditEvent.action.not_in(SIGN_IN_ACTIONS))
    return stmt


def events_about_or_by(user: User, limit: int = 20) -> list[AuditEvent]:
    """The most recent events about this person or done by them."""
    newest = (AuditEvent.created_at.desc(), AuditEvent.id.desc())
    # The newest `limit` of each kind, each read from its own index in order, then the newest
    # of those: never every event of someone who has done a great deal.
    about = (
        select(AuditEvent.id)
        .where(AuditEvent.object_type == User.__tablename__, AuditEvent.object_id == user.id)
        .order_by(*newest)
        .limit(limit)
        .subquery()
    )
    by = (
        select(AuditEvent.id)
        .where(AuditEvent.actor_id == user.id)
        .order_by(*newest)
        .limit(limit)
        .subquery()
    )
    stmt = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .where(AuditEvent.id.in_(union(select(about.c.id), select(by.c.id))))
        .order_by(*newest)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


# Emails not sent ---------------------------------------------------------------------------

UNSENT_SHOWN = 200


def unsent_emails() -> list[OutgoingEmail]:
    """Emails given up on, and those waiting to be tried again after a failure, oldest
    first (at most UNSENT_SHOWN)."""
    return list(
        db.session.scalars(
            select(OutgoingEmail)
            .where(
                (OutgoingEmail.state == EmailState.FAILED)
                | (
                    OutgoingEmail.state.in_([EmailState.QUEUED, EmailState.SENDING])
                    & (OutgoingEmail.attempts > 0)
                )
            )
            .order_by(OutgoingEmail.created_at, OutgoingEmail.id)
            .limit(UNSENT_SHOWN)
        )
    )
