"""Forms for asks and their draft versions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

TITLE_MAX = 200  # Ask.title
THEME_MAX = 100  # Ask.theme
WORDING_MAX = 20_000
CHANGE_NOTE_MAX = 500  # what the secretariat writes (credits for amendments come after)


def _is_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 9


class AskForm(FlaskForm):
    """An ask's title and theme (used to create and to edit)."""

    title = StringField(
        "Title",
        widget=GovTextInput(),
        validators=[
            DataRequired("Enter a title for the ask"),
            Length(max=TITLE_MAX, message=f"Title must be {TITLE_MAX} characters or fewer"),
        ],
    )
    theme = StringField(
        "Theme (optional)",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=THEME_MAX, message=f"Theme must be {THEME_MAX} characters or fewer"),
        ],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())


class VersionForm(FlaskForm):
    """New wording for an ask, with a note of what changed."""

    body = TextAreaField(
        "Wording",
        widget=GovTextArea(),
        validators=[
            DataRequired("Enter the wording"),
            Length(max=WORDING_MAX, message=f"Wording must be {WORDING_MAX:,} characters or fewer"),
        ],
    )
    change_note = TextAreaField(
        "What changed",
        widget=GovTextArea(),
        validators=[
            Length(
                max=CHANGE_NOTE_MAX,
                message=f"What changed must be {CHANGE_NOTE_MAX} characters or fewer",
            )
        ],
    )
    # The latest version number when the form was opened: publishing on top of a version
    # the writer has not seen is refused rather than silently overwriting it.
    based_on = HiddenField()

    def __init__(self, *args, note_required: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.note_required = note_required

    def validate_change_note(self, field: TextAreaField) -> None:
        if self.note_required and not (field.data or "").strip():
            raise ValidationError("Say what changed in this version")

    def validate_based_on(self, field: HiddenField) -> None:
        if field.data and not _is_number(field.data):
            raise ValidationError("Reload the page and try again")

    @property
    def based_on_number(self) -> int | None:
        """The version number the writer started from, if the form says."""
        value = self.based_on.data or ""
        return int(value) if _is_number(value) else None
