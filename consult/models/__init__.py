"""All models, split by domain; import them from here."""

from consult.models.accounts import (
    AccountToken,
    Organisation,
    OrganisationKind,
    Role,
    TokenPurpose,
    User,
    hash_token,
)
from consult.models.agreements import Agreement
from consult.models.amendments import (
    Amendment,
    AmendmentBacking,
    AmendmentState,
    Backing,
    Disposition,
    Outcome,
)
from consult.models.audit import AuditEvent
from consult.models.base import Base, ImmutableError, utcnow
from consult.models.consultations import (
    Ask,
    AskState,
    Consultation,
    ConsultationState,
    DraftVersion,
    Participant,
    VersionDraft,
)
from consult.models.discussion import Comment, CommentReport, CommentState
from consult.models.live import LiveEvent
from consult.models.notes import OrganisationNote
from consult.models.notifications import (
    Delivery,
    DigestItem,
    EmailState,
    NotificationKind,
    NotificationPreference,
    OutgoingEmail,
)
from consult.models.positions import Position, Reminder, Stance
from consult.models.revision import DataRevision
from consult.models.search import SearchDocument, SearchKind
from consult.models.signoff import Backer, BackerState, Decision, Endorsement
from consult.models.visits import AskVisit

__all__ = [
    "Delivery",
    "DigestItem",
    "EmailState",
    "NotificationKind",
    "NotificationPreference",
    "OutgoingEmail",
    "VersionDraft",
    "Backer",
    "BackerState",
    "Decision",
    "Endorsement",
    "AccountToken",
    "Agreement",
    "Amendment",
    "AmendmentBacking",
    "AmendmentState",
    "Backing",
    "Disposition",
    "Outcome",
    "Ask",
    "AskState",
    "AskVisit",
    "AuditEvent",
    "Base",
    "Comment",
    "CommentReport",
    "CommentState",
    "Consultation",
    "DataRevision",
    "LiveEvent",
    "ConsultationState",
    "DraftVersion",
    "ImmutableError",
    "Organisation",
    "OrganisationNote",
    "OrganisationKind",
    "Participant",
    "Position",
    "Reminder",
    "Role",
    "SearchDocument",
    "SearchKind",
    "Stance",
    "TokenPurpose",
    "User",
    "hash_token",
    "utcnow",
]
