"""Who may do what: pure functions used by views (403) and templates (to hide controls).

Each takes the acting user (possibly anonymous) and the object, and returns a bool.
"""

from __future__ import annotations

from typing import Any

from consult.models import (
    Ask,
    AskState,
    Comment,
    CommentState,
    Consultation,
    ConsultationState,
    Role,
)


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_secretariat(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.SECRETARIAT


def can_administer(user: Any) -> bool:
    """Manage organisations, people and consultations, and read the audit log."""
    return is_secretariat(user)


def can_read_consultation(user: Any, consultation: Consultation) -> bool:
    """The secretariat reads everything; members and observers read consultations that
    have opened; the public reads what the secretariat has published."""
    if is_secretariat(user):
        return True
    state = consultation.state
    if _signed_in(user):
        return state != ConsultationState.UPCOMING
    return state == ConsultationState.PUBLISHED


def can_see_participants(user: Any) -> bool:
    """See which organisations take part in a consultation: members and the secretariat."""
    return _takes_part(user)


def can_change_participants(user: Any, consultation: Consultation) -> bool:
    """Choose which organisations take part: the secretariat, until the consultation's
    outcome is published."""
    return is_secretariat(user) and consultation.state != ConsultationState.PUBLISHED


def can_edit_drafts(user: Any) -> bool:
    """Write and publish draft versions, and create or reorder asks."""
    return is_secretariat(user)


def can_publish_version(user: Any, ask: Ask) -> bool:
    """Publish a new version of this ask: the secretariat, until its wording is agreed."""
    return can_edit_drafts(user) and ask.state not in (AskState.AGREED, AskState.PUBLISHED)


# Discussion -----------------------------------------------------------------------------------


def _takes_part(user: Any) -> bool:
    """Members and the secretariat take part; observers and the public only read."""
    return _signed_in(user) and user.role in (Role.MEMBER, Role.SECRETARIAT)


def can_comment(user: Any, ask: Ask) -> bool:
    """Comment on, or reply about, an ask's current version while its consultation is open."""
    return (
        _takes_part(user)
        and ask.consultation.state == ConsultationState.OPEN
        and ask.state in (AskState.DRAFTING, AskState.IN_REVIEW)
        and bool(ask.versions)
    )


def can_edit_comment(user: Any, comment: Comment) -> bool:
    """Only the author edits or withdraws their own visible comment, while it is open."""
    return (
        _signed_in(user)
        and comment.author_id == user.id
        and comment.state == CommentState.VISIBLE
        and comment.ask.consultation.state == ConsultationState.OPEN
    )


def can_moderate(user: Any) -> bool:
    """Hide comments, mark them resolved with a response, and read reports."""
    return is_secretariat(user)


def can_report_comment(user: Any, comment: Comment) -> bool:
    """Members report someone else's visible comment to the secretariat (which hides or
    resolves comments itself rather than reporting them to itself)."""
    return (
        _signed_in(user)
        and user.role == Role.MEMBER
        and comment.author_id != user.id
        and comment.state == CommentState.VISIBLE
    )


def can_see_comment_body(user: Any, comment: Comment) -> bool:
    """A hidden comment's text is for its author (who is told why) and the secretariat;
    a withdrawn one's for nobody (a tombstone keeps the thread's shape)."""
    if comment.state == CommentState.VISIBLE:
        return True
    if comment.state == CommentState.HIDDEN:
        return is_secretariat(user) or (_signed_in(user) and comment.author_id == user.id)
    return False
