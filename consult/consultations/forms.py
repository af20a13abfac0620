"""The consultation form (title, summary, opening and closing in UK time, the consensus rule),
and the choice of organisations taking part."""

from __future__ import annotations

import re
from datetime import datetime, time

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from consult.forms import UKDateField
from consult.uktime import NonexistentLocalTime, london_to_utc, utc_to_london

_TIME = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class TimeOfDayField(Field):
    """A 24-hour time typed as HH:MM."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, subject: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.subject = subject

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return self.data.strftime("%H:%M") if isinstance(self.data, time) else ""

    def process_formdata(self, valuelist):
        text = str(valuelist[0]).strip() if valuelist else ""
        self.data = None
        if not text:
            raise ValueError(f"Enter the {self.subject}")
        match = _TIME.fullmatch(text)
        if not match:
            raise ValueError(
                f"Enter the {self.subject} in hours and minutes on the 24-hour clock, "
                "like 09:00 or 17:30"
            )
        hours, minutes = int(match[1]), int(match[2])
        if hours > 23 or minutes > 59:
            raise ValueError(f"The {self.subject} must be a real time, from 00:00 to 23:59")
        self.data = time(hours, minutes)


class PercentField(Field):
    """A whole percentage from 0 to 100."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, subject: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.subject = subject

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return str(self.data) if self.data is not None else ""

    def process_data(self, value):
        self.data = int(value) if value is not None else None

    def process_formdata(self, valuelist):
        text = str(valuelist[0]).strip() if valuelist else ""
        text = text.removesuffix("%").strip()
        self.data = None
        if not text:
            raise ValueError(f"Enter the {self.subject}, as a percentage from 0 to 100")
        if not _WHOLE.fullmatch(text):
            raise ValueError(f"The {self.subject} must be a whole number, like 50")
        value = int(text)
        if not 0 <= value <= 100:
            raise ValueError(f"The {self.subject} must be between 0% and 100%")
        self.data = value


class ConsultationForm(FlaskForm):
    """Create or edit a consultation. After validate(), opens_at and closes_at hold UTC."""

    title = StringField(
        "Title",
        validators=[
            DataRequired(message="Enter a title"),
            Length(max=200, message="Title must be 200 characters or fewer"),
        ],
        filters=[_strip],
        widget=GovTextInput(),
    )
    summary = TextAreaField(
        "Summary (optional)",
        validators=[Length(max=5000, message="Summary must be 5,000 characters or fewer")],
        filters=[_strip],
        widget=GovTextArea(),
    )
    opens_date = UKDateField("Opening date", subject="the opening date")
    opens_time = TimeOfDayField("Opening time", subject="opening time")
    closes_date = UKDateField("Closing date", subject="the closing date")
    closes_time = TimeOfDayField("Closing time", subject="closing time")
    quorum_percent = PercentField("Quorum", subject="quorum", default=50)
    threshold_percent = PercentField("Support threshold", subject="support threshold", default=75)
    objection_blocks = BooleanField("Any objection blocks agreement", widget=GovCheckboxInput())
    changes_count_as_support = BooleanField(
        "Count “support with changes” as support", default=True, widget=GovCheckboxInput()
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    opens_at: datetime | None = None
    closes_at: datetime | None = None

    @classmethod
    def for_consultation(cls, consultation) -> ConsultationForm:
        """The form filled in with a consultation's current values, in UK time."""
        opens = utc_to_london(consultation.opens_at)
        closes = utc_to_london(consultation.closes_at)
        return cls(
            title=consultation.title,
            summary=consultation.summary,
            opens_date=opens.date(),
            opens_time=opens.time().replace(second=0, microsecond=0),
            closes_date=closes.date(),
            closes_time=closes.time().replace(second=0, microsecond=0),
            quorum_percent=consultation.quorum_percent,
            threshold_percent=consultation.threshold_percent,
            objection_blocks=consultation.objection_blocks,
            changes_count_as_support=consultation.changes_count_as_support,
        )

    def _moment(self, date_field: UKDateField, time_field: TimeOfDayField) -> datetime | None:
        if date_field.errors or time_field.errors:
            return None
        if date_field.data is None or time_field.data is None:
            return None
        try:
            return london_to_utc(date_field.data, time_field.data)
        except NonexistentLocalTime:
            time_field.errors.append(
                f"The {time_field.subject} does not exist on that day in the UK, because the "
                "clocks go forward: choose another time"
            )
            return None

    def validate(self, extra_validators=None) -> bool:
        """Check each field, then turn the UK dates and times into UTC and compare them."""
        ok = super().validate(extra_validators)
        self.opens_at = self._moment(self.opens_date, self.opens_time)
        self.closes_at = self._moment(self.closes_date, self.closes_time)
        if self.opens_at is None or self.closes_at is None:
            return False
        if self.closes_at <= self.opens_at:
            self.closes_date.errors.append("The closing date must be after the opening date")
            return False
        return ok

    def values(self) -> dict:
        """The validated values, as the services take them."""
        return {
            "title": self.title.data,
            "summary": self.summary.data or "",
            "opens_at": self.opens_at,
            "closes_at": self.closes_at,
            "quorum_percent": self.quorum_percent.data,
            "threshold_percent": self.threshold_percent.data,
            "objection_blocks": bool(self.objection_blocks.data),
            "changes_count_as_support": bool(self.changes_count_as_support.data),
        }


_ID = re.compile(r"[0-9]{1,9}")


class OrganisationsField(SelectMultipleField):
    """Checkboxes of organisations by id. Any well-formed id is accepted here: the services
    say which organisations exist and may be chosen, and why not."""

    widget = GovCheckboxesInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        self.data = []
        for value in valuelist:
            if not _ID.fullmatch(str(value).strip()):
                raise ValueError("Select organisations from the list")
            self.data.append(int(value))

    def pre_validate(self, form):
        """Choices are what is offered, not what is allowed (see the class docstring)."""


class ParticipantsForm(FlaskForm):
    """Which member organisations take part in a consultation."""

    organisations = OrganisationsField("Organisations taking part")
    submit = SubmitField("Save", widget=GovSubmitInput())

    def set_organisations(self, organisations) -> None:
        """Offer these organisations, by name."""
        self.organisations.choices = [(org.id, org.name) for org in organisations]
