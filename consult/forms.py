"""Form pieces shared by more than one feature."""

from __future__ import annotations

import re
from datetime import date

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field

_NUMBER = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_PARTS = ("day", "month", "year")


class UKDateField(Field):
    """A GOV.UK date input: day, month and year in three boxes, redisplayed exactly as typed.

    Error messages follow the GOV.UK date input guidance, built from `subject`, the words for
    the date as they would start a sentence ("the opening date", "date from"):
    "Enter the opening date", "The opening date must include a month",
    "The year of the opening date must include 4 numbers", "The opening date must be a real
    date". A field that is not `required` is None when left blank. With `accept_iso`, a single
    YYYY-MM-DD value is accepted too (as in a link), and shown in the three boxes.
    """

    widget = GovDateInput()

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        subject: str,
        required: bool = True,
        accept_iso: bool = False,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        self.subject = subject
        self.required = required
        self.accept_iso = accept_iso

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def _sentence(self, text: str) -> str:
        return text[:1].upper() + text[1:]

    def process_formdata(self, valuelist) -> None:
        values = [str(value) for value in valuelist]
        self.data = None
        # raw_data is what the widget redisplays: three boxes, or None for empty boxes.
        self.raw_data = None
        if not any(value.strip() for value in values):
            if self.required:
                raise ValueError(f"Enter {self.subject}")
            return
        if self.accept_iso and len(values) == 1:
            match = _ISO_DATE.fullmatch(values[0].strip())
            if not match:
                raise ValueError(f"{self._sentence(self.subject)} must be a real date")
            year, month, day = match.groups()
            values = [day, month, year]
        if len(values) != 3:  # not something the three boxes send
            raise ValueError(f"{self._sentence(self.subject)} must be a real date")
        self.raw_data = values
        self.data = self._parse([value.strip() for value in values])

    def _parse(self, parts: list[str]) -> date:
        subject = self._sentence(self.subject)
        missing = [name for name, part in zip(_PARTS, parts, strict=True) if not part]
        if missing:
            raise ValueError(f"{subject} must include a {' and '.join(missing)}")
        if not all(_NUMBER.fullmatch(part) for part in parts):
            raise ValueError(f"{subject} must be a real date")
        day, month, year = parts
        if len(year) != 4:
            raise ValueError(f"The year of {self.subject} must include 4 numbers")
        try:
            return date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            raise ValueError(f"{subject} must be a real date") from None
