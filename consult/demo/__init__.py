"""The demo: the Blueprint Coalition's manifesto as a first-draft consultation, beside an
earlier round (its call to action) that is agreed, signed off, published and backed."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from importlib.resources import files
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from consult import audit
from consult.agreements.services import declare_agreed
from consult.amendments.services import (
    WHOLE_TEXT,
    accept,
    decline,
    disposition_of,
    propose,
    record_disposition,
    set_backing,
)
from consult.asks.services import create_ask, publish_version
from consult.auth.services import hash_password
from consult.comments.services import add_comment, resolve_comment
from consult.consultations.services import create_consultation
from consult.extensions import db
from consult.mail import unsent
from consult.models import (
    Amendment,
    Ask,
    Backer,
    Comment,
    Consultation,
    DraftVersion,
    Organisation,
    OrganisationKind,
    OrganisationNote,
    Role,
    User,
    utcnow,
)
from consult.notes.services import add_note
from consult.notes.services import propose as propose_note
from consult.positions.services import set_position
from consult.publication.services import (
    Offer,
    approve_backer,
    confirm_backer,
    offer_backing,
    publish,
    token_lifetime,
)
from consult.signoff.services import close_signoff, open_signoff, set_endorsement
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


# The times that audit events record of a consultation's sign-off and publication.
_RECORDED_TIMES = ("signoff_opened_at", "signoff_closed_at", "published_at")


class _Clock:
    """The demo's own time: each step the demo takes is dated at the time it is given, and
    so are the audit event its service records (with the sign-off and publication times it
    records) and any version it publishes (both are append-only, so they are dated as they
    are written, never changed afterwards)."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def date_new_versions(self, session: Session, *_: Any) -> None:
        if self.now is not None:
            for obj in session.new:
                if isinstance(obj, DraftVersion):
                    obj.created_at = self.now

    def date_event(self, row: dict[str, Any]) -> None:
        """An audit event's row, as audit.restamped() gives it, before it is written."""
        if self.now is None:
            return
        row["created_at"] = self.now
        if row["after"]:
            row["after"] = {
                key: self.now.isoformat() if key in _RECORDED_TIMES and value else value
                for key, value in row["after"].items()
            }

    def run(self, steps: list[Step], start: datetime, end: datetime) -> None:
        """Take the steps in order, at times spread evenly between start and end, each
        written (flushed) before the next, so that a version it publishes has its time."""
        for when, step in zip(_spread(start, end, len(steps)), steps, strict=True):
            self.at(when, step)

    def at(self, when: datetime, step: Step) -> None:
        self.now = when
        step(when)
        db.session.flush()


# One thing a person does in the demo, through its service, at the time given.
Step = Callable[[datetime], None]


def _spread(start: datetime, end: datetime, count: int) -> Iterator[datetime]:
    """count times evenly between start and end."""
    step = (end - start) / (count + 1)
    return (start + step * index for index in range(1, count + 1))


def _anchor(ask: Ask, number: int) -> str:
    """The anchor of paragraph `number` (from 1) of the ask's current version."""
    current = ask.current_version
    assert current is not None
    return paragraphs(current.body)[number - 1].anchor


def _thread(
    ask: Ask, spec: dict[str, Any], by_email: dict[str, User], secretariat: User
) -> tuple[list[Step], list[Step]]:
    """A comment on the ask's current version (a paragraph of it, by number, or the whole
    ask) and its replies; then the secretariat's answers to it: its resolution and its
    outcome (disposition), through the comment and disposition services."""
    made: dict[str, Comment] = {}

    def comment(when: datetime) -> None:
        anchor = _anchor(ask, spec["paragraph"]) if "paragraph" in spec else None
        made["comment"], _ = add_comment(
            author=by_email[spec["by"]],
            ask=ask,
            body=spec["body"],
            paragraph_anchor=anchor,
            quote=spec.get("quote"),
        )
        made["comment"].created_at = when

    def reply(item: dict[str, Any]) -> Step:
        def step(when: datetime) -> None:
            answer, _ = add_comment(
                author=by_email[item["by"]], ask=ask, body=item["body"], parent=made["comment"]
            )
            answer.created_at = when

        return step

    def resolve(when: datetime) -> None:
        resolve_comment(
            actor=by_email[spec["resolved_by"]],
            comment=made["comment"],
            response=spec["resolution"],
        )
        made["comment"].resolved_at = when

    def outcome(when: datetime) -> None:
        disposition = record_disposition(
            actor=by_email.get(spec.get("resolved_by", ""), secretariat),
            comment=made["comment"],
            outcome=spec["outcome"],
            reason=spec["outcome_reason"],
        )
        disposition.decided_at = when

    steps: list[Step] = [comment] + [reply(item) for item in spec.get("replies", [])]
    answers: list[Step] = [resolve] if "resolution" in spec else []
    if "outcome" in spec:
        answers.append(outcome)
    return steps, answers


def _position(ask: Ask, spec: dict[str, Any], delegates: dict[str, User]) -> Step:
    """An organisation's position on the ask's current version, set by its delegate."""

    def step(when: datetime) -> None:
        position = set_position(
            actor=delegates[spec["organisation"]],
            ask=ask,
            stance=spec["stance"],
            reason=spec.get("reason", ""),
        )
        position.set_at = when

    return step


def _note(ask: Ask, spec: dict[str, Any], by_email: dict[str, User]) -> list[Step]:
    """A note of one organisation on the ask (its members' private space), its replies, and
    a member proposing it as the organisation's position, through the notes services."""
    made: dict[str, OrganisationNote] = {}

    def note(when: datetime) -> None:
        made["note"] = add_note(author=by_email[spec["by"]], ask=ask, body=spec["body"])
        made["note"].created_at = when

    def reply(item: dict[str, Any]) -> Step:
        def step(when: datetime) -> None:
            add_note(
                author=by_email[item["by"]], ask=ask, body=item["body"], parent=made["note"]
            ).created_at = when

        return step

    def proposal(when: datetime) -> None:
        propose_note(actor=by_email[spec["proposed_by"]], note=made["note"], stance=spec["propose"])
        made["note"].proposed_at = when

    steps: list[Step] = [note] + [reply(item) for item in spec.get("replies", [])]
    return steps + ([proposal] if "propose" in spec else [])


def _amendment(
    ask: Ask,
    spec: dict[str, Any],
    by_email: dict[str, User],
    delegates: dict[str, User],
    secretariat: User,
    accepted: list[Amendment],
) -> list[Step]:
    """An amendment to the ask's current version (a paragraph of it, by number, or the
    whole text), other organisations' delegates backing or opposing it, and the
    secretariat declining it; one to be accepted is added to `accepted`, for the next
    version."""
    made: dict[str, Amendment] = {}

    def proposal(when: datetime) -> None:
        made["amendment"], _ = propose(
            actor=by_email[spec["by"]],
            ask=ask,
            paragraph=_anchor(ask, spec["paragraph"]) if "paragraph" in spec else WHOLE_TEXT,
            wording=spec["wording"].strip(),
            rationale=spec["rationale"].strip(),
        )
        made["amendment"].created_at = when
        if spec.get("accepted"):
            accepted.append(made["amendment"])

    def backing(item: dict[str, Any]) -> Step:
        def step(when: datetime) -> None:
            set_backing(
                actor=delegates[item["organisation"]],
                amendment=made["amendment"],
                stance=item["stance"],
            ).set_at = when

        return step

    def refusal(when: datetime) -> None:
        decline(
            actor=by_email.get(spec.get("decided_by", ""), secretariat),
            amendment=made["amendment"],
            reason=spec["declined"],
        )
        _closed(made["amendment"], when)

    steps: list[Step] = [proposal] + [backing(item) for item in spec.get("backing", [])]
    return steps + ([refusal] if "declined" in spec else [])


def _closed(amendment: Amendment, when: datetime) -> None:
    """Date an amendment's closing, and the disposition that closing recorded."""
    amendment.closed_at = when
    disposition = disposition_of(amendment=amendment)
    assert disposition is not None
    disposition.decided_at = when


def _publish(
    ask: Ask, number: int, spec: dict[str, Any], accepted: list[Amendment], secretariat: User
) -> Step:
    """The secretariat publishes the ask's next version: its wording as written, or (when
    amendments to the version before were accepted) with their wording in place."""
    if bool(accepted) == ("body" in spec):
        raise ValueError(
            f"{ask.title}, v{number}: a version has its own body unless it is made by "
            "accepting amendments to the version before, and then it has none"
        )

    def step(when: datetime) -> None:
        if accepted:
            version = accept(
                actor=secretariat, ask=ask, amendments=accepted, change_note=spec["change_note"]
            )
            for amendment in accepted:
                _closed(amendment, when)
        else:
            version = publish_version(
                actor=secretariat, ask=ask, body=spec["body"], change_note=spec["change_note"]
            )
        assert version.created_at == when  # dated as it was written

    return step


def load_demo(data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Add the demo organisations, people, consultation, asks and versions, and the comments,
    positions and amendments on each version (made through their services, while that
    version is the current one, so the audit log and live events are as if people had made
    them; the emails they would send are not sent); flush, not commit."""
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
    secretariat = next(p for p in people if p.role == Role.SECRETARIAT)
    by_email = {p.email: p for p in people}
    delegates = {p.organisation.name: p for p in reversed(people) if p.is_delegate}

    spec = data["consultation"]
    opens_at = _uk_time(now, -spec["opens_days_ago"], hour=9)
    clock = _Clock()
    session = db.session()
    event.listen(session, "before_flush", clock.date_new_versions)
    try:
        with unsent(), audit.restamped(clock.date_event):
            if "earlier" in data:
                _load_earlier(data["earlier"], now, clock, by_email, delegates)
            made: dict[str, Consultation] = {}

            def consultation_step(when: datetime) -> None:
                made["consultation"] = create_consultation(
                    actor=secretariat,
                    title=spec["title"],
                    summary=spec["summary"],
                    opens_at=opens_at,
                    closes_at=_uk_time(now, spec["closes_in_days"], hour=17),
                    quorum_percent=spec["quorum_percent"],
                    threshold_percent=spec["threshold_percent"],
                    objection_blocks=spec["objection_blocks"],
                )
                made["consultation"].created_at = when

            clock.at(opens_at - timedelta(hours=2), consultation_step)
            consultation = made["consultation"]
            for item in data["asks"]:
                _load_ask(item, consultation, opens_at, now, clock, by_email, delegates)
    finally:
        event.remove(session, "before_flush", clock.date_new_versions)
        clock.now = None
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


def _load_earlier(
    spec: dict[str, Any],
    now: datetime,
    clock: _Clock,
    by_email: dict[str, User],
    delegates: dict[str, User],
) -> Consultation:
    """The earlier round: its asks, versions, positions and amendments while it was open;
    then, once it had closed, every ask declared agreed, sign-off opened, answered and
    closed, the manifesto published, and outside organisations offering to back it."""
    secretariat = next(p for p in by_email.values() if p.role == Role.SECRETARIAT)
    opens_at = _uk_time(now, -spec["opens_days_ago"], hour=9)
    closes_at = _uk_time(now, -spec["closes_days_ago"], hour=17)
    made: dict[str, Any] = {}

    def creation(when: datetime) -> None:
        made["consultation"] = create_consultation(
            actor=secretariat,
            title=spec["title"],
            summary=spec["summary"],
            opens_at=opens_at,
            closes_at=closes_at,
            quorum_percent=spec["quorum_percent"],
            threshold_percent=spec["threshold_percent"],
            objection_blocks=spec["objection_blocks"],
        )
        made["consultation"].created_at = when

    clock.at(opens_at - timedelta(hours=2), creation)
    consultation: Consultation = made["consultation"]
    # The services let people take part only while a round is open by the real clock, and
    # this one closed months ago: while the demo's clock is inside the round, its closing
    # time is held in the future (not a change anyone made, so not audited), then put back.
    consultation.closes_at = utcnow() + timedelta(days=1)
    try:
        for item in spec["asks"]:
            _load_ask(item, consultation, opens_at, closes_at, clock, by_email, delegates)
    finally:
        consultation.closes_at = closes_at
        db.session.flush()

    asks = list(consultation.asks)
    specs = {item["title"]: item for item in spec["asks"]}

    def agreement(ask: Ask) -> Step:
        def step(when: datetime) -> None:
            current = ask.current_version
            assert current is not None
            declare_agreed(
                actor=secretariat,
                ask=ask,
                reason=specs[ask.title].get("against_rule", "").strip(),
                based_on=current.number,
            ).agreed_at = when

        return step

    def opening(when: datetime) -> None:
        open_signoff(actor=secretariat, consultation=consultation)
        consultation.signoff_opened_at = when

    def endorsement(item: dict[str, Any]) -> Step:
        def step(when: datetime) -> None:
            set_endorsement(
                actor=delegates[item["organisation"]],
                consultation=consultation,
                decision=item["decision"],
                list_publicly=item.get("list_publicly", False),
                reason=item.get("reason", "").strip(),
            ).set_at = when

        return step

    def closing(when: datetime) -> None:
        close_signoff(actor=secretariat, consultation=consultation)
        consultation.signoff_closed_at = when

    def publication(when: datetime) -> None:
        publish(actor=secretariat, consultation=consultation)
        consultation.published_at = when

    after_closing = utc_to_london(closes_at).date()
    day = timedelta(days=1)
    clock.run(
        [agreement(ask) for ask in asks],
        london_to_utc(after_closing + day, time(10)),
        london_to_utc(after_closing + day, time(12)),
    )
    signoff_opens = london_to_utc(after_closing + 3 * day, time(9))
    signoff_closes = london_to_utc(after_closing + 17 * day, time(17))
    clock.at(signoff_opens, opening)
    clock.run([endorsement(item) for item in spec["endorsements"]], signoff_opens, signoff_closes)
    clock.at(signoff_closes, closing)
    published_at = london_to_utc(after_closing + 21 * day, time(10))
    clock.at(published_at, publication)
    # Each offer of support comes some weeks after the one before; its link is used within
    # hours, and the secretariat approves it a day or two later.
    offers = _spread(published_at + day, now - 3 * day, len(spec["backers"]))
    for offered, item in zip(offers, spec["backers"], strict=True):
        start = london_to_utc(utc_to_london(offered).date(), time(10))
        for delay, step in zip((0, 3, 30), _backer(consultation, item, secretariat), strict=False):
            clock.at(start + timedelta(hours=delay), step)
    return consultation


def _backer(consultation: Consultation, spec: dict[str, Any], secretariat: User) -> list[Step]:
    """An outside organisation offering to back the published manifesto; then, unless it is
    to stay unconfirmed, confirming by its emailed link, and the secretariat approving it
    unless it is to wait for approval."""
    made: dict[str, Backer] = {}

    def offer(when: datetime) -> None:
        offer_backing(
            consultation=consultation,
            offer=Offer(
                organisation_name=spec["organisation_name"],
                contact_name=spec["contact_name"],
                email=spec["email"],
                website=spec["website"],
            ),
        )
        db.session.flush()
        backer = consultation_backer(consultation, spec["email"])
        backer.created_at = when
        backer.token_expires_at = when + token_lifetime()
        made["backer"] = backer

    def confirmation(when: datetime) -> None:
        confirm_backer(backer=made["backer"])
        made["backer"].confirmed_at = when

    def approval(when: datetime) -> None:
        approve_backer(actor=secretariat, backer=made["backer"])
        made["backer"].decided_at = when

    steps: list[Step] = [offer]
    if spec["state"] != "unconfirmed":
        steps.append(confirmation)
    if spec["state"] == "approved":
        steps.append(approval)
    return steps


def consultation_backer(consultation: Consultation, email: str) -> Backer:
    """The consultation's backer with this email address."""
    backer = db.session.scalar(
        select(Backer).where(
            Backer.consultation_id == consultation.id, Backer.email == email.lower()
        )
    )
    assert backer is not None
    return backer


def _load_ask(
    item: dict[str, Any],
    consultation: Consultation,
    opens_at: datetime,
    now: datetime,
    clock: _Clock,
    by_email: dict[str, User],
    delegates: dict[str, User],
) -> None:
    """An ask and its versions; while each is the current one, the secretariat's answers to
    the threads on the version before, then its own threads, positions and amendments."""
    secretariat = next(p for p in by_email.values() if p.role == Role.SECRETARIAT)
    published = _publication_times(opens_at, now, len(item["versions"]))
    made: dict[str, Ask] = {}

    def creation(when: datetime) -> None:
        made["ask"] = create_ask(
            actor=secretariat, consultation=consultation, title=item["title"], theme=item["theme"]
        )
        made["ask"].created_at = when

    clock.at(published[0], creation)
    ask = made["ask"]
    answers: list[Step] = []
    accepted: list[Amendment] = []
    for number, version in enumerate(item["versions"], start=1):
        clock.at(published[number - 1], _publish(ask, number, version, accepted, secretariat))
        accepted = []
        steps, answers = answers, []
        last = number == len(item["versions"])
        for thread in version.get("comments", []):
            made_thread, thread_answers = _thread(ask, thread, by_email, secretariat)
            steps += made_thread
            # A thread on a version that has a successor is answered once it is out.
            (steps if last else answers).extend(thread_answers)
        steps += [_position(ask, p, delegates) for p in version.get("positions", [])]
        for amendment in version.get("amendments", []):
            steps += _amendment(ask, amendment, by_email, delegates, secretariat, accepted)
        for note in version.get("notes", []):
            steps += _note(ask, note, by_email)
        later = now if last else published[number]
        clock.run(steps, max(published[number - 1], opens_at), later)
