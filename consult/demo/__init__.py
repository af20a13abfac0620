"""The demo: the Blueprint Coalition's manifesto as a first-draft consultation."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from consult import audit
from consult.auth.services import hash_password
from consult.comments.services import add_comment, resolve_comment
from consult.consultations.services import create_consultation
from consult.extensions import db
from consult.models import (
    Ask,
    AskState,
    AuditEvent,
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


def _publication_times(opens_at: datetime, now: datetime, versions: int) -> list[datetime]:
    """When each version was published: the first an hour before the round opened, the
    later ones spread over the time it has been open."""
    open_for = max(now - opens_at, timedelta(0))
    return [opens_at - timedelta(hours=1)] + [
        opens_at + open_for * number / versions for number in range(1, versions)
    ]


def demo_data() -> dict[str, Any]:
    """The demo content, read from blueprint.toml beside this module."""
    return tomllib.loads(files(__package__).joinpath("blueprint.toml").read_text("utf-8"))


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Organisation))


class _Clock:
    """The demo's own time: each thing the demo makes, and the audit event its service
    records, is dated at the next of the times given (the audit log is append-only, so an
    event is dated as it is written, never changed afterwards)."""

    def __init__(self) -> None:
        self.times: Iterator[datetime] = iter(())
        self.now: datetime | None = None

    def tick(self) -> datetime:
        self.now = next(self.times)
        return self.now

    def date_new_events(self, session: Session, *_: Any) -> None:
        if self.now is not None:
            for obj in session.new:
                if isinstance(obj, AuditEvent):
                    obj.created_at = self.now


def _spread(start: datetime, end: datetime, count: int) -> Iterator[datetime]:
    """count times evenly between start and end."""
    step = (end - start) / (count + 1)
    return (start + step * index for index in range(1, count + 1))


def _made_by(version: dict[str, Any]) -> int:
    """How many service calls a version's comments and positions take."""
    threads = version.get("comments", [])
    return (
        len(version.get("positions", []))
        + len(threads)
        + sum(len(t.get("replies", [])) + ("resolution" in t) for t in threads)
    )


def _add_thread(
    ask: Ask,
    version: DraftVersion,
    spec: dict[str, Any],
    by_email: dict[str, User],
    clock: _Clock,
) -> None:
    """A comment on the ask's current version (a paragraph of it, by number, or the whole
    ask), its replies, and the secretariat's resolution, through the comment services."""
    anchor = None
    if "paragraph" in spec:
        anchor = paragraphs(version.body)[spec["paragraph"] - 1].anchor
    clock.tick()
    comment, _ = add_comment(
        author=by_email[spec["by"]],
        ask=ask,
        body=spec["body"],
        paragraph_anchor=anchor,
        quote=spec.get("quote"),
    )
    comment.created_at = clock.now or comment.created_at
    for item in spec.get("replies", []):
        clock.tick()
        reply, _ = add_comment(
            author=by_email[item["by"]], ask=ask, body=item["body"], parent=comment
        )
        reply.created_at = clock.now or reply.created_at
    if "resolution" in spec:
        clock.tick()
        resolve_comment(
            actor=by_email[spec["resolved_by"]], comment=comment, response=spec["resolution"]
        )
        comment.resolved_at = clock.now


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
    opens_at = _uk_time(now, -spec["opens_days_ago"], hour=9)
    consultation = create_consultation(
        actor=author,
        title=spec["title"],
        summary=spec["summary"],
        opens_at=opens_at,
        closes_at=_uk_time(now, spec["closes_in_days"], hour=17),
        quorum_percent=spec["quorum_percent"],
        threshold_percent=spec["threshold_percent"],
        objection_blocks=spec["objection_blocks"],
    )
    clock = _Clock()
    session = db.session()
    event.listen(session, "before_flush", clock.date_new_events)
    try:
        for order, item in enumerate(data["asks"], start=1):
            ask = Ask(
                consultation=consultation,
                title=item["title"],
                theme=item["theme"],
                sort_order=order,
                state=AskState.IN_REVIEW,
            )
            db.session.add(ask)
            published = _publication_times(opens_at, now, len(item["versions"]))
            for number, version in enumerate(item["versions"], start=1):
                draft = DraftVersion(
                    ask=ask,
                    number=number,
                    body=version["body"].strip(),
                    change_note=version["change_note"],
                    author=author,
                    created_at=published[number - 1],
                )
                db.session.add(draft)
                db.session.flush()
                later = published[number] if number < len(published) else now
                # While this version is the current one: its comments and positions.
                clock.times = _spread(max(draft.created_at, opens_at), later, _made_by(version))
                for spec_comment in version.get("comments", []):
                    _add_thread(ask, draft, spec_comment, by_email, clock)
                for spec_position in version.get("positions", []):
                    clock.tick()
                    position = set_position(
                        actor=delegates[spec_position["organisation"]],
                        ask=ask,
                        stance=spec_position["stance"],
                        reason=spec_position.get("reason", ""),
                    )
                    position.set_at = clock.now or position.set_at
                db.session.flush()
                clock.now = None
    finally:
        event.remove(session, "before_flush", clock.date_new_events)
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
