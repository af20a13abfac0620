"""Forms for signing in, accepting an invitation, resetting and changing a password."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovPasswordInput, GovSubmitInput, GovTextInput
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length, ValidationError

PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254  # User.email
NAME_MAX_LENGTH = 200  # User.name


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class PasswordRules:
    """The one place where the password rules live: 10 to 200 characters, not the email address.

    The form says whose password it is through its `account_email` attribute.
    """

    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        password = field.data or ""
        if len(password) < PASSWORD_MIN_LENGTH:
            raise ValidationError(f"Password must be {PASSWORD_MIN_LENGTH} characters or more")
        if len(password) > PASSWORD_MAX_LENGTH:
            raise ValidationError(f"Password must be {PASSWORD_MAX_LENGTH} characters or fewer")
        email = (getattr(form, "account_email", "") or "").strip().lower()
        if email and password.strip().lower() == email:
            raise ValidationError("Password must not be the same as your email address")


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
            Email(
                "Enter an email address in the correct format, like name@example.com",
                check_deliverability=False,
            ),
        ],
        widget=GovTextInput(),
    )
    submit = SubmitField("Send reset link", widget=GovSubmitInput())
