"""The account page's notification preferences: per kind, at once, daily digest or never."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput
from wtforms import RadioField, SubmitField
from wtforms.fields.choices import SelectChoice

from consult.models import Delivery, NotificationKind

CHOICES = [SelectChoice(value=d.value, label=d.label) for d in Delivery]


class PreferencesForm(FlaskForm):
    """One set of radios per kind of notification, named by the kind."""

    submit = SubmitField("Save email choices", widget=GovSubmitInput())

    def __init__(self, *args: Any, current: dict[NotificationKind, Delivery], **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            for kind in NotificationKind:
                self[kind.value].data = current[kind].value

    def kinds(self) -> list[tuple[NotificationKind, RadioField]]:
        return [(kind, self[kind.value]) for kind in NotificationKind]

    def choices(self) -> dict[NotificationKind, Delivery]:
        return {kind: Delivery(field.data) for kind, field in self.kinds()}


for _kind in NotificationKind:
    setattr(
        PreferencesForm,
        _kind.value,
        RadioField(
            _kind.label,
            choices=CHOICES,
            widget=GovRadioInput(),
            validate_choice=True,
            invalid_choice_message=f"Select how to hear of: {_kind.label.lower()}",
        ),
    )
