"""The demo: the Blueprint Coalition's manifesto as a first-draft consultation."""

from __future__ import annotations

import tomllib
from datetime import datetime, time, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import func, select

from consult import audit
from consult.auth.services import hash_password
from consult.consultations.services import create_consultation
from consult.extensions import db
from consult.models import (
    Ask,
    AskState,
    DraftVersion,
    Organisation,
    OrganisationKind,
    Role,
    User,
    utcnow,
)
from consult.uktime import london_to_utc, utc_to_london


def _uk_time(now: datetime, days: int, hour: int) -> datetime:
    """hour:00 UK time, `days` days from now's date, in UTC."""
    return london_to_utc(utc_to_london(now).date() + timedelta(days=days), time(hour))


def demo_data() -> dict[str, Any]:
    """The demo content, read from blueprint.toml beside this module."""
    return tomllib.loads(files(__package__).joinpath("blueprint.toml").read_text("utf-8"))


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Organisation))


def load_demo(data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add the demo organisations, people, consultation, asks and versions; flush, not commit."""
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
            db.session.add(
                DraftVersion(
                    ask=ask,
                    number=number,
                    body=version["body"].strip(),
                    change_note=version["change_note"],
                    author=author,
                    created_at=now - timedelta(days=len(item["versions"]) - number + 3),
                )
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
