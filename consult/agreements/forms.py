"""Forms for declaring an ask's wording agreed and reopening it.

The services check the rules (a reason against the rule, a reason to reopen, lengths); the
forms carry the fields and check only what a browser could get wrong (a reloaded page's
hidden field)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovTextArea
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Regexp

from consult.comments.forms import RELOAD


class AgreeForm(FlaskForm):
    """The declaration: the version the page showed, and a reason when against the rule."""

    reason = TextAreaField(
        "Why are you declaring it agreed against the rule?", widget=GovTextArea()
    )
    # The current version's number when the page was built: declaring a version the
    # secretariat has not seen is refused.
    based_on = HiddenField(
        validators=[DataRequired(message=RELOAD), Regexp(r"^[0-9]{1,9}$", message=RELOAD)]
    )

    @property
    def based_on_number(self) -> int:
        return int(self.based_on.data)


class ReopenForm(FlaskForm):
    """Why the secretariat reopens an agreed ask."""

    reason = TextAreaField("Why are you reopening this ask?", widget=GovTextArea())
