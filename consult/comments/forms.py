"""Forms for comments: posting, replying, editing, withdrawing, moderating and reporting."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from consult.comments.services import BODY_MAX, QUOTE_MAX, REASON_MAX

ANCHOR_PATTERN = r"^p-[0-9a-f]{10}(-[0-9]{1,4})?$"
RELOAD = "Reload the page and try again"


def new_submission_key() -> str:
    """A fresh key for one comment form: the same key posted twice makes one comment."""
    return uuid.uuid4().hex


def _body(label: str, required: str, too_long: str) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        validators=[DataRequired(required), Length(max=BODY_MAX, message=too_long)],
    )


def _reason(label: str, required: str, too_long: str, limit: int = REASON_MAX) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        validators=[DataRequired(required), Length(max=limit, message=too_long)],
    )


class CommentActionForm(FlaskForm):
    """A form about one comment (or one ask), whose fields get ids of their own, so that
    several of them can be open on one page at once."""

    def use_ids(self, prefix: str) -> CommentActionForm:
        """Give every field the id <prefix>-<name> (the error summary links to them)."""
        self.id_prefix = prefix
        for field in self:
            field.id = f"{prefix}-{field.name}"
        return self

    id_prefix = "comment"


class CommentForm(CommentActionForm):
    """A new comment on the whole ask or on one paragraph, optionally quoting a phrase of it."""

    body = _body(
        "Comment", "Enter your comment", f"Comment must be {BODY_MAX:,} characters or fewer"
    )
    quote = StringField(
        "Quote a phrase from this paragraph (optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(
                max=QUOTE_MAX, message=f"The quoted phrase must be {QUOTE_MAX} characters or fewer"
            ),
        ],
    )
    paragraph = HiddenField(validators=[Optional(), Regexp(ANCHOR_PATTERN, message=RELOAD)])
    # Where the form sits: under its paragraph (opened with htmx) or on the page itself.
    placement = HiddenField(default="page", validators=[AnyOf(("page", "inline"), message=RELOAD)])
    submission_key = HiddenField(
        default=new_submission_key,
        validators=[DataRequired(RELOAD), Regexp(r"^[0-9a-f]{32}$", message=RELOAD)],
    )


class ReplyForm(CommentActionForm):
    """A reply to a comment."""

    body = _body(
        "Your reply", "Enter your reply", f"Reply must be {BODY_MAX:,} characters or fewer"
    )
    submission_key = HiddenField(
        default=new_submission_key,
        validators=[DataRequired(RELOAD), Regexp(r"^[0-9a-f]{32}$", message=RELOAD)],
    )


class EditForm(CommentActionForm):
    """The author's new text for their comment."""

    body = _body(
        "Your comment", "Enter your comment", f"Comment must be {BODY_MAX:,} characters or fewer"
    )


class WithdrawForm(CommentActionForm):
    """Confirms that the author withdraws their comment (CSRF only)."""


class HideForm(CommentActionForm):
    """The secretariat's reason for hiding a comment; its author is shown it."""

    reason = _reason(
        "Why are you hiding this comment?",
        "Enter the reason for hiding the comment",
        f"Reason must be {REASON_MAX} characters or fewer",
    )


class ResolveForm(CommentActionForm):
    """The secretariat's response to a comment it marks resolved."""

    response = _reason(
        "The secretariat's response",
        "Enter the secretariat's response",
        f"Response must be {BODY_MAX:,} characters or fewer",
        BODY_MAX,
    )


class ReportForm(CommentActionForm):
    """A member's reason for reporting a comment to the secretariat."""

    reason = _reason(
        "Why are you reporting this comment?",
        "Enter why you are reporting this comment",
        f"Reason must be {REASON_MAX} characters or fewer",
    )
