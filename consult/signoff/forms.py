"""The delegate's sign-off form, and the secretariat's confirmations.

The service checks the rules (a reason to decline, listing publicly only with an
endorsement, lengths), so the messages are written once."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovTextArea
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice

from consult.models import Decision

LABELS = {
    Decision.ENDORSE: "Endorse the manifesto",
    Decision.DECLINE: "Decline to endorse",
}


class EndorsementForm(FlaskForm):
    """Endorse (and whether the organisation's name may be listed publicly) or decline."""

    decision = RadioField(
        "Does your organisation endorse the manifesto?",
        choices=[SelectChoice(value=d.value, label=LABELS[d]) for d in Decision],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    list_publicly = BooleanField(
        "List our organisation's name publicly as a supporter", widget=GovCheckboxInput()
    )
    reason = TextAreaField("Why does your organisation decline?", widget=GovTextArea())


class ConfirmForm(FlaskForm):
    """A confirmation with nothing to fill in (its errors come from the service)."""
