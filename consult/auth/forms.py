"""Forms for signing in, accepting an invitation, resetting and changing a password."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, ValidationError

from consult.auth.services import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    is_email_address,
    password_problem,
)
from consult.text import control_character_problem


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class EmailAddress:
    """consult.auth.services.is_email_address, as a form validator (the command line
    checks addresses with the same function)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        if not is_email_address(field.data or ""):
            raise ValidationError(self.message)


class NoControlCharacters:
    """consult.text.control_character_problem, as a form validator: a one-line text (a name,
    which goes into emails' subjects) holds no line break or other control character."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        problem = control_character_problem(self.what, field.data or "")
        if problem:
            raise ValidationError(problem)


class PasswordRules:
    """The password rules of consult.auth.services.password_problem, as a form validator.

    The form says whose password it is through its `account_email` attribute.
    """

    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        problem = password_problem(field.data or "", email=getattr(form, "account_email", "") or "")
        if problem:
            raise ValidationError(problem)


class SignInForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address"),
            Length(
                max=EMAIL_MAX_LENGTH,
                message=f"Email address must be {EMAIL_MAX_LENGTH} characters or fewer",
            ),
        ],
        widget=GovTextInput(),
    )
    password = PasswordField(
        "Password",
        validators=[
            InputRequired("Enter your password"),
            Length(
                max=PASSWORD_MAX_LENGTH,
                message=f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer",
            ),
        ],
        widget=GovPasswordInput(),
    )
    submit = SubmitField("Sign in", widget=GovSubmitInput())


# Fields that come before the new password on their page are created first: WTForms orders
# fields (and so the error summary) by creation.
_NAME = StringField(
    "Full name",
    filters=[_strip],
    validators=[
        DataRequired("Enter your full name"),
        Length(
            max=NAME_MAX_LENGTH, message=f"Full name must be {NAME_MAX_LENGTH} characters or fewer"
        ),
        NoControlCharacters("Full name"),
    ],
    widget=GovTextInput(),
)
_CURRENT_PASSWORD = PasswordField(
    "Current password",
    validators=[
        InputRequired("Enter your current password"),
        Length(
            max=PASSWORD_MAX_LENGTH,
            message=f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer",
        ),
    ],
    widget=GovPasswordInput(),
)


class _NewPasswordForm(FlaskForm):
    """A new password typed twice, checked against the rules for the given account."""

    password = PasswordField(
        "New password",
        description=f"Must be {PASSWORD_MIN_LENGTH} characters or more. A few unrelated words "
        "make a password that is long but easy to remember.",
        validators=[InputRequired("Enter a new password"), PasswordRules()],
        widget=GovPasswordInput(),
    )
    confirm_password = PasswordField(
        "Confirm new password",
        validators=[
            InputRequired("Confirm your new password"),
            EqualTo("password", message="Passwords do not match"),
        ],
        widget=GovPasswordInput(),
    )

    def __init__(self, *args: Any, account_email: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class AcceptInvitationForm(_NewPasswordForm):
    name = _NAME
    submit = SubmitField("Create account", widget=GovSubmitInput())


class ResetPasswordForm(_NewPasswordForm):
    submit = SubmitField("Reset password", widget=GovSubmitInput())


class ChangePasswordForm(_NewPasswordForm):
    current_password = _CURRENT_PASSWORD
    submit = SubmitField("Change password", widget=GovSubmitInput())


class RequestPasswordResetForm(FlaskForm):
    email = StringField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired("Enter your email address"),
            Length(
                max=EMAIL_MAX_LENGTH,
                message=f"Email address must be {EMAIL_MAX_LENGTH} characters or fewer",
            ),
            EmailAddress("Enter an email address in the correct format, like name@example.com"),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Send reset link", widget=GovSubmitInput())
