"""Telling people what happened: at once by email, in a daily digest, or not at all.

The services that change things call the functions here (reply_posted, comment_hidden, ...)
inside their own transaction: an email is queued, or an item kept for the digest, only if
the change commits. Nobody is told of their own action. Each person chooses per kind of
notification (NotificationKind) on their account page; no row means the kind's default.

"The asks a person follows" (followers()): the asks they commented on (a comment or a reply,
in any state) or proposed an amendment to. Delegates hear of new versions through the
reconfirm notice instead, and of closing consultations through the reminders.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, union, update

from consult.extensions import db
from consult.mail import absolute_url, queue_message
from consult.models import (
    Amendment,
    Ask,
    Comment,
    CommentReport,
    Delivery,
    DigestItem,
    Disposition,
    DraftVersion,
    NotificationKind,
    NotificationPreference,
    User,
    utcnow,
)

DEFAULTS: dict[NotificationKind, Delivery] = {
    NotificationKind.REPLY: Delivery.IMMEDIATELY,
    NotificationKind.HIDDEN: Delivery.IMMEDIATELY,
    NotificationKind.RESOLVED: Delivery.IMMEDIATELY,
    NotificationKind.OUTCOME: Delivery.IMMEDIATELY,
    NotificationKind.NEW_VERSION: Delivery.DIGEST,
    NotificationKind.RECONFIRM: Delivery.IMMEDIATELY,
    NotificationKind.REMINDER: Delivery.IMMEDIATELY,
    NotificationKind.REPORT_OUTCOME: Delivery.IMMEDIATELY,
}

# The unsubscribe link of a digest stops every kind the person gets in their digest.
DIGEST = "digest"
_SALT = "consult.notifications.unsubscribe"


# Preferences -------------------------------------------------------------------------------


def preferences(person: User) -> dict[NotificationKind, Delivery]:
    """How this person wants to hear of each kind (their choice, or the default)."""
    chosen = deliveries([person.id], None)
    return {kind: chosen.get((person.id, kind), DEFAULTS[kind]) for kind in NotificationKind}


def deliveries(
    user_ids: Iterable[int], kind: NotificationKind | None
) -> dict[tuple[int, NotificationKind], Delivery]:
    """The choices these people made (of this kind, or of every kind), in one query."""
    ids = list(user_ids)
    if not ids:
        return {}
    stmt = select(NotificationPreference).where(NotificationPreference.user_id.in_(ids))
    if kind is not None:
        stmt = stmt.where(NotificationPreference.kind == kind)
    return {(p.user_id, p.kind): p.delivery for p in db.session.scalars(stmt)}


def set_preferences(*, person: User, choices: dict[NotificationKind, Delivery]) -> bool:
    """Save the person's choices; returns whether any changed."""
    rows = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == person.id)
        )
    }
    current = preferences(person)
    changed = False
    for kind, delivery in choices.items():
        if current[kind] == delivery:
            continue
        changed = True
        if kind in rows:
            rows[kind].delivery = delivery
        else:
            db.session.add(NotificationPreference(user_id=person.id, kind=kind, delivery=delivery))
    db.session.flush()
    return changed


# One-click unsubscribe ---------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def unsubscribe_token(person: User, kind: NotificationKind | str) -> str:
    """A signed token naming this person and this kind (or DIGEST)."""
    return _serializer().dumps([person.id, str(kind)])


@dataclass(frozen=True)
class Unsubscription:
    person: User
    kinds: list[NotificationKind]
    digest: bool

    @property
    def label(self) -> str:
        if self.digest:
            return "your daily digest"
        return self.kinds[0].label.lower() if self.kinds else ""


def read_unsubscribe_token(token: str) -> Unsubscription | None:
    """What a token unsubscribes from, or None when it is not one of ours (or its person is
    gone)."""
    try:
        person_id, kind = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(person_id, int):
        return None
    person = db.session.get(User, person_id)
    if person is None:
        return None
    if kind == DIGEST:
        chosen = preferences(person)
        kinds = [k for k in NotificationKind if chosen[k] == Delivery.DIGEST]
        return Unsubscription(person, kinds, digest=True)
    try:
        return Unsubscription(person, [NotificationKind(kind)], digest=False)
    except ValueError:
        return None


def unsubscribe(unsubscription: Unsubscription) -> None:
    """Stop the emails the link was for (without signing in: the signed token says who)."""
    set_preferences(
        person=unsubscription.person,
        choices=dict.fromkeys(unsubscription.kinds, Delivery.NEVER),
    )


# Telling people ----------------------------------------------------------------------------


def _may_be_told(person: User) -> bool:
    return person.active and person.organisation.active and person.has_accepted_invitation


def _tell(
    people: Sequence[User],
    kind: NotificationKind,
    *,
    actor: User | None,
    template: str,
    subject: str,
    link: str,
    ask: Ask | None,
    summary: str,
    **context: Any,
) -> None:
    """Queue an email to each person who wants this at once, keep a digest item for each
    who wants it daily; nobody is told of their own action."""
    seen: set[int] = set()
    recipients = []
    for person in people:
        if person.id in seen or (actor is not None and person.id == actor.id):
            continue
        seen.add(person.id)
        if _may_be_told(person):
            recipients.append(person)
    chosen = deliveries([p.id for p in recipients], kind)
    account = absolute_url("auth.account")
    for person in recipients:
        delivery = chosen.get((person.id, kind), DEFAULTS[kind])
        if delivery == Delivery.NEVER:
            continue
        if delivery == Delivery.DIGEST:
            db.session.add(
                DigestItem(
                    user_id=person.id,
                    kind=kind,
                    ask_id=ask.id if ask is not None else None,
                    summary=summary[:500],
                    link=link,
                )
            )
            continue
        queue_message(
            to=person.email,
            template=template,
            subject=subject,
            unsubscribe_url=absolute_url(
                "notifications.unsubscribe", token=unsubscribe_token(person, kind)
            ),
            kind_label=kind.label.lower(),
            account_url=account,
            person=person,
            link=link,
            ask=ask,
            **context,
        )


def _comment_link(comment: Comment) -> str:
    return absolute_url("comments.show", comment_id=comment.id)


def reply_posted(*, reply: Comment) -> None:
    """Tell a comment's author of a reply to it."""
    parent = reply.parent
    assert parent is not None
    _tell(
        [parent.author],
        NotificationKind.REPLY,
        actor=reply.author,
        template="reply",
        subject=f"{reply.author.name} replied to your comment on “{reply.ask.title}”",
        link=_comment_link(reply),
        ask=reply.ask,
        summary=f"{reply.author.name} replied to your comment",
        reply=reply,
    )


def comment_hidden(*, actor: User, comment: Comment) -> None:
    """Tell the author their comment was hidden and why, and everyone who reported it the
    outcome (the one place a hidden comment is announced)."""
    ask = comment.ask
    _tell(
        [comment.author],
        NotificationKind.HIDDEN,
        actor=actor,
        template="hidden",
        subject=f"Your comment on “{ask.title}” has been hidden",
        link=_comment_link(comment),
        ask=ask,
        summary="The secretariat hid your comment",
        comment=comment,
    )
    reporters = list(
        db.session.scalars(
            select(User)
            .join(CommentReport, CommentReport.reporter_id == User.id)
            .where(CommentReport.comment_id == comment.id, User.id != comment.author_id)
            .order_by(CommentReport.id)
        )
    )
    _tell(
        reporters,
        NotificationKind.REPORT_OUTCOME,
        actor=actor,
        template="report_outcome",
        subject=f"A comment you reported on “{ask.title}” has been hidden",
        link=_comment_link(comment),
        ask=ask,
        summary="A comment you reported was hidden",
        comment=comment,
    )


def comment_resolved(*, actor: User, comment: Comment) -> None:
    """Tell a comment's author it was marked as resolved, with the response."""
    _tell(
        [comment.author],
        NotificationKind.RESOLVED,
        actor=actor,
        template="resolved",
        subject=f"Your comment on “{comment.ask.title}” has been resolved",
        link=_comment_link(comment),
        ask=comment.ask,
        summary="The secretariat resolved your comment",
        comment=comment,
    )


def outcome_recorded(*, actor: User, disposition: Disposition) -> None:
    """Tell the author of a comment, or the proposer of an amendment, the secretariat's
    outcome for it."""
    comment: Comment | None = (
        db.session.get(Comment, disposition.comment_id) if disposition.comment_id else None
    )
    amendment: Amendment | None = (
        db.session.get(Amendment, disposition.amendment_id) if disposition.amendment_id else None
    )
    if comment is not None:
        person, what, link = comment.author, "comment", _comment_link(comment)
    else:
        assert amendment is not None
        person, what = amendment.proposer, "amendment"
        link = absolute_url("amendments.show", amendment_id=amendment.id)
    ask = db.session.get(Ask, disposition.ask_id)
    assert ask is not None
    _tell(
        [person],
        NotificationKind.OUTCOME,
        actor=actor,
        template="outcome",
        subject=f"An outcome for your {what} on “{ask.title}”: {disposition.outcome.label}",
        link=link,
        ask=ask,
        summary=f"Outcome for your {what}: {disposition.outcome.label}",
        disposition=disposition,
        what=what,
    )


def followers(ask: Ask) -> list[User]:
    """The people who follow the ask: who commented on it or proposed an amendment to it."""
    ids = union(
        select(Comment.author_id).where(Comment.ask_id == ask.id),
        select(Amendment.proposer_id).where(Amendment.ask_id == ask.id),
    ).subquery()
    return list(
        db.session.scalars(select(User).where(User.id.in_(select(ids.c[0]))).order_by(User.id))
    )


def version_published(
    *, actor: User, ask: Ask, version: DraftVersion, delegates: Sequence[User]
) -> None:
    """Tell the delegates of the organisations taking part to reconfirm their position, and
    everyone else who follows the ask that a new version is out."""
    compare = absolute_url(
        "asks.compare", ask_id=ask.id, **{"from": version.number - 1, "to": version.number}
    )
    position = absolute_url("positions.edit", ask_id=ask.id)
    for person in delegates:
        _tell(
            [person],
            NotificationKind.RECONFIRM,
            actor=actor,
            template="reconfirm",
            subject=f"New wording of “{ask.title}” ({version.label}): reconfirm your position",
            link=position,
            ask=ask,
            summary=f"{version.label} published: reconfirm your organisation’s position",
            version=version,
            compare=compare,
            organisation=person.organisation,
        )
    told = {person.id for person in delegates}
    _tell(
        [person for person in followers(ask) if person.id not in told],
        NotificationKind.NEW_VERSION,
        actor=actor,
        template="new_version",
        subject=f"New wording of “{ask.title}” ({version.label})",
        link=compare,
        ask=ask,
        summary=f"{version.label} published",
        version=version,
    )


def remind(*, person: User, consultation: Any, asks: Sequence[Ask], closes: str) -> None:
    """Remind a delegate, before the consultation closes, of the asks their organisation has
    not yet given its position on."""
    links = [(ask, absolute_url("asks.show", ask_id=ask.id)) for ask in asks]
    count = "1 ask" if len(asks) == 1 else f"{len(asks)} asks"
    _tell(
        [person],
        NotificationKind.REMINDER,
        actor=None,
        template="reminder",
        subject=f"Reminder: give your organisation's position on {consultation.title}",
        link=absolute_url("consultations.show", consultation_id=consultation.id),
        ask=asks[0] if len(asks) == 1 else None,
        summary=f"{consultation.title} closes on {closes}: no position yet on {count}",
        consultation=consultation,
        asks=links,
        closes=closes,
    )


# The daily digest --------------------------------------------------------------------------


@dataclass
class DigestGroup:
    title: str
    link: str | None
    items: list[DigestItem] = field(default_factory=list)


@dataclass
class DigestRun:
    emails: int = 0
    items: int = 0


def send_digests(*, now: datetime | None = None) -> DigestRun:
    """One email per person with everything waiting for their digest, grouped by ask; each
    item is claimed (digested_at set) in the transaction that queues the email, so running
    this twice, even at once, sends nothing twice (the caller commits)."""
    now = now or utcnow()
    run = DigestRun()
    waiting = list(
        db.session.scalars(
            select(DigestItem)
            .where(DigestItem.digested_at.is_(None))
            .order_by(DigestItem.user_id, DigestItem.id)
        )
    )
    by_person: dict[int, list[DigestItem]] = defaultdict(list)
    for item in waiting:
        by_person[item.user_id].append(item)
    people = {
        person.id: person
        for person in db.session.scalars(select(User).where(User.id.in_(list(by_person))))
    }
    asks = {
        ask.id: ask
        for ask in db.session.scalars(
            select(Ask).where(Ask.id.in_({i.ask_id for i in waiting if i.ask_id is not None}))
        )
    }
    for user_id, items in by_person.items():
        claimed = set(
            db.session.scalars(
                update(DigestItem)
                .where(DigestItem.id.in_([i.id for i in items]), DigestItem.digested_at.is_(None))
                .values(digested_at=now)
                .returning(DigestItem.id)
                .execution_options(synchronize_session=False)
            )
        )
        items = [item for item in items if item.id in claimed]  # another run sends the rest
        if not items:
            continue
        person = people[user_id]
        if not _may_be_told(person):
            continue
        groups: dict[int | None, DigestGroup] = {}
        for item in items:
            if item.ask_id not in groups:
                ask = asks.get(item.ask_id) if item.ask_id is not None else None
                groups[item.ask_id] = DigestGroup(
                    title=ask.title if ask is not None else "Other news",
                    link=absolute_url("asks.show", ask_id=ask.id) if ask is not None else None,
                )
            groups[item.ask_id].items.append(item)
        ordered = sorted(groups.values(), key=lambda g: (g.link is None, g.title.lower()))
        count = len(items)
        queue_message(
            to=person.email,
            template="digest",
            subject=f"Your daily digest: {count} new {'thing' if count == 1 else 'things'}",
            unsubscribe_url=absolute_url(
                "notifications.unsubscribe", token=unsubscribe_token(person, DIGEST)
            ),
            kind_label="your daily digest",
            account_url=absolute_url("auth.account"),
            person=person,
            groups=ordered,
        )
        run.emails += 1
        run.items += count
    db.session.flush()
    return run
