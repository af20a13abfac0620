"""Fixtures for the consultations tests: one person per role, and a valid consultation form."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from consult.extensions import db
from consult.models import Consultation
from tests.conftest import ROLES, People, audit_events  # noqa: F401 (shared)


def form_data(**overrides) -> dict:
    """A valid consultation form: 1 July 2030 09:00 to 31 July 2030 17:00, UK time."""
    data = {
        "title": "Net zero by 2040",
        "summary": "A round of review of the *energy* asks.",
        "opens_date": ["1", "7", "2030"],
        "opens_time": "09:00",
        "closes_date": ["31", "7", "2030"],
        "closes_time": "17:00",
        "quorum_percent": "60",
        "threshold_percent": "80",
        "objection_blocks": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def consultation_count() -> int:
    return count(Consultation)


def row(html: str, dom_id: str) -> str:
    """The HTML of the table row or list item with this id."""
    match = re.search(
        rf'<(tr|li|section)[^>]*\bid="{re.escape(dom_id)}"[^>]*>(.*?)</\1>', html, re.S
    )
    assert match, f"no element with id {dom_id}"
    return match.group(2)
