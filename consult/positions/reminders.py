"""Reminders before a consultation closes: email the delegates of organisations that have not
set a position on the current version of every ask (`flask consult send-reminders`, from cron).

Each reminder sent is recorded (one row per version, organisation and person), so running it
again sends nothing new; a new version of an ask makes the organisation due again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.audit import record
from consult.extensions import db
from consult.filters import format_datetime
from consult.models import (
    Ask,
    Consultation,
    DraftVersion,
    Organisation,
    Participant,
    Position,
    Reminder,
    User,
)
from consult.notifications import services as notifications

KIND = "position-missing"


@dataclass
class ReminderRun:
    """What one run did: how many emails it queued, and the organisations it could not
    remind because none of their people is an active delegate (by consultation title)."""

    sent: int = 0
    without_delegate: list[tuple[str, str]] = field(default_factory=list)


class _Run:
    """The audit log's object for a whole run, which has no row of its own."""

    __tablename__ = "reminder"
    id = None


def _closing_soon(now: datetime, days_before: float) -> list[Consultation]:
    candidates = db.session.scalars(
        select(Consultation)
        .options(
            selectinload(Consultation.asks).selectinload(Ask.versions),
            selectinload(Consultation.participants).selectinload(Participant.organisation),
        )
        .where(
            Consultation.closed_at.is_(None),
            Consultation.published_at.is_(None),
            Consultation.opens_at <= now,
            Consultation.closes_at > now,
            Consultation.closes_at <= now + timedelta(days=days_before),
        )
        .order_by(Consultation.closes_at, Consultation.id)
    )
    return list(candidates)


def _active_delegates(organisation: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.organisation_id == organisation.id,
                User.is_delegate.is_(True),
                User.active.is_(True),
            )
            .order_by(User.name, User.id)
        )
    )


def send_reminders(*, now: datetime, days_before: float) -> ReminderRun:
    """Queue one email per delegate whose organisation has not answered, in consultations
    closing within days_before days of now; record each and audit the run (caller commits)."""
    run = ReminderRun()
    for consultation in _closing_soon(now, days_before):
        sent_before = {
            tuple(row)
            for row in db.session.execute(
                select(Reminder.version_id, Reminder.organisation_id, Reminder.user_id).where(
                    Reminder.consultation_id == consultation.id, Reminder.kind == KIND
                )
            )
        }
        current: list[tuple[Ask, DraftVersion]] = [
            (ask, ask.versions[-1]) for ask in consultation.asks if ask.versions
        ]
        if not current:
            continue
        answered = {
            (row.version_id, row.organisation_id)
            for row in db.session.execute(
                select(Position.version_id, Position.organisation_id).where(
                    Position.version_id.in_([v.id for _, v in current])
                )
            )
        }
        organisations = sorted(
            (p.organisation for p in consultation.participants if p.organisation.active),
            key=lambda org: org.name.lower(),
        )
        for organisation in organisations:
            missing = [(a, v) for a, v in current if (v.id, organisation.id) not in answered]
            if not missing:
                continue
            delegates = _active_delegates(organisation)
            if not delegates:
                run.without_delegate.append((consultation.title, organisation.name))
                continue
            due_by_person: dict[int, list[tuple[Ask, DraftVersion]]] = defaultdict(list)
            for person in delegates:
                for ask, version in missing:
                    if (version.id, organisation.id, person.id) not in sent_before:
                        due_by_person[person.id].append((ask, version))
            for person in delegates:
                due = due_by_person.get(person.id)
                if not due:
                    continue
                for _, version in due:
                    db.session.add(
                        Reminder(
                            consultation_id=consultation.id,
                            version_id=version.id,
                            organisation_id=organisation.id,
                            user_id=person.id,
                            kind=KIND,
                            sent_at=now,
                        )
                    )
                # Every ask not yet answered, including any already reminded about.
                notifications.remind(
                    person=person,
                    consultation=consultation,
                    asks=[ask for ask, _ in missing],
                    closes=format_datetime(consultation.closes_at),
                )
                run.sent += 1
    db.session.flush()
    record(
        None,
        "reminders.send",
        _Run(),
        after={
            "days_before": days_before,
            "emails": run.sent,
            "organisations_without_delegate": [name for _, name in run.without_delegate],
        },
    )
    return run
