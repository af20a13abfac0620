"""Who may do what: pure functions used by views (403) and templates (to hide controls).

Each takes the acting user (possibly anonymous) and the object, and returns a bool.
"""

from __future__ import annotations

from typing import Any

from consult.models import Ask, AskState, Consultation, ConsultationState, Role


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


def can_edit_drafts(user: Any) -> bool:
    """Write and publish draft versions, and create or reorder asks."""
    return is_secretariat(user)


def can_publish_version(user: Any, ask: Ask) -> bool:
    """Publish a new version of this ask: the secretariat, until its wording is agreed."""
    return can_edit_drafts(user) and ask.state not in (AskState.AGREED, AskState.PUBLISHED)
