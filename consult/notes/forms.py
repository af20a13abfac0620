"""Forms for an organisation's notes. The services check the rules (text required, its
length, the stance), so their messages are written once; the forms carry the fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovTextArea
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice

from consult.models import Stance


class NoteForm(FlaskForm):
    """A new note, a reply, or a note's new text."""

    body = TextAreaField("Note", widget=GovTextArea())


class DeleteForm(FlaskForm):
    """Confirms that the author deletes their note (CSRF only)."""


class ProposeForm(FlaskForm):
    """The stance a member proposes, with the note's text as the reason."""

    stance = RadioField(
        "Which position do you propose?",
        choices=[SelectChoice(value=stance.value, label=stance.label) for stance in Stance],
        validate_choice=False,
        widget=GovRadioInput(),
    )
