"""The delegate's form: the organisation's position on an ask's current version."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from consult.models import Stance
from consult.positions.services import REASON_MAX

HINTS = {
    Stance.SUPPORT: "Your organisation agrees with this wording as it is.",
    Stance.SUPPORT_WITH_CHANGES: "Your organisation agrees, but would like some changes.",
    Stance.OBJECT: "Your organisation cannot agree with this wording.",
    Stance.ABSTAIN: "Your organisation takes no position on this ask.",
}


class PositionForm(FlaskForm):
    """Choose a stance and give a reason; the service checks the rules (reason required for
    support with changes and object, length), so the messages are written once."""

    stance = RadioField(
        "Your organisation's position",
        choices=[SelectChoice(value=stance.value, label=stance.label) for stance in Stance],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    reason = TextAreaField("Reason", widget=GovTextArea())
    submit = SubmitField("Save position", widget=GovSubmitInput())

    reason_max = REASON_MAX
