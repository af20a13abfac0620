"""Who may do what: pure functions used by views (403) and templates (to hide controls).

Each takes the acting user (possibly anonymous) and the object, and returns a bool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, true

from consult.models import (
    Amendment,
    AmendmentState,
    Ask,
    AskState,
    Comment,
    CommentState,
    Consultation,
    ConsultationState,
    DraftVersion,
    OrganisationNote,
    Role,
    utcnow,
)


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_secretariat(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.SECRETARIAT


def can_administer(user: Any) -> bool:
    """Manage organisations, people and consultations, and read the audit log."""
    return is_secretariat(user)


def can_erase_person(user: Any, person: Any) -> bool:
    """Erase a person's name and email address (UK GDPR): the secretariat, for anyone but
    themselves, once (the service refuses the rest with a message)."""
    return is_secretariat(user) and person.id != user.id and person.erased_at is None


def can_read_consultation(user: Any, consultation: Consultation) -> bool:
    """The secretariat reads everything; members and observers read consultations that
    have opened; the public reads what the secretariat has published."""
    if is_secretariat(user):
        return True
    state = consultation.state
    if _signed_in(user):
        return state != ConsultationState.UPCOMING
    return state == ConsultationState.PUBLISHED


def can_read_ask(user: Any, ask: Ask) -> bool:
    """Read an ask, its versions and its discussion: whoever may read its consultation, once
    the ask has a published version (the secretariat drafts it unseen until then)."""
    if not can_read_consultation(user, ask.consultation):
        return False
    return is_secretariat(user) or bool(ask.versions)


def can_read_ask_sql(user: Any, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL form of `can_read_ask`, for a statement that joins each ask to its consultation
    (tests/search/test_readable_asks.py proves the two forms agree)."""
    if is_secretariat(user):
        return true()
    now = now or utcnow()
    if _signed_in(user):
        # Not upcoming: published, closed, or opened (it closes after it opens).
        consultation_readable = or_(
            Consultation.published_at.is_not(None),
            Consultation.closed_at.is_not(None),
            Consultation.opens_at <= now,
        )
    else:
        consultation_readable = Consultation.published_at.is_not(None)
    has_version = exists().where(DraftVersion.ask_id == Ask.id)
    return and_(consultation_readable, has_version)


def can_search(user: Any) -> bool:
    """Use the search box (which finds only what the person may read): people signed in. The
    public reads a published manifesto on its own page."""
    return _signed_in(user)


def can_see_participants(user: Any) -> bool:
    """See which organisations take part in a consultation: members and the secretariat."""
    return can_take_part(user)


def can_change_participants(user: Any, consultation: Consultation) -> bool:
    """Choose which organisations take part: the secretariat, until the consultation's
    outcome is published."""
    return is_secretariat(user) and consultation.state != ConsultationState.PUBLISHED


def can_edit_drafts(user: Any) -> bool:
    """Write and publish draft versions, and create or reorder asks."""
    return is_secretariat(user)


def can_add_ask(user: Any, consultation: Consultation) -> bool:
    """Add an ask to a consultation."""
    return can_edit_drafts(user)


def can_edit_ask(user: Any, ask: Ask) -> bool:
    """Change an ask's title and theme, move it, and write its next version."""
    return can_edit_drafts(user)


def can_publish_version(user: Any, ask: Ask) -> bool:
    """Publish a new version of this ask: the secretariat, until its wording is agreed."""
    return can_edit_drafts(user) and ask.state not in (AskState.AGREED, AskState.PUBLISHED)


# Discussion -----------------------------------------------------------------------------------


def can_take_part(user: Any) -> bool:
    """Members and the secretariat take part in discussions; observers and the public only
    read them."""
    return _signed_in(user) and user.role in (Role.MEMBER, Role.SECRETARIAT)


def can_read_comment(user: Any, comment: Comment) -> bool:
    """Open a comment's link: whoever may read its ask (its text is another matter: see
    `consult.comments.rules.can_see_body`)."""
    return can_read_ask(user, comment.ask)


def can_follow_discussion(user: Any, ask: Ask) -> bool:
    """Follow an ask's discussion live (its event stream and changes): people signed in who
    may read the ask."""
    return _signed_in(user) and can_read_ask(user, ask)


def can_comment(user: Any, ask: Ask) -> bool:
    """Comment on, or reply about, an ask's current version while its consultation is open."""
    return (
        can_take_part(user)
        and ask.consultation.state == ConsultationState.OPEN
        and ask.state in (AskState.DRAFTING, AskState.IN_REVIEW)
        and bool(ask.versions)
    )


def can_reply(user: Any, comment: Comment) -> bool:
    """Open the form to reply to a comment: whoever may comment on its ask (a comment that
    can no longer be replied to is refused when the reply is sent)."""
    return can_comment(user, comment.ask)


def can_edit_comment(user: Any, comment: Comment) -> bool:
    """Only the author edits or withdraws their own visible comment, while it is open."""
    return _signed_in(user) and _may_edit_comment(
        user.id, comment, lambda: comment.ask.consultation.state == ConsultationState.OPEN
    )


def _may_edit_comment(
    viewer_id: int | None, comment: Comment, consultation_open: Callable[[], bool]
) -> bool:
    # Whether the consultation is open is asked last (it may load the ask).
    return (
        viewer_id is not None
        and comment.author_id == viewer_id
        and comment.state == CommentState.VISIBLE
        and consultation_open()
    )


def can_moderate(user: Any) -> bool:
    """Hide comments, mark them resolved with a response, and read reports."""
    return is_secretariat(user)


def can_moderate_comment(user: Any, comment: Comment) -> bool:
    """Hide a comment, or mark it resolved."""
    return can_moderate(user)


def can_resolve_comment(user: Any, comment: Comment) -> bool:
    """Mark a comment resolved, with a response: the secretariat, on a visible comment that
    starts a thread (a thread is resolved as a whole, not reply by reply). Resolving one
    already resolved is refused by the service, with a message."""
    return _may_resolve_comment(can_moderate(user), comment)


def _may_resolve_comment(moderates: bool, comment: Comment) -> bool:
    return moderates and comment.parent_id is None and comment.state == CommentState.VISIBLE


def can_report_comment(user: Any, comment: Comment) -> bool:
    """Members report someone else's visible comment to the secretariat (which hides or
    resolves comments itself rather than reporting them to itself)."""
    signed_in = _signed_in(user)
    return _may_report_comment(
        signed_in and user.role == Role.MEMBER, user.id if signed_in else None, comment
    )


def _may_report_comment(is_member: bool, viewer_id: int | None, comment: Comment) -> bool:
    return is_member and comment.author_id != viewer_id and comment.state == CommentState.VISIBLE


def can_read_hidden_comments(user: Any) -> bool:
    """Read the text of every hidden comment (an author reads their own: see
    `consult.comments.rules.can_see_body`)."""
    return is_secretariat(user)


@dataclass(frozen=True)
class CommentRights:
    """What one viewer may do with the comments of one ask, for a page that lists many: the
    viewer's facts are decided once, and each comment's check then compares attributes. The
    rules are the single-comment functions' own (`can_edit_comment`, `can_resolve_comment`,
    `can_report_comment`, `can_record_comment_outcome`, `can_moderate`)."""

    viewer_id: int | None  # None: not signed in
    moderates: bool  # can_moderate
    is_member: bool  # members report others' comments
    records_outcomes: bool  # can_record_disposition on the ask
    consultation_open: bool  # authors edit their comments while it is open

    @classmethod
    def of(cls, user: Any, ask: Ask) -> CommentRights:
        signed_in = _signed_in(user)
        return cls(
            viewer_id=user.id if signed_in else None,
            moderates=can_moderate(user),
            is_member=signed_in and user.role == Role.MEMBER,
            records_outcomes=can_record_disposition(user, ask),
            consultation_open=ask.consultation.state == ConsultationState.OPEN,
        )

    def can_edit(self, comment: Comment) -> bool:
        """`can_edit_comment`, for a comment on this ask."""
        return _may_edit_comment(self.viewer_id, comment, self._open)

    def _open(self) -> bool:
        return self.consultation_open

    def can_resolve(self, comment: Comment) -> bool:
        """`can_resolve_comment`."""
        return _may_resolve_comment(self.moderates, comment)

    def can_report(self, comment: Comment) -> bool:
        """`can_report_comment`."""
        return _may_report_comment(self.is_member, self.viewer_id, comment)

    def can_record_outcome(self, comment: Comment) -> bool:
        """`can_record_comment_outcome`, for a comment on this ask."""
        return _may_record_comment_outcome(self.records_outcomes, comment)


# Positions ------------------------------------------------------------------------------------


def can_be_delegate(user: Any) -> bool:
    """Whether this person could be named one of their organisation's delegates: members
    only (the database refuses anyone else). Also who is shown their organisation's
    delegates."""
    return getattr(user, "role", None) == Role.MEMBER


def _member_taking_part(user: Any, consultation: Consultation) -> bool:
    """An active member of an active organisation taking part in the consultation."""
    if not (_signed_in(user) and user.role == Role.MEMBER):
        return False
    if not (user.active and user.organisation.active):
        return False
    return any(p.organisation_id == user.organisation_id for p in consultation.participants)


def _speaks_for_organisation(user: Any, ask: Ask) -> bool:
    """An active member of an active organisation taking part in the ask's consultation,
    while it is open and the ask, which has a version, is in drafting or in review."""
    consultation = ask.consultation
    return (
        consultation.state == ConsultationState.OPEN
        and ask.state in (AskState.DRAFTING, AskState.IN_REVIEW)
        and bool(ask.versions)
        and _member_taking_part(user, consultation)
    )


def can_set_position(user: Any, ask: Ask) -> bool:
    """Set one's organisation's position on the ask's current version: a delegate, active
    and of an active organisation taking part in the consultation, while the consultation is
    open and the ask, which has a version, is in drafting or in review."""
    return _speaks_for_organisation(user, ask) and bool(user.is_delegate)


def can_see_positions(user: Any, ask: Ask) -> bool:
    """See the organisations' positions on an ask and who set them: whoever may read it."""
    return can_read_ask(user, ask)


# Organisations' own notes ---------------------------------------------------------------------


def can_read_notes(user: Any, ask: Ask) -> bool:
    """Read one's organisation's own notes on an ask (and only its own): active members of an
    active organisation taking part, on an ask they may read. Nobody else: not other
    organisations, not observers, and not the secretariat, although it reads almost
    everything else (hidden comments, the report, the archive). The notes are where an
    organisation agrees its line before its delegate acts, as it would by email."""
    return _member_taking_part(user, ask.consultation) and can_read_ask(user, ask)


def can_write_note(user: Any, ask: Ask) -> bool:
    """Write a note or a reply in one's organisation's notes on an ask: whoever may read them,
    while the ask is open for its consultation (as for comments); reading stays open."""
    return can_read_notes(user, ask) and _speaks_for_organisation(user, ask)


def can_read_note(user: Any, note: OrganisationNote) -> bool:
    """Open one note (to reply to it, say): a member of the note's own organisation who may
    read its notes on the ask."""
    return (
        _signed_in(user)
        and note.organisation_id == user.organisation_id
        and can_read_notes(user, note.ask)
    )


def can_reply_to_note(user: Any, note: OrganisationNote) -> bool:
    """Reply to a note of one's organisation that is not deleted, while notes can be
    written."""
    return can_read_note(user, note) and not note.is_deleted and can_write_note(user, note.ask)


def can_edit_note(user: Any, note: OrganisationNote) -> bool:
    """Change or delete one's own note, while notes can be written."""
    return can_reply_to_note(user, note) and note.author_id == user.id


def can_propose_from_note(user: Any, note: OrganisationNote) -> bool:
    """Propose a note as the organisation's position ("propose this as our position"): any
    member who may reply to it (the delegate still chooses and sets the position)."""
    return can_reply_to_note(user, note)


# Amendments and dispositions ------------------------------------------------------------------


def can_propose_amendment(user: Any, ask: Ask) -> bool:
    """Propose new wording for the ask's current version: any member of an organisation
    taking part, while the consultation is open (the secretariat writes versions itself)."""
    return _speaks_for_organisation(user, ask)


def can_read_amendment(user: Any, amendment: Amendment) -> bool:
    """Read an amendment, its backing and what became of it: whoever may read its ask."""
    return can_read_ask(user, amendment.ask)


def can_back_amendment(user: Any, amendment: Amendment) -> bool:
    """Back or oppose an open amendment for one's organisation: a delegate of another
    organisation taking part (the proposer's own organisation is behind it already)."""
    return (
        amendment.is_open
        and _speaks_for_organisation(user, amendment.ask)
        and bool(user.is_delegate)
        and user.organisation_id != amendment.organisation_id
    )


def can_withdraw_amendment(user: Any, amendment: Amendment) -> bool:
    """Withdraw an open amendment: the person who proposed it, while the consultation is
    open."""
    return (
        _signed_in(user)
        and amendment.proposer_id == user.id
        and amendment.is_open
        and amendment.ask.consultation.state == ConsultationState.OPEN
    )


def can_decline_amendment(user: Any, amendment: Amendment) -> bool:
    """Decline an open amendment, with a reason: the secretariat."""
    return is_secretariat(user) and amendment.is_open


def can_accept_amendments(user: Any, ask: Ask) -> bool:
    """Accept open amendments into the ask's next version: whoever may publish it."""
    return can_publish_version(user, ask)


def can_record_disposition(user: Any, ask: Ask) -> bool:
    """Record the outcome of a comment or an amendment ("you said, we did"): the
    secretariat."""
    return is_secretariat(user)


def can_record_comment_outcome(user: Any, comment: Comment) -> bool:
    """Record or change the outcome of a thread's first comment that its author has not
    withdrawn (replies belong to their thread's answer): whoever records dispositions."""
    return _may_record_comment_outcome(can_record_disposition(user, comment.ask), comment)


def _may_record_comment_outcome(records: bool, comment: Comment) -> bool:
    return records and comment.parent_id is None and comment.state != CommentState.WITHDRAWN


def can_record_amendment_outcome(user: Any, amendment: Amendment) -> bool:
    """Record or change the outcome of an amendment that its proposer has not withdrawn
    (accepting or declining one records it too): whoever records dispositions."""
    return (
        can_record_disposition(user, amendment.ask) and amendment.state != AmendmentState.WITHDRAWN
    )


# Agreement ------------------------------------------------------------------------------------


def can_declare_agreed(user: Any, ask: Ask) -> bool:
    """Declare the current version of an ask agreed: the secretariat, while the ask, which
    has a version, is in review and the consultation's outcome is not published."""
    return (
        is_secretariat(user)
        and ask.state in (AskState.DRAFTING, AskState.IN_REVIEW)
        and bool(ask.versions)
        and ask.consultation.state != ConsultationState.PUBLISHED
    )


def can_reopen(user: Any, ask: Ask) -> bool:
    """Reopen an agreed ask (a new version can then follow): the secretariat, until sign-off
    of the manifesto opens (what organisations endorse must not change) and the
    consultation's outcome is published."""
    return (
        is_secretariat(user)
        and ask.state == AskState.AGREED
        and ask.consultation.state != ConsultationState.PUBLISHED
        and ask.consultation.signoff_opened_at is None
    )


def can_read_manifesto(user: Any, consultation: Consultation) -> bool:
    """Read the manifesto a consultation's asks make up: signed-in people who may read the
    consultation."""
    return _signed_in(user) and can_read_consultation(user, consultation)


# Exports --------------------------------------------------------------------------------------


def can_download_agreed_text(user: Any, consultation: Consultation) -> bool:
    """Download the agreed text (Markdown, HTML, Word, PDF): the secretariat at any time,
    everyone, without signing in, once the consultation is published."""
    return is_secretariat(user) or consultation.state == ConsultationState.PUBLISHED


# Sign-off -------------------------------------------------------------------------------------


def can_open_signoff(user: Any, consultation: Consultation) -> bool:
    """Open sign-off of the agreed manifesto: the secretariat, once, before the outcome is
    published (the service checks that every ask is agreed, and says what is missing)."""
    return (
        is_secretariat(user)
        and consultation.signoff_opened_at is None
        and consultation.state != ConsultationState.PUBLISHED
    )


def can_close_signoff(user: Any, consultation: Consultation) -> bool:
    """Close sign-off: the secretariat, while it is open."""
    return (
        is_secretariat(user)
        and consultation.signoff_opened_at is not None
        and consultation.signoff_closed_at is None
        and consultation.state != ConsultationState.PUBLISHED
    )


def may_speak_in_signoff(user: Any, consultation: Consultation) -> bool:
    """A delegate, active, of an active organisation taking part in the consultation: who
    endorses (or declines) the manifesto for their organisation while sign-off is open."""
    if not (_signed_in(user) and user.role == Role.MEMBER and user.is_delegate):
        return False
    if not (user.active and user.organisation.active):
        return False
    return any(p.organisation_id == user.organisation_id for p in consultation.participants)


def can_endorse(user: Any, consultation: Consultation) -> bool:
    """Endorse the agreed manifesto for one's organisation, or decline with a reason: a
    delegate of an organisation taking part, while sign-off is open and the outcome is not
    published."""
    return (
        may_speak_in_signoff(user, consultation)
        and consultation.signoff_opened_at is not None
        and consultation.signoff_closed_at is None
        and consultation.state != ConsultationState.PUBLISHED
    )


def can_see_signoff(user: Any, consultation: Consultation) -> bool:
    """See where sign-off stands and who has endorsed: signed-in people who may read the
    consultation."""
    return _signed_in(user) and can_read_consultation(user, consultation)


# Reports --------------------------------------------------------------------------------------


def can_download_report(user: Any, consultation: Consultation) -> bool:
    """Download the consultation report (every comment, hidden and withdrawn ones included,
    amendment, position and disposition): the secretariat."""
    return is_secretariat(user)


# Archive --------------------------------------------------------------------------------------


def can_download_archive(user: Any, consultation: Consultation) -> bool:
    """Download the consultation's JSON archive (every comment, hidden ones included, every
    position, amendment and decision, by name): the secretariat only, before and after
    publication."""
    return is_secretariat(user)


# Publication ----------------------------------------------------------------------------------


def can_publish_manifesto(user: Any, consultation: Consultation) -> bool:
    """Publish a consultation's agreed manifesto on its public page: the secretariat (the
    service refuses, saying why, until every ask is agreed and sign-off has closed)."""
    return is_secretariat(user)


def can_read_public_manifesto(user: Any, consultation: Consultation) -> bool:
    """Read a manifesto's public page and back it: anyone, signed in or not, once it is
    published."""
    return consultation.published_at is not None


def can_manage_backers(user: Any, consultation: Consultation) -> bool:
    """See a manifesto's backers with their contact details, approve or reject them and
    export them: the secretariat."""
    return is_secretariat(user)
