"""The demo: the Blueprint Coalition's manifesto as a first-draft consultation."""

from __future__ import annotations

import tomllib
from datetime import datetime, time, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import func, select

from consult import audit
from consult.auth.services import hash_password
from consult.comments.services import add_comment, resolve_comment
from consult.consultations.services import create_consultation
from consult.extensions import db
from consult.models import (
    Ask,
    AskState,
    Comment,
    DraftVersion,
    Organisation,
    OrganisationKind,
    Role,
    User,
    utcnow,
)
from consult.positions.services import set_position
from consult.text import paragraphs
from consult.uktime import london_to_utc, utc_to_london


def _uk_time(now: datetime, days: int, hour: int) -> datetime:
    """hour:00 UK time, `days` days from now's date, in UTC."""
    return london_to_utc(utc_to_london(now).date() + timedelta(days=days), time(hour))


def demo_data() -> dict[str, Any]:
    """The demo content, read from blueprint.toml beside this module."""
    return tomllib.loads(files(__package__).joinpath("blueprint.toml").read_text("utf-8"))


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Organisation))


def _add_thread(
    ask: Ask, version: DraftVersion, spec: dict[str, Any], by_email: dict[str, User]
) -> Comment:
    """A comment on the ask's current version (a paragraph of it, by number, or the whole
    ask), its replies, and the secretariat's resolution, through the comment services."""
    anchor = None
    if "paragraph" in spec:
        anchor = paragraphs(version.body)[spec["paragraph"] - 1].anchor
    comment, _ = add_comment(
        author=by_email[spec["by"]],
        ask=ask,
        body=spec["body"],
        paragraph_anchor=anchor,
        quote=spec.get("quote"),
    )
    for reply in spec.get("replies", []):
        add_comment(author=by_email[reply["by"]], ask=ask, body=reply["body"], parent=comment)
    if "resolution" in spec:
        resolve_comment(
            actor=by_email[spec["resolved_by"]], comment=comment, response=spec["resolution"]
        )
    return comment


def load_demo(data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add the demo organisations, people, consultation, asks and versions, and the comments
    and positions on each version (made through their services, while that version is the
    current one, so the audit log and live events are as if people had made them); flush,
    not commit."""
    data = data or demo_data()
    password_hash = hash_password(data["password"])
    now = utcnow()
    people: list[User] = []
    for item in data["organisations"]:
        org = Organisation(
            name=item["name"], kind=OrganisationKind(item["kind"]), website=item.get("website")
        )
        db.session.add(org)
        for person in item["people"]:
            user = User(
                email=person["email"].lower(),
                name=person["name"],
                organisation=org,
                role=Role(person["role"]),
                is_delegate=person.get("delegate", False),
                password_hash=password_hash,
            )
            db.session.add(user)
            people.append(user)
    db.session.flush()
    author = next(p for p in people if p.role == Role.SECRETARIAT)
    by_email = {p.email: p for p in people}
    delegates = {p.organisation.name: p for p in reversed(people) if p.is_delegate}

    spec = data["consultation"]
    consultation = create_consultation(
        actor=author,
        title=spec["title"],
        summary=spec["summary"],
        opens_at=_uk_time(now, -spec["opens_days_ago"], hour=9),
        closes_at=_uk_time(now, spec["closes_in_days"], hour=17),
        quorum_percent=spec["quorum_percent"],
        threshold_percent=spec["threshold_percent"],
        objection_blocks=spec["objection_blocks"],
    )
    for order, item in enumerate(data["asks"], start=1):
        ask = Ask(
            consultation=consultation,
            title=item["title"],
            theme=item["theme"],
            sort_order=order,
            state=AskState.IN_REVIEW,
        )
        db.session.add(ask)
        for number, version in enumerate(item["versions"], start=1):
            draft = DraftVersion(
                ask=ask,
                number=number,
                body=version["body"].strip(),
                change_note=version["change_note"],
                author=author,
                created_at=now - timedelta(days=len(item["versions"]) - number + 3),
            )
            db.session.add(draft)
            db.session.flush()
            # While this version is the current one: its comments and positions.
            for spec_comment in version.get("comments", []):
                _add_thread(ask, draft, spec_comment, by_email)
            for spec_position in version.get("positions", []):
                set_position(
                    actor=delegates[spec_position["organisation"]],
                    ask=ask,
                    stance=spec_position["stance"],
                    reason=spec_position.get("reason", ""),
                )
    db.session.flush()
    audit.record(
        None,
        "demo.load",
        consultation,
        after={
            "organisations": len(data["organisations"]),
            "people": len(people),
            "asks": len(data["asks"]),
        },
    )
    return data
