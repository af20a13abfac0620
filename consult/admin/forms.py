"""Forms for the secretariat's pages: organisations, people, and the list filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import BooleanField, RadioField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from consult.admin.services import (
    OrganisationStatus,
    PersonStatus,
    plain_text_problem,
    website_problem,
)
from consult.auth.forms import EmailAddress
from consult.auth.services import EMAIL_FORMAT
from consult.forms import UKDateField
from consult.models import OrganisationKind, Role


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def plain_text(what: str):
    """Refuse control characters and the angle brackets of HTML in a one-line text field."""

    def check(form, field) -> None:
        problem = plain_text_problem(what, field.data or "")
        if problem:
            raise ValidationError(problem)

    return check


def web_address(form, field) -> None:
    """An absolute http or https address, without spaces, quotes or angle brackets."""
    problem = website_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value=value, label=label) for value, label in pairs]


KIND_CHOICES = _choices((kind.value, kind.label) for kind in OrganisationKind)
ROLE_HINTS = {
    Role.MEMBER: "Reads and comments; if named a delegate, sets the organisation’s positions",
    Role.OBSERVER: "Reads only",
    Role.SECRETARIAT: "Runs consultations and manages people, organisations and the audit log",
}
ROLE_CHOICES = _choices((role.value, role.label) for role in Role)


class Choice(SelectField):
    """A select whose missing or unknown value gets a plain message (no DataRequired needed)."""

    widget = GovSelect()


class Radios(RadioField):
    """Radios whose missing or unknown value gets a plain message."""

    widget = GovRadioInput()


class OrganisationForm(FlaskForm):
    """Create or edit an organisation."""

    name = StringField(
        "Name",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired("Enter the organisation's name"),
            Length(max=200, message="Name must be 200 characters or fewer"),
            plain_text("Name"),
        ],
    )
    kind = Radios(
        "Kind of organisation",
        choices=KIND_CHOICES,
        invalid_choice_message="Select the kind of organisation",
    )
    website = StringField(
        "Website (optional)",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=500, message="Website must be 500 characters or fewer"),
            web_address,
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class InviteForm(FlaskForm):
    """Invite a person: the organisation choices are set by the view (active ones only)."""

    email = StringField(
        "Email address",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired("Enter their email address"),
            Length(max=254, message="Email address must be 254 characters or fewer"),
            EmailAddress(EMAIL_FORMAT),
        ],
    )
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            DataRequired("Enter their full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
            plain_text("Full name"),
        ],
    )
    organisation_id = Choice(
        "Organisation",
        choices=[],
        invalid_choice_message="Select an organisation",
        validators=[DataRequired("Select an organisation")],
    )
    role = Radios("Role", choices=ROLE_CHOICES, invalid_choice_message="Select a role")
    submit = SubmitField("Send invitation", widget=GovSubmitInput())

    def set_organisations(self, organisations) -> None:
        """Offer these organisations, after a blank first option."""
        self.organisation_id.choices = [SelectChoice(value="", label="Select an organisation")] + [
            SelectChoice(value=str(org.id), label=org.name) for org in organisations
        ]


class ChangeRoleForm(FlaskForm):
    """Give a person a different role."""

    role = Radios("Role", choices=ROLE_CHOICES, invalid_choice_message="Select a role")
    submit = SubmitField("Change role", widget=GovSubmitInput())


# Filters (GET forms, no CSRF) -------------------------------------------------------------


class FilterForm(FlaskForm):
    """A form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class OrganisationFilterForm(FilterForm):
    status = Choice(
        "Show",
        choices=_choices(
            [
                ("all", "All organisations"),
                (OrganisationStatus.ACTIVE.value, "Active organisations"),
                (OrganisationStatus.DEACTIVATED.value, "Deactivated organisations"),
            ]
        ),
        default="all",
        invalid_choice_message="Select which organisations to show from the list",
    )


class PeopleFilterForm(FilterForm):
    """Filter people; the organisation choices are set by the view."""

    organisation_id = Choice(
        "Organisation",
        choices=[],
        default="",
        invalid_choice_message="Select an organisation from the list",
    )
    role = Choice(
        "Role",
        choices=_choices([("", "Any role")] + [(r.value, r.label) for r in Role]),
        default="",
        invalid_choice_message="Select a role from the list",
    )
    status = Choice(
        "Status",
        choices=_choices([("", "Any status")] + [(s.value, s.label) for s in PersonStatus]),
        default="",
        invalid_choice_message="Select a status from the list",
    )

    def set_organisations(self, organisations) -> None:
        self.organisation_id.choices = [SelectChoice(value="", label="All organisations")] + [
            SelectChoice(value=str(org.id), label=org.name) for org in organisations
        ]


class AuditFilterForm(FilterForm):
    """Filter the audit log; the action and object type choices are set by the view."""

    action = Choice(
        "Action", choices=[], default="", invalid_choice_message="Select an action from the list"
    )
    object_type = Choice(
        "Object type",
        choices=[],
        default="",
        invalid_choice_message="Select an object type from the list",
    )
    actor = StringField(
        "Done by (email contains)",
        widget=GovTextInput(),
        filters=[_strip],
        validators=[
            Length(max=254, message="Email must be 254 characters or fewer"),
            plain_text("Email"),
        ],
    )
    date_from = UKDateField("Date from", subject="date from", required=False, accept_iso=True)
    date_to = UKDateField("Date to", subject="date to", required=False, accept_iso=True)
    hide_sign_ins = BooleanField("Hide sign-ins and sign-outs", widget=GovCheckboxInput())

    @property
    def active(self) -> bool:
        """Whether any filter is set (so "no events" means none match, not none at all)."""
        return any(
            field.data
            for field in (
                self.action,
                self.object_type,
                self.actor,
                self.date_from,
                self.date_to,
                self.hide_sign_ins,
            )
        )

    def set_choices(self, actions: list[str], object_types: list[str]) -> None:
        self.action.choices = [SelectChoice(value="", label="Any action")] + _choices(
            (a, a) for a in actions
        )
        self.object_type.choices = [SelectChoice(value="", label="Any object")] + _choices(
            (t, t) for t in object_types
        )

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("Date to must be the same as or after date from")
