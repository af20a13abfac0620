"""Forms for amendments: proposing wording, backing it, withdrawing, declining and accepting.

The services check the rules (wording and rationale required, lengths, the paragraph still
in the current wording), so their messages are written once; the forms carry the fields and
check only what a browser could get wrong (a reloaded page's hidden fields)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from consult.asks.forms import CHANGE_NOTE_MAX
from consult.comments.forms import RELOAD, new_submission_key

_NUMBER = r"^[0-9]{1,9}$"


class ProposeForm(FlaskForm):
    """New wording for one paragraph of the current version, or for the whole text."""

    paragraph = RadioField(
        "Which wording do you propose to replace?",
        choices=[],
        validate_choice=False,  # the service says when the paragraph is no longer there
        widget=GovRadioInput(),
    )
    wording = TextAreaField("Your wording", widget=GovTextArea())
    rationale = TextAreaField("Why you propose this wording", widget=GovTextArea())
    submission_key = HiddenField(
        default=new_submission_key,
        validators=[DataRequired(RELOAD), Regexp(r"^[0-9a-f]{32}$", message=RELOAD)],
    )


class BackingForm(FlaskForm):
    """Back or oppose an amendment for one's organisation (the service checks the stance)."""

    stance = HiddenField()
    # Where to go back to: the ask page (at the amendment's card) or the amendment's page.
    back_to = HiddenField()


class WithdrawForm(FlaskForm):
    """Confirms that the proposer withdraws their amendment (CSRF only)."""


class DeclineForm(FlaskForm):
    """The secretariat's reason for declining an amendment; its organisation is shown it."""

    reason = TextAreaField("Why are you declining this amendment?", widget=GovTextArea())


class AcceptForm(FlaskForm):
    """The amendments to accept into the next version, and the secretariat's change note."""

    change_note = TextAreaField(
        "What changed (optional)",
        widget=GovTextArea(),
        validators=[
            Optional(),
            Length(
                max=CHANGE_NOTE_MAX,
                message=f"What changed must be {CHANGE_NOTE_MAX} characters or fewer",
            ),
        ],
    )
    # The latest version number when the page was built: publishing on top of a version
    # the secretariat has not seen is refused.
    based_on = HiddenField(validators=[Optional(), Regexp(_NUMBER, message=RELOAD)])

    @property
    def based_on_number(self) -> int | None:
        return int(self.based_on.data) if self.based_on.data else None
