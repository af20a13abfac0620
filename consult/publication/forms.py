"""Forms for publishing a manifesto, backing it from its public page, and the secretariat's
decisions about backers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea, GovTextInput
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from consult.auth.forms import EmailAddress
from consult.auth.services import EMAIL_FORMAT
from consult.publication.services import (
    EMAIL_MAX,
    NAME_MAX,
    ORGANISATION_MAX,
    REASON_MAX,
    WEBSITE_MAX,
    is_web_address,
)


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class PublishForm(FlaskForm):
    """The secretariat's confirmation that the manifesto may be published (no fields)."""


class WebAddress:
    """An optional website: an http or https address."""

    def __call__(self, form, field) -> None:
        if field.data and not is_web_address(field.data):
            raise ValidationError(
                "Enter a website address that starts with http:// or https://, like "
                "https://www.example.org"
            )


class BackForm(FlaskForm):
    """An outside organisation's offer to back the published manifesto."""

    organisation_name = StringField(
        "Organisation name",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired("Enter the name of your organisation"),
            Length(
                max=ORGANISATION_MAX,
                message=f"Organisation name must be {ORGANISATION_MAX} characters or fewer",
            ),
        ],
    )
    contact_name = StringField(
        "Your name",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired("Enter your name"),
            Length(max=NAME_MAX, message=f"Your name must be {NAME_MAX} characters or fewer"),
        ],
    )
    email = StringField(
        "Email address",
        description="We send a link to this address to confirm your support. It is not published.",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address"),
            Length(max=EMAIL_MAX, message=f"Email address must be {EMAIL_MAX} characters or fewer"),
            EmailAddress(EMAIL_FORMAT),
        ],
    )
    website = StringField(
        "Website (optional)",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=WEBSITE_MAX, message=f"Website must be {WEBSITE_MAX} characters or fewer"),
            WebAddress(),
        ],
    )
    # A honeypot: hidden from people and screen readers; only a robot fills it in.
    company_fax = StringField("Leave this empty")


class ConfirmBackerForm(FlaskForm):
    """The contact's confirmation (a button, so that link checkers do not confirm)."""


class ApproveBackerForm(FlaskForm):
    """The secretariat's approval of a confirmed backer (no fields)."""


class RejectBackerForm(FlaskForm):
    """Why the secretariat rejects a backer."""

    reason = TextAreaField(
        "Why are you rejecting this backer?",
        description="The reason is kept with the backer for the secretariat. It is not published.",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter why you are rejecting this backer"),
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX:,} characters or fewer"),
        ],
    )
