"""Asks and their draft versions: creating, editing and ordering asks, publishing wording.

Services change state, flush and record the audit event; they never commit.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consult import audit
from consult.auth.services import organisation_delegates
from consult.extensions import db
from consult.live.services import announce
from consult.models import Ask, AskState, Consultation, DraftVersion, User, VersionDraft, utcnow
from consult.notifications import services as notifications
from consult.upserts import lock_ask

ASK_FIELDS = ("consultation_id", "title", "theme", "sort_order")
LOCKED_STATES = {AskState.AGREED: "agreed", AskState.PUBLISHED: "published"}


class AskError(ValueError):
    """A change to an ask that cannot be made; the message is for the user."""


class VersionConflict(AskError):
    """Someone else published a version since the writer's (or at the same moment)."""

    def __init__(
        self,
        message: str = (
            "Someone else published a version at the same time. "
            "Check the latest version and try again."
        ),
    ) -> None:
        super().__init__(message)


def normalise_wording(body: str) -> str:
    """Wording as stored: Unix line ends, no trailing spaces on lines, no blank edges."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def create_ask(*, actor: User, consultation: Consultation, title: str, theme: str = "") -> Ask:
    """Add an ask at the end of the consultation's list."""
    last = db.session.scalar(
        select(func.max(Ask.sort_order)).where(Ask.consultation_id == consultation.id)
    )
    ask = Ask(
        consultation=consultation,
        title=title.strip(),
        theme=theme.strip(),
        sort_order=(last or 0) + 1,
        state=AskState.DRAFTING,
    )
    db.session.add(ask)
    db.session.flush()
    audit.record(actor, "ask.create", ask, after=audit.snapshot(ask, *ASK_FIELDS))
    return ask


def update_ask(*, actor: User, ask: Ask, title: str, theme: str = "") -> bool:
    """Change an ask's title and theme; True if anything changed."""
    before = audit.snapshot(ask, "title", "theme")
    ask.title = title.strip()
    ask.theme = theme.strip()
    after = audit.snapshot(ask, "title", "theme")
    if after == before:
        return False
    db.session.flush()
    audit.record(actor, "ask.update", ask, before=before, after=after)
    return True


def move_ask(*, actor: User, ask: Ask, direction: str) -> bool:
    """Swap the ask with its neighbour above ("up") or below ("down"); False at the edge.

    Sort orders are renumbered 1..n in the current order first, so asks that share a
    place (or have gaps) still move exactly one place.
    """
    if direction not in ("up", "down"):
        raise AskError("Choose whether to move the ask up or down.")
    siblings = list(
        db.session.scalars(
            select(Ask)
            .where(Ask.consultation_id == ask.consultation_id)
            .order_by(Ask.sort_order, Ask.id)
        )
    )
    index = siblings.index(ask)
    other = index - 1 if direction == "up" else index + 1
    if other < 0 or other >= len(siblings):
        return False
    neighbour = siblings[other]
    before = {
        "sort_order": ask.sort_order,
        "neighbour_id": neighbour.id,
        "neighbour_sort_order": neighbour.sort_order,
    }
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for number, sibling in enumerate(siblings, start=1):
        if sibling.sort_order != number:
            sibling.sort_order = number
    db.session.flush()
    audit.record(
        actor,
        "ask.move",
        ask,
        before=before,
        after={
            "sort_order": ask.sort_order,
            "neighbour_id": neighbour.id,
            "neighbour_sort_order": neighbour.sort_order,
            "direction": direction,
        },
    )
    return True


def latest_number(ask: Ask) -> int:
    """The number of the ask's latest version in the database (0 if none)."""
    return (
        db.session.scalar(
            select(func.coalesce(func.max(DraftVersion.number), 0)).where(
                DraftVersion.ask_id == ask.id
            )
        )
        or 0
    )


def check_can_publish(ask: Ask) -> None:
    """Refuse a new version once the ask's wording is agreed or published."""
    if ask.state in LOCKED_STATES:
        raise AskError(
            f"The wording of this ask has been {LOCKED_STATES[ask.state]}, "
            "so you cannot publish a new version."
        )


def publish_version(
    *, actor: User, ask: Ask, body: str, change_note: str, based_on: int | None = None
) -> DraftVersion:
    """Publish wording as the ask's next version (v1 moves the ask into review).

    based_on is the number of the latest version the writer saw (0 for none; None not to
    check): if another has been published since, VersionConflict. The number is the latest
    plus one; if another request takes the same number first, the unique constraint on
    (ask_id, number) refuses it, and that is a VersionConflict too (the caller rolls back).
    """
    # Under the ask's lock, so declaring the wording agreed cannot interleave with this.
    lock_ask(ask.id)
    db.session.refresh(ask, ["state"])
    number = latest_number(ask)
    if based_on is not None and based_on != number:
        raise VersionConflict()
    check_can_publish(ask)
    body = normalise_wording(body)
    if not body.strip():
        raise AskError("Enter the wording")
    if number:
        current = db.session.scalar(
            select(DraftVersion).where(DraftVersion.ask_id == ask.id, DraftVersion.number == number)
        )
        if current is not None and normalise_wording(current.body) == body:
            raise AskError(
                f"This wording is the same as {current.label}. "
                "Change the wording before publishing a new version."
            )
    version = DraftVersion(
        ask_id=ask.id,
        number=number + 1,
        body=body,
        change_note=change_note.strip(),
        author_id=actor.id,
    )
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        raise VersionConflict() from None
    before = audit.snapshot(ask, "state")
    if ask.state == AskState.DRAFTING:
        ask.state = AskState.IN_REVIEW
        db.session.flush()
    # Let ask.versions / ask.current_version see the new version.
    db.session.expire(ask, ["versions"])
    audit.record(
        actor,
        "version.publish",
        version,
        before={"number": number or None, **before},
        after={
            "number": version.number,
            "change_note": version.change_note,
            "ask_id": ask.id,
            **audit.snapshot(ask, "state"),
        },
    )
    announce(ask_id=ask.id, name="version-published", object_id=version.id)
    if version.number > 1:
        _tell_delegates(actor, ask, version)
    return version


def _tell_delegates(actor: User, ask: Ask, version: DraftVersion) -> None:
    """Tell the delegates of every organisation taking part that a new version is out: its
    positions start afresh, so each organisation reconfirms or changes its own. Everyone else
    following the ask hears of the new version too (consult.notifications). Sent after
    commit, never for a version that was not saved."""
    delegates = [
        person
        for participant in ask.consultation.participants
        if participant.organisation.active
        for person in organisation_delegates(participant.organisation)
    ]
    notifications.version_published(actor=actor, ask=ask, version=version, delegates=delegates)


# Drafts: the secretariat's unpublished wording for the next version -------------------------


def draft_of(ask: Ask) -> VersionDraft | None:
    """The ask's saved, unpublished draft, if any."""
    return db.session.scalar(select(VersionDraft).where(VersionDraft.ask_id == ask.id))


def save_draft(
    *, actor: User, ask: Ask, body: str, change_note: str, based_on: int | None
) -> VersionDraft:
    """Save (or save again) the wording of the ask's next version without publishing it.
    Members never see it. based_on is the version the writer started from."""
    check_can_publish(ask)
    body = normalise_wording(body)
    if not body.strip():
        raise AskError("Enter the wording")
    draft = draft_of(ask)
    before = None if draft is None else {"body": draft.body, "change_note": draft.change_note}
    values = {
        "body": body,
        "change_note": change_note.strip(),
        "based_on": based_on if based_on is not None else latest_number(ask),
        "author_id": actor.id,
        "saved_at": utcnow(),
    }
    if draft is None:
        draft = VersionDraft(ask_id=ask.id, **values)
        db.session.add(draft)
    else:
        for name, value in values.items():
            setattr(draft, name, value)
    db.session.flush()
    audit.record(
        actor,
        "draft.save",
        ask,
        before=before,
        after={"body": draft.body, "change_note": draft.change_note, "based_on": draft.based_on},
    )
    return draft


def discard_draft(*, actor: User, ask: Ask, published: DraftVersion | None = None) -> bool:
    """Delete the ask's draft: discarded, or published as `published`. False if none."""
    draft = draft_of(ask)
    if draft is None:
        return False
    before = {"body": draft.body, "change_note": draft.change_note, "based_on": draft.based_on}
    db.session.delete(draft)
    db.session.flush()
    if published is None:
        audit.record(actor, "draft.discard", ask, before=before)
    return True
