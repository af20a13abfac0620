"""Comments: posting, replying, editing, withdrawing, hiding, resolving and reporting.

Each service changes state, flushes, records the audit event and announces the change to
open ask pages (published after commit); none commits.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from consult import audit
from consult.extensions import db
from consult.live.services import announce
from consult.models import Ask, Comment, CommentReport, CommentState, User, utcnow
from consult.notifications import services as notifications
from consult.text import COMMENT_RENDERER_VERSION, Paragraph, paragraphs, quote_in, says_nothing

BODY_MAX = 5000
QUOTE_MAX = 300
REASON_MAX = 500
RENDER_BATCH = 500


STALE_PARAGRAPH = (
    "That paragraph has changed in a newer version of the ask. Reload the page "
    "to comment on the latest wording."
)


class CommentError(ValueError):
    """A comment request that cannot be carried out; the message is for the user, and
    `field` names the form field it belongs to."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def current_paragraph(ask: Ask, anchor: str | None) -> Paragraph | None:
    """A paragraph of the ask's current version, by its anchor."""
    current = ask.current_version
    if not anchor or current is None:
        return None
    return next((p for p in paragraphs(current.body) if p.anchor == anchor), None)


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if says_nothing(body):
        raise CommentError("Enter your comment", field="body")
    if len(body) > BODY_MAX:
        raise CommentError(f"Comment must be {BODY_MAX:,} characters or fewer", field="body")
    return body


def add_comment(
    *,
    author: User,
    ask: Ask,
    body: str,
    paragraph_anchor: str | None = None,
    quote: str | None = None,
    parent: Comment | None = None,
    submission_key: str | None = None,
) -> tuple[Comment, bool]:
    """Comment on the ask's current version (or reply to a comment); returns the comment and
    whether it is new. The same submission key from the same person returns the first one,
    even where the form would no longer be accepted (its paragraph has changed since).

    The key's unique index is what finds a form sent again (twice at once, or resent later):
    the usual post spends no statement looking for an earlier one."""
    try:
        comment = _new_comment(author, ask, body, paragraph_anchor, quote, parent)
        comment.submission_key = submission_key or None
        with db.session.begin_nested():
            db.session.add(comment)
            db.session.flush()
    except (CommentError, IntegrityError):
        # Refused, or the key is taken: the same form sent before made this comment, if any.
        sent = _sent_before(author, submission_key)
        if sent is None:
            raise
        return sent, False
    audit.record(
        author,
        "comment.reply" if parent else "comment.create",
        comment,
        after=audit.snapshot(
            comment, "version_id", "paragraph_anchor", "quote", "parent_id", "body"
        ),
    )
    announce(ask_id=ask.id, name="comment-added", object_id=comment.id)
    if parent is not None:
        notifications.reply_posted(reply=comment)
    return comment, True


def _sent_before(author: User, submission_key: str | None) -> Comment | None:
    """The comment this person made with this form before, if any."""
    if not submission_key:
        return None
    return db.session.scalar(
        select(Comment).where(
            Comment.author_id == author.id, Comment.submission_key == submission_key
        )
    )


def _new_comment(
    author: User,
    ask: Ask,
    body: str,
    paragraph_anchor: str | None,
    quote: str | None,
    parent: Comment | None,
) -> Comment:
    """The comment asked for, checked (CommentError says what is wrong) and not yet added."""
    body = _clean_body(body)
    if parent is not None:
        if parent.ask_id != ask.id:
            raise CommentError("You can only reply to a comment on this ask", field="body")
        if parent.state != CommentState.VISIBLE:
            raise CommentError("This comment can no longer be replied to", field="body")
        version, paragraph_anchor, quote = parent.version, parent.paragraph_anchor, None
    else:
        current = ask.current_version
        if current is None:
            raise CommentError("There is no draft to comment on yet", field="body")
        version = current
        quote = (quote or "").strip() or None
        if paragraph_anchor:
            paragraph = current_paragraph(ask, paragraph_anchor)
            if paragraph is None:
                raise CommentError(STALE_PARAGRAPH, field="body")
            if quote is not None:
                if len(quote) > QUOTE_MAX:
                    raise CommentError(
                        f"The quoted phrase must be {QUOTE_MAX} characters or fewer",
                        field="quote",
                    )
                if not quote_in(quote, paragraph):
                    raise CommentError(
                        "The quoted phrase must be words from the paragraph", field="quote"
                    )
        else:
            paragraph_anchor = None
            if quote is not None:
                raise CommentError("Choose a paragraph to quote from", field="quote")
    return Comment(
        ask_id=ask.id,
        version=version,
        paragraph_anchor=paragraph_anchor,
        quote=quote,
        parent=parent,
        author=author,
        organisation_id=author.organisation_id,
        body=body,
    )


def edit_comment(*, actor: User, comment: Comment, body: str) -> bool:
    """The author changes their comment's text; returns whether anything changed."""
    body = _clean_body(body)
    if body == comment.body:
        return False
    before = audit.snapshot(comment, "body")
    comment.body = body
    comment.edited_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "comment.edit", comment, before=before, after=audit.snapshot(comment, "body")
    )
    announce(ask_id=comment.ask_id, name="comment-updated", object_id=comment.id)
    return True


def withdraw_comment(*, actor: User, comment: Comment) -> None:
    """The author withdraws their comment; replies to it stay, under a tombstone."""
    before = audit.snapshot(comment, "state", "body")
    comment.state = CommentState.WITHDRAWN
    db.session.flush()
    audit.record(
        actor, "comment.withdraw", comment, before=before, after=audit.snapshot(comment, "state")
    )
    announce(ask_id=comment.ask_id, name="comment-updated", object_id=comment.id)


def hide_comment(*, actor: User, comment: Comment, reason: str) -> None:
    """The secretariat hides a comment, with a reason its author is shown."""
    reason = (reason or "").strip()
    if not reason:
        raise CommentError("Enter the reason for hiding the comment", field="reason")
    if len(reason) > REASON_MAX:
        raise CommentError(f"Reason must be {REASON_MAX} characters or fewer", field="reason")
    if comment.state != CommentState.VISIBLE:
        raise CommentError("Only a visible comment can be hidden", field="reason")
    before = audit.snapshot(comment, "state")
    comment.state = CommentState.HIDDEN
    comment.hidden_reason = reason
    comment.hidden_at = utcnow()
    comment.hidden_by = actor
    handled = _handle_open_reports(comment)
    db.session.flush()
    audit.record(
        actor,
        "comment.hide",
        comment,
        before=before,
        after={
            **audit.snapshot(comment, "state", "hidden_reason"),
            "reports_handled": len(handled),
        },
    )
    announce(ask_id=comment.ask_id, name="comment-updated", object_id=comment.id)
    # The author, and everyone who reported it, are told (the one place this is called).
    notifications.comment_hidden(actor=actor, comment=comment)


def _handle_open_reports(comment: Comment) -> list[CommentReport]:
    """Hiding a comment deals with every open report of it: they are marked handled in the
    same step, and returned (their reporters are told the outcome)."""
    reports = list(
        db.session.scalars(
            select(CommentReport)
            .options(joinedload(CommentReport.reporter))
            .where(CommentReport.comment_id == comment.id, CommentReport.handled_at.is_(None))
            .order_by(CommentReport.id)
        )
    )
    now = utcnow()
    for report in reports:
        report.handled_at = now
    return reports


def resolve_comment(*, actor: User, comment: Comment, response: str) -> None:
    """The secretariat marks a comment resolved, with a response everyone sees."""
    response = (response or "").replace("\r\n", "\n").strip()
    if not response:
        raise CommentError("Enter the secretariat's response", field="response")
    if len(response) > BODY_MAX:
        raise CommentError(f"Response must be {BODY_MAX:,} characters or fewer", field="response")
    if comment.state != CommentState.VISIBLE:
        raise CommentError("Only a visible comment can be resolved", field="response")
    if comment.parent_id is not None:
        raise CommentError("Only a comment that starts a thread can be resolved", field="response")
    if comment.is_resolved:
        raise CommentError("This comment is already resolved", field="response")
    comment.resolved_at = utcnow()
    comment.resolved_by = actor
    comment.resolution = response
    db.session.flush()
    audit.record(actor, "comment.resolve", comment, after=audit.snapshot(comment, "resolution"))
    announce(ask_id=comment.ask_id, name="comment-updated", object_id=comment.id)
    notifications.comment_resolved(actor=actor, comment=comment)


def report_comment(*, actor: User, comment: Comment, reason: str) -> CommentReport:
    """A member tells the secretariat a comment needs its attention."""
    reason = (reason or "").strip()
    if not reason:
        raise CommentError("Enter why you are reporting this comment", field="reason")
    if len(reason) > REASON_MAX:
        raise CommentError(f"Reason must be {REASON_MAX} characters or fewer", field="reason")
    existing = db.session.scalar(
        select(CommentReport).where(
            CommentReport.comment_id == comment.id, CommentReport.reporter_id == actor.id
        )
    )
    if existing is not None:
        raise CommentError("You have already reported this comment", field="reason")
    report = CommentReport(comment=comment, reporter=actor, reason=reason)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        raise CommentError("You have already reported this comment", field="reason") from None
    audit.record(actor, "comment.report", comment, after={"reason": reason})
    return report


def handle_report(*, actor: User, report: CommentReport) -> bool:
    """The secretariat marks a report as dealt with; returns False if it already was."""
    if report.handled_at is not None:
        return False
    report.handled_at = utcnow()
    db.session.flush()
    audit.record(actor, "comment.report_handle", report, after=audit.snapshot(report, "handled_at"))
    return True


def render_stored_html(
    *, after: int = 0, every: bool = False, limit: int = RENDER_BATCH
) -> list[int]:
    """Render again, with the current renderer, the stored HTML of the next `limit` comments
    (by id, after `after`) whose HTML an earlier version of the renderer made, or of every
    comment (`every`); returns their ids, in order. Their text is unchanged: no audit event,
    no live update (a page shows the new HTML when it next loads the comment)."""
    query = select(Comment).where(Comment.id > after).order_by(Comment.id).limit(limit)
    if not every:
        query = query.where(Comment.body_html_version != COMMENT_RENDERER_VERSION)
    comments = list(db.session.scalars(query))
    for comment in comments:
        comment.render()
    db.session.flush()
    return [comment.id for comment in comments]
