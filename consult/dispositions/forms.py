"""The secretariat's form: the outcome of a comment or an amendment, and the reason."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length

from consult.amendments.services import REASON_MAX
from consult.models import Outcome

CHOOSE = "Choose the outcome"  # the service's words, so both say the same
GIVE_REASON = "Give the reason for this outcome"

HINTS = {
    Outcome.ADOPTED: "The wording now does what was asked.",
    Outcome.PARTLY_ADOPTED: "Some of it is in the wording, or it is there in another form.",
    Outcome.NOT_ADOPTED: "The wording was not changed because of it.",
    Outcome.NOTED: "It asked for no change to the wording, or it will be taken up elsewhere.",
}


class OutcomeForm(FlaskForm):
    """Choose an outcome and give the reason; both are required (the service checks them
    again, with the same words)."""

    outcome = RadioField(
        "Outcome",
        choices=[SelectChoice(value=o.value, label=o.label) for o in Outcome],
        validate_choice=False,
        widget=GovRadioInput(),
        validators=[DataRequired(CHOOSE), AnyOf([o.value for o in Outcome], message=CHOOSE)],
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        validators=[
            DataRequired(GIVE_REASON),
            Length(max=REASON_MAX, message=f"Reason must be {REASON_MAX:,} characters or fewer"),
        ],
    )
    submit = SubmitField("Save outcome", widget=GovSubmitInput())
